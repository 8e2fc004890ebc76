"""Compiled pass of a parameter sweep: the rule and the backtest of many points on one z-score.

One call runs every point of a chunk (one column each) over the bars: the entry/exit state
machine is :func:`pairs.trading._kernels.transition` and account sizing
:func:`pairs.trading._kernels.size_step`, the step functions that :func:`pairs.signals`,
:func:`pairs.size_legs` and the streaming engine loop over; the per-bar arithmetic of the
backtest is that of :mod:`pairs.evaluation._backtest` (``capital`` NaN: the gross-exposure
convention) and of :mod:`pairs.evaluation._account` (an account of ``capital``), written in the
same order of operations so that each column equals :func:`pairs.backtest` of its point (the
tests check every metric of random points against ``Strategy.backtest``).
"""

from __future__ import annotations

import math

import numpy as np

from pairs._numba_cache import njit
from pairs.trading._kernels import size_step, transition

__all__ = ["OK", "RUINED", "sweep_kernel"]

OK, RUINED = 0, 1


@njit(cache=True)
def sweep_kernel(
    z: np.ndarray,
    beta: np.ndarray,
    py: np.ndarray,
    px: np.ndarray,
    fy: np.ndarray,
    fx: np.ndarray,
    entry: np.ndarray,
    exit_: np.ndarray,
    stop: np.ndarray,
    max_hold: np.ndarray,
    cooldown: np.ndarray,
    rate: np.ndarray,
    fee_rate: np.ndarray,
    slippage_rate: np.ndarray,
    capital: np.ndarray,
    beta_neutral: np.ndarray,
    lot_y: np.ndarray,
    lot_x: np.ndarray,
    band: np.ndarray,
    returns: np.ndarray,
    stats: np.ndarray,
) -> None:
    """Fill ``returns[:, j]`` and ``stats[j]`` for each point ``j`` of the chunk.

    ``beta`` is in units of ``x`` per unit of ``y``. Costs: ``rate`` (fee plus slippage, as
    :func:`pairs.backtest` adds them) in the gross-exposure convention; ``fee_rate`` and
    ``slippage_rate`` apart in an account. ``stats`` columns: final growth of 1,
    max drawdown, number of trades, sum of turnover, status (:data:`OK` or :data:`RUINED`:
    the account's equity fell to 0 or below, which :func:`pairs.backtest` refuses).
    """
    n = z.shape[0]
    for j in range(entry.shape[0]):
        pos = held = cool = blocked = np.int64(0)
        account = not math.isnan(capital[j])
        uy_prev = ux_prev = gross_prev = side_prev = 0.0
        held_y = held_x = last_pos = 0.0
        ref_beta = math.nan
        spent = 0.0
        growth = equity_prev = 1.0
        if account:
            equity_prev = capital[j]
        peak = 1.0
        max_dd = trades = turnover_sum = 0.0
        status = OK
        for t in range(n):
            pos, held, cool, blocked, _ = transition(
                pos, held, cool, blocked, z[t], entry[j], exit_[j], stop[j], max_hold[j], cooldown[j]
            )
            p = float(pos)
            b = beta[t]
            if account:
                held_y, held_x, last_pos, ref_beta = size_step(
                    p,
                    b if beta_neutral[j] else 0.0,
                    py[t],
                    px[t],
                    held_y,
                    held_x,
                    last_pos,
                    ref_beta,
                    capital[j],
                    beta_neutral[j],
                    lot_y[j],
                    lot_x[j],
                    band[j],
                )
                uy, ux = held_y, held_x
            else:
                uy = p
                ux = -p * (0.0 if math.isnan(b) else b) if p != 0.0 else 0.0
            funding = 0.0
            pnl = 0.0
            if t > 0:
                pnl = uy_prev * (py[t] - py[t - 1]) + ux_prev * (px[t] - px[t - 1])
                funding = uy_prev * py[t - 1] * fy[t] + ux_prev * px[t - 1] * fx[t]
            if account:
                oy, ox = uy - uy_prev, ux - ux_prev
                traded = abs(oy) * py[t] + abs(ox) * px[t]
                fees, slippage = fee_rate[j] * traded, slippage_rate[j] * traded
                spent += oy * py[t] + ox * px[t] + fees + slippage + funding
                equity = (capital[j] - spent) + uy * py[t] + ux * px[t]
                if equity <= 0.0:
                    status = RUINED
                    break
                r = equity / equity_prev - 1.0
                turnover = traded / equity_prev
                growth = equity / capital[j]
                equity_prev = equity
                side = (
                    math.copysign(1.0, uy) if uy != 0.0 else (-math.copysign(1.0, ux) if ux != 0.0 else 0.0)
                )
            else:
                gross = abs(uy) * py[t] + abs(ux) * px[t]
                traded = abs(uy - uy_prev) * py[t] + abs(ux - ux_prev) * px[t]
                base = gross_prev if gross_prev > 0.0 else gross
                turnover = traded / base if base > 0.0 else 0.0
                r = ((pnl - funding) / base if base > 0.0 else 0.0) - rate[j] * turnover
                growth *= 1.0 + r
                gross_prev = gross
                side = 0.0 if p == 0.0 else math.copysign(1.0, p)
            returns[t, j] = r
            turnover_sum += turnover
            if side != 0.0 and side != side_prev:
                trades += 1.0
            side_prev = side
            uy_prev, ux_prev = uy, ux
            peak = max(peak, growth)
            max_dd = max(max_dd, 1.0 - growth / peak)
        stats[j, 0] = growth
        stats[j, 1] = max_dd
        stats[j, 2] = trades
        stats[j, 3] = turnover_sum
        stats[j, 4] = status
