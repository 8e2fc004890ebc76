"""The per-bar step of the streaming engine and book: one pair's row, one compiled step.

Every streamed pair, whether it is a :class:`~pairs.StreamEngine` or one pair of a
:class:`~pairs.StreamBook`, is one float64 *row* of the same layout: first its settings
(``P_*``: kinds, flags and counts as floats), then its state (``S_*``): the rule (position,
bars_held, cooldown_left, blocked_side), the sizing (y_units, x_units, position, beta), the
hedge's statistics (Kalman: beta, alpha, p00, p01, p11, ref_y, ref_x, first; rolling: 6; fixed:
beta, alpha), the z-score's statistics (at most 8), the number of bars seen, then the ring
buffers: the hedge's y and x (``window`` each) and the z-score's values (``z_window``; slot of
bar ``t``: ``t % window``).

:func:`pair_step` advances one row by one bar through the very step kernels the batch run loops
over (hedge -> z-score -> rule -> sizing), so a stream reproduces :meth:`pairs.Strategy.run` bit for
bit. It is the composition of those steps (three stages: :func:`hedge_stage`,
:func:`zscore_stage`, :func:`trade_stage`): :func:`engine_step` is a book of one (a price check, the
logs, then :func:`pair_step`), and :func:`replay` loops :func:`engine_step` over a history.
:func:`book_step` runs each stage over a block of a book's rows in turn; the rolling z-score's
common path, the rule and the sizing on copies of the block's statistics as columns, without
branches, so that the compiler runs them 8 pairs per instruction: the same operations in the same
order, so the same numbers (the tests of the book check them against its engines, bit for bit).
Logs of prices are ``math.log`` (the C library's ``log``, as Python's ``math.log`` and the batch's
per-element log: bit for bit).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from pairs._numba_cache import njit
from pairs.hedge._kernels import from_relative, kalman_step, rolling_ols_step, to_relative
from pairs.trading._kernels import (
    ENTER_LONG,
    ENTER_SHORT,
    EXIT,
    HOLD,
    STOP,
    Z_EWM,
    Z_EXPANDING,
    Z_NONE,
    Z_ROLLING,
    ewm_z_step,
    expanding_z_step,
    rolling_z_step,
    transition,
)
from pairs.trading._sizing import size_step

__all__ = [
    "BAD_PRICE",
    "HEDGE_FIXED",
    "HEDGE_KALMAN",
    "HEDGE_ROLLING",
    "MAX_PRICE",
    "MIN_PRICE",
    "P_WIDTH",
    "S_BUF",
    "S_HEDGE",
    "S_N",
    "S_RULE",
    "S_SIZE",
    "S_Z",
    "Z_EWM",
    "Z_EXPANDING",
    "Z_NONE",
    "Z_ROLLING",
    "Settings",
    "book_step",
    "compiled_entry",
    "engine_step",
    "first_bad_price",
    "hedge_stage",
    "kalman_stage",
    "pair_step",
    "replay",
    "settings",
    "symbol_logs",
    "trade_stage",
    "zscore_stage",
]

HEDGE_KALMAN, HEDGE_ROLLING, HEDGE_FIXED = 0, 1, 2

(
    P_HEDGE,
    P_Z,
    P_LOG,
    P_Q,
    P_R,
    P_EWM,
    P_ENTRY,
    P_EXIT,
    P_STOP,
    P_MAX_HOLD,
    P_COOLDOWN,
    P_SIZED,
    P_CAPITAL,
    P_BETA_NEUTRAL,
    P_LOT_Y,
    P_LOT_X,
    P_BAND,
    P_WINDOW,
    P_Z_WINDOW,
) = range(19)
P_WIDTH = 19
# Offsets in the state part of a row: rule, sizing, hedge, z-score, bars seen; its width.
R_RULE, R_SIZE, R_HEDGE, R_Z, R_N, R_WIDTH = 0, 4, 8, 16, 24, 25
# The same offsets in a whole row (settings, state, buffers).
S_RULE, S_SIZE, S_HEDGE, S_Z, S_N, S_BUF = (P_WIDTH + k for k in (R_RULE, R_SIZE, R_HEDGE, R_Z, R_N, R_WIDTH))
# The batch's conversions to and from relative prices, compiled on scalars and inlined in the
# step (their source is in pairs/hedge/_kernels.py, part of every kernel's cache key).
_to_relative = njit(cache=False, inline="always")(to_relative)
_from_relative = njit(cache=False, inline="always")(from_relative)
# The steps of the stages, inlined into them (the same source, so the same numbers): left as
# calls, they keep the CPU from overlapping the pairs of a book's loop (book_step 1.3x slower).
_rolling_z_step = njit(cache=False, inline="always")(rolling_z_step.py_func)
_kalman_step = njit(cache=False, inline="always")(kalman_step.py_func)
_transition = njit(cache=False, inline="always")(transition.py_func)
_size_step = njit(cache=False, inline="always")(size_step.py_func)
# engine_step's action code for a price that is not finite and > 0 (nothing was changed).
BAD_PRICE = -1
# The prices a stream accepts: sums of squares and products of prices, and of their ratios, stay
# well inside the float range, so every state saved (JSON or binary) loads again. Real prices,
# in any quote currency, lie between about 1e-12 and 1e8.
MIN_PRICE = 1e-30
MAX_PRICE = 1e30


class Settings(NamedTuple):
    """A row's settings (``P_*``) as typed values, read once for every pair of a book's group."""

    hedge: int
    zkind: int
    log: bool
    window: int
    z_window: int
    q: float
    r: float
    ewm_alpha: float
    entry: float
    exit: float
    stop: float
    max_hold: int
    cooldown: int
    sized: bool
    capital: float
    beta_neutral: bool
    lot_y: float
    lot_x: float
    band: float


@njit(cache=True, inline="always")
def settings(p: np.ndarray) -> Settings:
    """The settings of the vector ``p``."""
    return Settings(
        int(p[P_HEDGE]),
        int(p[P_Z]),
        p[P_LOG] != 0.0,
        int(p[P_WINDOW]),
        int(p[P_Z_WINDOW]),
        p[P_Q],
        p[P_R],
        p[P_EWM],
        p[P_ENTRY],
        p[P_EXIT],
        p[P_STOP],
        int(p[P_MAX_HOLD]),
        int(p[P_COOLDOWN]),
        p[P_SIZED] != 0.0,
        p[P_CAPITAL],
        p[P_BETA_NEUTRAL] != 0.0,
        p[P_LOT_Y],
        p[P_LOT_X],
        p[P_BAND],
    )


@njit(cache=True, inline="always")
def kalman_stage(s: Settings, h: np.ndarray, y: float, x: float) -> tuple[float, float, float, float]:
    """:func:`hedge_stage` of a Kalman hedge, whose statistics ``h`` are updated in place."""
    first = h[7] != 0.0
    if first:
        h[5] = y
        h[6] = x
    ref_y = h[5]
    ref_x = h[6]
    yr = _to_relative(y, ref_y, s.log)
    xr = _to_relative(x, ref_x, s.log)
    b, a, h[2], h[3], h[4], e, v, _ = _kalman_step(
        h[0], h[1], h[2], h[3], h[4], yr, xr, s.q, 0.0, s.q, s.r, first
    )
    h[0] = b
    h[1] = a
    h[7] = 0.0
    beta, alpha, spread = _from_relative(b, a, yr - b * xr - a, ref_y, ref_x, s.log)
    # The innovation's z-score is the pair's only without a z-score of the spread.
    return beta, alpha, spread, e / math.sqrt(v) if s.zkind == Z_NONE else math.nan


@njit(cache=True, inline="always")
def hedge_stage(
    s: Settings, st: np.ndarray, buf: np.ndarray, y: float, x: float, n: int
) -> tuple[float, float, float, float]:
    """The hedge of one bar of one pair (``y, x``: the prices it hedges); ``st``, ``buf`` updated.

    Returns ``(beta, alpha, spread, z)``: ``z`` is the Kalman innovation's z-score when the
    strategy has no z-score of the spread (``zkind`` none), else NaN.
    """
    h = st[R_HEDGE:R_Z]
    if s.hedge == HEDGE_KALMAN:
        return kalman_stage(s, h, y, x)
    if s.hedge == HEDGE_ROLLING:
        w = s.window
        beta, alpha = rolling_ols_step(h[:6], buf[:w], buf[w : 2 * w], n, y, x)
    else:
        beta = h[0]
        alpha = h[1]
    return beta, alpha, y - beta * x - alpha, math.nan


@njit(cache=True, inline="always")
def zscore_stage(s: Settings, st: np.ndarray, buf: np.ndarray, spread: float, z: float, n: int) -> float:
    """The z-score of one bar of one pair's ``spread`` (``z``, the hedge's, without one)."""
    # min_periods typed np.int64(2), not a literal 2: one compiled z-score step, as the batch's.
    if s.zkind == Z_ROLLING:
        lo = 2 * s.window
        return _rolling_z_step(st[R_Z:R_N], buf[lo : lo + s.z_window], n, spread, s.z_window)
    if s.zkind == Z_EWM:
        return ewm_z_step(st[R_Z:R_N], spread, s.ewm_alpha, np.int64(2))
    if s.zkind == Z_EXPANDING:
        return expanding_z_step(st[R_Z:R_N], spread, np.int64(2))
    return z


@njit(cache=True, inline="always")
def trade_stage(s: Settings, st: np.ndarray, z: float, beta: float, py: float, px: float) -> tuple[int, int]:
    """The rule and the sizing of one bar of one pair; returns ``(position, action_code)``."""
    pos, held, cool, blocked, code = _transition(
        int(st[R_RULE]),
        int(st[R_RULE + 1]),
        int(st[R_RULE + 2]),
        int(st[R_RULE + 3]),
        z,
        s.entry,
        s.exit,
        s.stop,
        s.max_hold,
        s.cooldown,
    )
    st[R_RULE] = pos
    st[R_RULE + 1] = held
    st[R_RULE + 2] = cool
    st[R_RULE + 3] = blocked
    if s.sized:
        bb = beta * py / px if s.log else beta
        st[R_SIZE], st[R_SIZE + 1], st[R_SIZE + 2], st[R_SIZE + 3] = _size_step(
            float(pos),
            bb,
            py,
            px,
            st[R_SIZE],
            st[R_SIZE + 1],
            st[R_SIZE + 2],
            st[R_SIZE + 3],
            s.capital,
            s.beta_neutral,
            s.lot_y,
            s.lot_x,
            s.band,
        )
    return pos, code


@njit(cache=True, inline="always")
def pair_step(
    p: np.ndarray, st: np.ndarray, buf: np.ndarray, py: float, px: float, ly: float, lx: float
) -> tuple[float, float, float, float, int, int, float, float]:
    """One bar of one pair: hedge, z-score, rule and sizing; ``st`` and ``buf`` updated in place.

    ``p`` holds the settings (``P_*``), ``st`` the state (``R_*``), ``buf`` the ring buffers (the
    hedge's y and x, then the z-score's values): the three parts of a row. ``py, px`` are the
    bar's prices (sized), ``ly, lx`` their logs (hedged with ``log_prices``; not read
    otherwise). Returns ``(beta, alpha, spread, zscore, position, action_code, y_units,
    x_units)``. The prices must be finite and > 0. The three stages are
    :func:`hedge_stage`, :func:`zscore_stage` and :func:`trade_stage`, then the bar is counted.
    """
    # Every setting is read before the first store: the compiler cannot tell that a store into
    # the state or the buffers leaves the settings unchanged, and would read them again after it.
    s = settings(p)
    n = int(st[R_N])
    beta, alpha, spread, z = hedge_stage(s, st, buf, ly if s.log else py, lx if s.log else px, n)
    z = zscore_stage(s, st, buf, spread, z, n)
    pos, code = trade_stage(s, st, z, beta, py, px)
    st[R_N] = n + 1
    return beta, alpha, spread, z, pos, code, st[R_SIZE], st[R_SIZE + 1]


@njit(cache=True)
def engine_step(
    st: np.ndarray, py: float, px: float
) -> tuple[float, float, float, float, int, int, float, float]:
    """One bar of a :class:`~pairs.StreamEngine` (a book of one row): :func:`pair_step` after a price check.

    Returns :func:`pair_step`'s outputs; the action code is :data:`BAD_PRICE`, and nothing
    changed, when a price is not in ``[MIN_PRICE, MAX_PRICE]`` (NaN included).
    """
    if not (MIN_PRICE <= py <= MAX_PRICE and MIN_PRICE <= px <= MAX_PRICE):
        return math.nan, math.nan, math.nan, math.nan, 0, BAD_PRICE, math.nan, math.nan
    p = st[:P_WIDTH]
    state = st[P_WIDTH:S_BUF]
    buf = st[S_BUF:]
    if p[P_LOG] != 0.0:
        return pair_step(p, state, buf, py, px, math.log(py), math.log(px))
    return pair_step(p, state, buf, py, px, py, px)


def compiled_entry(kernel: Any) -> Any:
    """The machine-code entry point of ``kernel`` once it is compiled for exactly one signature.

    Calling it skips numba's per-call dispatch (typing each argument and picking the overload:
    about 0.3 us per call here), so the caller must pass exactly the compiled types: nothing
    converts or checks them. Returns ``kernel`` itself while it has no single compiled signature.
    """
    signatures = kernel.signatures
    if len(signatures) != 1:
        return kernel
    return getattr(kernel.overloads[signatures[0]], "entry_point", kernel)


@njit(cache=True)
def replay(
    st: np.ndarray, py: np.ndarray, px: np.ndarray
) -> tuple[float, float, float, float, int, int, float, float]:
    """Apply every bar of the prices ``py, px`` with :func:`engine_step` (``st`` updated in place).

    Returns the last bar's outputs.
    """
    out = (math.nan, math.nan, math.nan, math.nan, 0, 0, 0.0, 0.0)
    for t in range(py.shape[0]):
        out = engine_step(st, py[t], px[t])
    return out


@njit(cache=True)
def first_bad_price(prices: np.ndarray) -> int:
    """Index of the first price that is present (not NaN) but not in ``[MIN_PRICE, MAX_PRICE]``; -1 if none."""
    for k in range(prices.shape[0]):
        v = prices[k]
        if not np.isnan(v) and not (MIN_PRICE <= v <= MAX_PRICE):
            return k
    return -1


@njit(cache=True)
def symbol_logs(prices: np.ndarray) -> np.ndarray:
    """``math.log`` of every price (NaN stays NaN): the engine's per-bar log, bit for bit."""
    out = np.empty_like(prices)
    for k in range(prices.shape[0]):
        out[k] = math.log(prices[k]) if prices[k] > 0.0 else math.nan
    return out


