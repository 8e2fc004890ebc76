"""``pairs sweep``: a strategy's parameter grid backtested, the best point and whether to trust it."""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

from pairs.cli._backtest import metrics_rows
from pairs.cli._io import frame_text, load_pair, print_csv, print_json, records, rows_text
from pairs.cli._options import fills_at_open, strategy_from_args
from pairs.evaluation import sweep
from pairs.exceptions import PairsError

__all__ = ["cmd_sweep", "parse_grid"]

# Commas inside brackets belong to a value: "lot_size=[0.01,0.001],[0,0]".
_VALUES = re.compile(r",(?![^\[]*\])")


def _value(text: str) -> Any:
    """A grid value: a JSON number, list (a tuple), true/false/null (or None), else the text."""
    if text in ("None", "none"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return tuple(value) if isinstance(value, list) else value


def parse_grid(specs: list[str] | None) -> dict[str, list[Any]]:
    """``--grid FIELD=V1,V2,...`` options as the grid of :func:`pairs.sweep`."""
    if not specs:
        raise PairsError("--grid must be given at least once, as FIELD=V1,V2,...; got none.")
    grid: dict[str, list[Any]] = {}
    for spec in specs:
        field, sep, values = spec.partition("=")
        field = field.strip()
        if not sep or not field or not values.strip():
            raise PairsError(f"--grid must be FIELD=V1,V2,... (e.g. rule.entry_z=1.5,2,2.5); got {spec!r}.")
        if field in grid:
            raise PairsError(f"--grid must name each field once; got {field!r} twice.")
        grid[field] = [_value(v.strip()) for v in _VALUES.split(values)]
    return grid


def _best_rows(res: Any, objective: str) -> list[tuple[str, Any]]:
    best = res.best(objective)
    point = res.point(int(best.name))
    rows: list[tuple[str, Any]] = [(key, value) for key, value in point.items()]
    metrics = {
        **best.to_dict(),
        "n_trades": int(best["n_trades"]),
        "n_bars": len(res.returns),
        "periods_per_year": res.periods_per_year,
    }
    rows += metrics_rows(metrics)[:-1]
    rows.append(("costs", f"{best['costs']:.1%} of the capital base"))
    return rows


def cmd_sweep(args: argparse.Namespace) -> int:
    """``pairs sweep``: every point of the grid backtested; best point, deflated Sharpe and PBO."""
    grid = parse_grid(args.grid)
    strategy = strategy_from_args(args)
    pair = load_pair(args, opens=fills_at_open(strategy, grid))
    res = sweep(
        strategy,
        grid,
        pair.y,
        pair.x,
        objective=args.objective,
        periods_per_year=args.periods_per_year,
        **pair.opens(),
    )
    if args.plot:
        res.plot().savefig(args.plot)
    verdicts = res.verdicts()
    if args.format == "json":
        dsr, pbo = None, None
        if verdicts["deflated Sharpe"] is not None:
            dsr = res.deflated_sharpe().to_dict()
        if verdicts["overfitting"] is not None:
            result = res.probability_of_overfitting()
            pbo = {"pbo": result.pbo, "prob_oos_loss": result.prob_oos_loss, "verdict": result.verdict}
        best = res.best(args.objective)
        print_json(
            {
                "data": pair.info(),
                "strategy": strategy.to_dict(),
                "grid": grid,
                "objective": args.objective,
                "n_points": len(res.table),
                "best": {
                    "point": int(best.name),
                    **res.point(int(best.name)),
                    **best.drop(list(grid)).to_dict(),
                },
                "deflated_sharpe": dsr,
                "probability_of_overfitting": pbo,
                "note": res.note,
                "table": records(res.table),
            }
        )
    elif args.format == "csv":
        print_csv(res.table)
    else:
        print(pair.headline(strategy.log_prices))
        convention = "an account in currency" if strategy.capital else "return on gross exposure"
        print(f"Sweep of {len(res.table)} points over {len(res.returns)} bars ({convention}).")
        ranked = res.table.sort_values(
            args.objective, ascending=args.objective == "max_drawdown", kind="stable"
        )
        shown = ranked.head(args.top) if args.top else ranked
        print(f"\nTop {len(shown)} by {args.objective}:")
        print(frame_text(shown))
        print()
        print(rows_text(_best_rows(res, args.objective), title=f"Best point by {args.objective}"))
        for label, text in verdicts.items():
            print(f"\n{label}: {text if text is not None else 'undefined for this grid'}")
        if res.note:
            print(f"\nNote: {res.note}")
    return 0
