"""What the live portfolio (:class:`~pairs.stream.PortfolioStream`) decided at one bar."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pairs._results import ResultMixin
from pairs.stream._legs import Order

__all__ = ["PortfolioSignal"]


@dataclass(frozen=True, repr=False)
class PortfolioSignal(ResultMixin):
    """What the live portfolio decided at one bar.

    Attributes
    ----------
    timestamp, bar
        The bar's timestamp and its number (0 for the first bar the book saw).
    units
        Net units of each coin the account holds from this bar to the next (after the leverage
        cap): the backtest's ``units``. With a fill lag (the strategy's ``fill``), the units
        decided ``lag`` bars before.
    orders
        Units of each coin the targets change by at this bar (only the coins that change): the
        backtest's ``orders``.
    pairs
        Each pair in the book at this bar: ``position``, ``zscore``, ``y_units`` and ``x_units``
        (its own units before the book's ``scale``).
    equity, cash, scale
        The account after this bar's orders, and the book's scale (1 unless the cap binds).
    targets
        Net units of each coin decided at this bar, before the cap: with a fill lag, what the
        orders sent now go to (they fill ``lag`` bars later); without one, ``units``.
    events
        What the account did beyond the targets at this bar (orders below the minimum notional,
        scaled or refused by the cap, liquidations, a margin call): ``[kind, coin, asked,
        filled]``, as the backtest's ``events``.
    selected
        At the close of a window's last bar: the pairs selected for the next window, best first;
        None on other bars.
    holdings
        Net units of each coin the account holds, as reported by fills (0 until the first fill).
    order_list
        The :class:`~pairs.stream.Order` s that take ``holdings`` to ``targets``: one per coin
        (``symbol`` and ``leg`` are the coin), rounded to the portfolio's lots, none below the
        coin's ``min_notional`` unless it closes the holding, reduce-only
        when it only reduces the holding; closes are step 0, orders that open step 1 (0 when
        nothing closes; a flip is both a close and an opening order).
    """

    timestamp: Any
    bar: int
    units: dict[str, float]
    orders: dict[str, float]
    pairs: dict[str, dict[str, Any]]
    equity: float
    cash: float
    scale: float
    targets: dict[str, float]
    events: list[list[Any]]
    selected: list[str] | None
    holdings: dict[str, float]
    order_list: tuple[Order, ...]
    _title = "Portfolio signal"

    def _summary_rows(self) -> list[tuple[str, Any]]:
        return [
            ("timestamp", str(self.timestamp)),
            ("bar", self.bar),
            ("pairs", ", ".join(f"{k} {v['position']:+d}" for k, v in self.pairs.items()) or "none"),
            ("orders", ", ".join(f"{k} {v:+.6g}" for k, v in self.orders.items()) or "none"),
            (
                "to trade",
                ", ".join(f"{o.side} {o.quantity:.6g} {o.symbol}" for o in self.order_list) or "none",
            ),
            ("equity", self.equity),
            ("scale", self.scale),
        ]

    def to_json(self) -> str:
        """One JSON line (NaN as null)."""
        return json.dumps(self.to_dict(), separators=(",", ":"))