@njit(cache=True, inline="always")
def _hedge_rows(
    s: Settings,
    kalman: bool,
    prices: np.ndarray,
    logs: np.ndarray,
    iy: np.ndarray,
    ix: np.ndarray,
    book_pos: np.ndarray,
    state: np.ndarray,
    bufs: np.ndarray,
    last: np.ndarray,
    out_f: np.ndarray,
    out_i: np.ndarray,
    marks: np.ndarray,
    bar_id: int,
) -> None:
    """:func:`book_step`'s first stage: the hedge of every pair whose prices are present (``kalman``:
    the strategy's hedge is a Kalman filter)."""
    for i in range(iy.shape[0]):
        col = book_pos[i]
        py = prices[iy[i]]
        px = prices[ix[i]]
        if np.isnan(py) or np.isnan(px):
            out_i[2, col] = 0
            continue
        y, x = (logs[iy[i]], logs[ix[i]]) if s.log else (py, px)
        if kalman:
            out = kalman_stage(s, state[i, R_HEDGE:R_Z], y, x)
        else:
            out = hedge_stage(s, state[i], bufs[i], y, x, int(state[i, R_N]))
        out_f[0, col], out_f[1, col], out_f[2, col], out_f[3, col] = out
        out_i[2, col] = 1
        marks[col, 0] = py
        marks[col, 1] = px
        last[i] = bar_id


