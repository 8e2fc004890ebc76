"""The pairs logic of the freqtrade example (examples/freqtrade/pairs_logic.py), without freqtrade.

Candles are the bundled Binance daily OHLCV of ETH/USDT and BTC/USDT in freqtrade's layout (a
``date`` column, UTC). The columns must equal ``Strategy.run`` on the same closes exactly (the
engine replays the batch bit for bit), be causal (a prefix of the candles gives the prefix of
the columns) and continue identically after a restart from the saved state.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pairs
from pairs.data import sample_path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "freqtrade"
STRATEGY = pairs.Strategy(log_prices=True, delta=1e-5, zscore_window=30, rule={"entry_z": 1.5, "exit_z": 0.0})


def _load_logic():
    spec = importlib.util.spec_from_file_location("pairs_logic", EXAMPLE / "pairs_logic.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["pairs_logic"] = module
    spec.loader.exec_module(module)
    return module


logic = _load_logic()


def _candles(coin: str) -> pd.DataFrame:
    frame = pd.read_csv(sample_path(f"{coin}USDT_1d.csv"), parse_dates=["timestamp"])
    frame["date"] = frame.pop("timestamp").dt.tz_localize("UTC")
    return frame[["date", "open", "high", "low", "close", "volume"]]


@pytest.fixture(scope="module")
def legs() -> pd.DataFrame:
    eth, btc = _candles("ETH"), _candles("BTC").iloc[5:]  # BTC starts later: merge_legs keeps both-coin dates
    return logic.merge_legs(eth, btc).iloc[:900]


@pytest.fixture(scope="module")
def batch(legs: pd.DataFrame) -> pd.DataFrame:
    index = pd.DatetimeIndex(legs["date"])
    y, x = pd.Series(legs["close_y"].to_numpy(), index), pd.Series(legs["close_x"].to_numpy(), index)
    return STRATEGY.run(y, x).frame


def _transitions(position: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray]:
    prev = np.r_[0, position[:-1]]
    return ((position == side) & (prev != side)).astype(int), ((prev == side) & (position != side)).astype(
        int
    )


def test_merge_legs_keeps_common_dates(legs: pd.DataFrame) -> None:
    assert list(legs.columns) == ["date", "close_y", "close_x"]
    assert legs["date"].is_monotonic_increasing and legs["date"].iloc[0] == _candles("BTC")["date"].iloc[5]


def test_columns_equal_strategy_run(legs: pd.DataFrame, batch: pd.DataFrame) -> None:
    out = logic.PairSignals(STRATEGY)(legs)
    assert list(out.columns) == list(logic.COLUMNS)
    np.testing.assert_array_equal(out["position"].to_numpy(), batch["position"].to_numpy())
    np.testing.assert_array_equal(out["zscore"].to_numpy(), batch["zscore"].to_numpy())
    np.testing.assert_array_equal(out["beta"].to_numpy(), batch["beta"].to_numpy())
    assert list(out["action"]) == list(batch["action"])
    position = batch["position"].to_numpy()
    for side, name in ((1, "long"), (-1, "short")):
        enter, exit_ = _transitions(position, side)
        np.testing.assert_array_equal(out[f"enter_{name}"].to_numpy(), enter)
        np.testing.assert_array_equal(out[f"exit_{name}"].to_numpy(), exit_)
    assert out["enter_long"].sum() > 2 and out["enter_short"].sum() > 2  # the rule trades both ways
    # Replaying the entry/exit columns as a position gives the position back.
    replay = np.cumsum(out["enter_long"] - out["exit_long"] - out["enter_short"] + out["exit_short"])
    np.testing.assert_array_equal(replay.to_numpy(), position)


@pytest.mark.parametrize("stop", [31, 200, 457, 899])
def test_prefix_property(legs: pd.DataFrame, stop: int) -> None:
    full = logic.PairSignals(STRATEGY)(legs)
    part = logic.PairSignals(STRATEGY)(legs.iloc[:stop])
    pd.testing.assert_frame_equal(part, full.iloc[:stop])


def test_live_calls_on_a_sliding_window(legs: pd.DataFrame) -> None:
    """Live mode: each call sees the last 100 closed candles; the newest row equals the full run."""
    full = logic.PairSignals(STRATEGY)(legs)
    live = logic.PairSignals(STRATEGY)
    for end in range(1, len(legs) + 1, 7):
        out = live(legs.iloc[max(0, end - 100) : end])
        pd.testing.assert_series_equal(out.iloc[-1], full.iloc[end - 1], check_names=False)


def test_resumes_from_saved_state(legs: pd.DataFrame, tmp_path: Path) -> None:
    full = logic.PairSignals(STRATEGY)(legs)
    state = tmp_path / "state" / "eth_btc.json"
    logic.PairSignals(STRATEGY, state)(legs.iloc[:500])
    assert json.loads(state.read_text())["engine"]["state"]["n_updates"] == 500
    restarted = logic.PairSignals(STRATEGY, state)
    out = restarted(legs)
    pd.testing.assert_frame_equal(out.iloc[500:], full.iloc[500:])
    assert out["position"].iloc[:500].isna().all() and (out["enter_long"].iloc[:500] == 0).all()
    with pytest.raises(ValueError, match="another strategy"):
        logic.PairSignals(STRATEGY.replace(zscore_window=20), state)


def test_logic_does_not_import_freqtrade() -> None:
    tree = ast.parse((EXAMPLE / "pairs_logic.py").read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert "freqtrade" not in imported and "pairs" in imported
