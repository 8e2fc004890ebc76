"""The pairs logic of the freqtrade example: spread signals of two coins' candles, with a saved state.

Plain pandas and ``pairs``: freqtrade is not imported here, so this module is tested without it
(tests/examples/test_freqtrade_logic.py). ``PairsStrategy.py`` calls it from freqtrade.

:class:`PairSignals` runs a :class:`pairs.Strategy` through a :class:`pairs.StreamEngine` one
closed candle at a time and returns, for every candle, the spread ``position`` (+1: long the
``y`` coin and short ``beta`` of the ``x`` coin; -1 the reverse; 0 flat) and freqtrade's
``enter_long``/``exit_long``/``enter_short``/``exit_short`` columns *for the y leg* (the x leg
trades the opposite side). Row ``t`` uses candles up to ``t`` only: the columns of a prefix of
the candles are the prefix of the columns (no look-ahead), and they equal
``strategy.run(y, x).position`` on the same candles.

With ``state_path`` the engine is saved (atomically, checksummed) after each call that saw a new
candle and loaded by the next process, so a restarted bot continues exactly where it stopped:
candles up to the saved one are not replayed (their columns are NaN / 0 in a new process),
later candles get the same columns as an uninterrupted run.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

import pairs

COLUMNS = ("beta", "zscore", "position", "action", "enter_long", "exit_long", "enter_short", "exit_short")


def merge_legs(y_candles: pd.DataFrame, x_candles: pd.DataFrame) -> pd.DataFrame:
    """One frame ``date, close_y, close_x`` of the candles both coins have (freqtrade's ``date`` column)."""
    left = y_candles[["date", "close"]].rename(columns={"close": "close_y"})
    right = x_candles[["date", "close"]].rename(columns={"close": "close_x"})
    return left.merge(right, on="date", how="inner").sort_values("date", ignore_index=True)


class PairSignals:
    """Spread signals of the candles of ``y`` (the coin hedged) and ``x`` (the hedge), causal and resumable.

    Parameters
    ----------
    strategy
        The :class:`pairs.Strategy` to run (hedge, z-score, entry/exit rule).
    state_path
        Engine state file: loaded if it exists, written after every call that saw a new candle.
        None: keep the engine in memory only (backtests).
    """

    def __init__(self, strategy: pairs.Strategy, state_path: str | Path | None = None) -> None:
        self.strategy = strategy
        self.state_path = None if state_path is None else Path(state_path)
        if self.state_path is not None and self.state_path.exists():
            self.engine = pairs.StreamEngine.load(self.state_path)
            if self.engine.strategy != strategy:
                raise ValueError(
                    f"state_path holds an engine of another strategy ({self.state_path}); delete it to start over."
                )
        else:
            self.engine = strategy.stream()
        self._rows: dict[pd.Timestamp, tuple] = {}

    def __call__(self, candles: pd.DataFrame, y: str = "close_y", x: str = "close_x") -> pd.DataFrame:
        """Columns :data:`COLUMNS` for every row of ``candles`` (a ``date`` column and the two closes).

        Rows newer than the last candle the engine saw are fed to it in order; earlier rows
        reuse what this object computed before (NaN / 0 for candles a previous process saw).
        Rows with a missing or non-positive close are skipped (their position is NaN).
        """
        engine = self.engine
        dates = pd.to_datetime(candles["date"], utc=True)
        last = engine.last_timestamp
        fed = False
        for ts, py, px in zip(dates, candles[y].to_numpy(float), candles[x].to_numpy(float), strict=True):
            if (last is not None and ts <= last) or not (py > 0 and px > 0 and math.isfinite(py + px)):
                continue
            before = engine.position
            signal = engine.update(py, px, ts)
            after = signal.position
            self._rows[ts] = (
                signal.beta,
                signal.zscore,
                after,
                signal.action,
                int(after == 1 and before != 1),
                int(before == 1 and after != 1),
                int(after == -1 and before != -1),
                int(before == -1 and after != -1),
            )
            last = ts
            fed = True
        if fed and self.state_path is not None:
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            engine.save(self.state_path)
        missing = (math.nan, math.nan, math.nan, None, 0, 0, 0, 0)
        rows = [self._rows.get(ts, missing) for ts in dates]
        out = pd.DataFrame(rows, columns=list(COLUMNS), index=candles.index)
        out["position"] = out["position"].astype(np.float64)  # NaN: a candle this process did not see
        for col in COLUMNS[4:]:
            out[col] = out[col].astype(np.int64)
        return out
