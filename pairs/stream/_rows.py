"""One streamed pair as one float64 row: build it from a Strategy, encode/decode it, check it.

The layout is :mod:`pairs.stream._kernels`' (settings ``P_*``, state ``S_*``, ring buffers). An
engine holds one row, a book one row per pair (a 2-D block per row width); both write the same
JSON state per pair (:func:`encode_row`, read back by :func:`decode_row`) and the same binary rows,
and both refuse a row no sequence of bars produces with :func:`check_rows`, vectorised over a
block: a state file is untrusted input, and an impossible state would trade silently wrong.

JSON state of a row (the ``state`` of :meth:`pairs.StreamEngine.state_dict`, besides
``n_updates`` and ``last_timestamp``): ``hedge`` (Kalman: beta, alpha, p00, p01, p11, ref_y, ref_x,
first; rolling: bars, weight, mean_x, mean_y, cxx, cxy, cyy and the y, x buffers oldest first;
fixed: nothing), ``zscore`` (None for the innovation z-score), ``rule`` and ``sizing``.
Non-finite floats are ``"nan"``/``"inf"``/``"-inf"``, buffers base64 of their float64 bytes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pairs.exceptions import StateError
from pairs.strategy import Strategy
from pairs.strategy._steps import KALMAN_PRIOR
from pairs.stream._kernels import (
    HEDGE_FIXED,
    HEDGE_KALMAN,
    HEDGE_ROLLING,
    P_BAND,
    P_BETA_NEUTRAL,
    P_CAPITAL,
    P_COOLDOWN,
    P_ENTRY,
    P_EWM,
    P_EXIT,
    P_HEDGE,
    P_LOG,
    P_LOT_X,
    P_LOT_Y,
    P_MAX_HOLD,
    P_Q,
    P_R,
    P_SIZED,
    P_STOP,
    P_WINDOW,
    P_Z,
    P_Z_WINDOW,
    R_RULE,
    R_SIZE,
    S_BUF,
    S_HEDGE,
    S_N,
    S_RULE,
    S_SIZE,
    S_Z,
    Z_EWM,
    Z_EXPANDING,
    Z_NONE,
    Z_ROLLING,
)
from pairs.stream._state import check_keys, encode_array, encode_floats, read_float, read_floats, read_int
from pairs.trading._kernels import EWM_START, EXPANDING_START, ROLLING_START, Z_CODES, ewm_alpha
from pairs.trading._rules import RuleState, _kernel_args

__all__ = ["MAX_BARS", "check_rows", "close_row", "decode_row", "encode_row", "new_row"]

_HEDGES = {"kalman": HEDGE_KALMAN, "rolling": HEDGE_ROLLING, "ols": HEDGE_FIXED}
_KALMAN = ("beta", "alpha", "p00", "p01", "p11", "ref_y", "ref_x")
_ROLLING = ("weight", "mean_x", "mean_y", "cxx", "cxy", "cyy")
_ZNAMES = {
    Z_ROLLING: ("ref", "count", "mean", "m2", "last_value", "last_bar", "change_bar", "before_change_bar"),
    Z_EXPANDING: ("ref", "count", "mean", "m2", "same"),
    Z_EWM: ("ref", "mean", "var", "sum_wt", "sum_wt2", "old_wt", "nobs"),
}
_SIZING = ("y_units", "x_units", "position", "beta")
# Bar counts live in float64 slots: exact up to 2**53 (about 10**15 bars).
MAX_BARS = 2**53
# Welford remove-updates can leave a co-moment a few ulps below zero; garbage is far below.
_ROUNDING = 1e-9


def _windows(strategy: Strategy) -> tuple[int, int]:
    hw = strategy.window if strategy.hedge == "rolling" else 0
    zw = strategy.z_window if strategy.zscore_method == "rolling" else 0
    return int(hw), int(zw)  # type: ignore[arg-type]


def new_row(strategy: Strategy) -> np.ndarray:
    """The row of a pair of ``strategy`` that has seen no bar."""
    s = strategy
    hw, zw = _windows(s)
    st = np.zeros(S_BUF + 2 * hw + zw)
    st[P_HEDGE] = _HEDGES[s.hedge]
    h = st[S_HEDGE:S_Z]
    if s.hedge == "kalman":
        st[P_Q], st[P_R] = s.delta / (1.0 - s.delta), s.obs_var
        h[:] = (*KALMAN_PRIOR, math.nan, math.nan, 1.0)
    elif s.hedge == "ols":
        h[:2] = (s.beta, s.alpha)
    zkind = Z_CODES[s.zscore_method]
    st[P_Z] = zkind
    start = {Z_ROLLING: ROLLING_START, Z_EXPANDING: EXPANDING_START, Z_EWM: EWM_START}.get(zkind, ())
    st[S_Z : S_Z + len(start)] = start
    if zkind == Z_EWM:
        st[P_EWM] = ewm_alpha(s.zscore_halflife)  # type: ignore[arg-type]
    st[P_LOG] = s.log_prices
    st[[P_ENTRY, P_EXIT, P_STOP, P_MAX_HOLD, P_COOLDOWN]] = _kernel_args(s.rule)
    st[P_SIZED] = s.capital is not None
    st[[P_CAPITAL, P_BETA_NEUTRAL, P_LOT_Y, P_LOT_X, P_BAND]] = (
        s.capital or 0.0,
        s.sizing_mode == "beta_neutral",
        *s.lot_size,
        s.rebalance_band,
    )
    st[P_WINDOW], st[P_Z_WINDOW] = hw, zw
    st[S_SIZE + 3] = math.nan
    return st


def close_row(state: np.ndarray, cooldown: int) -> None:
    """Close the position of a row's state (``R_*``) as the rule's exit does: flat, no bars held,
    the rule's cooldown, flat legs (a guard of the strategy's ExecutionRule fired)."""
    state[R_RULE], state[R_RULE + 1], state[R_RULE + 2] = 0.0, 0.0, float(cooldown)
    state[R_SIZE], state[R_SIZE + 1], state[R_SIZE + 2] = 0.0, 0.0, 0.0


# ----------------------------------------------------------------- JSON codec
def _ring(buf: np.ndarray, bars: int) -> np.ndarray:
    """Buffered values oldest first (the slot of bar ``t`` is ``t % len(buf)``)."""
    window = len(buf)
    if bars < window:
        return buf[:bars]
    head = bars % window
    return np.concatenate((buf[head:], buf[:head]))


def _unring(buf: np.ndarray, bars: int, values: np.ndarray) -> None:
    buf[:] = 0.0
    if len(values):
        buf[np.arange(bars - len(values), bars) % len(buf)] = values


def _buffers(st: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    hw, zw = int(st[P_WINDOW]), int(st[P_Z_WINDOW])
    return st[S_BUF : S_BUF + hw], st[S_BUF + hw : S_BUF + 2 * hw], st[S_BUF + 2 * hw : S_BUF + 2 * hw + zw]


def encode_row(st: np.ndarray) -> dict[str, Any]:
    """The JSON state of a row: ``hedge``, ``zscore``, ``rule`` and ``sizing`` (see the module doc)."""
    n = int(st[S_N])
    ybuf, xbuf, zbuf = _buffers(st)
    h = st[S_HEDGE:S_Z].tolist()
    kind = int(st[P_HEDGE])
    hedge: dict[str, Any]
    if kind == HEDGE_KALMAN:
        hedge = {**dict(zip(_KALMAN, h[:7], strict=True)), "first": h[7] != 0.0}
    elif kind == HEDGE_ROLLING:
        hedge = {"bars": n, **dict(zip(_ROLLING, h[:6], strict=True))}
        hedge["y"], hedge["x"] = encode_array(_ring(ybuf, n)), encode_array(_ring(xbuf, n))
    else:
        hedge = {}
    zkind = int(st[P_Z])
    zscore: dict[str, Any] | None = None
    if zkind != Z_NONE:
        names = _ZNAMES[zkind]
        stats = dict(zip(names, st[S_Z : S_Z + len(names)].tolist(), strict=True))
        zscore = {"bars": n, **stats, "values": encode_array(_ring(zbuf, n))} if zkind == Z_ROLLING else stats
    rule = [int(v) for v in st[S_RULE:S_SIZE].tolist()]
    return {
        "hedge": encode_floats(hedge),
        "zscore": None if zscore is None else encode_floats(zscore),
        "rule": dict(zip(RuleState._fields, rule, strict=True)),
        "sizing": encode_floats(dict(zip(_SIZING, st[S_SIZE:S_HEDGE].tolist(), strict=True))),
    }


def _read_bars(state: dict[str, Any], n: int, where: str) -> None:
    bars = read_int(state, "bars", where)
    if bars != n:
        raise StateError(f"{where}['bars'] must be n_updates ({n}); got {bars!r}.")


def decode_row(st: np.ndarray, n: int, state: Any, where: str) -> None:
    """Write the JSON state ``state`` (of :func:`encode_row`) and ``n`` bars into the fresh row ``st``.

    Raises :class:`~pairs.exceptions.StateError` naming the field under ``where`` for a
    malformed state; :func:`check_rows` checks what the numbers mean.
    """
    check_keys(state, ("hedge", "zscore", "rule", "sizing"), where, optional=("n_updates", "last_timestamp"))
    ybuf, xbuf, zbuf = _buffers(st)
    h = st[S_HEDGE:S_Z]
    kind, here = int(st[P_HEDGE]), f"{where}['hedge']"
    if kind == HEDGE_KALMAN:
        hedge = check_keys(state["hedge"], (*_KALMAN, "first"), here)
        if not isinstance(hedge["first"], bool):
            raise StateError(f"{here}['first'] must be true or false; got {hedge['first']!r}.")
        h[:7] = [read_float(hedge, name, here) for name in _KALMAN]
        h[7] = float(hedge["first"])
    elif kind == HEDGE_ROLLING:
        hedge = check_keys(state["hedge"], ("bars", *_ROLLING, "y", "x"), here)
        _read_bars(hedge, n, here)
        kept = min(n, len(ybuf))
        values = [read_floats(hedge, name, kept, here) for name in ("y", "x")]
        h[:6] = [read_float(hedge, name, here) for name in _ROLLING]
        _unring(ybuf, n, values[0])
        _unring(xbuf, n, values[1])
    else:
        check_keys(state["hedge"], (), here)
    zkind, here = int(st[P_Z]), f"{where}['zscore']"
    if zkind == Z_NONE:
        if state["zscore"] is not None:
            raise StateError(f"{here} must be null with zscore_method='innovation'; got a dict.")
    else:
        names = _ZNAMES[zkind]
        rolling = zkind == Z_ROLLING
        zstate = check_keys(state["zscore"], (*names, "bars", "values") if rolling else names, here)
        if rolling:
            _read_bars(zstate, n, here)
            zvalues = read_floats(zstate, "values", min(n, len(zbuf)), here)
            _unring(zbuf, n, zvalues)
        st[S_Z : S_Z + len(names)] = [read_float(zstate, name, here) for name in names]
    here = f"{where}['rule']"
    rule = check_keys(state["rule"], RuleState._fields, here)
    signed = ("position", "blocked_side")
    st[S_RULE:S_SIZE] = [
        read_int(
            rule,
            name,
            here,
            minimum=-1 if name in signed else 0,
            maximum=1 if name in signed else MAX_BARS,
        )
        for name in RuleState._fields
    ]
    here = f"{where}['sizing']"
    sizing = check_keys(state["sizing"], _SIZING, here)
    st[S_SIZE:S_HEDGE] = [read_float(sizing, name, here) for name in _SIZING]
    st[S_N] = n


# ----------------------------------------------------------------- invariants
class _Check:
    """Collects the first failing row of a block and raises with its field and expectation."""

    def __init__(self, rows: np.ndarray, names: list[str] | None) -> None:
        self.rows = rows
        self.names = names
        self.n = rows[:, S_N]

    def __call__(self, bad: np.ndarray, field: str, expectation: Any, value: Any) -> None:
        if not bad.any():
            return
        k = int(np.flatnonzero(bad)[0])
        got = value(k) if callable(value) else value[k]
        where = "state['state']" if self.names is None else f"state['pairs'][{self.names[k]!r}]['state']"
        text = expectation(k) if callable(expectation) else expectation
        raise StateError(f"{where}{field} must be {text}; got {_plain(got)!r}.")


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value.item() if isinstance(value, np.generic) else value


def _negative(values: np.ndarray, scale: Any) -> np.ndarray:
    """Rows whose ``values`` are below ``-rounding * (1 + |scale|)`` (or not finite)."""
    with np.errstate(invalid="ignore", over="ignore"):
        return ~np.isfinite(values) | (values < -_ROUNDING * (1.0 + np.abs(scale)))


def _variance(check: _Check, mask: np.ndarray, values: np.ndarray, scale: Any, field: str) -> None:
    """A non-negative variance: finite, and not below zero by more than rounding."""
    check(mask & ~np.isfinite(values), field, "finite", values)
    check(mask & _negative(values, scale), field, "a non-negative variance", values)


def _count(values: np.ndarray, top: np.ndarray) -> np.ndarray:
    """Rows whose ``values`` are not a whole count in ``[0, top]``."""
    with np.errstate(invalid="ignore"):
        return ~(np.isfinite(values) & (values == np.floor(values)) & (values >= 0) & (values <= top))


def check_rows(rows: np.ndarray, names: list[str] | None = None) -> None:
    """Raise :class:`~pairs.exceptions.StateError` if any row is in a state no bars produce.

    ``rows`` is a block of rows of one width (their settings are in the rows); ``names`` the
    pairs' names for messages (None: one engine). Checked: counters (bar counts, bars held,
    cooldown) consistent with each other and with the rule's settings; finite statistics;
    non-negative variances and a positive semi-definite Kalman covariance; ring buffers of
    finite (raw: positive) prices and finite-or-NaN spreads; leg units consistent with the
    position and the sizing settings.
    """
    if not rows.shape[0]:
        return
    check = _Check(rows, names)
    n = check.n
    check(_count(n, np.full(n.shape, float(MAX_BARS))), "['n_updates']", "a count below 2**53", n)
    rule = rows[:, S_RULE:S_SIZE]
    pos, held, cool, blocked = rule.T
    check((n == 0) & rule.any(axis=1), "['rule']", "all zero before the first update", lambda k: rule[k])
    check(held > n, "['rule']['bars_held']", lambda k: f"at most n_updates ({int(n[k])})", held)
    check((pos == 0) & (held != 0), "['rule']['bars_held']", "0 on a flat position", held)
    limit = rows[:, P_COOLDOWN]
    check(
        cool > limit,
        "['rule']['cooldown_left']",
        lambda k: f"at most the rule's cooldown ({int(limit[k])})",
        cool,
    )
    blocks = np.isfinite(rows[:, P_STOP]) | (rows[:, P_MAX_HOLD] > 0)
    check(
        (blocked != 0) & ~blocks,
        "['rule']['blocked_side']",
        "0 for a rule without stop_z or max_holding",
        blocked,
    )
    _check_hedges(check, rows)
    _check_zscores(check, rows)
    _check_sizing(check, rows)


def _check_hedges(check: _Check, rows: np.ndarray) -> None:
    n, kind, log = check.n, rows[:, P_HEDGE], rows[:, P_LOG] != 0.0
    h = rows[:, S_HEDGE:S_Z]
    kalman = kind == HEDGE_KALMAN
    if kalman.any():
        first = h[:, 7] != 0.0
        check(
            kalman & (first != (n == 0)),
            "['hedge']['first']",
            lambda k: f"{n[k] == 0} after {int(n[k])} updates",
            first,
        )
        live = kalman & ~first
        for j in (0, 1, 3, 5, 6):
            check(live & ~np.isfinite(h[:, j]), f"['hedge'][{_KALMAN[j]!r}]", "finite", h[:, j])
        for j in (2, 4):
            _variance(check, live, h[:, j], 0.0, f"['hedge'][{_KALMAN[j]!r}]")
        with np.errstate(invalid="ignore", over="ignore"):
            det = h[:, 2] * h[:, 4] - h[:, 3] * h[:, 3]
            scale = h[:, 2] * h[:, 4]
        check(
            live & _negative(det, scale),
            "['hedge']['p00'/'p01'/'p11']",
            "a positive semi-definite covariance (p01**2 <= p00 * p11)",
            lambda k: h[k, 2:5],
        )
        check(
            live & ~log & ~((h[:, 5] > 0) & (h[:, 6] > 0)),
            "['hedge']['ref_y'/'ref_x']",
            "positive prices",
            lambda k: (float(h[k, 5]), float(h[k, 6])),
        )
    rolling = kind == HEDGE_ROLLING
    if rolling.any():
        w = rows[:, P_WINDOW]
        kept = np.minimum(n, w)
        weight, mx, my, cxx, cxy, cyy = (h[:, j] for j in range(6))
        for name, values in (("mean_x", mx), ("mean_y", my), ("cxy", cxy)):
            check(rolling & ~np.isfinite(values), f"['hedge'][{name!r}]", "finite", values)
        check(
            rolling & _count(weight, kept),
            "['hedge']['weight']",
            lambda k: f"a count in [0, {int(kept[k])}]",
            weight,
        )
        check(
            rolling & (n > 0) & (weight != kept),
            "['hedge']['weight']",
            lambda k: f"min(n_updates, window) = {int(kept[k])}",
            weight,
        )
        with np.errstate(over="ignore", invalid="ignore"):
            _variance(check, rolling, cxx, weight * mx * mx, "['hedge']['cxx']")
            _variance(check, rolling, cyy, weight * my * my, "['hedge']['cyy']")
        width = int(rows[0, P_WINDOW])
        if width:
            filled = np.arange(width)[None, :] < kept[:, None]
            for name, lo in (("y", S_BUF), ("x", S_BUF + width)):
                buf = rows[:, lo : lo + width]
                check(
                    rolling & (filled & ~np.isfinite(buf)).any(axis=1),
                    f"['hedge'][{name!r}]",
                    "finite prices",
                    lambda k, b=buf: b[k, :5],
                )
                with np.errstate(invalid="ignore"):
                    nonpos = (filled & ~(buf > 0)).any(axis=1)
                check(
                    rolling & ~log & nonpos,
                    f"['hedge'][{name!r}]",
                    "positive prices",
                    lambda k, b=buf: b[k, :5],
                )


def _check_zscores(check: _Check, rows: np.ndarray) -> None:
    n, kind = check.n, rows[:, P_Z]
    z = rows[:, S_Z:S_N]
    where = "['zscore']"
    rolling = kind == Z_ROLLING
    if rolling.any():
        zw = rows[:, P_Z_WINDOW]
        kept = np.minimum(n, zw)
        count, mean, m2 = z[:, 1], z[:, 2], z[:, 3]
        check(
            rolling & _count(count, kept),
            f"{where}['count']",
            lambda k: f"a count in [0, {int(kept[k])}]",
            count,
        )
        with np.errstate(over="ignore", invalid="ignore"):
            _variance(check, rolling, m2, count * mean * mean, f"{where}['m2']")
        width = int(rows[0, P_Z_WINDOW])
        if width:
            lo = S_BUF + 2 * int(rows[0, P_WINDOW])
            buf = rows[:, lo : lo + width]
            filled = np.arange(width)[None, :] < kept[:, None]
            check(
                rolling & (filled & np.isinf(buf)).any(axis=1),
                f"{where}['values']",
                "finite or NaN spreads",
                lambda k: buf[k, :5],
            )
    expanding = kind == Z_EXPANDING
    if expanding.any():
        count, mean, m2 = z[:, 1], z[:, 2], z[:, 3]
        check(
            expanding & _count(count, n), f"{where}['count']", lambda k: f"a count in [0, {int(n[k])}]", count
        )
        with np.errstate(over="ignore", invalid="ignore"):
            _variance(check, expanding, m2, count * mean * mean, f"{where}['m2']")
    ewm = kind == Z_EWM
    if ewm.any():
        mean, var, nobs = z[:, 1], z[:, 2], z[:, 6]
        check(ewm & _count(nobs, n), f"{where}['nobs']", lambda k: f"a count in [0, {int(n[k])}]", nobs)
        with np.errstate(over="ignore", invalid="ignore"):
            _variance(check, ewm, var, mean * mean, f"{where}['var']")
        for j, name in ((3, "sum_wt"), (4, "sum_wt2"), (5, "old_wt")):
            _variance(check, ewm, z[:, j], 0.0, f"{where}[{name!r}]")


def _check_sizing(check: _Check, rows: np.ndarray) -> None:
    size = rows[:, S_SIZE:S_HEDGE]
    held_y, held_x, last_pos, ref_beta = size.T
    sized = rows[:, P_SIZED] != 0.0
    position = rows[:, S_RULE]
    unsized_bad = ~sized & ((held_y != 0) | (held_x != 0) | (last_pos != 0) | ~np.isnan(ref_beta))
    check(unsized_bad, "['sizing']", "flat (0, 0, 0, nan) without capital", lambda k: tuple(size[k].tolist()))
    check(
        sized & (last_pos != position),
        "['sizing']['position']",
        lambda k: f"the rule's position ({int(position[k])})",
        last_pos,
    )
    flat = sized & (position == 0)
    check(
        flat & ((held_y != 0) | (held_x != 0)),
        "['sizing']",
        "zero units on a flat position",
        lambda k: (float(held_y[k]), float(held_x[k])),
    )
    live = sized & (position != 0)
    check(live & ~np.isfinite(held_y), "['sizing']['y_units']", "finite", held_y)
    check(live & ~np.isfinite(held_x), "['sizing']['x_units']", "finite", held_x)
    check(live & ~np.isfinite(ref_beta), "['sizing']['beta']", "finite", ref_beta)
    check(
        live & (held_y * position < 0),
        "['sizing']['y_units']",
        lambda k: f"of the sign of the position ({int(position[k])})",
        held_y,
    )
