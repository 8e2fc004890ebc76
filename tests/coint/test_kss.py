"""KSS (2003) nonlinear unit-root test against statsmodels OLS, the published table and simulations.

Tolerances: the statistic against a hand-built statsmodels OLS regression ``rtol=1e-9`` (the same
regression; statsmodels' pinv on raw ``v**3`` columns of undemeaned log prices loses a few
digits); the lag chosen by ``autolag`` equal, its criterion ``rtol=1e-9``.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import pairs
from pairs.coint import kss
from pairs.exceptions import DataError, InsufficientDataError, PairsError


def _prepared(s: np.ndarray, trend: str) -> np.ndarray:
    """De-meaned / de-trended series, the reference way (statsmodels OLS on 1, t = 1..n)."""
    if trend == "n":
        return s
    t = np.arange(1, len(s) + 1, dtype=float)
    design = np.ones((len(s), 1)) if trend == "c" else sm.add_constant(t)
    return sm.OLS(s, design).fit().resid


def _design(v: np.ndarray, lags: int, first: int) -> tuple[np.ndarray, np.ndarray]:
    dv = np.diff(v)
    cols = [v[first:-1] ** 3] + [dv[first - j : len(dv) - j] for j in range(1, lags + 1)]
    return dv[first:], np.column_stack(cols)


@pytest.mark.parametrize("coin", ["BTC", "ETH", "DOGE"])
@pytest.mark.parametrize("trend", ["n", "c", "ct"])
@pytest.mark.parametrize("lags", [0, 3, 7])
def test_statistic_equals_statsmodels_ols(log_prices, coin, trend, lags):
    s = log_prices[coin].dropna().to_numpy()
    dep, design = _design(_prepared(s, trend), lags, lags)
    ref = sm.OLS(dep, design).fit()
    res = kss(s, trend=trend, max_lag=lags, autolag=None)
    assert res.stat == pytest.approx(ref.tvalues[0], rel=1e-9)
    assert res.n_obs == ref.nobs == len(s) - 1 - lags
    assert res.lags == lags and res.icbest is None


@pytest.mark.parametrize("coin", ["ETH", "DOGE"])
@pytest.mark.parametrize("trend", ["n", "c", "ct"])
@pytest.mark.parametrize("autolag", ["aic", "bic", "t-stat"])
def test_autolag_equals_a_statsmodels_search(log_prices, coin, trend, autolag):
    """statsmodels adfuller's rule: search on the common sample of max_lag lags, refit the choice."""
    s = log_prices[coin].dropna().to_numpy()
    v = _prepared(s, trend)
    max_lag = 8
    dep, design = _design(v, max_lag, max_lag)
    fits = [sm.OLS(dep, design[:, : p + 1]).fit() for p in range(max_lag + 1)]
    if autolag == "t-stat":
        lag = next(
            p for p in range(max_lag, -1, -1) if abs(fits[p].tvalues[-1]) >= 1.6448536269514722 or p == 0
        )
        ic = abs(fits[lag].tvalues[-1])
    else:
        ics = [getattr(f, autolag) for f in fits]
        lag = int(np.argmin(ics))
        ic = ics[lag]
    res = kss(s, trend=trend, max_lag=max_lag, autolag=autolag)
    assert res.lags == lag
    assert res.icbest == pytest.approx(ic, rel=1e-9)
    refit = sm.OLS(*_design(v, lag, lag)).fit()
    assert res.stat == pytest.approx(refit.tvalues[0], rel=1e-9)


# Kapetanios, Shin and Snell (2003), Table 1: raw, de-meaned and de-trended series.
KSS_2003 = {
    "n": {"1%": -2.82, "5%": -2.22, "10%": -1.92},
    "c": {"1%": -3.48, "5%": -2.93, "10%": -2.66},
    "ct": {"1%": -3.93, "5%": -3.40, "10%": -3.13},
}


def test_critical_values_are_the_published_table():
    s = np.random.default_rng(0).standard_normal(200).cumsum()
    for trend, crit in KSS_2003.items():
        res = kss(s, trend=trend)
        assert res.crit_values == crit and res.pvalue is None