# The columns of _trade_columns: inputs (the z-score, beta, the two prices, the rule's state
# and the sizing's), outputs (the rule's state, the action code, the sizing's state).
T_Z, T_RULE, T_OUT = 0, 4, 12


@njit(cache=True, error_model="numpy")
def _trade_columns(s: Settings, cols: np.ndarray, b: int) -> None:
    """:func:`trade_stage` of the first ``b`` columns of ``cols`` (``T_*``) without branches: the rule's
    :func:`~pairs.trading._kernels.transition` and the sizing's
    :func:`~pairs.trading._kernels.size_step` with every case computed and the one that applies
    selected (its branches depend on each pair's position and z-score, which the CPU cannot
    predict). The same operations in the same order, so the same bits (see :func:`_rolling_columns`);
    the integers of the rule are exact in floats."""
    entry, exit_, stop = s.entry, s.exit, s.stop
    max_hold, cooldown = float(s.max_hold), float(s.cooldown)
    for j in range(b):
        z = cols[T_Z * _COL + j]
        pos = cols[T_RULE * _COL + j]
        held = cols[(T_RULE + 1) * _COL + j]
        cool = cols[(T_RULE + 2) * _COL + j]
        blocked = cols[(T_RULE + 3) * _COL + j]
        # transition
        inside = pos != 0.0
        held1 = held + 1.0 if inside else held
        cool1 = cool - 1.0 if cool > 0.0 else cool
        unblock = ((blocked == -1.0) & (z < entry)) | ((blocked == 1.0) & (z > -entry))
        blocked1 = 0.0 if unblock else blocked
        # ... a stop
        stopped = abs(z) >= stop
        stop_blocked = 1.0 if z < 0 else -1.0
        stop_held = 0.0 if inside else held1
        stop_cool = cooldown if inside else cool1
        stop_code = float(STOP) if inside else float(HOLD)
        # ... else an exit, then an entry
        exit1 = inside & (((pos > 0.0) & (z >= -exit_)) | ((pos < 0.0) & (z <= exit_)))
        exit2 = inside & (not exit1) & (max_hold > 0.0) & (held1 >= max_hold)
        out = exit1 | exit2
        blocked2 = pos if exit2 else blocked1
        pos2 = 0.0 if out else pos
        held2 = 0.0 if out else held1
        cool2 = cooldown if out else cool1
        code2 = float(EXIT) if out else float(HOLD)
        flat = (pos2 == 0.0) & (cool2 == 0.0)
        enter_long = flat & (z < -entry) & (blocked2 != 1.0)
        enter_short = flat & (not enter_long) & (z > entry) & (blocked2 != -1.0)
        enter = enter_long | enter_short
        pos3 = 1.0 if enter_long else (-1.0 if enter_short else pos2)
        held3 = 0.0 if enter else held2
        cool3 = 0.0 if enter else cool2
        code3 = float(ENTER_LONG) if enter_long else (float(ENTER_SHORT) if enter_short else code2)
        # NaN z-score: nothing changes; a stop; else the exit and entry
        nan = np.isnan(z)
        new_pos = pos if nan else (0.0 if stopped else pos3)
        cols[T_OUT * _COL + j] = new_pos
        cols[(T_OUT + 1) * _COL + j] = held if nan else (stop_held if stopped else held3)
        cols[(T_OUT + 2) * _COL + j] = cool if nan else (stop_cool if stopped else cool3)
        cols[(T_OUT + 3) * _COL + j] = blocked if nan else (stop_blocked if stopped else blocked2)
        cols[(T_OUT + 4) * _COL + j] = float(HOLD) if nan else (stop_code if stopped else code3)
    if s.sized:
        _size_columns(cols, b, s.log, s.beta_neutral, s.capital, s.lot_y, s.lot_x, s.band)


