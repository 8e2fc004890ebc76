"""The strategy of ``signal``, ``backtest``, ``report`` and ``strategy``: a file, flags, or both.

Without ``--strategy`` each command builds ``pairs.Strategy()`` with the flags given applied; with
``--strategy FILE`` the file is read and the flags given override its settings. The Strategy
validates every value, so the command line has no option checks of its own.
"""

from __future__ import annotations

import argparse
from typing import Any

from pairs._settings import RULE_FIELDS, SETTINGS
from pairs.strategy import Strategy
from pairs.trading import SignalRule

__all__ = ["RULE_FLAGS", "STRATEGY_FLAGS", "explicit_flags", "fills_at_open", "strategy_from_args"]

# command-line flag (dest) -> Strategy field, from the one table of settings (--log is a data option).
STRATEGY_FLAGS = {
    "log": "log_prices",
    **{s.name: s.field for s in SETTINGS if s.field not in RULE_FIELDS},
}
RULE_FLAGS = RULE_FIELDS


def explicit_flags(args: argparse.Namespace) -> list[str]:
    """The strategy flags given on the command line (dests), in a stable order."""
    names = [*STRATEGY_FLAGS, *RULE_FLAGS]
    return [name for name in names if getattr(args, name, None) is not None]


def strategy_from_args(args: argparse.Namespace) -> Strategy:
    """``Strategy`` of ``--strategy FILE`` (or the default one) with the explicit flags applied."""
    base = Strategy.load(args.strategy) if getattr(args, "strategy", None) else Strategy()
    changes: dict[str, Any] = {}
    for flag, name in STRATEGY_FLAGS.items():
        value = getattr(args, flag, None)
        if value is not None:
            changes[name] = tuple(value) if flag in ("lot_size", "min_notional") else value
    rule = {name: getattr(args, name) for name in RULE_FLAGS if getattr(args, name, None) is not None}
    if rule:
        changes["rule"] = SignalRule(**{**base.rule.to_dict(), **rule})
    return base.replace(**changes) if changes else base


def fills_at_open(strategy: Strategy, grid: dict[str, list[Any]] | None = None) -> bool:
    """Whether an account of ``strategy`` (at some point of ``grid``) fills at the next bar's open.

    Only then does a command read the open prices; without ``capital`` :func:`pairs.backtest`
    refuses ``fill="next_open"`` itself.
    """
    points = grid or {}
    fills = points.get("fill", [strategy.fill])
    capitals = points.get("capital", [strategy.capital])
    return "next_open" in fills and any(c is not None for c in capitals)
