"""The argument parser of every command: its positional sources and its own options."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from pairs._settings import fill_option
from pairs.cli._arguments import _add_data, _add_format, _add_pair, _add_signal_options
from pairs.cli._epilogs import EPILOGS
from pairs.cli._warmup import command

__all__ = ["COMMANDS"]


def _count(text: str) -> int:
    """A non-negative integer option (``--top``, ``--tail``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0; got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0; got {text!r}")
    return value


def _max_gap(text: str) -> Any:
    # Imported when the flag is used: `pairs --help` must not load pandas or numba.
    from pairs.cli._follow import parse_max_gap

    return parse_max_gap(text)


def _sub(
    sub: Any, name: str, help_text: str, func: Callable[[argparse.Namespace], int]
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help_text,
        description=help_text[0].upper() + help_text[1:] + ".",
        epilog=EPILOGS[name],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=func)
    return parser


def _add_portfolio(sub: Any) -> None:
    book = _sub(
        sub,
        "portfolio",
        "rotate a portfolio of pairs over a universe, one account",
        command("_portfolio", "cmd_portfolio"),
    )
    book.add_argument(
        "sources", metavar="SOURCE", nargs="+", help="folder, CSV file, sample reference or ticker"
    )
    _add_data(book)
    spec = book.add_argument_group("portfolio (defaults: pairs.Portfolio(); flags override the files)")
    spec.add_argument(
        "--portfolio", metavar="FILE", help="portfolio file (JSON, as Portfolio.to_json writes)"
    )
    spec.add_argument(
        "--strategy", metavar="FILE", help="strategy of every pair (JSON, see 'pairs strategy')"
    )
    spec.add_argument("--write-portfolio", metavar="FILE", help="write the portfolio file of these settings")
    spec.add_argument("--formation", metavar="W", help="formation window: bars or a duration (default: 30D)")
    spec.add_argument("--trading", metavar="W", help="trading window: bars or a duration (default: 7D)")
    spec.add_argument("--capital", metavar="C", type=float, help="starting cash (default: 10000)")
    spec.add_argument("--leverage", metavar="L", type=float, help="gross exposure cap / equity (default: 1)")
    spec.add_argument("--on-deselect", choices=("close", "hold_to_exit"), help="(default: close)")
    spec.add_argument("--fee-bps", metavar="BPS", type=float, help="fees (default: the strategy's)")
    spec.add_argument("--slippage-bps", metavar="BPS", type=float, help="slippage (default: the strategy's)")
    spec.add_argument(
        "--fill",
        type=fill_option,
        metavar="WHEN",
        help="when orders fill: close, next_open (reads the sources' opens), next_close or a lag in bars "
        "(default: the strategy's)",
    )
    spec.add_argument("--margin", choices=("cross", "isolated"), help="margin mode (default: cross)")
    spec.add_argument(
        "--min-notional", metavar="Q", type=float, help="smallest order of any coin, in currency (default: 0)"
    )
    sel = book.add_argument_group("selection on each formation window")
    sel.add_argument("--method", choices=("coint", "distance"), help="(default: coint)")
    sel.add_argument("--top", metavar="N", type=int, help="pairs per window (default: 5)")
    sel.add_argument("--size", type=float, help="keep only pairs significant at this size (default: none)")
    sel.add_argument("--correction", choices=("fdr_bh", "bonferroni", "none"), help="(default: fdr_bh)")
    sel.add_argument("--min-half-life", metavar="H", type=float, help="bars")
    sel.add_argument("--max-half-life", metavar="H", type=float, help="bars")
    sel.add_argument("--min-crossings", metavar="N", type=int, help="zero crossings of the formation spread")
    sel.add_argument("--max-pairs-per-coin", metavar="N", type=int, help="(default: no limit)")
    book.add_argument("--report", metavar="FILE", help="also write an HTML report of the portfolio")
    _add_format(book)


def _demo_parser(sub: Any) -> None:
    demo = _sub(sub, "demo", "end-to-end analysis of the bundled data, offline", command("_demo", "cmd_demo"))
    demo.add_argument("--report", metavar="FILE", help="also write the HTML report of the analysed pair")
    _add_format(demo)


def _fit_parser(sub: Any) -> None:
    fit = _sub(sub, "fit", "fit a hedge ratio", command("_fit", "cmd_fit"))
    _add_pair(fit)
    fit.add_argument(
        "--method",
        choices=("ols", "tls", "rolling", "expanding", "ewm", "kalman"),
        default="ols",
        help="estimator (default: ols)",
    )
    fit.add_argument("--window", metavar="N", type=int, help="rolling window in bars (default: 60)")
    fit.add_argument("--halflife", metavar="H", type=float, help="ewm half-life in bars (default: 30)")
    fit.add_argument("--delta", metavar="D", type=float, help="Kalman state noise (default: 1e-4)")
    fit.add_argument("--obs-var", metavar="V", type=float, help="Kalman observation variance (default: 1e-3)")
    fit.add_argument(
        "--on",
        choices=("levels", "diff", "returns", "log_returns"),
        help="regress levels or changes (default: levels)",
    )
    fit.add_argument("--no-intercept", action="store_true", help="fit without an intercept")
    _add_format(fit)


def _test_parser(sub: Any) -> None:
    test = _sub(sub, "test", "cointegration tests of a pair", command("_test", "cmd_test"))
    _add_pair(test)
    test.add_argument(
        "--size",
        "--alpha",
        dest="size",
        type=float,
        choices=(0.01, 0.05, 0.1),
        default=0.05,
        help="test size (default: 0.05; --alpha is its former name)",
    )
    test.add_argument(
        "--trend", choices=("n", "c", "ct", "ctt"), default="c", help="Engle-Granger trend (default: c)"
    )
    test.add_argument(
        "--k-ar-diff", metavar="N", type=int, default=1, help="Johansen lagged differences (default: 1)"
    )
    _add_format(test)


def _scan_parser(sub: Any) -> None:
    scan = _sub(sub, "scan", "screen a universe for cointegrated pairs", command("_scan", "cmd_scan"))
    scan.add_argument(
        "sources", metavar="SOURCE", nargs="+", help="folder, CSV file, sample reference or ticker"
    )
    _add_data(scan)
    scan.add_argument(
        "--top", metavar="N", type=_count, default=10, help="rows to show, 0 for all (default: 10)"
    )
    scan.add_argument(
        "--correction",
        choices=("fdr_bh", "bonferroni", "none"),
        default="fdr_bh",
        help="multiple-testing correction (default: fdr_bh)",
    )
    scan.add_argument(
        "--size",
        "--alpha",
        dest="size",
        type=float,
        default=0.05,
        help="test size after correction (default: 0.05; --alpha is its former name)",
    )
    scan.add_argument(
        "--min-overlap", type=int, default=100, help="least common bars to test a pair (default: 100)"
    )
    scan.add_argument("--direction", choices=("y~x", "both"), default="y~x", help="regression direction(s)")
    scan.add_argument(
        "--n-jobs", metavar="N", type=int, default=1, help="worker processes, -1 for all cores (default: 1)"
    )
    _add_format(scan)


def _signal_parser(sub: Any) -> None:
    signal = _sub(
        sub, "signal", "entry/exit signals of a pair, or of a live stream", command("_signal", "cmd_signal")
    )
    _add_pair(signal, optional=True)
    _add_signal_options(signal)
    out = signal.add_argument_group("output")
    out.add_argument("-o", "--output", metavar="FILE", help="write the series to FILE (.csv or .json)")
    out.add_argument(
        "--tail", metavar="N", type=_count, default=5, help="bars shown by the table output (default: 5)"
    )
    live = signal.add_argument_group("streaming (--follow)")
    live.add_argument("--follow", action="store_true", help="read bars from stdin, write JSON lines")
    live.add_argument(
        "--state",
        metavar="FILE",
        help="resume from and save to FILE; exactly-once signals, one writer (bars need timestamps)",
    )
    header = live.add_mutually_exclusive_group()
    header.add_argument(
        "--header",
        dest="header",
        action="store_true",
        default=None,
        help="the first line is a header (default: a header iff its 3 fields begin with letters)",
    )
    header.add_argument("--no-header", dest="header", action="store_false", help="the first line is a bar")
    live.add_argument(
        "--max-gap",
        metavar="GAP",
        type=_max_gap,
        help="longest step between bars: a duration (2D, 36h) or a number for numeric timestamps",
    )
    live.add_argument(
        "--on-gap",
        choices=("raise", "reset"),
        help="a longer step: raise (exit 2, default) or reset the engine (start over)",
    )
    live.add_argument(
        "--symbols",
        nargs=2,
        metavar=("Y", "X"),
        help="symbols of the legs in orders and fills (default: y x)",
    )
    live.add_argument("--book", metavar="FILE", help="many pairs: StreamBook state FILE, wide bars on stdin")
    live.add_argument("--pairs", metavar="Y/X,...", help="with --book: the pairs of a new book")
    live.add_argument("--all", action="store_true", help="with --book: every updated pair, not only actions")
    live.add_argument(
        "--portfolio", metavar="FILE", help="a rotating portfolio (Portfolio file); its live state is --state"
    )
    live.add_argument(
        "--coins", metavar="A,B,...", help="with --portfolio: the universe of a new live portfolio"
    )
    live.add_argument(
        "--bar", metavar="LEN", help="with --portfolio: the bar length when windows are durations"
    )
    _add_format(signal)


def _backtest_parser(sub: Any) -> None:
    bt = _sub(
        sub, "backtest", "backtest the signals of a pair with costs", command("_backtest", "cmd_backtest")
    )
    _add_pair(bt)
    _add_signal_options(bt)
    costs = bt.add_argument_group("annualisation")
    costs.add_argument(
        "--periods-per-year",
        metavar="N",
        type=float,
        help="annualisation (default: from the bar length, 24/7)",
    )
    _add_format(bt)


def _add_grid(group: Any, grid_help: str, objective_help: str) -> None:
    """``--grid FIELD=V1,V2`` (repeated) and ``--objective``, as ``pairs sweep`` and ``pairs report`` take them."""
    group.add_argument("--grid", metavar="FIELD=V1,V2", action="append", help=grid_help)
    group.add_argument(
        "--objective",
        choices=("sharpe", "sortino", "apr", "total_return", "max_drawdown"),
        default="sharpe",
        help=objective_help,
    )


def _sweep_parser(sub: Any) -> None:
    sweep = _sub(
        sub,
        "sweep",
        "backtest a grid of strategy settings and judge the best",
        command("_sweep", "cmd_sweep"),
    )
    _add_pair(sweep)
    grid = sweep.add_argument_group("grid")
    _add_grid(
        grid,
        "a strategy field and its values; repeat for more fields (the product is swept)",
        "what the best point maximises (max_drawdown: minimises; default: sharpe)",
    )
    grid.add_argument(
        "--top", metavar="N", type=_count, default=10, help="points shown, 0 for all (default: 10)"
    )
    grid.add_argument("--plot", metavar="FILE", help="write the heatmap of the first two fields (PNG)")
    grid.add_argument(
        "--periods-per-year",
        metavar="N",
        type=float,
        help="annualisation (default: from the bar length, 24/7)",
    )
    _add_signal_options(sweep)
    _add_format(sweep)


def _report_parser(sub: Any) -> None:
    report = _sub(
        sub, "report", "write the HTML report of a pair, or of a portfolio", command("_report", "cmd_report")
    )
    report.add_argument(
        "sources",
        metavar="SOURCE",
        nargs="*",
        help="Y X: the pair's price sources; with --portfolio, the universe (as 'pairs portfolio')",
    )
    _add_data(report)
    report.add_argument("-o", "--output", metavar="FILE", required=True, help="HTML file to write")
    report.add_argument("--title", metavar="TEXT", help="report title")
    report.add_argument(
        "--portfolio",
        metavar="FILE",
        help="the page of this portfolio (Portfolio file) on the universe SOURCE..., as 'pairs portfolio --report'",
    )
    _add_signal_options(report)
    monitor = report.add_argument_group("cointegration monitor")
    # Defaults None (not given), applied by the command: given with --portfolio they are an error.
    monitor.add_argument("--coint-window", metavar="N", type=int, help="rolling test window (default: 180)")
    monitor.add_argument("--coint-step", metavar="N", type=int, help="rolling test step (default: 5)")
    monitor.add_argument("--size", type=float, help="monitor test size (default: 0.05)")
    monitor.add_argument(
        "--alpha", dest="size", type=float, default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    _add_grid(
        report.add_argument_group("parameter sensitivity (as pairs sweep)"),
        "add a sweep of this grid of the strategy's settings (repeat for more fields)",
        "what the sweep's best point maximises (default: sharpe)",
    )
    _add_format(report)


def _check_parser(sub: Any) -> None:
    check = _sub(
        sub, "check", "look-ahead and warm-up of a strategy on a history", command("_check", "cmd_check")
    )
    _add_pair(check)
    _add_signal_options(check)
    checks = check.add_argument_group("check")
    checks.add_argument(
        "--cuts", metavar="N", type=int, default=50, help="prefixes re-run for look-ahead (default: 50)"
    )
    checks.add_argument(
        "--starts", metavar="N", type=int, default=3, help="later starting bars for warm-up (default: 3)"
    )
    checks.add_argument(
        "--tolerance",
        metavar="T",
        type=float,
        default=1e-6,
        help="warm-up match: z-score absolute, beta relative (default: 1e-6)",
    )
    _add_format(check)


def _strategy_parser(sub: Any) -> None:
    strategy = _sub(
        sub,
        "strategy",
        "print (or write) a strategy file to edit",
        command("_strategy", "cmd_strategy", compiles=False),
    )
    _add_signal_options(strategy)
    strategy.add_argument("--log", action="store_true", default=None, help="hedge log prices")
    strategy.add_argument("-o", "--output", metavar="FILE", help="write the strategy file to FILE")
    _add_format(strategy, default=None, shown="json, or table with -o")


def _warmup_parser(sub: Any) -> None:
    warmup = _sub(
        sub,
        "warmup",
        "compile every numeric kernel into the cache ahead of first use",
        command("_warmup", "cmd_warmup", compiles=False),
    )
    _add_format(warmup)


# Each command registers its own options; the strategy flags come from one table (pairs._settings).
COMMANDS = (
    _demo_parser,
    _fit_parser,
    _test_parser,
    _scan_parser,
    _add_portfolio,
    _signal_parser,
    _backtest_parser,
    _sweep_parser,
    _report_parser,
    _check_parser,
    _strategy_parser,
    _warmup_parser,
)
