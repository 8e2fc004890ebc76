"""``pairs report``: the HTML report of one pair, or with ``--portfolio`` the page of a portfolio."""

from __future__ import annotations

import argparse

from pairs._settings import SETTINGS
from pairs.cli._backtest import metrics_text
from pairs.cli._io import load_pair, load_panel, print_record, rows_text
from pairs.cli._options import explicit_flags, strategy_from_args
from pairs.cli._sweep import parse_grid
from pairs.evaluation import sweep
from pairs.exceptions import PairsError
from pairs.report import sweep_blocks, write_report
from pairs.report._pair import _analysis

__all__ = ["PORTFOLIO_TITLE", "cmd_report"]

PORTFOLIO_TITLE = "Portfolio of pairs"
"""Title of the portfolio page (``pairs portfolio --report`` and ``pairs report --portfolio``)."""

# Options of the pair report only (dest -> flag): the portfolio file sets its strategy and windows.
_FLAGS = {"log": "--log", **{s.name: s.flag for s in SETTINGS}}
_PAIR_ONLY = {"strategy": "--strategy", "coint_window": "--coint-window", "coint_step": "--coint-step"}
_PAIR_ONLY |= {"size": "--size", "grid": "--grid"}


def cmd_report(args: argparse.Namespace) -> int:
    """``pairs report``: the standard HTML report of one pair; prints what it wrote and its headline."""
    if args.portfolio:
        return _portfolio_page(args)
    if len(args.sources) != 2:
        raise PairsError(
            "Y and X must be given (two price sources), or --portfolio FILE with the universe; "
            f"got {len(args.sources)} source(s)."
        )
    args.y, args.x = args.sources
    grid = None if args.grid is None else parse_grid(args.grid)
    pair = load_pair(args)
    strategy = strategy_from_args(args)
    analysis = _analysis(
        pair.y,
        pair.x,
        strategy=strategy,
        coint_window=180 if args.coint_window is None else args.coint_window,
        coint_step=5 if args.coint_step is None else args.coint_step,
        size=0.05 if args.size is None else args.size,
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


def _portfolio_page(args: argparse.Namespace) -> int:
    """``pairs report --portfolio FILE SOURCE...``: the page ``pairs portfolio --report`` writes."""
    given = [_FLAGS[name] for name in explicit_flags(args)]
    given += [flag for name, flag in _PAIR_ONLY.items() if getattr(args, name) is not None]
    if given:
        raise PairsError(
            "pair options must not be given with --portfolio (its file sets the strategy, selection "
            f"and windows; change them with 'pairs portfolio ... --write-portfolio FILE'); got {given}."
        )
    if not args.sources:
        raise PairsError(
            "SOURCE must be given with --portfolio (the universe: folders, CSV files or "
            "sample:binance_1h, as for 'pairs portfolio'); got none."
        )
    from pairs.evaluation._portfolio import portfolio_backtest
    from pairs.report import portfolio_report
    from pairs.strategy._portfolio import Portfolio

    book = Portfolio.load(args.portfolio)
    prices = load_panel(args)
    result = portfolio_backtest(book, prices)
    title = args.title or PORTFOLIO_TITLE
    path = write_report(args.output, title, portfolio_report(result))
    size = path.stat().st_size
    summary = dict(result._summary_rows())
    if args.format != "table":
        record = {
            "output": str(path),
            "bytes": size,
            "title": title,
            "coins": list(map(str, prices.columns)),
            "portfolio": book.to_dict(),
            "summary": summary,
        }
        print_record(record, args.format)
        return 0
    kind = book.selection.method + (" on log prices" if book.selection.log else "")
    print(
        f"Wrote {path} ({size:,} bytes): {len(prices.columns)} coins, {result.n_windows} windows of "
        f"{book.formation} formation + {book.trading} trading, top {book.selection.top} by {kind}"
    )
    print(rows_text(result._summary_rows(), "Portfolio backtest"))
    return 0
