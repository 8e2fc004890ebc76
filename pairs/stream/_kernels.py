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
bit. It is the only composition of those steps: :func:`book_step` loops it over the rows of a
book, :func:`engine_step` is a book of one (a price check, the logs, then :func:`pair_step`),
and :func:`replay` loops :func:`engine_step` over a history. Logs of prices are ``math.log`` (the
C library's ``log``, as Python's ``math.log`` and the batch's per-element log: bit for bit).
"""

from __future__ import annotations

import math
from typing import Any

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
    "book_step",
    "compiled_entry",
    "engine_step",
    "first_bad_price",
    "mark_pairs",
    "pair_step",
    "replay",
    "symbol_logs",
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
# engine_step's action code for a price that is not finite and > 0 (nothing was changed).
BAD_PRICE = -1
# The prices a stream accepts: sums of squares and products of prices, and of their ratios, stay
# well inside the float range, so every state saved (JSON or binary) loads again. Real prices,
# in any quote currency, lie between about 1e-12 and 1e8.
MIN_PRICE = 1e-30
MAX_PRICE = 1e30


@njit(cache=True, inline="always")
def pair_step(
    p: np.ndarray, st: np.ndarray, buf: np.ndarray, py: float, px: float, ly: float, lx: float
) -> tuple[float, float, float, float, int, int, float, float]:
    """One bar of one pair: hedge, z-score, rule and sizing; ``st`` and ``buf`` updated in place.

    ``p`` holds the settings (``P_*``), ``st`` the state (``R_*``), ``buf`` the ring buffers (the
    hedge's y and x, then the z-score's values): the three parts of a row. ``py, px`` are the
    bar's prices (sized), ``ly, lx`` their logs (hedged with ``log_prices``; not read
    otherwise). Returns ``(beta, alpha, spread, zscore, position, action_code, y_units,
    x_units)``. The prices must be finite and > 0.
    """
    # Every setting is read before the first store: the compiler cannot tell that a store into
    # the state or the buffers leaves the settings unchanged, and would read them again after it.
    hedge = int(p[P_HEDGE])
    zkind = int(p[P_Z])
    log = p[P_LOG] != 0.0
    w = int(p[P_WINDOW])
    zw = int(p[P_Z_WINDOW])
    q = p[P_Q]
    r = p[P_R]
    ewm_a = p[P_EWM]
    entry = p[P_ENTRY]
    exit_ = p[P_EXIT]
    stop = p[P_STOP]
    max_hold = int(p[P_MAX_HOLD])
    cooldown = int(p[P_COOLDOWN])
    sized = p[P_SIZED] != 0.0
    capital = p[P_CAPITAL]
    beta_neutral = p[P_BETA_NEUTRAL] != 0.0
    lot_y = p[P_LOT_Y]
    lot_x = p[P_LOT_X]
    band = p[P_BAND]
    n = int(st[R_N])
    if log:
        y = ly
        x = lx
    else:
        y = py
        x = px
    h = st[R_HEDGE:R_Z]
    if hedge == HEDGE_KALMAN:
        first = h[7] != 0.0
        if first:
            h[5] = y
            h[6] = x
        ref_y = h[5]
        ref_x = h[6]
        yr = _to_relative(y, ref_y, log)
        xr = _to_relative(x, ref_x, log)
        b, a, h[2], h[3], h[4], e, s, _ = kalman_step(
            h[0], h[1], h[2], h[3], h[4], yr, xr, q, 0.0, q, r, first
        )
        h[0] = b
        h[1] = a
        h[7] = 0.0
        beta, alpha, spread = _from_relative(b, a, yr - b * xr - a, ref_y, ref_x, log)
        z = e / math.sqrt(s)
    elif hedge == HEDGE_ROLLING:
        beta, alpha = rolling_ols_step(h[:6], buf[:w], buf[w : 2 * w], n, y, x)
        spread = y - beta * x - alpha
        z = math.nan
    else:
        beta = h[0]
        alpha = h[1]
        spread = y - beta * x - alpha
        z = math.nan
    # min_periods typed np.int64(2), not a literal 2: one compiled z-score step, as the batch's.
    if zkind == Z_ROLLING:
        z = rolling_z_step(st[R_Z:R_N], buf[2 * w : 2 * w + zw], n, spread, zw)
    elif zkind == Z_EWM:
        z = ewm_z_step(st[R_Z:R_N], spread, ewm_a, np.int64(2))
    elif zkind == Z_EXPANDING:
        z = expanding_z_step(st[R_Z:R_N], spread, np.int64(2))
    pos, held, cool, blocked, code = transition(
        int(st[R_RULE]),
        int(st[R_RULE + 1]),
        int(st[R_RULE + 2]),
        int(st[R_RULE + 3]),
        z,
        entry,
        exit_,
        stop,
        max_hold,
        cooldown,
    )
    st[R_RULE] = pos
    st[R_RULE + 1] = held
    st[R_RULE + 2] = cool
    st[R_RULE + 3] = blocked
    if sized:
        bb = beta * py / px if log else beta
        st[R_SIZE], st[R_SIZE + 1], st[R_SIZE + 2], st[R_SIZE + 3] = size_step(
            float(pos),
            bb,
            py,
            px,
            st[R_SIZE],
            st[R_SIZE + 1],
            st[R_SIZE + 2],
            st[R_SIZE + 3],
            capital,
            beta_neutral,
            lot_y,
            lot_x,
            band,
        )
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


@njit(cache=True)
def mark_pairs(
    prices: np.ndarray, iy: np.ndarray, ix: np.ndarray, updated: np.ndarray, marks: np.ndarray
) -> None:
    """Row ``k`` of ``marks`` takes the prices of pair ``k``'s symbols ``iy[k]``, ``ix[k]`` where ``updated[k]``.

    The last prices of a book's pairs, the mark of their holdings (:mod:`pairs.stream._legs`).
    """
    for k in range(iy.shape[0]):
        if updated[k]:
            marks[k, 0] = prices[iy[k]]
            marks[k, 1] = prices[ix[k]]


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
    bar_id: int,
) -> None:
    """Advance every pair of a group whose two prices are present (not NaN) by one bar (:func:`pair_step`).

    The pairs share the settings ``params``; pair ``i`` has the state row ``state[i]`` and the
    buffers ``bufs[i]``, trades symbols ``iy[i]``, ``ix[i]`` of ``prices``/``logs`` and writes
    column ``book_pos[i]`` of the outputs (``out_f``: beta, alpha, spread, zscore, y_units,
    x_units, NaN units unless sized; ``out_i``: position, action code, updated); ``last[i]``
    takes ``bar_id``. A pair with a missing price is left unchanged and flagged not updated.
    """
    sized = params[P_SIZED] != 0.0
    for i in range(iy.shape[0]):
        col = book_pos[i]
        py = prices[iy[i]]
        px = prices[ix[i]]
        if np.isnan(py) or np.isnan(px):
            out_i[2, col] = 0
            continue
        beta, alpha, spread, z, pos, code, yu, xu = pair_step(
            params, state[i], bufs[i], py, px, logs[iy[i]], logs[ix[i]]
        )
        if sized:
            out_f[4, col] = yu
            out_f[5, col] = xu
        else:
            out_f[4, col] = math.nan
            out_f[5, col] = math.nan
        last[i] = bar_id
        out_f[0, col] = beta
        out_f[1, col] = alpha
        out_f[2, col] = spread
        out_f[3, col] = z
        out_i[0, col] = pos
        out_i[1, col] = code
        out_i[2, col] = 1
