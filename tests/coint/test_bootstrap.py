"""Sieve wild-bootstrap p-values of ADF and Engle-Granger (``pvalue="bootstrap"``).

The compiled bootstrap is checked against a plain numpy / statsmodels re-implementation of the
documented generator (statsmodels' ``adfuller`` / ``coint`` statistic on every path, ``rtol=1e-8``:
same algorithm, different summation order). Sizes under AR-GARCH-t innovations are simulated
(seeded; replications stated at each test).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtr, ndtri
from statsmodels.tsa.stattools import adfuller, coint

import pairs
from pairs.coint import adf, engle_granger
from pairs.coint._bootstrap import adf_boot_stats, boot_pvalue, eg_boot_pvalues
from pairs.coint._kernels import adf_batch, default_max_lag, eg_stat_batch
from pairs.exceptions import PairsError


def _garch_t(rng: np.random.Generator, n: int, reps: int, ar: float = -0.05) -> np.ndarray:
    """AR(1)-GARCH(1,1) returns, t(5) shocks, alpha 0.12, beta 0.86 (as fitted to BTC/ETH daily returns)."""
    nu, arch, garch = 5.0, 0.12, 0.86
    z = rng.standard_t(nu, (n + 200, reps)) * np.sqrt((nu - 2.0) / nu)
    h, eps, r = np.ones(reps), np.zeros(reps), np.zeros(reps)
    out = np.empty((n + 200, reps))
    for t in range(n + 200):
        h = (1.0 - arch - garch) + arch * eps**2 + garch * h
        eps = np.sqrt(h) * z[t]
        r = ar * r + eps
        out[t] = r
    return out[200:]


def _multipliers(seed: int, n_boot: int, n: int) -> np.ndarray:
    # The documented generator: Rademacher draws of numpy.random.default_rng([seed, n_obs]).
    return np.random.default_rng([seed, n]).integers(0, 2, size=(n_boot, n - 1)) * 2.0 - 1.0


def _ref_paths(level: np.ndarray, max_lag: int, regression: str, w: np.ndarray) -> np.ndarray:
    """Sieve wild-bootstrap paths written out: AIC lag (statsmodels), OLS of the null AR, recursion."""
    lag = adfuller(level, maxlag=max_lag, autolag="AIC", regression=regression, result_object=True).lags
    d = np.diff(level)
    n = len(d) - lag
    cols = [d[lag - j : lag - j + n] for j in range(1, lag + 1)]
    if regression != "n":
        cols.append(np.ones(n))
    design = np.column_stack(cols) if cols else np.empty((n, 0))
    coef = np.linalg.lstsq(design, d[lag:], rcond=None)[0]
    e = d[lag:] - design @ coef
    paths = np.empty((w.shape[0], len(level)))
    for b in range(w.shape[0]):
        dd = list(d[:lag])
        for t in range(lag, len(d)):
            dd.append(sum(coef[j] * dd[t - 1 - j] for j in range(lag)) + w[b, t] * e[t - lag])
        paths[b] = level[0] + np.r_[0.0, np.cumsum(dd)]
    return paths


def _ref_pvalue(stat: float, boot: np.ndarray) -> float:
    """Probit interpolation of the empirical distribution at plotting positions i / (B + 1) (inside its range)."""
    q = np.sort(boot)
    assert q[0] < stat < q[-1]
    return float(ndtr(np.interp(stat, q, ndtri(np.arange(1, len(q) + 1) / (len(q) + 1.0)))))


@pytest.fixture(scope="module")
def eth_btc() -> pd.DataFrame:
    return np.log(pairs.load_sample("binance_1d")[["ETH", "BTC"]].dropna().iloc[-300:])


def test_adf_bootstrap_equals_statsmodels_reimplementation(eth_btc):
    spread = (eth_btc["ETH"] - eth_btc["BTC"]).to_numpy()
    res = adf(spread, pvalue="bootstrap", n_boot=49, seed=11)
    paths = _ref_paths(spread, res.max_lag, "c", _multipliers(11, 49, len(spread)))
    ref = np.array(
        [
            adfuller(p, maxlag=res.max_lag, autolag="BIC", regression="c", result_object=True).statistic
            for p in paths
        ]
    )
    ours = adf_boot_stats(spread, res.max_lag, 2, 1, 49, 11)
    np.testing.assert_allclose(ours, ref, rtol=1e-8)
    assert res.pvalue == pytest.approx(_ref_pvalue(res.stat, ref), abs=1e-7)
    assert (res.pvalue_method, res.n_boot, res.seed) == ("bootstrap", 49, 11)
    # Critical values are the bootstrap quantiles at the same plotting positions.
    z = ndtri(np.arange(1, 50) / 50.0)
    assert res.crit_values["5%"] == pytest.approx(np.interp(ndtri(0.05), z, np.sort(ref)), rel=1e-7)


def test_engle_granger_bootstrap_equals_statsmodels_reimplementation(eth_btc):
    y, x = eth_btc["ETH"].to_numpy(), eth_btc["BTC"].to_numpy()
    res = engle_granger(y, x, pvalue="bootstrap", n_boot=39, seed=5)
    design = np.column_stack([np.ones(len(x)), x])
    u = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    w = _multipliers(5, 39, len(y))
    u_paths = _ref_paths(u, res.max_lag, "n", w)
    dx = np.diff(x) - np.diff(x).mean()
    x_paths = x[0] + np.c_[np.zeros(39), np.cumsum(w * dx, axis=1)]
    ref = np.array(
        [
            coint(a, b, trend="c", maxlag=res.max_lag, autolag="bic")[0]
            for a, b in zip(u_paths, x_paths, strict=True)
        ]
    )
    panel = np.vstack([y, x])
    _, p, boots = eg_boot_pvalues(
        panel, np.arange(len(y)), np.array([0]), np.array([[1]]), 1, res.max_lag, 2, 39, 5
    )
    np.testing.assert_allclose(boots[0], ref, rtol=1e-8)
    assert res.pvalue == p[0] == pytest.approx(_ref_pvalue(res.stat, ref), abs=1e-7)
    # The paths are (u*, x*): adding b * x* to u* leaves the statistic unchanged, for any b.
    shifted = coint(u_paths[0] + 1.7 * x_paths[0], x_paths[0], trend="c", maxlag=res.max_lag, autolag="bic")[
        0
    ]
    assert shifted == pytest.approx(ref[0], rel=1e-8)


def test_bootstrap_pvalue_is_seeded_and_ordered_beyond_the_draws(eth_btc):
    y, x = eth_btc["ETH"], eth_btc["BTC"]
    a = engle_granger(y, x, pvalue="bootstrap", n_boot=99, seed=1)
    assert engle_granger(y, x, pvalue="bootstrap", n_boot=99, seed=1).pvalue == a.pvalue
    assert engle_granger(y, x, pvalue="bootstrap", n_boot=99, seed=2).pvalue != a.pvalue
    boot = np.linspace(-4.0, 1.0, 99)
    # Below the smallest draw the probit is extrapolated: positive, below 1 / (B + 1), decreasing.
    tail = [boot_pvalue(s, boot) for s in (-4.5, -6.0, -9.0)]
    assert 0.01 > tail[0] > tail[1] > tail[2] > 0.0
    assert boot_pvalue(-np.inf, boot) == 0.0
    assert np.isnan(boot_pvalue(np.nan, boot))


def test_scan_bootstrap_equals_engle_granger_per_pair(eth_btc):
    prices = np.log(pairs.load_sample("binance_1d")[["BTC", "ETH", "LTC", "XRP"]].dropna().iloc[-250:])
    res = pairs.scan(prices, pvalue="bootstrap", n_boot=49, seed=3, batch_size=2)
    assert (res.pvalue_method, res.n_boot, res.seed) == ("bootstrap", 49, 3)
    for row in res.table.itertuples():
        one = engle_granger(prices[row.y], prices[row.x], pvalue="bootstrap", n_boot=49, seed=3)
        assert row.pvalue == pytest.approx(one.pvalue, abs=1e-12)
    # A pair's p-value depends on its own data and the seed only: not on the other pairs.
    sub = pairs.scan(prices[["ETH", "LTC"]], pvalue="bootstrap", n_boot=49, seed=3)
    both = res.table.set_index(["y", "x"]).loc[("ETH", "LTC"), "pvalue"]
    assert sub.table["pvalue"].iloc[0] == both
    rev = pairs.scan(prices, pvalue="bootstrap", n_boot=49, seed=3, direction="both")
    for row in rev.table.itertuples():
        one = engle_granger(
            prices[row.y], prices[row.x], direction="both", pvalue="bootstrap", n_boot=49, seed=3
        )
        assert row.pvalue == pytest.approx(one.pvalue, abs=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"pvalue": "exact"}, "pvalue"),
        ({"n_boot": 10}, "n_boot"),
        ({"seed": -1}, "seed"),
        ({"n_boot": 99.0}, "n_boot"),
    ],
)
def test_bootstrap_options_are_validated(eth_btc, kwargs, name):
    for call in (
        lambda: adf(eth_btc["ETH"], **kwargs),
        lambda: engle_granger(eth_btc["ETH"], eth_btc["BTC"], **kwargs),
        lambda: pairs.scan(eth_btc, **kwargs),
    ):
        with pytest.raises(PairsError, match=name):
            call()


@pytest.mark.slow
@pytest.mark.parametrize("n", [100, 500])
def test_bootstrap_size_under_garch_t(n):
    """500 seeded null samples x 199 bootstrap paths per test and n: AR(1)-GARCH(1,1)-t(5) random walks.

    The surface p-values over-reject on the same samples (asserted > 0.07 for EG: the reason for
    the bootstrap); the bootstrap size must lie in [0.03, 0.07] (binomial s.e. 0.0097 at 5%).
    """
    reps, n_boot = 500, 199
    rng = np.random.default_rng(2026 + n)
    x = np.cumsum(_garch_t(rng, n, reps), axis=0)
    u = np.cumsum(_garch_t(rng, n, reps), axis=0)
    pairs_ = np.arange(reps)
    panel = np.ascontiguousarray(np.vstack([(x + u).T, x.T]))
    lag = default_max_lag(n, 0)
    stat, p_eg, _ = eg_boot_pvalues(
        panel, np.arange(n), pairs_, (pairs_ + reps)[:, None], 1, lag, 2, n_boot, 9
    )
    surface = eg_stat_batch(x + u, x)
    np.testing.assert_array_equal(stat, surface.stat)
    assert np.mean(surface.pvalue < 0.05) > 0.07
    assert 0.03 <= np.mean(p_eg < 0.05) <= 0.07
    lag = default_max_lag(n, 1)
    out = adf_batch(u, lag, "bic", "c")
    p_adf = [
        boot_pvalue(out.stat[j], adf_boot_stats(np.ascontiguousarray(u[:, j]), lag, 2, 1, n_boot, 9))
        for j in range(reps)
    ]
    assert 0.03 <= np.mean(np.array(p_adf) < 0.05) <= 0.07


@pytest.mark.slow
def test_benjamini_hochberg_keeps_fdr_on_a_null_heavy_bootstrap_scan():
    """20 seeded universes of 200 independent pairs, n = 250, AR(1)-GARCH(1,1)-t(5) innovations.

    140 pairs (70%) are independent random walks (null), 60 have an AR(1) spread with phi 0.5
    (found in every universe); Benjamini-Hochberg at 0.05 on the bootstrap p-values (199 paths)
    keeps the mean false discovery proportion at or below 0.05 (exact p-values give
    0.7 x 0.05 = 0.035; the s.e. of the mean is about 0.006); on the same scans the surface
    p-values exceed it.
    """
    from statsmodels.stats.multitest import multipletests

    n, m, planted, universes = 250, 200, 60, 20
    rng = np.random.default_rng(44)
    fdp = {"surface": [], "bootstrap": []}
    truth = np.arange(m) < planted
    pairs_ = np.arange(m)
    for _ in range(universes):
        x = np.cumsum(_garch_t(rng, n, m), axis=0)
        e = _garch_t(rng, n, m)
        u = np.cumsum(e, axis=0)
        for t in range(1, n):
            u[t, :planted] = 0.5 * u[t - 1, :planted] + e[t, :planted]
        panel = np.ascontiguousarray(np.vstack([(x + u).T, x.T]))
        _, boot, _ = eg_boot_pvalues(
            panel, np.arange(n), pairs_, (pairs_ + m)[:, None], 1, default_max_lag(n, 0), 2, 199, 1
        )
        for name, p in (("surface", eg_stat_batch(x + u, x).pvalue), ("bootstrap", boot)):
            reject = multipletests(p, alpha=0.05, method="fdr_bh")[0]
            fdp[name].append(np.sum(reject & ~truth) / max(1, np.sum(reject)))
    assert np.mean(fdp["bootstrap"]) <= 0.05
    assert np.mean(fdp["surface"]) > 0.05
