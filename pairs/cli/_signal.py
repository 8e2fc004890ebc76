"""``pairs signal``: the signal series of a history (``--follow`` streams bars: :mod:`pairs.cli._follow`)."""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from pairs.cli._follow import follow
from pairs.cli._io import frame_text, load_pair, print_csv, records_json, rows_text, write_frame
from pairs.cli._options import strategy_from_args
from pairs.exceptions import PairsError

__all__ = ["action_counts", "cmd_signal"]


def action_counts(frame: pd.DataFrame) -> dict[str, int]:
    """How many bars of each non-hold action."""
    return {a: int((frame["action"] == a).sum()) for a in ("enter_long", "enter_short", "exit", "stop")}


def cmd_signal(args: argparse.Namespace) -> int:
    """``pairs signal``: the signal series of a history, or ``--follow`` a stream of bars."""
    if getattr(args, "portfolio", None):
        from pairs.cli._portfolio_follow import follow_portfolio

        return follow_portfolio(args)
    if getattr(args, "book", None):
        from pairs.cli._book import follow_book

        return follow_book(args)
    if args.follow:
        return follow(args)
    if args.y is None or args.x is None:
        raise PairsError("Y and X must be given (price sources), unless --follow reads bars from stdin.")
    if args.state is not None:
        raise PairsError("state must be used with --follow; got --state without --follow.")
    strategy = strategy_from_args(args)
    pair = load_pair(args)
    result = strategy.run(pair.y, pair.x)
    frame = result.frame
    if args.output:
        write_frame(frame, args.output, None if args.format == "table" else args.format)
    if args.format == "json" and not args.output:
        sys.stdout.write(records_json(frame))
    elif args.format == "csv" and not args.output:
        print_csv(frame)
    elif args.format == "table":
        last = frame.iloc[-1]
        rows = [
            ("hedge", strategy.hedge),
            ("z-score", strategy.zscore_method),
            *[(f"{k} count", v) for k, v in action_counts(frame).items()],
            ("last position", int(last["position"])),
            ("last z-score", float(last["zscore"])),
        ]
        print(pair.headline(strategy.log_prices))
        print(rows_text(rows, title="Signals"))
        if result.note:
            print(f"Note: {result.note}")
        print(f"\nLast {args.tail} bars:")
        print(frame_text(frame.tail(args.tail)))
        if args.output:
            print(f"\nWrote {len(frame)} rows to {args.output}")
    return 0
