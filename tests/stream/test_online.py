"""Online window statistics of the streaming engine against closed forms, pandas, statsmodels and
the batch kernels.

Tolerances: the rolling hedge and the expanding/EWM z-scores run the batch kernels' operations
in the same order, so they must be bit-identical to ``rolling_hedge`` / ``zscore``. Against
closed forms computed per window in two passes with numpy: 1e-10 (relative on hedge ratios,
absolute on z-scores; observed ~1e-13). The rolling z-score uses O(1) add/remove updates
instead of the batch's two passes: 1e-10 absolute (also over 18,000 bars of the 4h sample).
statsmodels' ``RollingOLS`` (pinv) is itself only good to ~1e-9 here, hence 1e-6 relative /
1e-8 absolute; pandas' expanding/EWM moments to 1e-9 absolute.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.regression.rolling import RollingOLS

from pairs import Strategy, StreamEngine, load_sample, rolling_hedge, zscore
from pairs.exceptions import StateError
from pairs.hedge._kernels import rolling_ols_step
from pairs.stream._state import encode_floats, read_float, read_floats, read_int
from pairs.trading._kernels import (
    EWM_START,
    EXPANDING_START,
    ROLLING_START,
    ewm_alpha,
    ewm_z_step,
    expanding_z_step,
    rolling_z_step,
)


class RollingHedge:
    """The streamed rolling hedge step (the engine's, :func:`rolling_ols_step`) driven bar by bar."""

    def __init__(self, window: int) -> None:
        self.stats, self.bufs, self.bars = np.zeros(6), (np.zeros(window), np.zeros(window)), 0

    def update(self, y: float, x: float) -> tuple[float, float, float, float]:
        beta, alpha = rolling_ols_step(self.stats, self.bufs[0], self.bufs[1], self.bars, y, x)
        self.bars += 1
        return beta, alpha, y - beta * x - alpha, math.nan


class RollingZScore:
    """The streamed rolling z-score step driven value by value (NaN values included)."""

    def __init__(self, window: int) -> None:
        self.window, self.bars = window, 0
        self.stats, self.buf = np.array(ROLLING_START), np.zeros(window)

    def update(self, value: float) -> float:
        out = rolling_z_step(self.stats, self.buf, self.bars, value, self.window)
        self.bars += 1
        return out


class ExpandingZScore:
    def __init__(self) -> None:
        self.stats = np.array(EXPANDING_START)

    def update(self, value: float) -> float:
        return expanding_z_step(self.stats, value, np.int64(2))


class EwmZScore:
    def __init__(self, halflife: float) -> None:
        self.alpha, self.stats = ewm_alpha(halflife), np.array(EWM_START)

    def update(self, value: float) -> float:
        return ewm_z_step(self.stats, value, self.alpha, np.int64(2))


@pytest.fixture(scope="module")
def daily(btc_eth_daily: pd.DataFrame) -> pd.DataFrame:
    return btc_eth_daily


@pytest.fixture(scope="module")
def spread(daily: pd.DataFrame) -> np.ndarray:
    """A real spread with a NaN warm-up, a NaN gap and a constant stretch."""
    values = np.log(daily["ETH"].to_numpy()) - 0.8 * np.log(daily["BTC"].to_numpy())
    values[:40] = np.nan
    values[500:507] = np.nan
    values[900:960] = values[900]
    return values


def run(stat: object, values: np.ndarray) -> np.ndarray:
    return np.array([stat.update(v) for v in values])  # type: ignore[attr-defined]


@pytest.mark.parametrize("window", [2, 3, 30, 250])
def test_rolling_hedge_equals_batch_bit_for_bit(daily: pd.DataFrame, window: int) -> None:
    y, x = daily["ETH"].to_numpy(), daily["BTC"].to_numpy()
    hedge = RollingHedge(window)
    out = np.array([hedge.update(a, b) for a, b in zip(y, x, strict=True)])
    batch = rolling_hedge(daily["ETH"], daily["BTC"], window=window)
    np.testing.assert_array_equal(out[:, 0], batch.beta.to_numpy())
    np.testing.assert_array_equal(out[:, 1], batch.alpha.to_numpy())
    np.testing.assert_array_equal(out[:, 2], batch.spread.to_numpy())
    assert np.isnan(out[:, 3]).all()


def test_rolling_hedge_matches_closed_form_and_statsmodels(daily: pd.DataFrame) -> None:
    y, x = np.log(daily["ETH"].to_numpy()), np.log(daily["BTC"].to_numpy())
    hedge = RollingHedge(60)
    out = np.array([hedge.update(a, b) for a, b in zip(y, x, strict=True)])
    assert np.isnan(out[:59, :3]).all()
    for t in range(59, len(y), 7):
        wx, wy = x[t - 59 : t + 1], y[t - 59 : t + 1]
        dx = wx - wx.mean()
        beta = float(dx @ (wy - wy.mean()) / (dx @ dx))
        assert out[t, 0] == pytest.approx(beta, rel=1e-10, abs=1e-12)
        assert out[t, 1] == pytest.approx(wy.mean() - beta * wx.mean(), rel=1e-10, abs=1e-11)
    ref = RollingOLS(y, np.column_stack([np.ones_like(x), x]), window=60).fit().params
    np.testing.assert_allclose(out[59:, 0], ref[59:, 1], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(out[59:, 1], ref[59:, 0], rtol=1e-6, atol=1e-8)


def test_rolling_hedge_constant_x_window_is_nan() -> None:
    hedge = RollingHedge(3)
    out = [hedge.update(y, x)[0] for y, x in [(1.0, 5.0), (2.0, 5.0), (3.0, 5.0), (4.0, 6.0)]]
    assert math.isnan(out[2]) and out[3] == pytest.approx(1.5)


@pytest.mark.parametrize("window", [2, 5, 30, 120])
def test_rolling_zscore_matches_batch_and_two_pass_reference(spread: np.ndarray, window: int) -> None:
    out = run(RollingZScore(window), spread)
    batch = zscore(spread, window=window).to_numpy()
    np.testing.assert_array_equal(np.isnan(out), np.isnan(batch))
    np.testing.assert_allclose(out, batch, rtol=0, atol=1e-10)
    ref = _rolling_reference(spread, window)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(ref))
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-10)
    # the constant stretch: every window inside it has zero variance, hence NaN
    assert np.isnan(out[900 + window - 1 : 960]).all()


