"""The account's leverage limit on a streamed pair's orders: the rule of the backtest's ledger.

With ``Strategy(leverage=L, capital=C)``, the orders of a :class:`~pairs.StreamEngine` (and of each
pair of a :class:`~pairs.StreamBook`) are cut as the account backtest cuts them
(:mod:`pairs.evaluation._ledger`, step 2), at the bar's prices (the fill price of ``fill="close"``):

* the order ``w`` is what :meth:`~pairs.stream._legs.Legs.orders` asks of each leg (rounded to
  lots, without legs below ``min_notional``), ``u`` the holdings from fills;
* the equity is ``E = C + pnl``, the pair's P&L from its fills (realized, unrealized at the bar's
  prices, minus the fees reported: :meth:`~pairs.stream._legs.Legs.pnl`), which equals the
  ledger's ``cash + u p`` when the fills are the ledger's; funding is not known to the engine;
* the order's cost ``c`` (fees net of rebates, plus slippage) is the strategy's cost model
  (:func:`~pairs.evaluation._kernels.order_costs`) at the bar's prices;
* ``k = order_scale(u, w, p, E, c, L)``, the compiled kernel of the ledger: the largest ``k`` in
  [0, 1] with gross exposure ``sum |u + k w| p <= L (E - k c)``; an order that does not raise the
  gross exposure is never cut;
* ``k < 1``: the legs are sent to ``u + k w``, rounded toward zero onto the lot grid (as the ledger
  does), and the signal's ``leverage_cut`` is ``"scaled"`` (``k > 0``) or ``"refused"`` (``k = 0``).
  As in the ledger, the cut order is sent even when a leg falls below ``min_notional`` (an
  exchange may reject that leg; the next bar asks again). The targets ``y_units``/``x_units``
  stay the strategy's: the next bar asks for the rest.

With spot legs (``market``), the ledger's cash limit applies too (with or without ``leverage``):
spot longs worth at most the equity after the order's cost, ``k`` the smaller of the two cuts (each
limit holds on an interval ``[0, k*]``), as in the ledger. Margin calls and liquidations are the
exchange's to report (fills).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from pairs.evaluation._execution import fee_rate
from pairs.evaluation._kernels import lot_floor, order_costs, order_scale
from pairs.strategy import Strategy
from pairs.stream._legs import Legs, Order

__all__ = ["Limit", "capped_orders", "limit_of"]

_ONES, _ZEROS = np.ones(2), np.zeros(2)
_NO_MINIMUM = (0.0, 0.0)


class Limit:
    """The leverage limit of one strategy: ``L``, the capital and its cost model as fractions."""

    __slots__ = ("capital", "costs", "leverage", "lots", "spot")

    def __init__(self, strategy: Strategy, leverage: float | None, capital: float) -> None:
        self.leverage = leverage
        self.spot = np.array([m == "spot" for m in strategy.market], dtype=np.float64)
        self.capital = capital
        taker, maker, share = fee_rate(strategy.fee_bps, strategy.maker_fee_bps, strategy.maker_share)
        self.costs = (taker, maker, share, strategy.slippage_bps / 1e4, strategy.slippage_model == "price")
        self.lots = strategy.lot_size

    def scale(self, held: np.ndarray, order: np.ndarray, prices: np.ndarray, pnl: float) -> float:
        """The ledger's ``k``: the largest fraction of ``order`` that keeps ``G <= L E``."""
        fees, rebates, slippage = order_costs(prices, order, *self.costs)
        paid = rebated = slipped = 0.0
        for i in range(order.size):  # the ledger's sums, in its order
            paid += fees[i]
            rebated += rebates[i]
            slipped += slippage[i]
        cost = paid - rebated + slipped
        equity = self.capital + pnl
        k = 1.0
        if self.leverage is not None:
            k = float(order_scale(held, order, prices, equity, cost, self.leverage, _ONES, _ONES))
        if self.spot.any():  # spot longs are paid in cash: the ledger's second limit
            k = min(k, float(order_scale(held, order, prices, equity, cost, 1.0, self.spot, _ZEROS)))
        return k

    def cut(self, held: np.ndarray, order: np.ndarray, k: float) -> tuple[float, ...]:
        """The units after ``k * order``, on the lot grid rounded toward zero (the ledger's rule)."""
        after = held + k * order
        for i, lot in enumerate(self.lots):
            if lot > 0.0:
                after[i] = lot_floor(float(after[i]), lot)
        return tuple(float(a) for a in after)


@lru_cache(maxsize=256)
def limit_of(strategy: Strategy) -> Limit | None:
    """The strategy's :class:`Limit`, or None without ``leverage`` nor spot legs (or without ``capital``)."""
    if strategy.capital is None or (strategy.leverage is None and "spot" not in strategy.market):
        return None
    leverage = None if strategy.leverage is None else float(strategy.leverage)
    return Limit(strategy, leverage, float(strategy.capital))


def capped_orders(
    legs: Legs,
    limit: Limit | None,
    targets: tuple[float, float],
    symbols: tuple[str, str],
    strategy: Strategy,
    exit_order: str,
) -> tuple[tuple[Order, ...], str | None]:
    """The orders that take ``legs`` (marked with the bar's prices) to ``targets``, cut by ``limit``.

    Returns the orders and None, ``"scaled"`` or ``"refused"`` (the signal's ``leverage_cut``).
    """
    lots, small, entry = strategy.lot_size, strategy.min_notional, strategy.execution.entry_order
    orders = legs.orders(targets, symbols, lots, small, entry, exit_order)
    if limit is None or not orders:
        return orders, None
    order = np.zeros(2)
    for o in orders:
        order[0 if o.symbol == symbols[0] else 1] += o.quantity if o.side == "buy" else -o.quantity
    held, prices = np.array(legs.units), np.array(legs.prices)
    k = limit.scale(held, order, prices, legs.pnl())
    if k >= 1.0:
        return orders, None
    cut = legs.orders(limit.cut(held, order, k), symbols, lots, _NO_MINIMUM, entry, exit_order)
    return cut, "refused" if k == 0.0 else "scaled"
