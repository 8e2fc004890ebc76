"""``pairs backtest``: the strategy's signals of a history traded with its costs."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import pandas as pd

from pairs.cli._io import load_pair, print_csv, print_json, records, rows_text
from pairs.cli._options import fills_at_open, strategy_from_args

__all__ = ["cmd_backtest", "metrics_rows", "metrics_text"]


def metrics_rows(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    """Backtest metrics as readable text: percentages, ratios to two decimals."""

    def fmt(value: float, spec: str) -> str:
        return "n/a" if value is None or not np.isfinite(value) else format(value, spec)

    rows = [
        ("total return", fmt(metrics["total_return"], "+.1%")),
        ("APR", fmt(metrics["apr"], "+.1%")),
        ("Sharpe", fmt(metrics["sharpe"], ".2f")),
        ("Sortino", fmt(metrics["sortino"], ".2f")),
        ("max drawdown", fmt(metrics["max_drawdown"], ".1%")),
        ("trades", str(metrics["n_trades"])),
        ("annual turnover", fmt(metrics["annual_turnover"], ".1f") + "x"),
        ("bars", f"{metrics['n_bars']} ({metrics['periods_per_year']:g} per year)"),
    ]
    if metrics.get("final_equity") is not None:
        rows.insert(0, ("final equity", f"{metrics['final_equity']:,.2f}"))
    return rows


def metrics_text(metrics: dict[str, Any], *, account: bool) -> str:
    """The metrics table of ``pairs backtest`` (and ``pairs report``), titled by its convention."""
    title = "Backtest (account in currency)" if account else "Backtest (return on gross exposure)"
    return rows_text(metrics_rows(metrics), title=title)


def cmd_backtest(args: argparse.Namespace) -> int:
    """``pairs backtest``: signals of a history traded with costs; metrics table."""
    strategy = strategy_from_args(args)
    pair = load_pair(args, opens=fills_at_open(strategy))
    run = strategy.run(pair.y, pair.x)
    result = run.backtest(periods_per_year=args.periods_per_year, **pair.opens())
    metrics = dict(result._summary_rows())
    if args.format == "json":
        print_json(
            {
                "data": pair.info(),
                "strategy": strategy.to_dict(),
                "convention": result.convention,
                "metrics": metrics,
                "note": run.note,
                "trades": records(result.trades.rename_axis("trade")),
            }
        )
    elif args.format == "csv":
        print_csv(
            pd.DataFrame(
                {
                    "position": run.position,
                    "returns": result.returns,
                    "equity": result.equity,
                    "turnover": result.turnover,
                }
            )
        )
    else:
        print(pair.headline(strategy.log_prices))
        print(strategy.summary())
        print(metrics_text(metrics, account=bool(strategy.capital)))
        if run.note:
            print(f"Note: {run.note}")
    return 0
