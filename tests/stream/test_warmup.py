"""StreamEngine.warmup (one compiled replay) equals update() bar by bar, bit for bit; max_gap.

Equality is exact: ``==`` on the last Signal and on the JSON of the whole state, for every
hedge, z-score method and sizing mode, from a fresh engine and from one mid-stream.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from pairs import StreamEngine
from pairs.exceptions import DataError, PairsError, StateError
from pairs.strategy import Strategy
from pairs.trading import SignalRule

RULE = SignalRule(entry_z=1.5, exit_z=0.25, stop_z=3.5, max_holding=40, cooldown=2)
STRATEGIES = {
    "kalman-log-sized": Strategy(log_prices=True, delta=1e-5, rule=RULE, capital=1e4, lot_size=(0.01, 0.001)),
    "kalman-innovation": Strategy(zscore_method="innovation", rule=RULE),
    "kalman-ewm-dollar": Strategy(
        zscore_method="ewm", zscore_halflife=12.0, capital=5e3, sizing_mode="dollar_neutral"
    ),
    "rolling-levels-band": Strategy(
        hedge="rolling", window=30, zscore_window=20, rule=RULE, capital=1e4, rebalance_band=0.05
    ),
    "rolling-log-expanding": Strategy(hedge="rolling", window=25, log_prices=True, zscore_method="expanding"),
    "ols-fixed": Strategy(hedge="ols", beta=14.0, alpha=100.0, zscore_window=15, rule=RULE, capital=1e3),
}


@pytest.fixture(scope="module")
def prices(btc_eth_daily: pd.DataFrame) -> pd.DataFrame:
    return btc_eth_daily.iloc[:700]


def by_update(engine: StreamEngine, frame: pd.DataFrame) -> object:
    signal = None
    for t, y, x in zip(frame.index, frame["ETH"].tolist(), frame["BTC"].tolist(), strict=True):
        signal = engine.update(y, x, t)
    return signal


@pytest.mark.parametrize("name", sorted(STRATEGIES))
@pytest.mark.parametrize("split", [0, 1, 333])
def test_warmup_equals_updates_bit_for_bit(prices: pd.DataFrame, name: str, split: int) -> None:
    strategy = STRATEGIES[name]
    slow, fast = strategy.stream(), strategy.stream()
    by_update(slow, prices.iloc[:split])
    by_update(fast, prices.iloc[:split])
    expected = by_update(slow, prices.iloc[split:])
    got = fast.warmup(prices["ETH"].iloc[split:], prices["BTC"].iloc[split:])
    assert got == expected or json.dumps(got.to_dict()) == json.dumps(expected.to_dict())
    assert json.dumps(fast.state_dict()) == json.dumps(slow.state_dict())
    # and both continue identically
    t = prices.index[-1] + pd.Timedelta(days=1)
    assert fast.update(900.0, 20000.0, t).to_dict() == slow.update(900.0, 20000.0, t).to_dict()


def test_warmup_without_timestamps_and_refusals_leave_engine_unchanged(prices: pd.DataFrame) -> None:
    engine, slow = (
        Strategy(hedge="rolling", window=20).stream(),
        Strategy(hedge="rolling", window=20).stream(),
    )
    ys, xs = prices["ETH"].to_numpy(), prices["BTC"].to_numpy()
    engine.warmup(ys[:50], xs[:50])
    for y, x in zip(ys[:50].tolist(), xs[:50].tolist(), strict=True):
        slow.update(y, x)
    assert engine.state_dict() == slow.state_dict() and engine.last_timestamp is None
    timed = by_update(Strategy().stream(), prices.iloc[:10])
    assert timed is not None
    engine = Strategy().stream()
    engine.warmup(prices["ETH"].iloc[:10], prices["BTC"].iloc[:10])
    before = json.dumps(engine.state_dict())
    bad = prices["ETH"].iloc[10:20].copy()
    bad.iloc[5] = -1.0
    with pytest.raises(DataError):
        engine.warmup(bad, prices["BTC"].iloc[10:20])
    with pytest.raises(StateError, match="after the previous"):
        engine.warmup(prices["ETH"].iloc[5:20], prices["BTC"].iloc[5:20])
    with pytest.raises(StateError, match="DatetimeIndex"):
        engine.warmup(ys[10:20], xs[10:20])
    assert json.dumps(engine.state_dict()) == before


def holey(prices: pd.DataFrame) -> pd.DataFrame:
    """The daily bars with bars 200..204 missing (a 6-day step)."""
    return prices.drop(prices.index[200:205])


@pytest.mark.parametrize("how", ["update", "warmup"])
def test_max_gap_raise_refuses_a_hole_and_keeps_state(prices: pd.DataFrame, how: str) -> None:
    frame = holey(prices)
    engine = StreamEngine(Strategy(log_prices=True), max_gap=pd.Timedelta("2D"))
    by_update(engine, frame.iloc[:200])
    before = json.dumps(engine.state_dict())
    with pytest.raises(StateError, match="max_gap"):
        if how == "update":
            by_update(engine, frame.iloc[200:])
        else:
            engine.warmup(frame["ETH"].iloc[200:], frame["BTC"].iloc[200:])
    assert json.dumps(engine.state_dict()) == before


def test_max_gap_reset_starts_over_and_warmup_agrees(prices: pd.DataFrame) -> None:
    frame = holey(prices)
    strategy = Strategy(log_prices=True, rule=RULE, capital=1e4)
    slow = StreamEngine(strategy, max_gap="2D", on_gap="reset")
    fast = StreamEngine(strategy, max_gap="2D", on_gap="reset")
    fresh = strategy.stream()
    expected = by_update(slow, frame)
    got = fast.warmup(frame["ETH"], frame["BTC"])
    assert got == expected
    assert json.dumps(fast.state_dict()) == json.dumps(slow.state_dict())
    # After the reset the engine is a new one started at the first bar after the hole.
    by_update(fresh, frame.iloc[200:])
    assert slow.n_updates == fresh.n_updates == len(frame) - 200
    assert slow.state_dict()["state"] == fresh.state_dict()["state"]


def test_reset_in_a_position_reports_exit() -> None:
    engine = StreamEngine("ols", beta=1.0, zscore_window=3, rule={"entry_z": 1.0}, max_gap=2, on_gap="reset")
    for t, y in enumerate([2.0, 2.1, 2.0, 3.0]):
        signal = engine.update(y, 1.0, t)
    assert signal.position == -1 and signal.action == "enter_short"
    after = engine.update(2.0, 1.0, 10)
    assert after.position == 0 and after.action == "exit" and engine.n_updates == 1


def test_max_gap_is_saved_and_validated(tmp_path: object) -> None:
    engine = StreamEngine(Strategy(), max_gap=pd.Timedelta("36h"), on_gap="reset")
    restored = StreamEngine.from_state(json.loads(json.dumps(engine.state_dict())))
    assert restored.max_gap == pd.Timedelta("36h") and restored.on_gap == "reset"
    numeric = StreamEngine.from_state(StreamEngine(Strategy(), max_gap=5).state_dict())
    assert numeric.max_gap == 5 and numeric.on_gap == "raise"
    legacy = engine.state_dict()
    del legacy["options"]
    assert StreamEngine.from_state(legacy).max_gap is None
    for bad in (0, -1.0, math.nan, True, "soon", pd.Timedelta(0), [1]):
        with pytest.raises(PairsError, match="max_gap"):
            StreamEngine(Strategy(), max_gap=bad)
    with pytest.raises(PairsError, match="on_gap"):
        StreamEngine(Strategy(), on_gap="skip")
    doc = engine.state_dict()
    doc["options"]["on_gap"] = "skip"
    with pytest.raises(StateError, match="options"):
        StreamEngine.from_state(doc)
    mixed = StreamEngine(Strategy(), max_gap=5)
    mixed.update(2.0, 1.0, pd.Timestamp("2024-01-01"))
    with pytest.raises(DataError, match="max_gap"):
        mixed.update(2.0, 1.0, pd.Timestamp("2024-01-02"))


def test_warmup_is_faster_per_bar_than_updates_in_work_not_time(prices: pd.DataFrame) -> None:
    # No wall-clock assertion: warmup makes one compiled call for the whole history.
    engine = Strategy().stream()
    signal = engine.warmup(np.asarray(prices["ETH"]), np.asarray(prices["BTC"]))
    assert engine.n_updates == len(prices) and signal.timestamp is None
