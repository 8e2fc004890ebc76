"""Compiled per-bar arithmetic of the backtests: one backtest, and a sweep of many points.

:func:`gross_step` is one bar of the gross-exposure backtest (the formulas of
:mod:`pairs.evaluation._backtest`); :func:`gross_exposure_kernel` loops it over one position
series for :func:`pairs.backtest`, and :func:`sweep_kernel` runs it for every point of a sweep.
The sweep's pass runs, per point, the entry/exit state machine
(:func:`pairs.trading._kernels.transition`) over the bars, then either :func:`gross_step` on the
position (delayed by the fill lag) or, ``capital`` given, account sizing
(:func:`pairs.trading._kernels.size_step`) and the account ledger
(:func:`pairs.evaluation._kernels.ledger_kernel`, the one :func:`pairs.backtest` runs, with
every execution setting), so that each column equals :func:`pairs.backtest` of its point (the
tests check every metric of random points against ``Strategy.backtest``).
"""

from __future__ import annotations

import math

import numpy as np

from pairs._numba_cache import njit
from pairs.evaluation._kernels import ledger_kernel
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
def _account_stats(
    equity: np.ndarray,
    units: np.ndarray,
    traded: np.ndarray,
    costs: np.ndarray,
    capital: float,
    returns: np.ndarray,
    stats: np.ndarray,
) -> None:
    """Returns and stats of one point's ledger (the arithmetic of :func:`account_backtest`)."""
    before, peak = capital, 1.0
    growth = max_dd = trades = turnover_sum = cost_sum = side_prev = 0.0
    status = OK
    for t in range(equity.shape[0]):
        equity_t = equity[t]
        if equity_t <= 0.0:
            status = RUINED
            break
        returns[t] = equity_t / before - 1.0
        turnover_sum += traded[t] / before
        cost_sum += costs[t] / before
        growth = equity_t / capital
        before = equity_t
        uy, ux = units[t, 0], units[t, 1]
        side = math.copysign(1.0, uy) if uy != 0.0 else (-math.copysign(1.0, ux) if ux != 0.0 else 0.0)
        if side != 0.0 and side != side_prev:
            trades += 1.0
        side_prev = side
        peak = max(peak, growth)
        max_dd = max(max_dd, 1.0 - growth / peak)
    stats[0], stats[1], stats[2], stats[3], stats[4], stats[5] = (
        growth,
        max_dd,
        trades,
        turnover_sum,
        status,
        cost_sum,
    )


@njit(cache=True)
def _gross(
    pos: np.ndarray,
    beta: np.ndarray,
    lag: int,
    py: np.ndarray,
    px: np.ndarray,
    fy: np.ndarray,
    fx: np.ndarray,
    rate: float,
    returns: np.ndarray,
    stats: np.ndarray,
) -> None:
    """Returns and stats of one point in the gross-exposure convention, its position lagged."""
    uy_prev = ux_prev = gross_prev = side_prev = 0.0
    growth = peak = 1.0
    max_dd = trades = turnover_sum = 0.0
    for t in range(pos.shape[0]):
        p = pos[t - lag] if t >= lag else 0.0
        uy, ux = p, gross_units(p, beta[t - lag] if t >= lag else 0.0)
        r, turnover, gross, _, _, _ = gross_step(
            t, uy, ux, uy_prev, ux_prev, gross_prev, py, px, fy, fx, rate
        )
        growth *= 1.0 + r
        returns[t] = r
        turnover_sum += turnover
        side = 0.0 if p == 0.0 else math.copysign(1.0, p)
        if side != 0.0 and side != side_prev:
            trades += 1.0
        side_prev = side
        uy_prev, ux_prev, gross_prev = uy, ux, gross
        peak = max(peak, growth)
        max_dd = max(max_dd, 1.0 - growth / peak)
    stats[0], stats[1], stats[2], stats[3], stats[4], stats[5] = (
        growth,
        max_dd,
        trades,
        turnover_sum,
        OK,
        rate * turnover_sum,
    )


