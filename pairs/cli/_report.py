"""``pairs report``: the HTML report of one pair."""

from __future__ import annotations

import argparse

from pairs.cli._io import load_pair
from pairs.cli._options import strategy_from_args
from pairs.report import analysis_report, write_report

__all__ = ["cmd_report"]


def cmd_report(args: argparse.Namespace) -> int:
    """``pairs report``: the standard HTML report of one pair."""
    pair = load_pair(args)
    strategy = strategy_from_args(args)
    blocks = analysis_report(
        pair.y,
        pair.x,
        strategy=strategy,
        coint_window=args.coint_window,
        coint_step=args.coint_step,
        size=args.size,
    )
    title = args.title or f"{pair.y.name} / {pair.x.name}: pair analysis"
    path = write_report(args.output, title, blocks)
    print(f"Wrote {path} ({path.stat().st_size:,} bytes): {pair.headline(True)}")
    return 0
