"""Compiled per-bar arithmetic of the backtests: one backtest, and a sweep of many points.

:func:`gross_step` is one bar of the gross-exposure backtest (the formulas of
:mod:`pairs.evaluation._backtest`); :func:`gross_exposure_kernel` loops it over one position
series for :func:`pairs.backtest`, and :func:`sweep_kernel` runs it for every point of a sweep.
The sweep's pass runs, per point and bar, the entry/exit state machine
(:func:`pairs.trading._kernels.transition`), account sizing (:func:`pairs.trading._kernels.size_step`)
and either :func:`gross_step` or the account arithmetic of :mod:`pairs.evaluation._account`
(``capital`` given), in its order of operations, so that each column equals
:func:`pairs.backtest` of its point (the tests check every metric of random points against
``Strategy.backtest``).
"""

from __future__ import annotations

import math

import numpy as np

from pairs._numba_cache import njit
from pairs.trading._kernels import size_step, transition

__all__ = ["OK", "RUINED", "gross_exposure_kernel", "gross_step", "gross_units", "sweep_kernel"]

OK, RUINED = 0, 1


@njit(cache=True)
def gross_units(p: float, b: float) -> float:
    """Units of ``x`` held for spread position ``p`` and beta ``b`` (0 when flat; a NaN beta counts 0)."""
    return -p * (0.0 if math.isnan(b) else b) if p != 0.0 else 0.0


@njit(cache=True)
def gross_step(
    t: int,
    uy: float,
    ux: float,
    uy_prev: float,
    ux_prev: float,
    gross_prev: float,
    py: np.ndarray,
    px: np.ndarray,
    fy: np.ndarray,
    fx: np.ndarray,
    rate: float,
) -> tuple[float, float, float, float, float, float]:
    """Bar ``t`` of the gross-exposure backtest: ``(return, turnover, gross, pnl, funding, traded)``.

    ``uy``, ``ux`` are the units held from bar ``t`` to ``t + 1``, ``*_prev`` those held into
    bar ``t`` (0 before the first bar) and ``gross_prev`` the gross exposure held into it.
    """
    gross = abs(uy) * py[t] + abs(ux) * px[t]
    pnl = funding = 0.0
    if t > 0:
        pnl = uy_prev * (py[t] - py[t - 1]) + ux_prev * (px[t] - px[t - 1])
        funding = uy_prev * py[t - 1] * fy[t] + ux_prev * px[t - 1] * fx[t]
    traded = abs(uy - uy_prev) * py[t] + abs(ux - ux_prev) * px[t]
    base = gross_prev if gross_prev > 0.0 else gross
    turnover = traded / base if base > 0.0 else 0.0
    r = ((pnl - funding) / base if base > 0.0 else 0.0) - rate * turnover
    return r, turnover, gross, pnl, funding, traded


@njit(cache=True)
def gross_exposure_kernel(
    pos: np.ndarray,
    beta: np.ndarray,
    py: np.ndarray,
    px: np.ndarray,
    fy: np.ndarray,
    fx: np.ndarray,
    rate: float,
    out: np.ndarray,
) -> None:
    """Fill ``out`` (8 x bars) with the gross-exposure backtest of one position series.

    Rows: ``uy``, ``ux``, return, turnover, gross exposure, price P&L, funding paid, traded
    notional.
    """
    uy_prev = ux_prev = gross_prev = 0.0
    for t in range(pos.shape[0]):
        uy = pos[t]
        ux = gross_units(uy, beta[t])
        r, turnover, gross, pnl, funding, traded = gross_step(
            t, uy, ux, uy_prev, ux_prev, gross_prev, py, px, fy, fx, rate
        )
        out[0, t], out[1, t], out[2, t], out[3, t] = uy, ux, r, turnover
        out[4, t], out[5, t], out[6, t], out[7, t] = gross, pnl, funding, traded
        uy_prev, ux_prev, gross_prev = uy, ux, gross


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
                oy, ox = uy - uy_prev, ux - ux_prev
                traded = abs(oy) * py[t] + abs(ox) * px[t]
                fees, slippage = fee_rate[j] * traded, slippage_rate[j] * traded
                funding = 0.0
                if t > 0:
                    funding = uy_prev * py[t - 1] * fy[t] + ux_prev * px[t - 1] * fx[t]
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
                uy, ux = p, gross_units(p, b)
                r, turnover, gross, _, _, _ = gross_step(
                    t, uy, ux, uy_prev, ux_prev, gross_prev, py, px, fy, fx, rate[j]
                )
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
