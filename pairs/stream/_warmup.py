""":meth:`StreamEngine.warmup`: validate a history once, then replay it in one compiled loop."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pairs._validation import align_pair
from pairs.exceptions import DataError, StateError
from pairs.stream._kernels import MAX_PRICE, MIN_PRICE, replay
from pairs.trading._rules import ACTIONS

if TYPE_CHECKING:
    from pairs.stream._engine import Signal, StreamEngine

__all__ = ["warmup"]


def _timestamps(engine: StreamEngine, index: pd.Index) -> list[pd.Timestamp] | None:
    """The bars' timestamps (a DatetimeIndex), checked as :meth:`update` checks them."""
    last = engine.last_timestamp
    if not isinstance(index, pd.DatetimeIndex):
        if last is not None:
            raise StateError(
                f"y must have a DatetimeIndex (the bars' timestamps) after updates with timestamps "
                f"(last {last!r}); got a {type(index).__name__}."
            )
        return None
    if last is not None:
        try:
            later = index[0] > last
        except TypeError:
            raise DataError(
                f"y.index must be comparable with the previous timestamp ({last!r}); got {index[0]!r}."
            ) from None
        if not later:
            raise StateError(f"y.index must start after the previous update ({last!r}); got {index[0]!r}.")
    return list(index)


def _holes(engine: StreamEngine, stamps: list[pd.Timestamp] | None) -> list[int]:
    """Positions ``i`` where the step from bar ``i - 1`` (or the last update) exceeds ``max_gap``."""
    gap = engine.max_gap
    if gap is None or stamps is None:
        return []
    if not isinstance(gap, pd.Timedelta):
        raise DataError(
            f"timestamp must be of the kind max_gap={gap!r} measures (a number); got a DatetimeIndex."
        )
    last = engine.last_timestamp
    # Step j leads to stamps[j] when the engine has a last timestamp, else to stamps[j + 1].
    times = ([last] if last is not None else []) + stamps
    shift = 0 if last is not None else 1
    steps = pd.Series(times).diff().iloc[1:].to_numpy()
    holes = [int(j) + shift for j in np.flatnonzero(steps > gap.to_timedelta64())]
    if holes and engine.on_gap == "raise":
        i = holes[0]
        before = stamps[i - 1] if i > 0 else last
        raise StateError(
            f"y.index must step by at most max_gap={gap!r}; got a hole of {stamps[i] - before!r} "
            f"before {stamps[i]!r}. Feed the missing bars, or start over (on_gap='reset')."
        )
    return holes


def _run(engine: StreamEngine, py: np.ndarray, px: np.ndarray) -> tuple:
    # replay loops over engine_step, the kernel of StreamEngine.update, on the engine's own vector.
    return replay(engine._st, py, px)


def warmup(engine: StreamEngine, y: Any, x: Any) -> Signal:
    """Body of :meth:`StreamEngine.warmup` (all checks first, so a refusal changes nothing)."""
    from pairs.stream._engine import price_error
    from pairs.stream._signal import _signal

    ys, xs = align_pair(y, x, positive=True, min_length=1)
    for name, values in (("y", ys), ("x", xs)):
        outside = ~values.between(MIN_PRICE, MAX_PRICE)
        if outside.any():
            raise price_error(name, float(values[outside].iloc[0]))
    stamps = _timestamps(engine, ys.index)
    holes = _holes(engine, stamps)
    # Copies: pandas hands out read-only views, which numba would compile a second replay for.
    py = np.array(ys, dtype=np.float64)
    px = np.array(xs, dtype=np.float64)
    bounds = [0, *holes, len(py)]
    out: tuple = ()
    position_before_reset = 0
    for k, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        if k > 0:
            position_before_reset = engine.position
            engine._start()
        if hi > lo:
            out = _run(engine, py[lo:hi], px[lo:hi])
    beta, alpha, spread, z, position, code, y_units, x_units = out
    action = ACTIONS[code]
    if holes and holes[-1] == len(py) - 1 and position_before_reset and position == 0 and action == "hold":
        action = "exit"
    engine._last_ts = stamps[-1] if stamps is not None else None
    orders = cut = None
    # The last bar marks the holdings; guards of the strategy's ExecutionRule act on live bars
    # only (a replayed history has no fills).
    engine._legs.mark(float(py[-1]), float(px[-1]))
    if engine.strategy.capital is None:
        y_units = x_units = None
    else:
        orders, cut = engine._last_orders()
    return _signal(
        engine._last_ts, beta, alpha, spread, z, position, y_units, x_units, action, orders, cut, engine._fill
    )