@njit(cache=True, inline="always")
def _size_columns(
    cols: np.ndarray,
    b: int,
    log: bool,
    beta_neutral: bool,
    capital: float,
    lot_y: float,
    lot_x: float,
    band: float,
) -> None:
    """:func:`~pairs.trading._kernels.size_step` of the first ``b`` columns of :func:`_trade_columns`
    (after its rule), without branches: the new legs computed, then selected where they apply."""
    for j in range(b):
        p = cols[T_OUT * _COL + j]
        beta = cols[(T_Z + 1) * _COL + j]
        py = cols[(T_Z + 2) * _COL + j]
        px = cols[(T_Z + 3) * _COL + j]
        held_y = cols[(T_RULE + 4) * _COL + j]
        held_x = cols[(T_RULE + 5) * _COL + j]
        last_pos = cols[(T_RULE + 6) * _COL + j]
        ref_beta = cols[(T_RULE + 7) * _COL + j]
        bl = beta * py / px
        bb = bl if log else beta
        drifted = beta_neutral & (abs(bb - ref_beta) > band * abs(ref_beta))
        neutral_y = _lot(capital * p / (py + abs(bb) * px), lot_y)
        plain_y = _lot(capital * p / 2.0 / py, lot_y)
        new_y = neutral_y if beta_neutral else plain_y
        neutral_x = _lot(-bb * new_y, lot_x)
        plain_x = _lot(-capital * p / 2.0 / px, lot_x)
        new_x = neutral_x if beta_neutral else plain_x
        resize = (p != last_pos) | drifted
        zero = p == 0.0
        cols[(T_OUT + 5) * _COL + j] = 0.0 if zero else (new_y if resize else held_y)
        cols[(T_OUT + 6) * _COL + j] = 0.0 if zero else (new_x if resize else held_x)
        cols[(T_OUT + 7) * _COL + j] = 0.0 if zero else (p if resize else last_pos)
        cols[(T_OUT + 8) * _COL + j] = ref_beta if zero else (bb if resize else ref_beta)


