"""``pairs portfolio``: rotate a portfolio of pairs over a universe and book it in one account."""

from __future__ import annotations

import argparse
from typing import Any

import pandas as pd

from pairs.cli._io import frame_text, load_panel, print_csv, print_json, records, rows_text
from pairs.evaluation._portfolio import portfolio_backtest
from pairs.strategy._portfolio import Portfolio
from pairs.strategy._strategy import Strategy

__all__ = ["cmd_portfolio", "portfolio_from_args"]

# Flags that set a field of the Selection, and those that set a field of the Portfolio.
_SELECTION: tuple[str, ...] = ("method", "top", "size", "correction", "min_half_life", "max_half_life")
_SELECTION += ("min_crossings", "max_pairs_per_coin")
_PORTFOLIO: tuple[str, ...] = ("formation", "trading", "capital", "leverage", "on_deselect", "fee_bps")
_PORTFOLIO += ("slippage_bps", "margin", "min_notional")


def _window(value: str) -> int | str:
    """A bar count (digits) or a duration such as ``30D``."""
    return int(value) if value.isascii() and value.isdigit() else value


def portfolio_from_args(args: argparse.Namespace) -> Portfolio:
    """The portfolio of ``--portfolio FILE`` (or the defaults), with ``--strategy FILE`` and the flags given."""
    book = Portfolio.load(args.portfolio) if args.portfolio else Portfolio()
    strategy = Strategy.load(args.strategy) if args.strategy else book.strategy
    selection = book.selection.replace(
        **{k: getattr(args, k) for k in _SELECTION if getattr(args, k) is not None}
    )
    changes: dict[str, Any] = {k: getattr(args, k) for k in _PORTFOLIO if getattr(args, k) is not None}
    for name in ("formation", "trading"):
        if name in changes:
            changes[name] = _window(changes[name])
    if args.log:  # log prices everywhere: the selection's tests and the strategy's hedge
        selection = selection.replace(log=True)
        strategy = strategy.replace(log_prices=True)
    if args.fill is not None:
        strategy = strategy.replace(fill=args.fill)
    return book.replace(strategy=strategy, selection=selection, **changes)


def cmd_portfolio(args: argparse.Namespace) -> int:
    """Backtest the rotation on the universe of ``args.sources``; optionally write its file and report."""
    book = portfolio_from_args(args)
    if args.write_portfolio:
        book.to_json(args.write_portfolio)
    prices = load_panel(args)
    opens = None
    if book.fill_lag[1]:  # fills at the next open: the sources' opens on the closes' bars
        opens = load_panel(args, "open").reindex(index=prices.index, columns=prices.columns)
    result = portfolio_backtest(book, prices, opens=opens)
    if args.report:
        from pairs.report import portfolio_report, write_report

        write_report(args.report, "Portfolio of pairs", portfolio_report(result))
    contributions = result.contributions.sort_values()
    if args.format == "json":
        print_json(
            {
                "portfolio": book.to_dict(),
                "summary": dict(result._summary_rows()),
                "selections": records(result.selections),
                "contributions": contributions.to_dict(),
                "trades": records(result.trades),
            }
        )
    elif args.format == "csv":
        print_csv(pd.concat([result.equity, result.cash, result.exposure, result.costs], axis=1))
    else:
        kind = book.selection.method + (" on log prices" if book.selection.log else "")
        print(
            f"{len(prices.columns)} coins, {result.n_windows} windows of {book.formation} formation + "
            f"{book.trading} trading, top {book.selection.top} by {kind}"
        )
        print()
        print(rows_text(result._summary_rows(), "Portfolio backtest"))
        if len(contributions):
            best = pd.concat([contributions.head(3), contributions.tail(3)])
            best = best[~best.index.duplicated()].rename("pnl").to_frame()
            print()
            print("Largest contributions (P&L per pair, currency):")
            print(frame_text(best))
        if args.report:
            print(f"\nWrote {args.report}")
    return 0