def test_rolling_zscore_stays_accurate_over_the_4h_sample() -> None:
    prices = load_sample("binance_4h")[["BTC", "ETH"]].dropna()
    values = prices["ETH"].to_numpy() - 0.05 * prices["BTC"].to_numpy()
    out = run(RollingZScore(24), values)
    np.testing.assert_allclose(out, zscore(values, window=24).to_numpy(), rtol=0, atol=1e-10)


def test_expanding_and_ewm_zscores_equal_batch_and_pandas(spread: np.ndarray) -> None:
    s = pd.Series(spread)
    out = run(ExpandingZScore(), spread)
    np.testing.assert_array_equal(out, zscore(spread, method="expanding").to_numpy())
    exp = s.expanding()
    ref = ((s - exp.mean()) / exp.std()).to_numpy()
    ok = ~np.isnan(spread) & np.isfinite(ref)
    np.testing.assert_allclose(out[ok], ref[ok], rtol=0, atol=1e-9)

    out = run(EwmZScore(12.5), spread)
    np.testing.assert_array_equal(out, zscore(spread, method="ewm", halflife=12.5).to_numpy())
    ewm = s.ewm(halflife=12.5)
    ref = ((s - ewm.mean()) / ewm.std()).to_numpy()
    ok = ~np.isnan(spread) & np.isfinite(ref)
    np.testing.assert_allclose(out[ok], ref[ok], rtol=0, atol=1e-9)