@njit(cache=True, inline="always")
def _lot(units: float, lot: float) -> float:
    """:func:`~pairs.trading._kernels._round_lot` without branches (the same operations; its
    ``max(1.0, abs(q))`` decides nothing when ``q`` is NaN, as the comparison is then false)."""
    q = units / lot
    r = np.rint(q)
    aq = abs(q)
    near = abs(q - r) <= 1e-9 * (aq if aq > 1.0 else 1.0)
    return units if lot == 0.0 else (r * lot if near else np.trunc(q) * lot)


# Pairs per block of book_step: a block's rows (50 kB of state) stay in the CPU's caches from one
# stage to the next, and its columns (21 x _COL floats, the stages' room) too. A column starts
# _COL floats after the one before, so that no two of the 21 start at the same offset in a 4 kB
# page, which the CPU can mistake for the same address (with _Z_BLOCK apart: 3% slower).
_Z_BLOCK = 256
_COL = _Z_BLOCK + 8
# The input columns of _rolling_columns: the value, the buffered value it replaces, the
# statistics 0-7 of rolling_z_step, the bar, whether the bar has a full window.
C_V, C_OLD, C_REF, C_COUNT, C_MEAN, C_M2, C_LAST, C_SEEN, C_CHANGE, C_BEFORE, C_T, C_FAST = range(12)
# Its outputs from this row on: the statistics 1-7, the z-score, 1.0 where the step's common path applies.
O_COUNT, O_Z, O_FAST = 12, 19, 20


