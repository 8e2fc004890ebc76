"""The bar-by-bar ledger of an account holding legs (any number): orders, costs, funding, margin.

Each bar ``t`` (``u`` the units held, ``c`` closes, ``f`` fill prices, ``w`` the target units):

1. funding: with close fills, the rate of bar ``t`` is paid on the units held into the bar at
   the previous close, ``u_{t-1} c_{t-1} r_t``; with open fills (the order fills at the bar's
   open, so the new units are held over the bar) on ``u_t f_t r_t``;
2. the order ``w_t - u_{t-1}`` (a leg whose target is not 0 and whose order is below its minimum
   notional is not sent), cut by :func:`~pairs.evaluation._margin.order_scale` to respect the
   leverage limit, fills at ``f_t`` with the costs of :func:`~pairs.evaluation._fills.order_costs`;
3. marked at the close: ``equity_t = cash_t + u_t c_t``; a margin call is recorded when the
   equity falls below the initial margin ``G / leverage``; a liquidation closes the legs at
   the close (taker fee and slippage) when the equity (cross) or a leg's isolated margin falls
   below the maintenance margin; a liquidated leg stays flat until its target changes.

Every cut or refused order, margin call and liquidation is an event ``(bar, kind, asked, filled)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pairs.evaluation._fills import order_costs
from pairs.evaluation._margin import (
    liquidation_price_cross,
    liquidation_price_isolated,
    maintenance_margin,
    order_scale,
)

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
    price_pnl: np.ndarray
    liquidation_price: np.ndarray
    events: list[tuple[int, str, np.ndarray, np.ndarray]] = field(default_factory=list)


def run_ledger(
    close: np.ndarray,
    fill_price: np.ndarray,
    target: np.ndarray,
    rates: np.ndarray,
    *,
    capital: float,
    at_open: bool,
    ex: Execution,
) -> Ledger:
    """Run the account over ``close``, ``fill_price``, ``target`` and funding ``rates`` (bars x legs).

    Stops at the first bar whose equity is <= 0 (the later bars stay 0).
    """
    n, k = close.shape
    out = Ledger(
        units=np.zeros((n, k)),
        cash=np.zeros(n),
        equity=np.zeros(n),
        traded=np.zeros(n),
        fees=np.zeros(n),
        rebates=np.zeros(n),
        slippage=np.zeros(n),
        funding=np.zeros(n),
        price_pnl=np.zeros(n),
        liquidation_price=np.full((n, k), np.nan),
    )
    u, cash = np.zeros(k), float(capital)
    entry, margin = np.zeros(k), np.zeros(k)
    blocked = np.full(k, np.nan)
    in_call = False
    lev = ex.leverage
    for t in range(n):
        c, f, w = close[t], fill_price[t], target[t]
        prev = close[t - 1] if t else c
        paid = 0.0 if at_open else float(u * prev @ rates[t])
        cash -= paid
        hold = w == blocked
        blocked[~hold] = np.nan
        want = np.where(hold, -u, w - u)
        small = (want != 0) & (w != 0) & (np.abs(want) * f < ex.min_notional)
        # Legs whose order is sent in full land exactly on their target (no rounding of u + w - u).
        reached = ~hold & ~small
        if small.any():
            asked = want.copy()
            want[small] = 0.0
            out.events.append((t, "below_min_notional", asked, want.copy()))
        fee, reb, slip = _costs(f, want, ex, ex.maker_share)
        if lev is not None and want.any():
            scale = order_scale(u, want, f, cash + u @ f, float((fee - reb + slip).sum()), lev)
            if scale < 1.0:
                reached[:] = False
                out.events.append((t, "refused" if scale == 0 else "scaled", want.copy(), scale * want))
                want, fee, reb, slip = scale * want, scale * fee, scale * reb, scale * slip
        cash -= float(want @ f + fee.sum() - reb.sum() + slip.sum())
        if ex.isolated:
            _isolated_margin(u, want, f, entry, margin, lev)
        out.price_pnl[t] = u @ (c - prev) + want @ (c - f)
        u = np.where(reached, w, u + want)
        if at_open:
            paid = float(u * f @ rates[t])
            cash -= paid
        out.traded[t] = np.abs(want) @ f
        out.fees[t], out.rebates[t], out.slippage[t], out.funding[t] = fee.sum(), reb.sum(), slip.sum(), paid
        equity = cash + u @ c
        mm = maintenance_margin(u, c, ex.maintenance)
        if ex.isolated:
            hit = (u != 0) & (margin + u * (c - entry) < mm)
        else:
            hit = (u != 0) & (equity < mm.sum())
        if hit.any():
            gone = np.where(hit, -u, 0.0)
            lf, lr, ls = _costs(c, gone, ex, 0.0)
            cash -= float(gone @ c + lf.sum() - lr.sum() + ls.sum())
            out.traded[t] += np.abs(gone) @ c
            out.fees[t] += lf.sum()
            out.rebates[t] += lr.sum()
            out.slippage[t] += ls.sum()
            out.events.append((t, "liquidation", gone, gone))
            blocked[hit] = w[hit]
            u, entry[hit], margin[hit] = u + gone, 0.0, 0.0
            equity = cash + u @ c
        if lev is not None:
            call = equity * lev < np.abs(u) @ c
            if call and not in_call:
                out.events.append((t, "margin_call", np.zeros(k), np.zeros(k)))
            in_call = call
        out.units[t], out.cash[t], out.equity[t] = u, cash, equity
        if ex.isolated:
            out.liquidation_price[t] = liquidation_price_isolated(u, entry, margin, ex.maintenance)
        else:
            out.liquidation_price[t] = liquidation_price_cross(u, c, equity, ex.maintenance)
        if equity <= 0:
            break
    return out


def _costs(
    price: np.ndarray, order: np.ndarray, ex: Execution, maker_share: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return order_costs(
        price,
        order,
        fee_rate=ex.fee_rate,
        maker_rate=ex.maker_rate,
        maker_share=maker_share,
        slippage_rate=ex.slippage_rate,
        slippage_price=ex.slippage_price,
    )


def _isolated_margin(
    u: np.ndarray, order: np.ndarray, price: np.ndarray, entry: np.ndarray, margin: np.ndarray, lev: float | None
) -> None:
    """Update each leg's entry price and isolated margin (in place) for ``order`` filled at ``price``."""
    assert lev is not None  # validated: isolated margin needs a leverage
    for i in np.flatnonzero(order):
        old, new = u[i], u[i] + order[i]
        if new == 0:
            entry[i] = margin[i] = 0.0
        elif old == 0 or np.sign(new) != np.sign(old):
            entry[i], margin[i] = price[i], abs(new) * price[i] / lev
        elif abs(new) > abs(old):
            entry[i] = (abs(old) * entry[i] + abs(order[i]) * price[i]) / abs(new)
            margin[i] += abs(order[i]) * price[i] / lev
        else:
            margin[i] *= abs(new) / abs(old)
