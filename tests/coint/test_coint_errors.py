"""Bad input to every public entry point of pairs.coint: the error class and the argument named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pairs.coint import (
    adf,
    breakdown,
    engle_granger,
    half_life,
    hurst,
    johansen,
    rolling_coint,
    variance_ratio,
)
from pairs.exceptions import DataError, InsufficientDataError, PairsError


@pytest.fixture(scope="module")
def pair(log_prices) -> pd.DataFrame:
    return log_prices[["ETH", "BTC"]].dropna().iloc[:300]


def _with(series: pd.Series, pos: int, value: float) -> pd.Series:
    out = series.copy()
    out.iloc[pos] = value
    return out


@pytest.mark.parametrize("func", [engle_granger, rolling_coint, breakdown])
def test_pair_functions_reject_bad_series(pair, func):
    y, x = pair["ETH"], pair["BTC"]
    kw = {} if func is engle_granger else {"window": 50}
    with pytest.raises(DataError, match="y"):
        func(_with(y, 5, np.nan), x, **kw)
    with pytest.raises(DataError, match="x"):
        func(y, _with(x, 5, np.inf), **kw)
    with pytest.raises(DataError, match="x index"):
        func(y, x.shift(1, freq="D"), **kw)
    with pytest.raises(DataError, match="x"):
        func(y, x.iloc[:-1], **kw)
    with pytest.raises(DataError, match="y"):
        func(pd.Series(1.0, index=y.index), x, **kw)
    with pytest.raises(DataError, match="y index"):
        func(y.iloc[::-1], x.iloc[::-1], **kw)
    dup = y.index[[0, 0, *range(2, len(y))]]
    with pytest.raises(DataError, match="y index"):
        func(pd.Series(y.to_numpy(), index=dup), pd.Series(x.to_numpy(), index=dup), **kw)
    with pytest.raises(DataError, match="y"):
        func("ETH", x, **kw)
    with pytest.raises(DataError, match="y"):
        func(y.astype(str), x, **kw)
    with pytest.raises(PairsError, match="trend"):
        func(y, x, trend="linear", **kw)
    with pytest.raises(PairsError, match="autolag"):
        func(y, x, autolag="AIC", **kw)
    with pytest.raises(InsufficientDataError, match="max_lag"):
        func(y, x, max_lag=10_000, **kw)
    with pytest.raises(PairsError, match="max_lag"):
        func(y, x, max_lag=2.5, **kw)
    with pytest.raises(PairsError, match="max_lag"):
        func(y, x, max_lag=-1, **kw)


def test_engle_granger_specific_errors(pair):
    y, x = pair["ETH"], pair["BTC"]
    with pytest.raises(InsufficientDataError, match="y"):
        engle_granger(y.iloc[:5], x.iloc[:5])
    with pytest.raises(PairsError, match="direction"):
        engle_granger(y, x, direction="yx")
    noise = np.random.default_rng(1).standard_normal(len(x)).cumsum()
    legs = pd.DataFrame({"BTC": x, "other": noise}, index=x.index)
    with pytest.raises(PairsError, match="direction"):
        engle_granger(y, legs, direction="both")
    many = pd.DataFrame(np.cumsum(np.random.default_rng(0).standard_normal((300, 12)), axis=0), index=y.index)
    with pytest.raises(PairsError, match="x"):
        engle_granger(y, many)


def test_adf_errors(pair):
    s = pair["ETH"]
    with pytest.raises(DataError, match="series"):
        adf(_with(s, 3, np.nan))
    with pytest.raises(DataError, match="series"):
        adf(pd.Series(2.0, index=s.index))
    with pytest.raises(InsufficientDataError, match="series"):
        adf(s.iloc[:4])
    with pytest.raises(PairsError, match="trend"):
        adf(s, trend="t")
    with pytest.raises(PairsError, match="autolag"):
        adf(s, autolag="hqic")
    with pytest.raises(InsufficientDataError, match="max_lag"):
        adf(s, max_lag=149)
    with pytest.raises(InsufficientDataError, match="series"):
        adf(s.iloc[:7], trend="ctt")


def test_johansen_errors(pair):
    with pytest.raises(DataError, match="prices"):
        johansen(pair[["ETH"]])
    with pytest.raises(DataError, match="prices"):
        johansen(pair.assign(ETH=np.nan))
    with pytest.raises(PairsError, match="det_order"):
        johansen(pair, det_order=2)
    with pytest.raises(PairsError, match="k_ar_diff"):
        johansen(pair, k_ar_diff=-1)
    with pytest.raises(PairsError, match="prices"):
        johansen(pair.iloc[:6], k_ar_diff=2)
    with pytest.raises(DataError, match="prices"):
        johansen(pair.assign(BTC=1.0))
    res = johansen(pair)
    with pytest.raises(PairsError, match="size"):
        res.rank(size=1.5)
    with pytest.raises(PairsError, match="test"):
        res.rank(test="eigen")


def test_half_life_hurst_variance_ratio_errors(pair):
    s = pair["ETH"]
    with pytest.raises(DataError, match="spread"):
        half_life(_with(s, 2, np.nan))
    with pytest.raises(DataError, match="spread"):
        half_life(pd.Series(0.0, index=s.index))
    with pytest.raises(InsufficientDataError, match="spread"):
        half_life(s.iloc[:2])
    with pytest.raises(PairsError, match="method"):
        hurst(s, method="dfa")
    with pytest.raises(InsufficientDataError, match="series"):
        hurst(s.iloc[:30])
    with pytest.raises(PairsError, match="min_scale"):
        hurst(s, min_scale=1)
    with pytest.raises(PairsError, match="max_scale"):
        hurst(s, max_scale=1000)
    with pytest.raises(PairsError, match="max_scale"):
        hurst(s, min_scale=20, max_scale=10)
    with pytest.raises(PairsError, match="lags"):
        variance_ratio(s, 1)
    with pytest.raises(PairsError, match="trend"):
        variance_ratio(s, 2, trend="ct")
    with pytest.raises(PairsError, match="overlap"):
        variance_ratio(s, 2, overlap="yes")
    with pytest.raises(InsufficientDataError, match="series"):
        variance_ratio(s.iloc[:10], 8, overlap=False)
    with pytest.raises(DataError, match="series"):
        variance_ratio(_with(s, 0, np.inf), 2)


def test_monitor_specific_errors(pair):
    y, x = pair["ETH"], pair["BTC"]
    with pytest.raises(InsufficientDataError, match="window"):
        rolling_coint(y, x, window=301)
    with pytest.raises(PairsError, match="window"):
        rolling_coint(y, x, window=10)
    with pytest.raises(InsufficientDataError, match="window"):
        rolling_coint(y, x, window=160, test="adf_spread")
    with pytest.raises(PairsError, match="step"):
        rolling_coint(y, x, window=50, step=0)
    with pytest.raises(PairsError, match="test"):
        rolling_coint(y, x, window=50, test="johansen")
    with pytest.raises(PairsError, match="size"):
        breakdown(y, x, window=50, size=1.5)
    with pytest.raises(PairsError, match="k"):
        breakdown(y, x, window=50, k=0)
    with pytest.raises(PairsError, match="cusum_threshold"):
        breakdown(y, x, window=50, cusum_threshold=0)
    with pytest.raises(PairsError, match="cusum_drift"):
        breakdown(y, x, window=50, cusum_drift=-1)
    with pytest.raises(PairsError, match="window"):
        breakdown(y, x, window="50")


def test_lag_bound_keeps_a_residual_degree_of_freedom():
    rng = np.random.default_rng(0)
    y, x = rng.standard_normal(20).cumsum(), rng.standard_normal(20).cumsum()
    # statsmodels' bound (9 here) leaves zero residual degrees of freedom and a meaningless 0.0.
    res = engle_granger(y, x, max_lag=8)
    assert res.max_lag == 8 and np.isfinite(res.stat)
    assert engle_granger(y, x).max_lag == 0  # the default rule adds no lags below 40 bars
    with pytest.raises(InsufficientDataError, match="max_lag"):
        engle_granger(y, x, max_lag=9)
    with pytest.raises(InsufficientDataError, match="max_lag"):
        adf(y, trend="n", max_lag=9)
    assert adf(y, trend="c", max_lag=8).max_lag == 8