@njit(cache=True, inline="always")
def _rolling_rows(
    w: int,
    lo: int,
    book_pos: np.ndarray,
    state: np.ndarray,
    bufs: np.ndarray,
    out_f: np.ndarray,
    out_i: np.ndarray,
    cols: np.ndarray,
) -> None:
    """:func:`book_step`'s rolling z-score (window ``w``, buffers from column ``lo``) of at most
    ``_Z_BLOCK`` pairs (``cols``: room for :func:`_rolling_columns`' columns).

    :func:`~pairs.trading._kernels.rolling_z_step` has long chains of divisions, so a loop of its
    steps keeps only a pair or two in flight. Here the statistics of a block of pairs are copied to
    columns, the common case of the step (a full window, the value leaving it and the new one both
    observed) runs on the columns 8 pairs per instruction (:func:`_rolling_columns`), and its
    results are copied back; every other pair takes the step itself. The pairs of the common case
    whose bar ends with the window's exact refresh are refreshed together (:func:`_refresh_rows`),
    then their z-scores computed again.
    """
    b = book_pos.shape[0]
    if b == 0:
        return
    # The pairs of a block mostly have seen the same number of bars: one ring slot, one division.
    n0 = int(state[0, R_N])
    slot0 = n0 % w
    for i in range(b):
        n = int(state[i, R_N])
        cols[C_V * _COL + i] = out_f[2, book_pos[i]]
        cols[C_OLD * _COL + i] = bufs[i, lo + (slot0 if n == n0 else n % w)]
        for k in range(8):
            cols[(C_REF + k) * _COL + i] = state[i, R_Z + k]
        cols[C_T * _COL + i] = n
        cols[C_FAST * _COL + i] = 1.0 if n >= w else 0.0
    _rolling_columns(cols, b, w)
    refreshed = 0
    for i in range(b):
        col = book_pos[i]
        if not out_i[2, col]:
            continue
        n = int(state[i, R_N])
        if cols[O_FAST * _COL + i] == 0.0:
            out_f[3, col] = _rolling_z_step(state[i, R_Z:R_N], bufs[i, lo : lo + w], n, out_f[2, col], w)
            continue
        for k in range(7):
            state[i, R_Z + 1 + k] = cols[(O_COUNT + k) * _COL + i]
        bufs[i, lo + (slot0 if n == n0 else n % w)] = cols[C_V * _COL + i]
        out_f[3, col] = cols[O_Z * _COL + i]
        refreshed += _refreshes(n, w)
    if refreshed == 0:
        return
    # The window's exact refresh, of the pairs on the common path at the window's last slot; then
    # their z-scores again, from the refreshed statistics.
    rows = np.empty(refreshed, dtype=np.int64)
    k = 0
    for i in range(b):
        if out_i[2, book_pos[i]] and cols[O_FAST * _COL + i] != 0.0 and _refreshes(int(state[i, R_N]), w):
            rows[k] = i
            k += 1
    _refresh_rows(state, bufs, rows, lo, w)
    for r in rows:
        st = state[r]
        out_f[3, book_pos[r]] = _z_value(
            st[R_Z + 4], st[R_Z], st[R_Z + 1], st[R_Z + 2], st[R_Z + 3], st[R_Z + 6], st[R_Z + 7], st[R_N], w
        )


@njit(cache=True, inline="always")
def _refreshes(n: int, w: int) -> bool:
    """Whether bar ``n`` of a rolling z-score of window ``w`` ends with the window's exact refresh
    (as in :func:`~pairs.trading._kernels.rolling_z_step`)."""
    return n >= w and n % w == w - 1


@njit(cache=True, inline="always")
def _z_value(
    v: float, ref: float, count: float, mean: float, m2: float, change: float, before: float, t: float, w: int
) -> float:
    """The end of :func:`~pairs.trading._kernels.rolling_z_step`: the z-score of ``v`` (bar ``t``) from
    the updated statistics, without branches (computed, then NaN where a condition fails)."""
    fw = float(w)
    first = t - fw + 1.0
    varies = (change >= first) & (before >= first)
    bad = np.isnan(v) | (count < fw) | (count < 2.0) | (not varies) | (not m2 > 0.0)
    # A NaN case divides by 1.0 instead (its result is not used): no division by zero, which
    # raises ZeroDivisionError in a kernel with Python's error model (book_step).
    scale = 1.0 if bad else m2 / (count - 1.0)
    value = (v - ref - mean) / math.sqrt(scale)
    return math.nan if bad else value


