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
bit. It is the only composition of those steps (three stages: :func:`hedge_stage`,
:func:`zscore_stage`, :func:`trade_stage`): :func:`book_step` runs each stage over the rows of a
book in turn, :func:`engine_step` is a book of one (a price check, the logs, then :func:`pair_step`),
and :func:`replay` loops :func:`engine_step` over a history. Logs of prices are ``math.log`` (the
C library's ``log``, as Python's ``math.log`` and the batch's per-element log: bit for bit).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from pairs._numba_cache import njit
from pairs.hedge._kernels import from_relative, kalman_step, rolling_ols_step, to_relative
from pairs.trading._kernels import (
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
    # pair_step's stages, each over every pair in turn: a loop of whole steps keeps only a pair
    # or two of division chains in flight, shorter loop bodies let the CPU overlap many more
    # (1.3x faster). The pairs are independent, so the numbers are pair_step's.
    s = settings(params)
    # The Kalman hedge's rows in a loop of their own: the other hedges' steps are calls, and a
    # call in a loop (even one never made) keeps the compiler from overlapping its rows.
    if s.hedge == HEDGE_KALMAN:
        _hedge_rows(s, True, prices, logs, iy, ix, book_pos, state, bufs, last, out_f, out_i, marks, bar_id)
    else:
        _hedge_rows(s, False, prices, logs, iy, ix, book_pos, state, bufs, last, out_f, out_i, marks, bar_id)
    for i in range(iy.shape[0]):
        col = book_pos[i]
        if out_i[2, col]:
            n = int(state[i, R_N])
            out_f[3, col] = zscore_stage(s, state[i], bufs[i], out_f[2, col], out_f[3, col], n)
    for i in range(iy.shape[0]):
        col = book_pos[i]
        if not out_i[2, col]:
            continue
        st = state[i]
        out_i[0, col], out_i[1, col] = trade_stage(
            s, st, out_f[3, col], out_f[0, col], marks[col, 0], marks[col, 1]
        )
        st[R_N] += 1.0
        if s.sized:
            out_f[4, col] = st[R_SIZE]
            out_f[5, col] = st[R_SIZE + 1]
        else:
            out_f[4, col] = math.nan
            out_f[5, col] = math.nan
