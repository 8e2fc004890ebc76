"""``pairs report``: the HTML report of one pair."""

from __future__ import annotations

import argparse

from pairs.cli._backtest import metrics_text
from pairs.cli._io import load_pair, print_record
from pairs.cli._options import strategy_from_args
from pairs.cli._sweep import parse_grid
from pairs.evaluation import sweep
from pairs.report import _analysis, sweep_blocks, write_report

__all__ = ["cmd_report"]


def cmd_report(args: argparse.Namespace) -> int:
    """``pairs report``: the standard HTML report of one pair; prints what it wrote and its headline."""
    grid = None if args.grid is None else parse_grid(args.grid)
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
    blocks, verdicts = analysis.blocks, None
    if grid is not None:
        search = sweep(strategy, grid, pair.y, pair.x, objective=args.objective)
        blocks, verdicts = blocks + sweep_blocks(search), search.verdicts()
    path = write_report(args.output, title, blocks)
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
            "sweep": verdicts,
        }
        print_record(record, args.format)
        return 0
    print(f"Wrote {path} ({size:,} bytes): {pair.headline(strategy.log_prices)}")
    print(f"Verdict: {analysis.coint.headline}")
    print(metrics_text(metrics, account=bool(strategy.capital)))
    for label, text in (verdicts or {}).items():
        print(f"Sweep, {label}: {text if text is not None else 'undefined for this grid'}")
    return 0
