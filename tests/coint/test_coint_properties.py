"""Invariance properties (hypothesis) and robustness of the rolling kernels on degenerate windows.

Affine changes of units must not change a test: ``y -> a*y + b`` and ``x -> c*x + d`` leave the
Engle-Granger and ADF statistics unchanged (``rtol=1e-8``, rounding only) and map
``beta -> a*beta/c``; half-life, Hurst and the variance ratio are scale and shift invariant.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pairs.coint import adf, breakdown, engle_granger, half_life, hurst, rolling_coint, variance_ratio

scales = st.floats(min_value=0.05, max_value=20.0)
shifts = st.floats(min_value=-50.0, max_value=50.0)
starts = st.integers(min_value=0, max_value=1500)


@settings(max_examples=10, deadline=None)
@given(a=scales, b=shifts, c=scales, d=shifts, start=starts, sign=st.sampled_from([1.0, -1.0]))
def test_engle_granger_affine_invariance(log_prices, a, b, c, d, start, sign):
    pair = log_prices[["LTC", "BTC"]].dropna().iloc[start : start + 600]
    base = engle_granger(pair["LTC"], pair["BTC"])
    moved = engle_granger(sign * a * pair["LTC"] + b, c * pair["BTC"] + d)
    assert moved.lags == base.lags
    np.testing.assert_allclose(moved.stat, base.stat, rtol=1e-8)
    np.testing.assert_allclose(moved.beta, sign * a * base.beta / c, rtol=1e-8)
    np.testing.assert_allclose(moved.spread, sign * a * base.spread, rtol=1e-6, atol=1e-9 * a)


@settings(max_examples=10, deadline=None)
@given(a=scales, b=shifts, start=starts, trend=st.sampled_from(["c", "ct", "ctt"]))
def test_adf_affine_invariance(log_prices, a, b, start, trend):
    series = log_prices["ETH"].dropna().iloc[start : start + 500]
    base = adf(series, trend=trend)
    moved = adf(a * series + b, trend=trend)
    assert moved.lags == base.lags
    np.testing.assert_allclose(moved.stat, base.stat, rtol=1e-8)


@settings(max_examples=10, deadline=None)
@given(a=scales, b=shifts, start=starts)
def test_diagnostics_scale_invariance(log_prices, a, b, start):
    series = log_prices["BTC"].dropna().iloc[start : start + 800]
    np.testing.assert_allclose(half_life(a * series + b).bars, half_life(series).bars, rtol=1e-9)
    np.testing.assert_allclose(hurst(a * series + b).hurst, hurst(series).hurst, rtol=1e-9)
    np.testing.assert_allclose(
        hurst(a * series + b, method="variance").hurst, hurst(series, method="variance").hurst, rtol=1e-9
    )
    np.testing.assert_allclose(
        variance_ratio(a * series + b, 5).stat, variance_ratio(series, 5).stat, rtol=1e-9
    )


def test_rolling_windows_with_a_flat_leg_give_nan_not_a_crash(log_prices):
    pair = log_prices[["ETH", "BTC"]].dropna().iloc[:400].copy()
    pair.iloc[100:200, 1] = pair.iloc[100, 1]  # a stale hedge price for 100 bars
    pair.iloc[250:350, 0] = pair.iloc[250, 0]  # a stale dependent price for 100 bars
    for test in ("engle_granger", "adf_spread"):
        roll = rolling_coint(pair["ETH"], pair["BTC"], window=50, test=test)
        # Windows (or, for adf_spread, hedge windows) lying in a stale stretch have no test.
        assert roll[["stat", "pvalue"]].iloc[[199, 349]].isna().all().all()
        assert np.isfinite(roll["stat"].iloc[-1])


@pytest.mark.parametrize("direction", ["y~x", "x~y"])
def test_direction_swaps_roles(log_prices, direction):
    pair = log_prices[["ETH", "BTC"]].dropna()
    res = engle_granger(pair["ETH"], pair["BTC"], direction=direction)
    swapped = engle_granger(pair["BTC"], pair["ETH"], direction="x~y" if direction == "y~x" else "y~x")
    np.testing.assert_allclose(res.stat, swapped.stat, rtol=1e-12)
    assert isinstance(res.spread, pd.Series) and res.spread.index.equals(pair.index)


def test_cusum_skips_stale_reference_windows(log_prices):
    pair = log_prices[["ETH", "BTC"]].dropna().iloc[:400].copy()
    pair.iloc[100:200, 0] = pair.iloc[100, 0]
    res = breakdown(pair["ETH"], pair["BTC"], window=50, size=0.5, k=1)
    # The reference window [t - 50, t - 1] is flat for t in 150..200: no innovation is defined.
    assert res.cusum["innovation"].iloc[150:201].isna().all()
    assert res.cusum["innovation"].iloc[260:].notna().all()


@pytest.mark.parametrize("trend", ["c", "ctt"])
def test_adf_and_engle_granger_memory_is_linear_in_the_sample(trend):
    # The ADF's lag search needs the deterministic columns of every lag's sample; they are
    # written per pass, not kept as a table of max_lag + 1 blocks (about 200 series of this
    # length for "ctt" at the default max_lag of 63). Peak of numpy's allocations, in series.
    import tracemalloc

    rng = np.random.default_rng(7)
    n = 100_000
    y = np.cumsum(rng.standard_normal(n)) + 1_000.0
    x = y + rng.standard_normal(n)
    adf(y[:500], trend=trend)
    engle_granger(y[:500], x[:500], trend=trend)
    for run in (lambda: adf(y, trend=trend), lambda: engle_granger(y, x, trend=trend)):
        tracemalloc.start()
        try:
            run()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 24 * 8 * n
