"""Compiled replay of a history through the streaming engine's steps (:meth:`StreamEngine.warmup`).

One ``@njit`` loop calls the very step kernels :meth:`~pairs.StreamEngine.update` calls, with
the same arguments in the same order, so the state after a replay is bit for bit the state
after as many updates (tests/stream/test_warmup.py). Logs are taken by the caller with
``math.log``, as :meth:`~pairs.StreamEngine.update` takes them.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from pairs.hedge._kernels import kalman_step, rolling_ols_step
from pairs.trading._kernels import ewm_z_step, expanding_z_step, rolling_z_step, size_step, transition

__all__ = [
    "HEDGE_FIXED",
    "HEDGE_KALMAN",
    "HEDGE_ROLLING",
    "Z_EWM",
    "Z_EXPANDING",
    "Z_NONE",
    "Z_ROLLING",
    "replay",
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
