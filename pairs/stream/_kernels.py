"""Compiled replay of a history through the streaming engine's steps (:meth:`StreamEngine.warmup`).

One ``@njit`` loop calls the very step kernels :meth:`~pairs.StreamEngine.update` calls, with
the same arguments in the same order, so the state after a replay is bit for bit the state
after as many updates (tests/stream/test_warmup.py). Logs are taken by the caller with
``math.log``, as :meth:`~pairs.StreamEngine.update` takes them.

:func:`book_step` is one bar of a :class:`~pairs.StreamBook`: every pair of a strategy group
advanced through the same step kernels, in the same order as an engine's update, so each pair
of a book equals its own engine bit for bit (tests/stream/test_book.py). Its state is one row
per pair: ``fstate`` columns given by the ``F_*`` slices, ``istate`` columns by the ``I_*``
indices, and ``(n, window)`` ring buffers (slot of bar ``t``: ``t % window``, as the engine's).
"""

from __future__ import annotations

import math

import numpy as np

from pairs._numba_cache import njit
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
    "Z_EWM",
    "Z_EXPANDING",
    "Z_NONE",
    "Z_ROLLING",
    "book_step",
    "first_bad_price",
    "replay",
    "symbol_logs",
]

HEDGE_KALMAN, HEDGE_ROLLING, HEDGE_FIXED = 0, 1, 2
Z_NONE, Z_ROLLING, Z_EWM, Z_EXPANDING = 0, 1, 2, 3


@njit(cache=True)
def replay(
    hy: np.ndarray,
    hx: np.ndarray,
    py: np.ndarray,
    px: np.ndarray,
    hedge_kind: int,
    log: bool,
    kal: np.ndarray,
    hstats: np.ndarray,
    ybuf: np.ndarray,
    xbuf: np.ndarray,
    hbars: int,
    z_kind: int,
    zstats: np.ndarray,
    zbuf: np.ndarray,
    zbars: int,
    ewm_alpha: float,
    rule: np.ndarray,
    entry: float,
    exit_: float,
    stop: float,
    max_hold: int,
    cooldown: int,
    sizing: np.ndarray,
    sized: bool,
    capital: float,
    beta_neutral: bool,
    lot_y: float,
    lot_x: float,
    band: float,
) -> tuple[float, float, float, float, int]:
    """Apply every bar; state arrays are updated in place. Returns the last bar's outputs.

    ``hy, hx`` are the hedged values (logs with ``log``), ``py, px`` the prices (sizing).
    ``kal`` is ``[beta, alpha, p00, p01, p11, ref_y, ref_x, first, q, r]`` (Kalman) or
    ``[beta, alpha]`` (fixed); ``rule`` is ``[position, bars_held, cooldown_left,
    blocked_side]``; ``sizing`` is ``[y_units, x_units, position, beta]``.
    Returns ``(beta, alpha, spread, zscore, action_code)``.
    """
    beta = alpha = spread = z = math.nan
    code = 0
    pos, held, cool, blocked = int(rule[0]), int(rule[1]), int(rule[2]), int(rule[3])
    for t in range(hy.shape[0]):
        y = hy[t]
        x = hx[t]
        if hedge_kind == HEDGE_KALMAN:
            first = kal[7] != 0.0
            if first:
                kal[5] = y
                kal[6] = x
            ref_y = kal[5]
            ref_x = kal[6]
            if log:
                yr = y - ref_y
                xr = x - ref_x
            else:
                yr = y / ref_y
                xr = x / ref_x
            q = kal[8]
            b, a, kal[2], kal[3], kal[4], e, s, _ = kalman_step(
                kal[0], kal[1], kal[2], kal[3], kal[4], yr, xr, q, 0.0, q, kal[9], first
            )
            kal[0] = b
            kal[1] = a
            kal[7] = 0.0
            # pairs.strategy._steps.from_relative, on scalars.
            rel_spread = yr - b * xr - a
            if log:
                beta, alpha, spread = b, a + ref_y - b * ref_x, rel_spread
            else:
                beta, alpha, spread = b * (ref_y / ref_x), a * ref_y, rel_spread * ref_y
            z = e / math.sqrt(s)
        elif hedge_kind == HEDGE_ROLLING:
            beta, alpha = rolling_ols_step(hstats, ybuf, xbuf, hbars, y, x)
            hbars += 1
            spread = y - beta * x - alpha
            z = math.nan
        else:
            beta = kal[0]
            alpha = kal[1]
            spread = y - beta * x - alpha
            z = math.nan
        if z_kind == Z_ROLLING:
            z = rolling_z_step(zstats, zbuf, zbars, spread, zbuf.shape[0])
            zbars += 1
        elif z_kind == Z_EWM:
            z = ewm_z_step(zstats, spread, ewm_alpha, 2)
        elif z_kind == Z_EXPANDING:
            z = expanding_z_step(zstats, spread, 2)
        pos, held, cool, blocked, code = transition(
            pos, held, cool, blocked, z, entry, exit_, stop, max_hold, cooldown
        )
        if sized:
            bb = beta * py[t] / px[t] if log else beta
            sizing[0], sizing[1], sizing[2], sizing[3] = size_step(
                float(pos),
                bb,
                py[t],
                px[t],
                sizing[0],
                sizing[1],
                sizing[2],
                sizing[3],
                capital,
                beta_neutral,
                lot_y,
                lot_x,
                band,
            )
    rule[0], rule[1], rule[2], rule[3] = pos, held, cool, blocked
    return beta, alpha, spread, z, code


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
            z = ewm_z_step(f[15:23], spread, ewm_a, 2)
        elif zmethod == Z_EXPANDING:
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