@pytest.mark.slow
def test_simulated_asymptotic_quantiles_reproduce_the_table():
    """A large-sample simulation (T = 1,000, 20,000 random walks, no lags) within 0.05 of Table 1.

    Vectorised: with no lagged differences t_NL = sum(v^3 dv) / sqrt(s^2 sum(v^6)).
    """
    rng = np.random.default_rng(2003)
    n, reps = 1000, 20000
    t = np.arange(n) - (n - 1) / 2.0
    stats: dict[str, list[np.ndarray]] = {"n": [], "c": [], "ct": []}
    for _ in range(reps // 2000):
        walks = rng.standard_normal((2000, n)).cumsum(axis=1)
        for trend in stats:
            v = walks
            if trend != "n":
                v = v - v.mean(axis=1, keepdims=True)
            if trend == "ct":
                v = v - np.outer(v @ t / (t @ t), t)
            lev, dv = v[:, :-1] ** 3, np.diff(v, axis=1)
            sxx = (lev * lev).sum(axis=1)
            b = (lev * dv).sum(axis=1) / sxx
            s2 = ((dv - b[:, None] * lev) ** 2).sum(axis=1) / (n - 2)
            stats[trend].append(b / np.sqrt(s2 / sxx))
    for trend, parts in stats.items():
        q = np.quantile(np.concatenate(parts), [0.01, 0.05, 0.10])
        np.testing.assert_allclose(q, [KSS_2003[trend][k] for k in ("1%", "5%", "10%")], atol=0.05)


@pytest.mark.slow
def test_size_near_nominal_and_power_against_estar():
    """Defaults (BIC lags) on 250 bars, 800 seeded draws: random walk ~5%, an ESTAR process mostly rejected."""
    rng = np.random.default_rng(20030101)
    n, reps = 250, 800
    size = {"c": 0, "ct": 0}
    power = 0
    for _ in range(reps):
        walk = rng.standard_normal(n).cumsum()
        for trend in size:
            res = kss(walk, trend=trend)
            size[trend] += res.stat < res.crit_values["5%"]
        # KSS's DGP: dy_t = -y_{t-1} (1 - exp(-theta y_{t-1}^2)) + e_t, theta = 0.05.
        e = rng.standard_normal(n)
        y = np.empty(n)
        y[0] = e[0]
        for t in range(1, n):
            y[t] = y[t - 1] * np.exp(-0.05 * y[t - 1] ** 2) + e[t]
        res = kss(y)
        power += res.stat < res.crit_values["5%"]
    rates = {k: v / reps for k, v in size.items()}
    assert all(0.025 <= r <= 0.075 for r in rates.values()), rates
    assert power / reps > 0.8


@pytest.mark.parametrize("trend", ["c", "ct"])
def test_statistic_is_invariant_to_scale_and_offset(log_prices, trend):
    s = log_prices["ETH"].dropna()
    base = kss(s, trend=trend)
    moved = kss(2.5 * s - 4.0, trend=trend)
    assert moved.stat == pytest.approx(base.stat, rel=1e-9) and moved.lags == base.lags


def test_result_object(log_prices):
    res = kss(log_prices["BTC"].dropna(), trend="ct", autolag="aic")
    text = res.summary()
    assert "Kapetanios-Shin-Snell" in text and "crit_values[1%]" in text
    out = json.loads(json.dumps(res.to_dict()))
    assert out["pvalue"] is None and out["trend"] == "ct" and out["autolag"] == "aic"
    assert pairs.kss is kss and pairs.KSSResult is type(res)


@pytest.mark.parametrize(
    ("kwargs", "exc", "arg"),
    [
        ({"trend": "ctt"}, PairsError, "trend"),
        ({"autolag": "BIC"}, PairsError, "autolag"),
        ({"max_lag": -1}, PairsError, "max_lag"),
        ({"max_lag": 100}, InsufficientDataError, "max_lag"),
        ({"series": np.ones(50)}, DataError, "series"),
        ({"series": np.arange(5.0)}, InsufficientDataError, "series"),
        ({"series": pd.Series([1.0, np.nan] * 20)}, DataError, "series"),
    ],
)
def test_bad_input(kwargs, exc, arg):
    base = {"series": np.random.default_rng(3).standard_normal(60).cumsum()}
    base.update(kwargs)
    with pytest.raises(exc, match=rf"^{arg} "):
        kss(**base)
