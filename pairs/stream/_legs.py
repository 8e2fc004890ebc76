"""What a streamed pair (or a live portfolio) holds, leg by leg: orders from targets, fills back, P&L.

The row of a pair (:mod:`pairs.stream._rows`) holds the strategy's *targets* (``y_units``,
``x_units``): what the pair should hold after each bar. :class:`Legs` holds what it *does*
hold, as reported by fills (:meth:`Legs.apply`), and turns the difference into the orders a
router sends (:meth:`Legs.orders`): symbol, side, quantity rounded to the strategy's lots,
reduce-only, and the step of the leg order. The fills' prices give each leg an average entry
price, so the pair's P&L (realized, unrealized at the last bar's prices, minus fees) is that of
the account, not of the signal.

Rules, documented in docs/strategy.md and docs/cli.md:

* Holdings start at zero; only fills move them. A state saved before holdings existed
  (engine state version 2, book version 1) loads with holdings equal to its targets (the bot
  traded what it was told) at an unknown entry price, which becomes the price of the first
  bar after loading.
* An order is ``target - holding`` rounded to the leg's lot (to nearest; a quantity within
  rounding noise of zero is no order). One below ``min_notional`` (quantity times the bar's
  price) is not sent, unless it closes the leg (target zero): a reduce-only close is always
  sent. A flip is two orders: the reduce-only close, then the opening order.
* A live portfolio (:class:`pairs.stream.PortfolioStream`) keeps one :class:`Legs` of N legs,
  one per coin (net holdings, as the exchange keeps them), with the realized P&L kept per coin
  too; its orders are labelled by coin and the closes go first.
* A fill with a ``fill_id`` already applied is ignored (the last :data:`FILL_MEMORY` ids are
  kept in the state, oldest forgotten first), so re-sending fills after a crash is safe.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pairs._results import ResultMixin
from pairs.exceptions import StateError
from pairs.stream._state import check_keys, encode_floats, read_float, read_int

if TYPE_CHECKING:
    from pairs.trading import ExecutionRule

__all__ = ["FILL_MEMORY", "Legs", "Order", "guard"]

# Fill ids remembered per pair: a re-sent fill older than this many fills would apply again.
FILL_MEMORY = 1024
_LEGS = ("y", "x")
# A delta within this fraction of the larger of target and holding is rounding noise.
_NOISE = 1e-9


@dataclass(frozen=True, slots=True)
class Order(ResultMixin):
    """One order of a leg: what a router sends to the exchange."""

    _title = "Order"

    symbol: str
    """The leg's symbol."""
    side: str
    """``"buy"`` or ``"sell"``."""
    quantity: float
    """Units to trade, > 0, a multiple of the leg's lot (when it has one)."""
    reduce_only: bool
    """True when the order only reduces the holding (a close; never opens or flips)."""
    leg: str
    """``"y"`` or ``"x"`` (the coin, for the orders of a live portfolio)."""
    step: int = 0
    """Orders of step 0 go first; those of step ``k + 1`` once step ``k`` filled (the strategy's
    ``entry_order``/``exit_order``; equal steps go together)."""

    def to_dict(self) -> dict[str, Any]:
        """The order as JSON data (the ``orders`` of a signal line)."""
        return {
            "symbol": self.symbol,
            "side": self.side,
            "quantity": self.quantity,
            "reduce_only": self.reduce_only,
            "leg": self.leg,
            "step": self.step,
        }


@lru_cache(maxsize=256)
def _decimals(lot: float) -> int:
    return max(-int(Decimal(repr(lot)).normalize().as_tuple().exponent), 0)


class _OrderFields(ResultMixin):
    """An :class:`Order`'s slot layout without its frozen ``__setattr__``: filled, then relabelled
    (as :class:`~pairs.Signal` is built on the engine's hot path)."""

    __slots__ = Order.__slots__  # type: ignore[attr-defined]


