"""``pairs report``: the HTML report of one pair."""

from __future__ import annotations

import argparse

from pairs.cli._backtest import metrics_text
from pairs.cli._io import load_pair, print_record
from pairs.cli._options import strategy_from_args
from pairs.report import _analysis, write_report

__all__ = ["cmd_report"]


def cmd_report(args: argparse.Namespace) -> int:
    """``pairs report``: the standard HTML report of one pair; prints what it wrote and its headline."""
    pair = load_pair(args)
    strategy = strategy_from_args(args)
    analysis = _analysis(
        pair.y,
        pair.x,
        strategy=strategy,
        coint_window=args.coint_window,
        coint_step=args.coint_step,
        size=args.size,
        periods_per_year=None,
    )
    title = args.title or f"{pair.y.name} / {pair.x.name}: pair analysis"
    path = write_report(args.output, title, analysis.blocks)
    size = path.stat().st_size
    metrics = dict(analysis.backtest._summary_rows())
    if args.format != "table":
        record = {
            "output": str(path),
            "bytes": size,
            "title": title,
            "data": pair.info(),
            "strategy": strategy.to_dict(),
            "verdict": analysis.coint.verdict,
            "headline": analysis.coint.headline,
            "tests": analysis.coint.to_dict(),
            "convention": analysis.backtest.convention,
            "metrics": metrics,
        }
        print_record(record, args.format)
        return 0
    print(f"Wrote {path} ({size:,} bytes): {pair.headline(strategy.log_prices)}")
    print(f"Verdict: {analysis.coint.headline}")
    print(metrics_text(metrics, account=bool(strategy.capital)))
    return 0