values_strategy = st.lists(
    # Millis keep squared deviations far from underflow; repeats exercise the constant-window rule.
    st.one_of(
        st.integers(-5000, 5000).map(lambda i: i / 1000), st.just(math.nan), st.sampled_from([0.5, 1.0])
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(values=values_strategy, window=st.integers(2, 8))
def test_rolling_zscore_property_matches_batch(values: list[float], window: int) -> None:
    arr = np.array(values)
    out = run(RollingZScore(window), arr)
    batch = _rolling_reference(arr, window)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(batch))
    np.testing.assert_allclose(out, batch, rtol=1e-9, atol=1e-9)


def _rolling_reference(arr: np.ndarray, window: int) -> np.ndarray:
    """Two-pass z-score of each full window, NaN when constant or incomplete."""
    out = np.full(len(arr), np.nan)
    for t in range(len(arr)):
        win = arr[max(0, t - window + 1) : t + 1]
        if np.isnan(arr[t]) or len(win) < window or np.isnan(win).any() or (win == arr[t]).all():
            continue
        out[t] = (arr[t] - win.mean()) / win.std(ddof=1)
    return out


def _engines(window: int) -> list[StreamEngine]:
    """One engine per z-score kind on a fixed hedge (the spread is y), and a rolling hedge."""
    fixed = Strategy(hedge="ols", beta=0.0, alpha=0.0)
    return [
        fixed.replace(zscore_method="rolling", zscore_window=window).stream(),
        fixed.replace(zscore_method="expanding").stream(),
        fixed.replace(zscore_method="ewm", zscore_halflife=3.0).stream(),
        Strategy(hedge="rolling", window=window, zscore_method="expanding").stream(),
    ]


@settings(max_examples=25, deadline=None)
@given(values=values_strategy, k=st.integers(0, 60), window=st.integers(2, 8))
def test_state_round_trip_continues_identically(values: list[float], k: int, window: int) -> None:
    # Engine rows through JSON mid-stream continue as engines that never stopped.
    bars = [(10.0 + (v if not math.isnan(v) else 1.0), 1.0 + 0.1 * i) for i, v in enumerate(values)]
    k = min(k, len(bars))
    for full, first, make in zip(_engines(window), _engines(window), _engines(window), strict=True):
        expected = [full.update(a, b) for a, b in bars]
        head = [first.update(a, b) for a, b in bars[:k]]
        clone = StreamEngine.from_state(json.loads(json.dumps(first.state_dict())))
        assert clone.state_dict() == first.state_dict() and make.strategy == clone.strategy
        tail = [clone.update(a, b) for a, b in bars[k:]]
        assert [s.to_json() for s in head + tail] == [s.to_json() for s in expected]


def test_float_encoding_round_trips_bit_for_bit() -> None:
    values = [math.nan, math.inf, -math.inf, -0.0, 0.1, 1e-310, 123456.789e200]
    decoded = json.loads(json.dumps(encode_floats({"v": values})))
    assert "NaN" not in json.dumps(encode_floats({"v": values}))
    back = read_floats(decoded, "v", len(values), "state")
    assert [math.copysign(1.0, b) for b in back[3:4]] == [-1.0]
    assert np.array_equal(np.array(back), np.array(values), equal_nan=True)


@pytest.mark.parametrize(
    ("data", "call", "match"),
    [
        ({"a": "abc"}, lambda d: read_float(d, "a", "state['x']"), r"state\['x'\]\['a'\] must be a number"),
        ({"a": True}, lambda d: read_float(d, "a", "s"), "must be a number"),
        ({"a": [1.0]}, lambda d: read_floats(d, "a", 2, "s"), "list of 2 numbers"),
        ({"a": 1.5}, lambda d: read_int(d, "a", "s"), "must be an integer"),
        ({"a": -1}, lambda d: read_int(d, "a", "s"), "must be an integer >= 0"),
        ({"a": 2}, lambda d: read_int(d, "a", "s", minimum=-1, maximum=1), r"in \[-1, 1\]"),
    ],
)
def test_readers_reject_malformed_values(data: dict, call: object, match: str) -> None:
    with pytest.raises(StateError, match=match):
        call(data)  # type: ignore[operator]


def test_restore_rejects_malformed_state() -> None:
    engine = Strategy(hedge="ols", beta=0.0, alpha=0.0, zscore_window=3).stream()
    for v in (1.0, 2.0, 4.0, 3.0):
        engine.update(v, 1.0)
    good = engine.state_dict()
    zstate = good["state"]["zscore"]
    bad_len = json.loads(json.dumps(good))
    bad_len["state"]["zscore"]["values"] = zstate["values"][:2]
    with pytest.raises(StateError, match="values"):
        StreamEngine.from_state(bad_len)
    missing = json.loads(json.dumps(good))
    del missing["state"]["zscore"]["m2"]
    with pytest.raises(StateError, match="keys"):
        StreamEngine.from_state(missing)
    wrong = json.loads(json.dumps(good))
    wrong["state"]["zscore"] = []
    with pytest.raises(StateError, match="keys"):
        StreamEngine.from_state(wrong)