def _order(symbol: str, quantity: float, reduce_only: bool, leg: str, step: int) -> Order:
    order: Any = object.__new__(_OrderFields)
    order.symbol = symbol
    order.side = "buy" if quantity > 0 else "sell"
    order.quantity = abs(quantity)
    order.reduce_only = reduce_only
    order.leg = leg
    order.step = step
    order.__class__ = Order
    return order  # type: ignore[no-any-return]


def _round(units: float, lot: float) -> float:
    """``units`` to the nearest multiple of ``lot``, written with the lot's decimals (no 0.0065000001)."""
    if lot == 0.0:
        return units
    return round(round(units / lot) * lot, _decimals(lot))


def _rank(order: str, leg: str) -> int:
    if order == "together":
        return 0
    return 0 if order == f"{leg}_first" else 1


class Legs:
    """Holdings, average entry prices, realized P&L, fees and applied fill ids of one pair.

    ``n`` legs (2 for a pair, one per coin for a portfolio); ``per_leg`` also keeps the realized
    P&L of each leg (:attr:`by_leg`), encoded in the state as ``"realized_by"``.
    """

    __slots__ = (
        "base",
        "by_leg",
        "cost",
        "fees",
        "ids",
        "imbalanced",
        "memo",
        "prices",
        "realized",
        "seen",
        "units",
    )

    def __init__(self, n: int = 2, *, per_leg: bool = False) -> None:
        self.units = [0.0] * n
        self.cost = [math.nan] * n  # average entry price of each leg's holding
        self.realized = 0.0
        self.by_leg: list[float] | None = [0.0] * n if per_leg else None
        self.fees = 0.0
        self.prices = [math.nan] * n  # the last bar's prices
        self.ids: deque[Any] = deque(maxlen=FILL_MEMORY)
        self.seen: set[Any] = set()
        self.base = 0.0  # realized - fees when the legs were last both flat: the trade's start
        self.imbalanced = 0  # bars in a row the legs were imbalanced (ExecutionRule)
        self.memo: tuple[Any, tuple[Order, ...]] | None = None  # the last orders and their inputs

    @classmethod
    def from_targets(cls, *units: float, per_leg: bool = False) -> Legs:
        """Holdings of a state saved before fills existed: its targets, entry prices unknown."""
        legs = cls(len(units), per_leg=per_leg)
        legs.units = [float(u) for u in units]
        return legs

    # ----------------------------------------------------------------- bars and orders
    def mark(self, *prices: float) -> None:
        """The bar's prices: the mark of the unrealized P&L (and the entry price if unknown)."""
        self.prices = list(prices)
        for k in range(len(prices)):
            if self.units[k] != 0.0 and math.isnan(self.cost[k]):
                self.cost[k] = self.prices[k]

    def orders(
        self,
        targets: tuple[float, ...],
        symbols: tuple[str, ...],
        lots: tuple[float, ...],
        min_notional: tuple[float, ...],
        entry_order: str = "together",
        exit_order: str = "together",
        labels: tuple[str, ...] = _LEGS,
    ) -> tuple[Order, ...]:
        """The orders that take the holdings to ``targets`` at the last bar's prices.

        ``labels`` are the legs' names in the orders (``"y"``, ``"x"``; a portfolio's coins).
        """
        held_now = tuple(self.units)
        if targets == held_now:
            return ()  # the common bar: nothing to trade
        units = self.units
        # Without fills in between, a held position asks for the same orders bar after bar.
        key: tuple[Any, ...] = (
            targets,
            held_now,
            symbols,
            lots,
            min_notional,
            entry_order,
            exit_order,
            labels,
        )
        if any(min_notional):
            key += tuple(self.prices)
        memo = self.memo
        if memo is not None and memo[0] == key:
            return memo[1]  # type: ignore[no-any-return]
        parts: list[tuple[int, int, int, float, bool]] = []  # phase, rank, leg, signed quantity, reduce-only
        for k in range(len(units)):
            held, target = units[k], targets[k]
            delta = _round(target - held, lots[k])
            if abs(delta) <= _NOISE * max(abs(target), abs(held), lots[k]):
                continue
            leg = labels[k]
            closing = held != 0.0 and (delta > 0) != (held > 0)
            if closing and abs(delta) > abs(held):  # a flip: close, then open
                parts.append((0, _rank(exit_order, leg), k, -held, True))
                delta += held
                closing = False
            if abs(delta) * self.prices[k] < min_notional[k] and not (closing and target == 0.0):
                continue
            rank = _rank(exit_order if closing else entry_order, leg)
            parts.append((0 if closing else 1, rank, k, delta, closing))
        parts.sort()  # by phase, rank, leg (a leg has one part per phase)
        steps = sorted({(p[0], p[1]) for p in parts})
        out = tuple(
            _order(symbols[k], q, closing, labels[k], steps.index((phase, rank)))
            for phase, rank, k, q, closing in parts
        )
        self.memo = (key, out)
        return out

    # ----------------------------------------------------------------- fills
    def apply(self, k: int, quantity: float, price: float, fee: float, fill_id: Any) -> bool:
        """Apply a fill of leg ``k`` (quantity > 0 bought, < 0 sold); False if ``fill_id`` was applied."""
        if fill_id is not None:
            if fill_id in self.seen:
                return False
            if len(self.ids) == self.ids.maxlen:
                self.seen.discard(self.ids[0])
            self.ids.append(fill_id)
            self.seen.add(fill_id)
        held, cost = self.units[k], self.cost[k]
        if held != 0.0 and math.isnan(cost):
            self.cost[k] = cost = price  # a holding of unknown entry price (an older state, no bar yet)
        if held == 0.0 or (held > 0) == (quantity > 0):
            size = abs(held) + abs(quantity)
            self.cost[k] = price if held == 0.0 else (abs(held) * cost + abs(quantity) * price) / size
            self.units[k] = held + quantity
        else:
            closed = min(abs(quantity), abs(held))
            gain = closed * (price - cost) * (1.0 if held > 0 else -1.0)
            self.realized += gain
            if self.by_leg is not None:
                self.by_leg[k] += gain
            left = held + quantity
            if abs(left) <= _NOISE * max(abs(held), abs(quantity)):
                left = 0.0
            self.units[k] = left
            if left == 0.0:
                self.cost[k] = math.nan
            elif (left > 0) != (held > 0):
                self.cost[k] = price  # flipped: the rest opened at this fill's price
        self.fees += fee
        if not any(self.units):
            self.base = self.realized - self.fees
        return True

    def unrealized(self) -> float:
        """P&L of the holdings at the last bar's prices (0 for a flat leg)."""
        total = 0.0
        for k in range(len(self.units)):
            if self.units[k] != 0.0:
                total += self.units[k] * (self.prices[k] - self.cost[k])
        return total

    def pnl(self) -> float:
        """Realized plus unrealized P&L, minus fees, in the quote currency, since the first fill."""
        return self.realized + self.unrealized() - self.fees

    def trade_pnl(self) -> float:
        """P&L since the legs were last both flat (the open trade's; 0 when flat)."""
        return self.pnl() - self.base

    def imbalance(self, targets: tuple[float, float]) -> float:
        """How far apart the fractions of their targets the two legs hold are (0 when flat)."""
        if targets[0] == 0.0 or targets[1] == 0.0:
            return 0.0
        return abs(self.units[0] / targets[0] - self.units[1] / targets[1])

    # ----------------------------------------------------------------- state
    def empty(self) -> bool:
        """True for the holdings of a pair that never had a fill (its last prices aside)."""
        return not (any(self.units) or self.ids or self.realized or self.fees or self.base or self.imbalanced)

    def encode(self) -> dict[str, Any]:
        """JSON state: units, entry prices, realized, fees, last prices, applied fill ids, guard counters."""
        out = {
            "units": list(self.units),
            "cost": list(self.cost),
            "prices": list(self.prices),
            "realized": self.realized,
            "fees": self.fees,
            "fill_ids": list(self.ids),
            "base": self.base,
            "imbalanced": self.imbalanced,
        }
        if self.by_leg is not None:
            out["realized_by"] = list(self.by_leg)
        return encode_floats(out)

    @classmethod
    def decode(cls, value: Any, where: str, n: int = 2) -> Legs:
        """The inverse of :meth:`encode` (of ``n`` legs), checked as untrusted input."""
        names = ("units", "cost", "prices", "realized", "fees", "fill_ids", "base", "imbalanced")
        check_keys(value, names, where, optional=("realized_by",))
        legs = cls(n, per_leg="realized_by" in value)
        for name in ("units", "cost", "prices", "realized_by")[: 4 if legs.by_leg is not None else 3]:
            pair = value[name]
            if not isinstance(pair, list) or len(pair) != n:
                raise StateError(f"{where}[{name!r}] must be a list of {n} numbers; got {pair!r:.80}.")
            values = {str(k): v for k, v in enumerate(pair)}
            read = [read_float(values, str(k), f"{where}[{name!r}]") for k in range(n)]
            setattr(legs, "by_leg" if name == "realized_by" else name, read)
        if not all(math.isnan(v) or 0 < v < math.inf for v in legs.prices):
            raise StateError(f"{where}['prices'] must be prices > 0 or nan; got {legs.prices!r}.")
        if not all(math.isfinite(v) for v in legs.units):
            raise StateError(f"{where}['units'] must be finite; got {legs.units!r}.")
        if legs.by_leg is not None and not all(math.isfinite(v) for v in legs.by_leg):
            raise StateError(f"{where}['realized_by'] must be finite; got {legs.by_leg!r}.")
        for k in range(n):
            if legs.units[k] == 0.0 and not math.isnan(legs.cost[k]):
                raise StateError(f"{where}['cost'] must be nan for a flat leg; got {legs.cost!r}.")
            if not (math.isnan(legs.cost[k]) or legs.cost[k] > 0):
                raise StateError(f"{where}['cost'] must be prices > 0 or nan; got {legs.cost!r}.")
        for name in ("realized", "fees", "base"):
            setattr(legs, name, read_float(value, name, where))
            if not math.isfinite(getattr(legs, name)):
                raise StateError(f"{where}[{name!r}] must be finite; got {getattr(legs, name)!r}.")
        legs.imbalanced = read_int(value, "imbalanced", where)
        ids = value["fill_ids"]
        if (
            not isinstance(ids, list)
            or len(ids) > FILL_MEMORY
            or not all(type(i) in (str, int) for i in ids)
            or len(set(ids)) != len(ids)
        ):
            raise StateError(
                f"{where}['fill_ids'] must be a list of at most {FILL_MEMORY} distinct strings or integers."
            )
        legs.ids.extend(ids)
        legs.seen.update(ids)
        return legs


def guard(rule: ExecutionRule, legs: Legs, targets: tuple[float, float], exits: str) -> str | None:
    """The exit order if a guard of ``rule`` fires at this bar for an open position, else None.

    ``targets`` are the rule's targets after the bar and ``legs`` are marked with its prices.
    The imbalance counter of ``legs`` advances (or resets); it is cleared when a guard fires.
    """
    fired = None
    if rule.imbalance_limit is not None:
        legs.imbalanced = legs.imbalanced + 1 if legs.imbalance(targets) > rule.imbalance_limit else 0
        if legs.imbalanced > rule.imbalance_bars:
            fired = "together"
            if rule.imbalance_action == "close_other":
                # The leg nearer its target (the one that filled) is closed first.
                off = [abs(legs.units[k] - targets[k]) / abs(targets[k]) for k in (0, 1)]
                fired = "x_first" if off[0] > off[1] else "y_first"
    if fired is None and (rule.stop_loss is not None or rule.take_profit is not None):
        pnl = legs.trade_pnl()
        if (rule.stop_loss is not None and pnl <= -rule.stop_loss) or (
            rule.take_profit is not None and pnl >= rule.take_profit
        ):
            fired = exits
    if fired is not None:
        legs.imbalanced = 0
    return fired
