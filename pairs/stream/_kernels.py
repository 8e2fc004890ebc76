"""Compiled replay of a history through the streaming engine's steps (:meth:`StreamEngine.warmup`).

One ``@njit`` loop calls the very step kernels :meth:`~pairs.StreamEngine.update` calls, with
the same arguments in the same order, so the state after a replay is bit for bit the state
after as many updates (tests/stream/test_warmup.py). Logs of prices are taken inside
:func:`engine_step` with ``math.log`` (the C library's ``log``, as Python's ``math.log`` and the
batch run's per-element log: bit for bit, tests/stream and tests/strategy).

:func:`book_step` is one bar of a :class:`~pairs.StreamBook`: every pair of a strategy group
advanced through the same step kernels, in the same order as an engine's update, so each pair
of a book equals its own engine bit for bit (tests/stream/test_book.py). Its state is one row
per pair: ``fstate`` columns given by the ``F_*`` slices, ``istate`` columns by the ``I_*``
indices, and ``(n, window)`` ring buffers (slot of bar ``t``: ``t % window``, as the engine's).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pairs._numba_cache import njit
from pairs.hedge._kernels import kalman_step, rolling_ols_step
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
    "F_FIXED",
    "F_KALMAN",
    "F_ROLLING",
    "F_SIZE",
    "F_WIDTH",
    "F_Z",
    "HEDGE_FIXED",
    "HEDGE_KALMAN",
    "HEDGE_ROLLING",
    "I_FIRST",
    "I_HBARS",
    "I_LAST",
    "I_N",
    "I_RULE",
    "I_WIDTH",
    "I_ZBARS",
    "P_WIDTH",
    "S_BUF",
    "S_HEDGE",
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
    "replay",
    "symbol_logs",
]

HEDGE_KALMAN, HEDGE_ROLLING, HEDGE_FIXED = 0, 1, 2


# The vector of one engine (StreamEngine._st), one float64 array so that a bar costs one
# array argument: first the settings (``P_*``: kinds, flags and counts as floats), then the rule
# (position, bars_held, cooldown_left, blocked_side), the sizing (y_units, x_units, position,
# beta), the hedge's statistics (Kalman: beta, alpha, p00, p01, p11, ref_y, ref_x, first;
# rolling: 6; fixed: beta, alpha), the z-score's statistics (at most 8), then the ring buffers:
# the hedge's y and x (``window`` each) and the z-score's values (``z_window``).
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
S_RULE, S_SIZE, S_HEDGE, S_Z, S_BUF = (P_WIDTH + k for k in (0, 4, 8, 16, 24))
# engine_step's action code for a price that is not finite and > 0 (nothing was changed).
BAD_PRICE = -1


@njit(cache=True)
def engine_step(
    st: np.ndarray, n: int, py: float, px: float
) -> tuple[float, float, float, float, int, int, float, float]:
    """One bar of a :class:`~pairs.StreamEngine`: hedge, z-score, rule and sizing in one call.

    ``st`` holds the settings (``P_*``) and the state (``S_*``), which is updated in place;
    ``n`` is the number of bars seen (the ring buffers' bar count); ``py, px`` the bar's prices
    (their logs are hedged with ``log_prices``, the prices themselves sized). Returns ``(beta,
    alpha, spread, zscore, position, action_code, y_units, x_units)``; the action code is
    :data:`BAD_PRICE`, and nothing changed, when a price is not finite and > 0.
    """
    if not (py > 0.0 and py < math.inf and px > 0.0 and px < math.inf):
        return math.nan, math.nan, math.nan, math.nan, 0, BAD_PRICE, math.nan, math.nan
    hedge = int(st[P_HEDGE])
    zkind = int(st[P_Z])
    log = st[P_LOG] != 0.0
    if log:
        y = math.log(py)
        x = math.log(px)
    else:
        y = py
        x = px
    h = st[S_HEDGE:S_Z]
    if hedge == HEDGE_KALMAN:
        first = h[7] != 0.0
        if first:
            h[5] = y
            h[6] = x
        ref_y = h[5]
        ref_x = h[6]
        if log:
            yr = y - ref_y
            xr = x - ref_x
        else:
            yr = y / ref_y
            xr = x / ref_x
        q = st[P_Q]
        b, a, h[2], h[3], h[4], e, s, _ = kalman_step(
            h[0], h[1], h[2], h[3], h[4], yr, xr, q, 0.0, q, st[P_R], first
        )
        h[0] = b
        h[1] = a
        h[7] = 0.0
        # pairs.strategy._steps.from_relative, on scalars.
        rel_spread = yr - b * xr - a
        if log:
            beta, alpha, spread = b, a + ref_y - b * ref_x, rel_spread
        else:
            beta, alpha, spread = b * (ref_y / ref_x), a * ref_y, rel_spread * ref_y
        z = e / math.sqrt(s)
    elif hedge == HEDGE_ROLLING:
        w = int(st[P_WINDOW])
        beta, alpha = rolling_ols_step(
            st[S_HEDGE : S_HEDGE + 6], st[S_BUF : S_BUF + w], st[S_BUF + w : S_BUF + 2 * w], n, y, x
        )
        spread = y - beta * x - alpha
        z = math.nan
    else:
        beta = h[0]
        alpha = h[1]
        spread = y - beta * x - alpha
        z = math.nan
    # min_periods typed np.int64(2), not a literal 2: one compiled z-score step, as the batch's.
    if zkind == Z_ROLLING:
        w = int(st[P_WINDOW]) if hedge == HEDGE_ROLLING else 0
        zw = int(st[P_Z_WINDOW])
        lo = S_BUF + 2 * w
        z = rolling_z_step(st[S_Z:S_BUF], st[lo : lo + zw], n, spread, zw)
    elif zkind == Z_EWM:
        z = ewm_z_step(st[S_Z:S_BUF], spread, st[P_EWM], np.int64(2))
    elif zkind == Z_EXPANDING:
        z = expanding_z_step(st[S_Z:S_BUF], spread, np.int64(2))
    pos, held, cool, blocked, code = transition(
        int(st[S_RULE]),
        int(st[S_RULE + 1]),
        int(st[S_RULE + 2]),
        int(st[S_RULE + 3]),
        z,
        st[P_ENTRY],
        st[P_EXIT],
        st[P_STOP],
        int(st[P_MAX_HOLD]),
        int(st[P_COOLDOWN]),
    )
    st[S_RULE] = pos
    st[S_RULE + 1] = held
    st[S_RULE + 2] = cool
    st[S_RULE + 3] = blocked
    if st[P_SIZED] != 0.0:
        bb = beta * py / px if log else beta
        st[S_SIZE], st[S_SIZE + 1], st[S_SIZE + 2], st[S_SIZE + 3] = size_step(
            float(pos),
            bb,
            py,
            px,
            st[S_SIZE],
            st[S_SIZE + 1],
            st[S_SIZE + 2],
            st[S_SIZE + 3],
            st[P_CAPITAL],
            st[P_BETA_NEUTRAL] != 0.0,
            st[P_LOT_Y],
            st[P_LOT_X],
            st[P_BAND],
        )
    return beta, alpha, spread, z, pos, code, st[S_SIZE], st[S_SIZE + 1]


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
    st: np.ndarray, n: int, py: np.ndarray, px: np.ndarray
) -> tuple[float, float, float, float, int, int, float, float]:
    """Apply every bar of the prices ``py, px`` with :func:`engine_step` (``st`` updated in place).

    Returns the last bar's outputs.
    """
    out = (math.nan, math.nan, math.nan, math.nan, 0, 0, 0.0, 0.0)
    for t in range(py.shape[0]):
        out = engine_step(st, n + t, py[t], px[t])
    return out


# fstate columns: Kalman (beta, alpha, p00, p01, p11, ref_y, ref_x), fixed (beta, alpha),
# rolling hedge stats (6), z-score stats (8: the widest, rolling), sizing (y, x, position, beta).
F_KALMAN = (0, 7)
F_FIXED = (7, 9)
F_ROLLING = (9, 15)
F_Z = (15, 23)
F_SIZE = (23, 27)
F_WIDTH = 27
# istate columns: Kalman "first", hedge bars, z-score bars, rule state (4), n_updates, the id
# of the bar of the last update (-1: none).
I_FIRST, I_HBARS, I_ZBARS = 0, 1, 2
I_RULE = (3, 7)
I_N, I_LAST = 7, 8
I_WIDTH = 9


@njit(cache=True)
def first_bad_price(prices: np.ndarray) -> int:
    """Index of the first price that is present (not NaN) but not finite and > 0; -1 if none."""
    for k in range(prices.shape[0]):
        v = prices[k]
        if not np.isnan(v) and not (v > 0.0 and v < math.inf):
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
def book_step(
    prices: np.ndarray,
    logs: np.ndarray,
    iy: np.ndarray,
    ix: np.ndarray,
    book_pos: np.ndarray,
    fparams: np.ndarray,
    iparams: np.ndarray,
    fstate: np.ndarray,
    istate: np.ndarray,
    ybuf: np.ndarray,
    xbuf: np.ndarray,
    zbuf: np.ndarray,
    out_f: np.ndarray,
    out_i: np.ndarray,
    bar_id: int,
) -> None:
    """Advance every pair of one group whose two prices are present (not NaN) by one bar.

    ``fparams``: ``q, r`` (Kalman), EWM alpha, entry, exit, stop, capital, y lot, x lot,
    band. ``iparams``: hedge kind, z-score kind (``HEDGE_*``, ``Z_*``), log prices, max_hold, cooldown, sized,
    beta-neutral. A pair with a missing price is left unchanged and flagged not updated.
    """
    q, r, ewm_a = fparams[0], fparams[1], fparams[2]
    entry, exit_, stop = fparams[3], fparams[4], fparams[5]
    capital, lot_y, lot_x, band = fparams[6], fparams[7], fparams[8], fparams[9]
    hedge, zmethod, log = iparams[0], iparams[1], iparams[2] != 0
    max_hold, cooldown = iparams[3], iparams[4]
    sized, beta_neutral = iparams[5] != 0, iparams[6] != 0
    zwindow = zbuf.shape[1]
    for i in range(iy.shape[0]):
        col = book_pos[i]
        py = prices[iy[i]]
        px = prices[ix[i]]
        if np.isnan(py) or np.isnan(px):
            out_i[2, col] = 0
            continue
        if log:
            yv, xv = logs[iy[i]], logs[ix[i]]
        else:
            yv, xv = py, px
        f = fstate[i]
        s = istate[i]
        innov = math.nan
        if hedge == HEDGE_KALMAN:
            first = s[I_FIRST] != 0
            if first:
                f[5], f[6] = yv, xv
            ref_y, ref_x = f[5], f[6]
            if log:
                yr, xr = yv - ref_y, xv - ref_x
            else:
                yr, xr = yv / ref_y, xv / ref_x
            b, a, p00, p01, p11, e, sv, _ = kalman_step(
                f[0], f[1], f[2], f[3], f[4], yr, xr, q, 0.0, q, r, first
            )
            f[0], f[1], f[2], f[3], f[4] = b, a, p00, p01, p11
            s[I_FIRST] = 0
            rel_spread = yr - b * xr - a
            if log:
                beta, alpha, spread = b, a + ref_y - b * ref_x, rel_spread
            else:
                beta, alpha, spread = b * (ref_y / ref_x), a * ref_y, rel_spread * ref_y
            innov = e / math.sqrt(sv)
        elif hedge == HEDGE_ROLLING:
            beta, alpha = rolling_ols_step(f[9:15], ybuf[i], xbuf[i], s[I_HBARS], yv, xv)
            s[I_HBARS] += 1
            spread = yv - beta * xv - alpha
        else:
            beta, alpha = f[7], f[8]
            spread = yv - beta * xv - alpha
        if zmethod == Z_ROLLING:
            z = rolling_z_step(f[15:23], zbuf[i], s[I_ZBARS], spread, zwindow)
            s[I_ZBARS] += 1
        elif zmethod == Z_EWM:
            z = ewm_z_step(f[15:23], spread, ewm_a, np.int64(2))
        elif zmethod == Z_EXPANDING:
            z = expanding_z_step(f[15:23], spread, np.int64(2))
        else:
            z = innov
        pos, held, cool, blocked, code = transition(
            s[3], s[4], s[5], s[6], z, entry, exit_, stop, max_hold, cooldown
        )
        s[3], s[4], s[5], s[6] = pos, held, cool, blocked
        if sized:
            ub = beta * py / px if log else beta
            f[23], f[24], f[25], f[26] = size_step(
                float(pos), ub, py, px, f[23], f[24], f[25], f[26], capital, beta_neutral, lot_y, lot_x, band
            )
            out_f[4, col] = f[23]
            out_f[5, col] = f[24]
        else:
            out_f[4, col] = math.nan
            out_f[5, col] = math.nan
        s[I_N] += 1
        s[I_LAST] = bar_id
        out_f[0, col] = beta
        out_f[1, col] = alpha
        out_f[2, col] = spread
        out_f[3, col] = z
        out_i[0, col] = pos
        out_i[1, col] = code
        out_i[2, col] = 1