# numpy's error model: a division by zero gives inf or NaN (in a pair that then takes the step
# itself) instead of a check and a branch for each division, which would keep the loop from
# running 8 pairs per instruction.
@njit(cache=True, error_model="numpy")
def _rolling_columns(cols: np.ndarray, b: int, w: int) -> None:
    """:func:`~pairs.trading._kernels.rolling_z_step` of the first ``b`` columns of ``cols`` (``C_*``)
    where it takes its common path, which then has no branch: the value leaving the window removed,
    the new one added, the change tracker and the z-score (computed whatever its conditions, then
    NaN where one fails). The same operations in the same order, so the same bits: IEEE division
    and square root are exact in vector instructions too. The outputs, from row ``O_COUNT``
    on: the statistics 1-7 after the bar, the z-score (before the window's refresh, if the bar
    ends with one) and 1.0 where the path applies (``C_FAST``: 1.0 where the bar has a full
    window) and the value and the statistics allow it, else 0.0 (the other outputs are then not used). ``cols`` is flat, row ``k`` from
    ``k * _COL``: rows a constant distance apart never overlap, which the compiler must know
    to vectorize the loop (with rows of unknown length, it would have to check every pair)."""
    for j in range(b):
        v = cols[C_V * _COL + j]
        ref = cols[C_REF * _COL + j]
        count = cols[C_COUNT * _COL + j]
        seen = cols[C_SEEN * _COL + j]
        t = cols[C_T * _COL + j]
        # the removal of the value leaving the window ...
        old_v = cols[C_OLD * _COL + j]
        old = old_v - ref
        d = old - cols[C_MEAN * _COL + j]
        mean1 = cols[C_MEAN * _COL + j] - d / (count - 1.0)
        m2_1 = cols[C_M2 * _COL + j] - d * (old - mean1)
        count1 = count - 1.0
        # ... then the addition
        count2 = count1 + 1.0
        d2 = v - ref - mean1
        mean2 = mean1 + d2 / count2
        m2_2 = m2_1 + d2 * (v - ref - mean2)
        changed = v != cols[C_LAST * _COL + j]
        change = t if changed else cols[C_CHANGE * _COL + j]
        before = seen if changed else cols[C_BEFORE * _COL + j]
        z = _z_value(v, ref, count2, mean2, m2_2, change, before, t, w)
        # the common path: a full window, the old value observed, count > 1, the value observed,
        # a reference set before
        ok = (cols[C_FAST * _COL + j] != 0.0) & (not np.isnan(old_v)) & (not count <= 1.0)
        ok = ok & (not np.isnan(v)) & (not seen < 0.0)
        cols[O_COUNT * _COL + j] = count2
        cols[(O_COUNT + 1) * _COL + j] = mean2
        cols[(O_COUNT + 2) * _COL + j] = m2_2
        cols[(O_COUNT + 3) * _COL + j] = v
        cols[(O_COUNT + 4) * _COL + j] = t
        cols[(O_COUNT + 5) * _COL + j] = change
        cols[(O_COUNT + 6) * _COL + j] = before
        cols[(O_COUNT + 7) * _COL + j] = z
        cols[(O_COUNT + 8) * _COL + j] = 1.0 if ok else 0.0


# Rows refreshed side by side: their buffered values (window x _REFRESH_BLOCK floats) fit the L1 cache.
_REFRESH_BLOCK = 64


@njit(cache=True)
def _refresh_rows(state: np.ndarray, bufs: np.ndarray, rows: np.ndarray, lo: int, w: int) -> None:
    """The exact two-pass refresh of :func:`~pairs.trading._kernels.rolling_z_step` (the statistics
    ``0:4`` around the last observed value) of the rolling z-scores of ``rows`` (buffers
    ``bufs[:, lo:lo + w]``): the same sums in the same order for each row, over a block of rows at
    once, so that the compiler runs them 8 rows per instruction (one row's sum is a chain of
    dependent additions; 2.2x faster for 10,000 rows of 60). A NaN adds +0.0 instead of being
    skipped: the sums start at +0.0 and a sum of floats is -0.0 only when both terms are, so the
    bits are the same."""
    vals = np.empty((w, _REFRESH_BLOCK))
    ref = np.empty(_REFRESH_BLOCK)
    count = np.empty(_REFRESH_BLOCK)
    mean = np.empty(_REFRESH_BLOCK)
    m2 = np.empty(_REFRESH_BLOCK)
    for start in range(0, rows.shape[0], _REFRESH_BLOCK):
        block = rows[start : start + _REFRESH_BLOCK]
        b = block.shape[0]
        for j in range(b):
            ref[j] = state[block[j], R_Z + 4]
            count[j] = 0.0
            mean[j] = 0.0
            m2[j] = 0.0
        for i in range(w):
            for j in range(b):
                vals[i, j] = bufs[block[j], lo + i]
        for i in range(w):
            row = vals[i]
            for j in range(b):
                v = row[j]
                nan = math.isnan(v)
                count[j] += 0.0 if nan else 1.0
                mean[j] += 0.0 if nan else v - ref[j]
        for j in range(b):
            mean[j] = mean[j] / count[j] if count[j] > 0.0 else 0.0
        for i in range(w):
            row = vals[i]
            for j in range(b):
                v = row[j]
                e = v - ref[j] - mean[j]
                m2[j] += 0.0 if math.isnan(v) else e * e
        for j in range(b):
            st = state[block[j]]
            st[R_Z], st[R_Z + 1], st[R_Z + 2], st[R_Z + 3] = ref[j], count[j], mean[j], m2[j]


