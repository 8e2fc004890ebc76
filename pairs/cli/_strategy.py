"""``pairs strategy``: print the strategy file of the defaults and the flags given, to edit and reuse."""

from __future__ import annotations

import argparse
import sys

from pairs.cli._options import strategy_from_args

__all__ = ["cmd_strategy"]


def cmd_strategy(args: argparse.Namespace) -> int:
    """Print the strategy as JSON (or write it to ``--output``), with its description on stderr."""
    strategy = strategy_from_args(args)
    text = strategy.to_json()
    if args.output:
        strategy.to_json(args.output)
        print(f"Wrote {args.output}")
        print(strategy.summary())
    else:
        sys.stdout.write(text)
    return 0
