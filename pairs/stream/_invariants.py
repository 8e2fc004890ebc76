"""Invariants a running :class:`~pairs.StreamEngine` keeps, checked on every restored state.

A state file is untrusted input: well-formed JSON of the right shape can still describe an
engine that no sequence of bars produces (a negative variance, NaN in a price buffer, a bar
counter that disagrees with ``n_updates``, leg units on a flat position). Such a state would
trade silently wrong from then on, so :meth:`~pairs.StreamEngine.from_state` refuses it with
a :class:`~pairs.exceptions.StateError` naming the field.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from pairs.exceptions import StateError
from pairs.stream._online import (
    EwmZScore,
    ExpandingZScore,
    KalmanHedge,
    RollingHedge,
    RollingZScore,
)

if TYPE_CHECKING:
    from pairs.stream._engine import StreamEngine

__all__ = ["check_invariants"]

WHERE = "state['state']"
# Welford remove-updates can leave a co-moment a few ulps below zero; garbage is far below.
_ROUNDING = 1e-9


def _fail(field: str, expectation: str, value: Any) -> None:
    raise StateError(f"{WHERE}{field} must be {expectation}; got {value!r}.")


def _finite(field: str, value: float) -> None:
    if not math.isfinite(value):
        _fail(field, "finite", value)


def _variance(field: str, value: float, scale: float) -> None:
    _finite(field, value)
    if value < -_ROUNDING * (1.0 + abs(scale)):
        _fail(field, "a non-negative variance", value)


def _count(field: str, value: float, top: int) -> None:
    if not (math.isfinite(value) and value == int(value) and 0 <= value <= top):
        _fail(field, f"a count in [0, {top}]", value)


def _hedge(engine: StreamEngine, n: int) -> None:
    hedge = engine._hedge
    if isinstance(hedge, KalmanHedge):
        if hedge.first != (n == 0):
            _fail("['hedge']['first']", f"{n == 0} after {n} updates", hedge.first)
        if hedge.first:
            return
        for name in ("beta", "alpha", "p01", "ref_y", "ref_x"):
            _finite(f"['hedge'][{name!r}]", getattr(hedge, name))
        for name in ("p00", "p11"):
            _variance(f"['hedge'][{name!r}]", getattr(hedge, name), 0.0)
        if not hedge.log and not (hedge.ref_y > 0 and hedge.ref_x > 0):
            _fail("['hedge']['ref_y'/'ref_x']", "positive prices", (hedge.ref_y, hedge.ref_x))
    elif isinstance(hedge, RollingHedge):
        if hedge.bars != n:
            _fail("['hedge']['bars']", f"n_updates ({n})", hedge.bars)
        weight, mx, my, cxx, cxy, cyy = hedge.stats.tolist()
        for name, value in zip(("mean_x", "mean_y", "cxy"), (mx, my, cxy), strict=True):
            _finite(f"['hedge'][{name!r}]", value)
        _count("['hedge']['weight']", weight, min(n, hedge.window))
        if n and weight != min(n, hedge.window):
            _fail("['hedge']['weight']", f"min(n_updates, window) = {min(n, hedge.window)}", weight)
        _variance("['hedge']['cxx']", cxx, weight * mx * mx)
        _variance("['hedge']['cyy']", cyy, weight * my * my)
        kept = min(n, hedge.window)
        for name, buf in zip(("y", "x"), hedge.bufs, strict=True):
            values = buf if n >= hedge.window else buf[:kept]
            if not all(math.isfinite(v) for v in values.tolist()):
                _fail(f"['hedge'][{name!r}]", "finite prices", values.tolist()[:5])
            if not engine._log and not all(v > 0 for v in values.tolist()):
                _fail(f"['hedge'][{name!r}]", "positive prices", values.tolist()[:5])


def _zscore(engine: StreamEngine, n: int) -> None:
    z = engine._z
    if z is None:
        return
    stats = dict(zip(z._names, z.stats.tolist(), strict=True))
    where = "['zscore']"
    if isinstance(z, RollingZScore):
        if z.bars != n:
            _fail(f"{where}['bars']", f"n_updates ({n})", z.bars)
        _count(f"{where}['count']", stats["count"], min(n, z.window))
        _variance(f"{where}['m2']", stats["m2"], stats["count"] * stats["mean"] ** 2)
        values = z.bufs[0] if n >= z.window else z.bufs[0][: min(n, z.window)]
        if any(math.isinf(v) for v in values.tolist()):
            _fail(f"{where}['values']", "finite or NaN spreads", values.tolist()[:5])
    elif isinstance(z, ExpandingZScore):
        _count(f"{where}['count']", stats["count"], n)
        _variance(f"{where}['m2']", stats["m2"], stats["count"] * stats["mean"] ** 2)
    elif isinstance(z, EwmZScore):
        _count(f"{where}['nobs']", stats["nobs"], n)
        _variance(f"{where}['var']", stats["var"], stats["mean"] ** 2)
        for name in ("sum_wt", "sum_wt2", "old_wt"):
            _variance(f"{where}[{name!r}]", stats[name], 0.0)


def _sizing(engine: StreamEngine) -> None:
    position = engine._rule_state[0]
    held_y, held_x, last_pos, ref_beta = engine._held_y, engine._held_x, engine._last_pos, engine._ref_beta
    units = (held_y, held_x, last_pos)
    if engine._capital is None:
        if units != (0.0, 0.0, 0.0) or not math.isnan(ref_beta):
            _fail("['sizing']", "flat (0, 0, 0, nan) without capital", (*units, ref_beta))
        return
    if last_pos != position:
        _fail("['sizing']['position']", f"the rule's position ({position})", last_pos)
    if position == 0:
        if held_y != 0.0 or held_x != 0.0:
            _fail("['sizing']", "zero units on a flat position", (held_y, held_x))
        return
    _finite("['sizing']['y_units']", held_y)
    _finite("['sizing']['x_units']", held_x)
    _finite("['sizing']['beta']", ref_beta)
    if held_y * position < 0:
        _fail("['sizing']['y_units']", f"of the sign of the position ({position})", held_y)


def check_invariants(engine: StreamEngine) -> None:
    """Raise :class:`~pairs.exceptions.StateError` if ``engine`` is in a state no bars produce."""
    n = engine._n
    if n == 0:
        if engine._last_ts is not None:
            _fail("['last_timestamp']", "null before the first update", engine._last_ts)
        if any(engine._rule_state):
            _fail("['rule']", "all zero before the first update", engine._rule_state)
    bars_held = engine._rule_state[1]
    if bars_held > n:
        _fail("['rule']['bars_held']", f"at most n_updates ({n})", bars_held)
    if engine._rule_state[0] == 0 and bars_held:
        _fail("['rule']['bars_held']", "0 on a flat position", bars_held)
    _hedge(engine, n)
    _zscore(engine, n)
    _sizing(engine)
