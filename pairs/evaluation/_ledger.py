"""The bar-by-bar ledger of an account holding legs (any number): orders, costs, funding, margin.

Each bar ``t`` (``u`` the units held, ``c`` closes, ``f`` fill prices, ``w`` the target units):

1. funding (perpetual legs) and borrow interest (a spot short's coin, ``b`` per bar): with close
   fills, paid on the units held into the bar at the previous close, ``u_{t-1} c_{t-1} r_t`` and
   ``max(-u_{t-1}, 0) c_{t-1} b``; with open fills (the order fills at the bar's open, so the new
   units are held over the bar) on ``u_t`` at ``f_t``;
2. the order ``w_t - u_{t-1}`` (a leg whose target is not 0 and whose order is below its minimum
   notional is not sent), cut by :func:`~pairs.evaluation._kernels.order_scale` to respect the
   leverage limit and, with spot legs, the cash (spot longs worth at most the equity), fills at ``f_t`` with the costs of :func:`~pairs.evaluation._kernels.order_costs`;
3. marked at the close: ``equity_t = cash_t + u_t c_t``; a margin call is recorded when the
   equity falls below the initial margin ``G / leverage``; a liquidation closes the legs at
   the close (taker fee and slippage) when the equity (cross) or a leg's isolated margin falls
   below the maintenance margin (perpetual legs only); a liquidated leg stays flat until its
   target changes.

Every cut or refused order, margin call and liquidation is an event ``(bar, kind, asked, filled)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pairs.evaluation._kernels import EVENT_KINDS, ledger_kernel

__all__ = ["Execution", "Ledger", "run_ledger"]


@dataclass(frozen=True)
class Execution:
    """Validated execution settings; rates are fractions, per-leg values arrays of legs."""

    fee_rate: float
    maker_rate: float
    maker_share: float
    slippage_rate: float
    slippage_price: bool
    min_notional: np.ndarray
    leverage: float | None
    isolated: bool
    maintenance: np.ndarray
    spot: np.ndarray
    borrow_rate: np.ndarray
    lots: np.ndarray


@dataclass
class Ledger:
    """Per-bar arrays of :func:`run_ledger` (``units`` and ``liquidation_price``: bars x legs)."""

    units: np.ndarray
    cash: np.ndarray
    equity: np.ndarray
    traded: np.ndarray
    fees: np.ndarray
    rebates: np.ndarray
    slippage: np.ndarray
    funding: np.ndarray
    borrow: np.ndarray
    price_pnl: np.ndarray
    liquidation_price: np.ndarray
    events: list[tuple[int, str, np.ndarray, np.ndarray]]


def run_ledger(
    close: np.ndarray,
    fill_price: np.ndarray,
    target: np.ndarray,
    rates: np.ndarray,
    *,
    capital: float,
    at_open: bool,
    ex: Execution,
    ppy: float,
) -> Ledger:
    """Run the account over ``close``, ``fill_price``, ``target`` and funding ``rates`` (bars x legs).

    Stops after the first bar whose equity is <= 0 (the later bars stay 0).
    """
    # Writable C arrays: a read-only one (pandas' to_numpy) would compile a second signature.
    out = ledger_kernel(
        np.require(close, np.float64, ["C", "W"]),
        np.require(fill_price, np.float64, ["C", "W"]),
        np.require(target, np.float64, ["C", "W"]),
        np.require(rates, np.float64, ["C", "W"]),
        float(capital),
        bool(at_open),
        ex.fee_rate,
        ex.maker_rate,
        ex.maker_share,
        ex.slippage_rate,
        ex.slippage_price,
        ex.min_notional,
        np.nan if ex.leverage is None else ex.leverage,
        ex.isolated,
        ex.maintenance,
        ex.spot,
        ex.borrow_rate / ppy,
        ex.lots,
        True,
    )
    units, cash, equity, traded, fees, rebates, slippage, funding, borrow, pnl, liq, *events = out
    bars, kinds, asked, filled = events
    return Ledger(
        units=units,
        cash=cash,
        equity=equity,
        traded=traded,
        fees=fees,
        rebates=rebates,
        slippage=slippage,
        funding=funding,
        borrow=borrow,
        price_pnl=pnl,
        liquidation_price=liq,
        events=[
            (int(t), EVENT_KINDS[j], a, b) for t, j, a, b in zip(bars, kinds, asked, filled, strict=True)
        ],
    )
