"""Numba kernel of :class:`~pairs.stream._book.StreamBook`: one bar of many pairs in one call.

:func:`book_step` advances every pair of one strategy group by one bar. Per pair it performs
exactly the operations of :meth:`pairs.StreamEngine.update`, in the same order and through the
same step kernels (:func:`~pairs.hedge._kernels.kalman_step`,
:func:`~pairs.hedge._kernels.rolling_ols_step`, the z-score steps, ``transition`` and
``size_step``), so each pair of a book reproduces a separate engine bit for bit.

State layout (one row per pair): ``fstate`` columns are given by the ``F_*`` slices below,
``istate`` columns by the ``I_*`` indices; ring buffers of the rolling hedge (``ybuf``,
``xbuf``) and of the rolling z-score (``zbuf``) are ``(n, window)`` arrays whose slot of bar
``t`` is ``t % window``, as in the engine. Outputs go to column ``book_pos[i]`` of
``out_f`` (beta, alpha, spread, zscore, y_units, x_units) and ``out_i`` (position, action
code, updated flag). Inputs are trusted: the book validates them.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from pairs.hedge._kernels import kalman_step, rolling_ols_step
from pairs.trading._kernels import ewm_z_step, expanding_z_step, rolling_z_step, transition
from pairs.trading._sizing import size_step

__all__ = [
    "F_FIXED",
    "F_KALMAN",
    "F_ROLLING",
    "F_SIZE",
    "F_WIDTH",
    "F_Z",
    "HEDGE_CODES",
    "I_FIRST",
    "I_HBARS",
    "I_LAST",
    "I_N",
    "I_RULE",
    "I_WIDTH",
    "I_ZBARS",
    "ZSCORE_CODES",
    "book_step",
    "symbol_logs",
]

HEDGE_CODES = {"kalman": 0, "rolling": 1, "ols": 2}
ZSCORE_CODES = {"rolling": 0, "ewm": 1, "expanding": 2, "innovation": 3}

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
    band. ``iparams``: hedge code, z-score code, log prices, max_hold, cooldown, sized,
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
        if hedge == 0:
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
        elif hedge == 1:
            beta, alpha = rolling_ols_step(f[9:15], ybuf[i], xbuf[i], s[I_HBARS], yv, xv)
            s[I_HBARS] += 1
            spread = yv - beta * xv - alpha
        else:
            beta, alpha = f[7], f[8]
            spread = yv - beta * xv - alpha
        if zmethod == 0:
            z = rolling_z_step(f[15:23], zbuf[i], s[I_ZBARS], spread, zwindow)
            s[I_ZBARS] += 1
        elif zmethod == 1:
            z = ewm_z_step(f[15:23], spread, ewm_a, 2)
        elif zmethod == 2:
            z = expanding_z_step(f[15:23], spread, 2)
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
