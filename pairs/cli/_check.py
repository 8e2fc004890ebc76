"""``pairs check``: look-ahead and warm-up of a strategy on a history (:func:`pairs.check_strategy`)."""

from __future__ import annotations

import argparse

from pairs.cli._io import frame_text, load_pair, print_record, records
from pairs.cli._options import strategy_from_args
from pairs.evaluation import check_strategy

__all__ = ["cmd_check"]


def cmd_check(args: argparse.Namespace) -> int:
    """``pairs check``: re-run the strategy on prefixes and later starts; exit 1 if it looks ahead."""
    strategy = strategy_from_args(args)
    pair = load_pair(args)
    result = check_strategy(
        strategy, pair.y, pair.x, cuts=args.cuts, starts=args.starts, tolerance=args.tolerance
    )
    if args.format != "table":
        data = {
            "data": pair.info(),
            "strategy": strategy.to_dict(),
            "causal": result.causal,
            "warmup_bars": result.warmup_bars,
            "tolerance": result.tolerance,
            "lookahead": records(result.lookahead),
            "warmup": records(result.warmup),
        }
        print_record(data, args.format)
    else:
        print(pair.headline(strategy.log_prices))
        print(strategy.summary())
        print(result.summary())
        if len(result.lookahead):
            print(
                f"\nBars whose output changed when later bars were added (first {min(10, len(result.lookahead))}):"
            )
            print(frame_text(result.lookahead.head(10), index=False))
        print("\nWarm-up per starting bar (bars to replay before live signals match):")
        print(frame_text(result.warmup, index=False))
    return 0 if result.causal else 1
