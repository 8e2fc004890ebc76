"""``pairs strategy``: print the strategy file of the defaults and the flags given, to edit and reuse."""

from __future__ import annotations

import argparse
import sys

from pairs.cli._io import print_fields
from pairs.cli._options import strategy_from_args

__all__ = ["cmd_strategy"]


def cmd_strategy(args: argparse.Namespace) -> int:
    """Print the strategy file (JSON), its description (table) or its settings (csv); ``-o`` writes the file.

    Without ``--format``: the JSON, or with ``-o`` what was written and the description.
    """
    strategy = strategy_from_args(args)
    fmt = args.format or ("table" if args.output else "json")
    if args.output:
        strategy.to_json(args.output)
        if fmt == "table":
            print(f"Wrote {args.output}")
    if fmt == "json":
        sys.stdout.write(strategy.to_json())
    elif fmt == "csv":
        print_fields(strategy.to_dict())
    else:
        print(strategy.summary())
    return 0
