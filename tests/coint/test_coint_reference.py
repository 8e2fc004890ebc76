"""Reference tests: our ADF / Engle-Granger / Johansen / variance ratio against statsmodels and arch.

Tolerances. Same algorithm as statsmodels: statistics ``rtol=1e-10``, p-values ``atol=1e-10``,
identical lag and sample size. Exception: with ``trend="ctt"`` statsmodels builds raw ``t`` and
``t**2`` columns (values up to 1e7) and loses about 8 digits, so there ``rtol=2e-8`` on the
statistic and ``atol=1e-8`` on the p-value; our ``ctt`` value is checked against an orthogonal
QR reference at ``rtol=1e-10``. arch's Engle-Granger uses its own p-value surfaces, so only the
statistic, the lag and the cointegrating vector are compared tightly (``rtol=1e-8``) and the
p-value to ``atol=0.01``.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from arch.unitroot import VarianceRatio
from arch.unitroot import engle_granger as arch_engle_granger
from statsmodels.tsa.stattools import adfuller, coint
from statsmodels.tsa.vector_ar.vecm import coint_johansen

from pairs.coint import adf, engle_granger, johansen, variance_ratio
from pairs.coint._kernels import eg_stat_batch

TRENDS = ["n", "c", "ct", "ctt"]
AUTOLAGS = ["aic", "bic", "t-stat", None]


def _tols(trend: str) -> tuple[float, float]:
    return (2e-8, 1e-8) if trend == "ctt" else (1e-10, 1e-10)


def _sm_max_lag(n_obs: int, n_trend: int) -> int:
    """statsmodels' default maximum ADF lag (our default is smaller, see docs/statistics.md)."""
    return min(n_obs // 2 - n_trend - 1, math.ceil(12.0 * (n_obs / 100.0) ** 0.25))


# Our p-values and critical values are finite-sample (simulated response surfaces) where
# statsmodels' p-values are MacKinnon's (1994) asymptotic ones: on ~3,000 bars they differ by
# simulation error plus a small finite-sample term.
P_ATOL = 0.01
CRIT_ATOL = 0.04


ADF_CASES = [("BTC", t, a, m) for t in TRENDS for a in AUTOLAGS for m in (None, 5)] + [
    ("SOL", "c", "aic", None),
    ("DOGE", "ct", "t-stat", None),
    ("ETH", "ctt", "bic", 8),
    ("XRP", "n", None, 3),
]


@pytest.mark.parametrize(("coin", "trend", "autolag", "max_lag"), ADF_CASES)
def test_adf_equals_statsmodels(log_prices, coin, trend, autolag, max_lag):
    series = log_prices[coin].dropna()
    ref = adfuller(series.to_numpy(), maxlag=max_lag, regression=trend, autolag=autolag, result_object=True)
    lag = _sm_max_lag(len(series), len(trend.replace("n", ""))) if max_lag is None else max_lag
    res = adf(series, trend=trend, autolag=autolag, max_lag=lag)
    rtol, _ = _tols(trend)
    assert res.lags == ref.lags
    assert res.n_obs == ref.nobs
    np.testing.assert_allclose(res.stat, ref.statistic, rtol=rtol)
    np.testing.assert_allclose(res.pvalue, ref.pvalue, rtol=0, atol=P_ATOL)
    for level in ("1%", "5%", "10%"):
        np.testing.assert_allclose(res.crit_values[level], ref.critical_values[level], atol=CRIT_ATOL)
    if autolag is None:
        assert res.icbest is None
    else:
        np.testing.assert_allclose(res.icbest, ref.icbest, rtol=1e-10)


def _qr_adf_stat(x: np.ndarray, lags: int, trend: str) -> float:
    """Independent ADF t-value with orthogonal (Legendre) trend columns, solved by QR."""
    d = np.diff(x)
    n = len(d) - lags
    cols = [x[lags:-1]] + [d[lags - j : len(d) - j] for j in range(1, lags + 1)]
    u = np.linspace(-1.0, 1.0, n)
    cols += [np.ones(n), u, 1.5 * u**2 - 0.5][: {"n": 0, "c": 1, "ct": 2, "ctt": 3}[trend]]
    design = np.column_stack(cols)
    q, r = np.linalg.qr(design)
    coef = np.linalg.solve(r, q.T @ d[lags:])
    resid = d[lags:] - design @ coef
    rinv = np.linalg.inv(r)
    s2 = resid @ resid / (n - design.shape[1])
    return float(coef[0] / np.sqrt(s2 * (rinv @ rinv.T)[0, 0]))


@pytest.mark.parametrize("coin", ["BTC", "SOL"])
def test_adf_ctt_matches_orthogonal_qr_reference(log_prices, coin):
    series = log_prices[coin].dropna()
    res = adf(series, trend="ctt")
    np.testing.assert_allclose(res.stat, _qr_adf_stat(series.to_numpy(), res.lags, "ctt"), rtol=1e-10)


EG_CASES = [("ETH", "BTC", t, a) for t in TRENDS for a in AUTOLAGS] + [
    ("LTC", "BTC", "c", "aic"),
    ("LTC", "BTC", "ct", "bic"),
    ("XRP", "XLM", "c", "t-stat"),
    ("XRP", "XLM", "ctt", None),
]


@pytest.mark.parametrize(("y", "x", "trend", "autolag"), EG_CASES)
def test_engle_granger_equals_statsmodels_coint(log_prices, y, x, trend, autolag):
    pair = log_prices[[y, x]].dropna()
    ref = coint(pair[y], pair[x], trend=trend, autolag=autolag)
    res = engle_granger(pair[y], pair[x], trend=trend, autolag=autolag, max_lag=_sm_max_lag(len(pair), 0))
    rtol, _ = _tols(trend)
    np.testing.assert_allclose(res.stat, ref.coint_t, rtol=rtol)
    np.testing.assert_allclose(res.pvalue, ref.pvalue, rtol=0, atol=P_ATOL)
    if trend != "n":
        np.testing.assert_allclose(
            [res.crit_values[k] for k in ("1%", "5%", "10%")], ref.critical_values, atol=CRIT_ATOL
        )


def test_engle_granger_several_legs_equals_statsmodels(log_prices):
    frame = log_prices[["LTC", "BTC", "ETH"]].dropna()
    ref = coint(frame["LTC"], frame[["BTC", "ETH"]])
    res = engle_granger(
        frame["LTC"], frame[["BTC", "ETH"]], autolag="aic", max_lag=_sm_max_lag(len(frame), 0)
    )
    np.testing.assert_allclose(res.stat, ref.coint_t, rtol=1e-10)
    np.testing.assert_allclose(res.pvalue, ref.pvalue, atol=P_ATOL)
    assert list(res.beta.index) == ["BTC", "ETH"]
    ols = np.linalg.lstsq(
        np.column_stack([frame[["BTC", "ETH"]], np.ones(len(frame))]), frame["LTC"], rcond=None
    )[0]
    np.testing.assert_allclose(res.beta.to_numpy(), ols[:2], rtol=1e-9)
    np.testing.assert_allclose(res.alpha, ols[2], rtol=1e-9)


def test_batch_kernel_equals_statsmodels_on_all_pairs_of_a_sample(log_prices):
    frame = log_prices[["BTC", "ETH", "LTC", "XRP", "TRX", "XLM"]].dropna()
    pairs_ = list(itertools.combinations(frame.columns, 2))
    ys = np.column_stack([frame[a] for a, _ in pairs_])
    xs = np.column_stack([frame[b] for _, b in pairs_])
    lag = _sm_max_lag(len(frame), 0)
    out = eg_stat_batch(ys, xs, max_lag=lag, autolag="aic")
    for j, (a, b) in enumerate(pairs_):
        ref = coint(frame[a], frame[b])
        np.testing.assert_allclose(out.stat[j], ref.coint_t, rtol=1e-10)
        np.testing.assert_allclose(out.pvalue[j], ref.pvalue, atol=P_ATOL)
        res = engle_granger(frame[a], frame[b], autolag="aic", max_lag=lag)
        assert out.lags[j] == res.lags
        np.testing.assert_allclose([out.beta[j], out.alpha[j]], [res.beta, res.alpha], rtol=1e-12)
        ols = np.polyfit(frame[b], frame[a], 1)
        np.testing.assert_allclose([out.beta[j], out.alpha[j]], ols, rtol=1e-9)


@pytest.mark.parametrize("trend", TRENDS)
@pytest.mark.parametrize("method", ["aic", "bic"])
def test_engle_granger_equals_arch(log_prices, trend, method):
    pair = log_prices[["LTC", "BTC"]].dropna()
    ref = arch_engle_granger(pair["LTC"], pair["BTC"], trend=trend, method=method, max_lags=10)
    res = engle_granger(pair["LTC"], pair["BTC"], trend=trend, autolag=method, max_lag=10)
    assert res.lags == ref.lags
    np.testing.assert_allclose(res.stat, ref.stat, rtol=1e-8)
    np.testing.assert_allclose(res.pvalue, ref.pvalue, atol=0.01)
    vector = ref.cointegrating_vector.to_numpy()
    np.testing.assert_allclose(res.beta, -vector[1], rtol=1e-8)
    if trend != "n":
        np.testing.assert_allclose(res.alpha, -vector[2], rtol=1e-8)


def test_positive_control_brent_wti_cointegrated_at_1pct(crude_log):
    lag = _sm_max_lag(len(crude_log), 0)
    res = engle_granger(crude_log["Brent"], crude_log["WTI"], direction="both", autolag="aic", max_lag=lag)
    ref_fwd = coint(crude_log["Brent"], crude_log["WTI"])
    ref_rev = coint(crude_log["WTI"], crude_log["Brent"])
    np.testing.assert_allclose(res.forward.stat, ref_fwd.coint_t, rtol=1e-10)
    np.testing.assert_allclose(res.reverse.stat, ref_rev.coint_t, rtol=1e-10)
    np.testing.assert_allclose(res.pvalue, max(ref_fwd.pvalue, ref_rev.pvalue), atol=P_ATOL)
    assert engle_granger(crude_log["Brent"], crude_log["WTI"], direction="both").pvalue < 0.01
    assert res.pvalue < 0.01
    assert res.stat < res.crit_values["1%"]
    jres = johansen(crude_log, det_order=0, k_ar_diff=1)
    assert jres.rank(size=0.05) == 1


def test_negative_control_btc_eth_not_cointegrated_at_10pct(btc_eth):
    # Observed: y~x p = 0.289, x~y p = 0.446 (statsmodels gives the same numbers).
    lag = _sm_max_lag(len(btc_eth), 0)
    res = engle_granger(btc_eth["BTC"], btc_eth["ETH"], direction="both", autolag="aic", max_lag=lag)
    assert res.forward.pvalue > 0.10 and res.reverse.pvalue > 0.10
    np.testing.assert_allclose(res.forward.pvalue, coint(btc_eth["BTC"], btc_eth["ETH"]).pvalue, atol=P_ATOL)
    default = engle_granger(btc_eth["BTC"], btc_eth["ETH"], direction="both")
    assert default.forward.pvalue > 0.10 and default.reverse.pvalue > 0.10
    assert res.direction == "x~y"
    np.testing.assert_allclose(res.pvalue, res.reverse.pvalue, rtol=0)


@pytest.mark.parametrize("det_order", [-1, 0, 1])
# k_ar_diff=0 is left out: there statsmodels pairs dY_t with Y_t instead of Y_{t-1} (its
# `lx = endog[:nobs - 0][1:]`), which is not Johansen's model; from one lag on both agree.
@pytest.mark.parametrize("k_ar_diff", [1, 2])
def test_johansen_equals_statsmodels(log_prices, det_order, k_ar_diff):
    frame = log_prices[["BTC", "ETH", "LTC"]].dropna()
    ref = coint_johansen(frame.to_numpy(), det_order, k_ar_diff)
    res = johansen(frame, det_order=det_order, k_ar_diff=k_ar_diff)
    # det_order -1 / 0 are the cases "n" / "co" exactly; statsmodels' det_order=1 detrends the
    # levels over the whole sample and only demeans the differences, an approximation of "lo".
    rtol = 1e-9 if det_order < 1 else 0.05
    np.testing.assert_allclose(res.trace_stat.to_numpy(), ref.lr1, rtol=rtol)
    np.testing.assert_allclose(res.max_eig_stat.to_numpy(), ref.lr2, rtol=rtol)
    np.testing.assert_allclose(res.eigenvalues.to_numpy(), ref.eig, rtol=rtol)
    # Simulated critical values against statsmodels' tables (columns 90/95/99%).
    np.testing.assert_allclose(res.trace_crit.to_numpy()[:, ::-1], ref.cvt, rtol=0.04)
    np.testing.assert_allclose(res.max_eig_crit.to_numpy()[:, ::-1], ref.cvm, rtol=0.04)
    assert list(res.trace_stat.index) == ["r<=0", "r<=1", "r<=2"]
    assert list(res.trace_crit.columns) == ["1%", "5%", "10%"]
    assert list(res.eigenvectors.index) == ["BTC", "ETH", "LTC"]
    assert np.all(np.diff(res.eigenvalues.to_numpy()) <= 0)
    if det_order < 1:
        np.testing.assert_allclose(res.hedge_ratios.to_numpy(), ref.evec[:, 0] / ref.evec[0, 0], rtol=1e-8)
    # Sequential tests by hand, on our critical values.
    crit = res.trace_crit["5%"].to_numpy()
    expected_rank = next((i for i in range(3) if res.trace_stat.iloc[i] <= crit[i]), 3)
    assert res.rank(size=0.05, test="trace") == expected_rank
    crit = res.max_eig_crit["10%"].to_numpy()
    expected_rank = next((i for i in range(3) if res.max_eig_stat.iloc[i] <= crit[i]), 3)
    assert res.rank(size=0.10, test="max_eig") == expected_rank


URCA = json.loads((Path(__file__).parents[1] / "fixtures" / "urca" / "johansen.json").read_text())
# urca's ecdet -> pairs' deterministic (tests/fixtures/urca/record.py).
URCA_CASES = {"none": "co", "const": "ci", "trend": "li"}


@pytest.mark.parametrize("run", URCA["runs"], ids=lambda r: f"{r['data']}-{r['ecdet']}-K{r['K']}")
def test_johansen_equals_r_urca(run, crude_log, log_prices):
    # R urca's ca.jo: an independent implementation, and the reference for the restricted cases
    # "ci" (the default) and "li", which statsmodels' coint_johansen does not have.
    frame = crude_log if run["data"] == "crude" else log_prices[["BTC", "ETH", "LTC"]].dropna()
    assert list(frame.columns) == URCA["columns"][run["data"]]
    res = johansen(frame, deterministic=URCA_CASES[run["ecdet"]], k_ar_diff=run["K"] - 1)
    np.testing.assert_allclose(res.trace_stat.to_numpy(), run["trace"], rtol=1e-9)
    np.testing.assert_allclose(res.max_eig_stat.to_numpy(), run["eigen"], rtol=1e-9)
    np.testing.assert_allclose(res.eigenvalues.to_numpy(), run["lambda"], rtol=1e-9)
    # The first cointegrating vector over the prices (urca adds the restricted term's row).
    np.testing.assert_allclose(res.hedge_ratios.to_numpy(), run["vector"][: frame.shape[1]], rtol=1e-7)


def test_johansen_pvalues_are_unclipped_and_consistent(crude_log, log_prices):
    for frame in (crude_log, log_prices[["BTC", "ETH", "LTC"]].dropna()):
        for case in ("n", "co", "ci", "lo", "li"):
            res = johansen(frame, deterministic=case)
            for stat, crit, pvalue in (
                (res.trace_stat, res.trace_crit, res.trace_pvalue),
                (res.max_eig_stat, res.max_eig_crit, res.max_eig_pvalue),
            ):
                assert ((pvalue > 0) & (pvalue < 1)).all()
                # p < 5% exactly when the statistic exceeds the 5% critical value.
                assert ((pvalue < 0.05) == (stat > crit["5%"])).all()
    assert johansen(crude_log).trace_pvalue["r<=0"] < 0.01


@pytest.mark.parametrize("coin", ["BTC", "ETH"])
@pytest.mark.parametrize("lags", [2, 5, 12])
@pytest.mark.parametrize(
    ("overlap", "robust", "debiased", "trend"),
    [(True, True, True, "c"), (True, False, True, "c"), (True, True, False, "n"), (False, False, False, "c")],
)
def test_variance_ratio_equals_arch(log_prices, coin, lags, overlap, robust, debiased, trend):
    series = log_prices[coin].dropna()
    if not overlap:
        series = series.iloc[: len(series) - (len(series) - 1) % lags]
    ref = VarianceRatio(
        series.to_numpy(), lags=lags, trend=trend, overlap=overlap, robust=robust, debiased=debiased
    )
    res = variance_ratio(series, lags, trend=trend, overlap=overlap, robust=robust, debiased=debiased)
    np.testing.assert_allclose([res.stat, res.pvalue, res.vr], [ref.stat, ref.pvalue, ref.vr], rtol=1e-12)


def test_variance_ratio_non_overlap_drops_tail_like_arch(log_prices):
    series = log_prices["BTC"].dropna()
    trimmed = series.iloc[: len(series) - (len(series) - 1) % 7]
    res = variance_ratio(series, 7, overlap=False)
    ref = VarianceRatio(trimmed.to_numpy(), lags=7, overlap=False)
    np.testing.assert_allclose([res.stat, res.vr], [ref.stat, ref.vr], rtol=1e-12)
    assert res.n_obs == len(trimmed)


def test_results_serialise_and_summarise(log_prices):
    import json

    pair = log_prices[["ETH", "BTC"]].dropna()
    for res in (
        engle_granger(pair["ETH"], pair["BTC"], direction="both"),
        adf(pair["ETH"]),
        johansen(pair),
        variance_ratio(pair["ETH"], 4),
    ):
        json.dumps(res.to_dict())
        text = res.summary()
        assert isinstance(text, str) and "\n" in text
    eg = engle_granger(pair["ETH"], pair["BTC"], direction="both")
    assert "forward.pvalue" in eg.summary() and "reverse.pvalue" in eg.summary()
    assert isinstance(eg.spread, pd.Series) and eg.spread.index.equals(pair.index)
