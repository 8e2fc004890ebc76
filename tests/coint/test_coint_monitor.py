"""rolling_coint and breakdown: equality with the one-shot tests, causality, detection of breaks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pairs.coint import adf, breakdown, engle_granger, rolling_coint


@pytest.fixture(scope="module")
def eth_btc(log_prices) -> pd.DataFrame:
    return log_prices[["ETH", "BTC"]].dropna().iloc[:900]


def test_rolling_engle_granger_equals_one_shot_on_each_window(eth_btc):
    window, step = 200, 37
    roll = rolling_coint(eth_btc["ETH"], eth_btc["BTC"], window=window, step=step)
    assert roll.index.equals(eth_btc.index)
    assert list(roll.columns) == ["stat", "pvalue", "beta", "alpha", "lags"]
    ends = np.arange(window - 1, len(eth_btc), step)
    assert np.array_equal(np.flatnonzero(roll["stat"].notna()), ends)
    for end in ends[[0, 5, -1]]:
        sl = eth_btc.iloc[end - window + 1 : end + 1]
        one = engle_granger(sl["ETH"], sl["BTC"])
        row = roll.iloc[end]
        np.testing.assert_allclose(
            row[["stat", "pvalue", "beta", "alpha", "lags"]].to_numpy(dtype=float),
            [one.stat, one.pvalue, one.beta, one.alpha, one.lags],
            rtol=1e-12,
        )


def test_rolling_adf_spread_uses_previous_window_beta(eth_btc):
    window = 150
    roll = rolling_coint(eth_btc["ETH"], eth_btc["BTC"], window=window, step=50, test="adf_spread", trend="c")
    first = 2 * window - 1
    assert roll["stat"].iloc[:first].isna().all()
    for end in (first, first + 100):
        prev = eth_btc.iloc[end - 2 * window + 1 : end - window + 1]
        beta, _ = np.polyfit(prev["BTC"], prev["ETH"], 1)
        cur = eth_btc.iloc[end - window + 1 : end + 1]
        one = adf(cur["ETH"] - beta * cur["BTC"], trend="c", max_lag=None)
        np.testing.assert_allclose(roll["beta"].iloc[end], beta, rtol=1e-9)
        np.testing.assert_allclose(roll[["stat", "pvalue"]].iloc[end], [one.stat, one.pvalue], rtol=1e-8)


@settings(max_examples=8, deadline=None)
@given(
    cut=st.integers(min_value=60, max_value=400),
    step=st.integers(min_value=1, max_value=9),
    test=st.sampled_from(["engle_granger", "adf_spread"]),
)
def test_rolling_coint_is_causal(log_prices, cut, step, test):
    frame = log_prices[["LTC", "BTC"]].dropna().iloc[:400]
    full = rolling_coint(frame["LTC"], frame["BTC"], window=30, step=step, test=test)
    part = rolling_coint(frame["LTC"].iloc[:cut], frame["BTC"].iloc[:cut], window=30, step=step, test=test)
    pd.testing.assert_frame_equal(part, full.iloc[:cut], check_exact=True)


@settings(max_examples=6, deadline=None)
@given(cut=st.integers(min_value=80, max_value=500))
def test_breakdown_is_causal(log_prices, cut):
    frame = log_prices[["ETH", "BTC"]].dropna().iloc[:500]
    kwargs = {"window": 60, "step": 3, "size": 0.10, "k": 2}
    full = breakdown(frame["ETH"], frame["BTC"], **kwargs)
    part = breakdown(frame["ETH"].iloc[:cut], frame["BTC"].iloc[:cut], **kwargs)
    pd.testing.assert_frame_equal(part.rolling, full.rolling.iloc[:cut], check_exact=True)
    pd.testing.assert_frame_equal(part.cusum, full.cusum.iloc[:cut], check_exact=True)
    early = full.events[full.events["timestamp"] <= frame.index[cut - 1]].reset_index(drop=True)
    pd.testing.assert_frame_equal(part.events, early, check_exact=True)


def _broken_pair(seed: int, n: int = 1200, brk: int = 600) -> tuple[pd.Series, pd.Series]:
    """Cointegrated (spread AR(1), phi = 0.7) until ``brk``, then the spread becomes a random walk."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2020-01-01", periods=n, freq="D", tz="UTC")
    x = np.cumsum(rng.standard_normal(n)) * 0.03 + 4.0
    spread = np.empty(n)
    spread[0] = 0.0
    eps = rng.standard_normal(n) * 0.01
    for t in range(1, n):
        spread[t] = (0.7 if t < brk else 1.0) * spread[t - 1] + eps[t]
    return pd.Series(1.2 * x + 0.5 + spread, index=index), pd.Series(x, index=index)


def test_breakdown_detects_loss_of_cointegration():
    y, x = _broken_pair(seed=4)
    res = breakdown(y, x, window=150, step=5, size=0.05, k=3)
    lost = res.events[res.events["kind"] == "coint_lost"]
    assert len(lost) >= 1
    # No loss is flagged while the pair is cointegrated; the first one comes after the break.
    assert lost["timestamp"].iloc[0] > y.index[600]
    assert (lost["value"] > 0.05).all()
    assert res.rolling["cointegrated"].iloc[300:600].all()
    assert list(res.events.columns) == ["timestamp", "kind", "reason", "value"]


def test_breakdown_cusum_flags_a_jump_in_the_spread():
    rng = np.random.default_rng(9)
    n, jump_at = 900, 700
    index = pd.date_range("2020-01-01", periods=n, freq="D", tz="UTC")
    x = np.cumsum(rng.standard_normal(n)) * 0.03 + 4.0
    spread = np.zeros(n)
    eps = rng.standard_normal(n) * 0.01
    for t in range(1, n):
        spread[t] = 0.5 * spread[t - 1] + eps[t]
    spread[jump_at:] += 0.15  # a 15-sigma level shift of the spread
    y = pd.Series(1.2 * x + spread, index=index)
    res = breakdown(y, pd.Series(x, index=index), window=200, step=10)
    cusum = res.events[res.events["kind"] == "cusum"]
    hits = cusum[(cusum["timestamp"] >= index[jump_at]) & (cusum["timestamp"] <= index[jump_at + 3])]
    # The level shift alarms on the jump bar (and may alarm again while the reference adapts).
    assert len(hits) >= 1 and hits["timestamp"].iloc[0] == index[jump_at]
    assert hits["value"].iloc[0] > res.cusum_threshold
    assert (cusum["timestamp"] >= index[jump_at]).all()
    # The innovation at the jump is ~15 sigma.
    assert res.cusum["innovation"].iloc[jump_at] > 10
    assert res.cusum["innovation"].iloc[:200].isna().all()


def test_breakdown_summary_counts_events():
    y, x = _broken_pair(seed=4)
    res = breakdown(y, x, window=150, step=5)
    text = res.summary()
    assert "coint_lost events" in text
    assert res.to_dict()["window"] == 150