@njit(cache=True)
def sweep_kernel(
    z: np.ndarray,
    beta: np.ndarray,
    close: np.ndarray,
    opens: np.ndarray,
    rates: np.ndarray,
    entry: np.ndarray,
    exit_: np.ndarray,
    stop: np.ndarray,
    max_hold: np.ndarray,
    cooldown: np.ndarray,
    lag: np.ndarray,
    rate: np.ndarray,
    capital: np.ndarray,
    beta_neutral: np.ndarray,
    band: np.ndarray,
    lots: np.ndarray,
    at_open: np.ndarray,
    fee_rate: np.ndarray,
    maker_rate: np.ndarray,
    maker_share: np.ndarray,
    slippage_rate: np.ndarray,
    slippage_price: np.ndarray,
    min_notional: np.ndarray,
    leverage: np.ndarray,
    isolated: np.ndarray,
    maintenance: np.ndarray,
    spot: np.ndarray,
    borrow: np.ndarray,
    returns: np.ndarray,
    stats: np.ndarray,
) -> None:
    """Fill ``returns[:, j]`` and ``stats[j]`` for each point ``j`` of the chunk.

    ``beta`` is in units of ``x`` per unit of ``y``; ``close``, ``opens`` and funding ``rates``
    are bars x [y, x]. Per point: the rule, the fill ``lag`` in bars and, without ``capital``
    (NaN), the cost ``rate`` of the gross-exposure convention; with it, the sizing and the
    execution settings of :class:`pairs.evaluation._ledger.Execution` (``leverage`` NaN: none;
    pairs of legs as rows). ``stats`` columns: final growth of 1, max drawdown, number of
    trades, sum of turnover, status (:data:`OK` or :data:`RUINED`: the account's equity fell
    to 0 or below, which :func:`pairs.backtest` refuses), summed costs (fees net of rebates,
    and slippage) over the capital base.
    """
    n = z.shape[0]
    pos = np.empty(n)
    target = np.zeros((n, 2))
    py, px = close[:, 0].copy(), close[:, 1].copy()
    fy, fx = rates[:, 0].copy(), rates[:, 1].copy()
    for j in range(entry.shape[0]):
        state = held = cool = blocked = np.int64(0)
        for t in range(n):
            state, held, cool, blocked, _ = transition(
                state, held, cool, blocked, z[t], entry[j], exit_[j], stop[j], max_hold[j], cooldown[j]
            )
            pos[t] = float(state)
        if math.isnan(capital[j]):
            _gross(pos, beta, lag[j], py, px, fy, fx, rate[j], returns[:, j], stats[j])
            continue
        # The units decided at bar t (sized with its prices) are the target of bar t + lag.
        held_y = held_x = last_pos = 0.0
        ref_beta = math.nan
        target[: lag[j]] = 0.0
        for t in range(n - lag[j]):
            held_y, held_x, last_pos, ref_beta = size_step(
                pos[t],
                beta[t] if beta_neutral[j] else 0.0,
                py[t],
                px[t],
                held_y,
                held_x,
                last_pos,
                ref_beta,
                capital[j],
                beta_neutral[j],
                lots[j, 0],
                lots[j, 1],
                band[j],
            )
            target[t + lag[j], 0], target[t + lag[j], 1] = held_y, held_x
        ledger = ledger_kernel(
            close,
            opens if at_open[j] else close,
            target,
            rates,
            capital[j],
            at_open[j],
            fee_rate[j],
            maker_rate[j],
            maker_share[j],
            slippage_rate[j],
            slippage_price[j],
            min_notional[j],
            leverage[j],
            isolated[j],
            maintenance[j],
            spot[j],
            borrow[j],
            lots[j],
            np.bool_(False),  # the table has no liquidation prices (typed: a literal compiles twice)
        )
        costs = ledger[4] - ledger[5] + ledger[6]  # fees - rebates + slippage
        _account_stats(ledger[2], ledger[0], ledger[3], costs, capital[j], returns[:, j], stats[j])