@njit(cache=True)
def book_step(
    prices: np.ndarray,
    logs: np.ndarray,
    iy: np.ndarray,
    ix: np.ndarray,
    book_pos: np.ndarray,
    params: np.ndarray,
    state: np.ndarray,
    bufs: np.ndarray,
    last: np.ndarray,
    out_f: np.ndarray,
    out_i: np.ndarray,
    marks: np.ndarray,
    bar_id: int,
) -> None:
    """Advance every pair of a group whose two prices are present (not NaN) by one bar (:func:`pair_step`).

    The pairs share the settings ``params``; pair ``i`` has the state row ``state[i]`` and the
    buffers ``bufs[i]``, trades symbols ``iy[i]``, ``ix[i]`` of ``prices``/``logs`` and writes
    column ``book_pos[i]`` of the outputs (``out_f``: beta, alpha, spread, zscore, y_units,
    x_units, NaN units unless sized; ``out_i``: position, action code, updated) and row
    ``book_pos[i]`` of ``marks`` (its two prices, the mark of its holdings: :mod:`pairs.stream._legs`);
    ``last[i]`` takes ``bar_id``. A pair with a missing price is left unchanged and flagged not
    updated.
    """
    # pair_step's stages, each over every pair of a block in turn: a loop of whole steps keeps
    # only a pair or two of division chains in flight, shorter loop bodies let the CPU overlap
    # many more (1.3x faster); a block's rows stay in the CPU's caches from one stage to the next
    # (the whole state does not). The pairs are independent, so the numbers are pair_step's.
    s = settings(params)
    cols = np.empty(21 * _COL)
    for start in range(0, iy.shape[0], _Z_BLOCK):
        end = min(start + _Z_BLOCK, iy.shape[0])
        _book_block(
            s,
            prices,
            logs,
            iy[start:end],
            ix[start:end],
            book_pos[start:end],
            state[start:end],
            bufs[start:end],
            last[start:end],
            out_f,
            out_i,
            marks,
            bar_id,
            cols,
        )


@njit(cache=True, inline="always")
def _book_block(
    s: Settings,
    prices: np.ndarray,
    logs: np.ndarray,
    iy: np.ndarray,
    ix: np.ndarray,
    book_pos: np.ndarray,
    state: np.ndarray,
    bufs: np.ndarray,
    last: np.ndarray,
    out_f: np.ndarray,
    out_i: np.ndarray,
    marks: np.ndarray,
    bar_id: int,
    cols: np.ndarray,
) -> None:
    """:func:`book_step` of a block of at most ``_Z_BLOCK`` pairs (``cols``: :func:`_rolling_rows`' columns)."""
    # The Kalman hedge's rows in a loop of their own: the other hedges' steps are calls, and a
    # call in a loop (even one never made) keeps the compiler from overlapping its rows.
    if s.hedge == HEDGE_KALMAN:
        _hedge_rows(s, True, prices, logs, iy, ix, book_pos, state, bufs, last, out_f, out_i, marks, bar_id)
    else:
        _hedge_rows(s, False, prices, logs, iy, ix, book_pos, state, bufs, last, out_f, out_i, marks, bar_id)
    if s.zkind == Z_ROLLING:
        _rolling_rows(s.z_window, 2 * s.window, book_pos, state, bufs, out_f, out_i, cols)
    else:
        for i in range(iy.shape[0]):
            col = book_pos[i]
            if out_i[2, col]:
                n = int(state[i, R_N])
                out_f[3, col] = zscore_stage(s, state[i], bufs[i], out_f[2, col], out_f[3, col], n)
    b = iy.shape[0]
    for i in range(b):
        col = book_pos[i]
        cols[T_Z * _COL + i] = out_f[3, col]
        cols[(T_Z + 1) * _COL + i] = out_f[0, col]
        cols[(T_Z + 2) * _COL + i] = marks[col, 0]
        cols[(T_Z + 3) * _COL + i] = marks[col, 1]
        for k in range(8):
            cols[(T_RULE + k) * _COL + i] = state[i, R_RULE + k]
    _trade_columns(s, cols, b)
    for i in range(b):
        col = book_pos[i]
        if not out_i[2, col]:
            continue
        for k in range(4):
            state[i, R_RULE + k] = cols[(T_OUT + k) * _COL + i]
        out_i[0, col] = int(cols[T_OUT * _COL + i])
        out_i[1, col] = int(cols[(T_OUT + 4) * _COL + i])
        state[i, R_N] += 1.0
        if s.sized:
            for k in range(4):
                state[i, R_SIZE + k] = cols[(T_OUT + 5 + k) * _COL + i]
            out_f[4, col] = state[i, R_SIZE]
            out_f[5, col] = state[i, R_SIZE + 1]
        else:
            out_f[4, col] = math.nan
            out_f[5, col] = math.nan
