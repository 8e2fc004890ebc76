"""How the two legs of a pair are traded live: leg order and the guards on what was filled."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, get_args

from pairs._typing import ImbalanceAction, LegOrder
from pairs._validation import check_choice, check_float, check_int, check_keys

__all__ = ["ExecutionRule"]


@dataclass(frozen=True)
class ExecutionRule:
    """Leg order and guards of a pair traded with fills (:meth:`pairs.StreamEngine.fill`).

    Every guard is off by default. They act on what the engine knows was filled, so they need
    fills reported back; the batch run (:meth:`pairs.Strategy.run`) has no fills and ignores
    them. A guard that fires closes the pair as the rule's exit does (position 0, the rule's
    cooldown), with the action ``"guard"``, and its orders close the legs. Until the closing
    fills come back the trade is still open: the P&L and imbalance are those of the holdings,
    so a re-entry before they are closed is closed again (a rule ``cooldown`` waits instead).

    Parameters
    ----------
    entry_order, exit_order
        Order in which the legs are entered and closed: ``"together"`` (default: one step),
        ``"y_first"`` or ``"x_first"`` (the other leg's order is a later ``step``). Closing
        orders always come before opening ones (a flip closes first).
    imbalance_limit
        Largest deviation of a leg's holding from its target, as a fraction of the target
        (``|holding - target| > imbalance_limit * |target|``), tolerated for
        ``imbalance_bars`` bars; ``None`` (default): no check.
    imbalance_bars
        Bars a deviation may last (default 1): the guard fires at the bar that makes it last
        longer.
    imbalance_action
        Either way the pair is closed (position 0, both targets 0). ``"flatten"`` (default):
        both closing orders go together; ``"close_other"``: the other leg (the one within
        the limit, usually the one that filled) is closed first (step 0) and the imbalanced
        leg's remainder after it (step 1).
    stop_loss, take_profit
        Close the pair when its combined P&L in the quote currency (realized plus unrealized
        at the bar's prices, minus fees; from fills) is ``<= -stop_loss`` or
        ``>= take_profit``; ``None`` (default): no limit.

    Examples
    --------
    >>> rule = ExecutionRule(entry_order="y_first", stop_loss=100.0)
    >>> ExecutionRule.from_dict(rule.to_dict()) == rule
    True
    """

    entry_order: LegOrder = "together"
    exit_order: LegOrder = "together"
    imbalance_limit: float | None = None
    imbalance_bars: int = 1
    imbalance_action: ImbalanceAction = "flatten"
    stop_loss: float | None = None
    take_profit: float | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        check_choice("entry_order", self.entry_order, get_args(LegOrder))
        check_choice("exit_order", self.exit_order, get_args(LegOrder))
        if self.imbalance_limit is not None:
            set_(
                self,
                "imbalance_limit",
                check_float("imbalance_limit", self.imbalance_limit, minimum=0.0, strict_min=True),
            )
        set_(self, "imbalance_bars", check_int("imbalance_bars", self.imbalance_bars, minimum=1))
        check_choice("imbalance_action", self.imbalance_action, get_args(ImbalanceAction))
        for name in ("stop_loss", "take_profit"):
            value = getattr(self, name)
            if value is not None:
                set_(self, name, check_float(name, value, minimum=0.0, strict_min=True))

    @property
    def guarded(self) -> bool:
        """True when a guard is on."""
        return not (self.imbalance_limit is None and self.stop_loss is None and self.take_profit is None)

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as a JSON-safe dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExecutionRule:
        """Rebuild from :meth:`to_dict` output; unknown keys are an error."""
        return cls(**check_keys(data, (f.name for f in dataclasses.fields(cls))))
