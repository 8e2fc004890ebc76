"""Command line interface: ``pairs <command> ...``; ``main(argv) -> int``.

Commands: ``demo``, ``fit``, ``test``, ``scan``, ``portfolio``, ``signal`` (also ``--follow`` for bots),
``backtest``, ``sweep`` and ``report``; ``pairs <command> --help`` shows options and examples, and
``docs/cli.md`` is the reference. A user error (bad path, unknown layout, too little data, bad
option) prints one line ``pairs: error: ...`` on stderr and returns 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from pairs import __version__
from pairs._settings import SETTINGS, fill_option
from pairs._typing import layouts
from pairs.cli._warmup import command
from pairs.exceptions import PairsError

__all__ = ["FORMATS", "main"]

FORMATS = ("table", "json", "csv")
"""``--format`` choices, the same for every command (csv: a table or series, or ``field,value`` rows)."""

_SOURCES = """\
Y and X are price sources: a CSV file in any layout pairs.read_prices reads (yfinance,
binance, cryptodatadownload), sample:COIN for a column of the bundled daily sample
(sample:binance_4h:ETH for another sample), or ccxt:EXCHANGE:SYMBOL for exchange candles
through ccxt (pip install 'pairs[ccxt]'; --interval is the timeframe, --start/--end the span,
cached like --yf); with --yf they are Yahoo Finance tickers.
The two series are aligned on their common timestamps (holes are reported)."""

_EPILOGS = {
    "demo": """\
examples:
  pairs demo
  pairs demo --report demo.html
  pairs demo --format json""",
    "fit": f"""\
{_SOURCES}

examples:
  pairs fit sample:ETH sample:BTC --log
  pairs fit sample:ETH sample:BTC --log --method kalman --delta 1e-5 --format json
  pairs fit ETH-USD.csv BTC-USD.csv --method rolling --window 90 --on log_returns --format csv
  pairs fit --yf ETH-USD BTC-USD --start 2022-01-01 --log --method tls""",
    "test": f"""\
{_SOURCES}

examples:
  pairs test sample:ETH sample:BTC --log
  pairs test sample:BNB sample:ETH --log --size 0.01 --format json""",
    "scan": """\
SOURCES are folders of CSV files, CSV files, sample:binance_1d (every bundled coin) or
sample:COIN references; with --yf they are Yahoo Finance tickers.

examples:
  pairs scan sample:binance_1d --log --min-overlap 1000
  pairs scan prices/ --log --correction bonferroni --top 20 --format csv
  pairs scan --yf BTC-USD ETH-USD SOL-USD LTC-USD --start 2022-01-01 --log""",
    "portfolio": """\
SOURCES are as for 'pairs scan': folders of CSV files, CSV files, sample:binance_1h (19 coins,
hourly) or other samples, or Yahoo tickers with --yf. Windows are bar counts or durations:
window i selects pairs on bars [i*trading, i*trading + formation) and trades the next
'trading' bars, all pairs in one account (docs/portfolio.md has the exact rules).

examples:
  pairs portfolio sample:binance_1h --formation 30D --trading 7D --top 5 --max-half-life 48
  pairs portfolio sample:binance_1h --strategy my_strategy.json --method distance --format json
  pairs portfolio prices/ --portfolio book.json --report book.html""",
    "signal": f"""\
{_SOURCES}

The strategy is pairs.Strategy() with the flags given, or --strategy FILE (write one with
'pairs strategy -o FILE' and edit it); the same strategy runs in signal, backtest, report
and --follow. The batch series (-o FILE.csv|.json, or --format json|csv on stdout) has one
row per bar: timestamp, beta, alpha, spread, zscore, position (+1 long y/short x, -1 short,
0 flat), action, y_units and x_units (with --capital).

--follow reads bars from stdin, one per newline-terminated line, as CSV 'timestamp,y,x'
or JSON {{"timestamp": ..., "y": ..., "x": ...}}, and writes one JSON signal per line to
stdout, flushed at once. The first line is a header iff its 3 fields begin with letters
(or say --header / --no-header). With --state FILE (bars need timestamps): the state is
loaded from FILE if it exists, each signal is saved with the state before it is written,
one process per FILE (a lock), and a re-sent last bar re-emits its signal: after a crash,
re-send the first bar whose signal you did not read. A bad or partial line stops with exit
code 2; the state is that of the last good bar. See docs/cli.md for the full contract.

examples:
  pairs signal sample:ETH sample:BTC -o signals.csv
  pairs signal sample:ETH sample:BTC --strategy my_strategy.json --format csv
  pairs signal sample:ETH sample:BTC --log --hedge rolling --window 90 --entry-z 2.5 --stop-z 4
  tail -f bars.csv | pairs signal --follow --log --state engine.json
  printf '2024-01-01,2300,42000\\n2024-01-02,2350,44000\\n' | pairs signal --follow --log""",
    "backtest": f"""\
{_SOURCES}

The signals are those of 'pairs signal' with the same options; with --log, beta is a
log-price ratio and the backtest holds beta * y / x units of x per unit of y. Without
--capital the return is on gross exposure (the textbook convention); with --capital an
account in currency trades the sized legs (what a trader sees).

examples:
  pairs backtest sample:ETH sample:BTC
  pairs backtest sample:ETH sample:BTC --log --capital 10000 --lot-size 0.01 0.0001
  pairs backtest sample:ETH sample:BTC --log --hedge rolling --window 60
  pairs backtest sample:BNB sample:ETH --log --fee-bps 10 --slippage-bps 5 --format json""",
    "sweep": f"""\
{_SOURCES}

Backtests every point of a grid of strategy settings (the product of the --grid lists) and
shows the best points, then whether the best can be trusted: its deflated Sharpe (the chance
that luck alone, over that many trials, gives as good a Sharpe) and the probability of
backtest overfitting (PBO) of the grid. --grid FIELD=V1,V2,... takes any Strategy field
(window, delta, obs_var, zscore_window, fee_bps, ...) or rule.FIELD (rule.entry_z,
rule.exit_z, rule.stop_z, rule.max_holding, rule.cooldown); null is None. The other settings
are those of --strategy FILE and the flags.

examples:
  pairs sweep sample:ETH sample:BTC --hedge rolling --grid 'rule.entry_z=1.5,2,2.5' --grid 'window=30,60,120'
  pairs sweep sample:ETH sample:BTC --strategy my_strategy.json --grid 'rule.exit_z=-0.5,0,0.5' --format json
  pairs sweep sample:ETH sample:BTC --log --grid 'zscore_window=20,40,80' --grid 'rule.entry_z=1,2' --plot sweep.png""",
    "report": f"""\
{_SOURCES}

The report opens with the cointegration verdict and the strategy used, then hedge ratios,
tests, spread and signals of the strategy, its backtest and a rolling cointegration monitor,
with figures embedded (needs matplotlib: pip install 'pairs[plot]'). With --grid (as in
'pairs sweep') it ends with the parameter sensitivity of that grid: the best setting's
deflated Sharpe and the grid's probability of backtest overfitting, a heatmap, the top settings.

With --portfolio FILE (a Portfolio file, as 'pairs portfolio --write-portfolio' writes) the
SOURCEs are the universe, as for 'pairs portfolio', and the report is the page of that
portfolio's backtest that 'pairs portfolio --report' writes; the file sets the strategy, the
selection and the windows, so the pair's options are refused.

examples:
  pairs report sample:ETH sample:BTC -o eth_btc.html
  pairs report ETH-USD.csv BTC-USD.csv --log --hedge rolling --fee-bps 5 -o report.html
  pairs report sample:ETH sample:BTC --hedge rolling --grid 'window=30,60,120' --grid 'rule.entry_z=1.5,2' -o r.html
  pairs report --portfolio book.json sample:binance_1h -o book.html""",
    "warmup": """\
Compiles the numba kernels of every command into the cache (the package folder when it is
writable, else ~/.cache/pairs/numba, else a private folder in the temporary folder;
NUMBA_CACHE_DIR wins), so that the first real run is fast; run it once after installing, e.g.
in a container image: the kernels are loaded from there even where it is read-only at run
time. See docs/performance.md.

examples:
  pairs warmup""",
    "check": f"""\
{_SOURCES}

Re-runs the strategy on prefixes of the history and reports every bar whose output
(beta, z-score, position, units) changes when later bars are added: look-ahead, which a
live bot cannot have (exit code 1 if any). Then runs it from later starting bars and
reports how many bars a bot must replay before its beta and z-score match the full run's
within --tolerance (warm-up; nan: not within the data).

examples:
  pairs check sample:ETH sample:BTC --strategy my_strategy.json
  pairs check sample:ETH sample:BTC --hedge rolling --window 60 --format json""",
    "strategy": """\
Prints the strategy file (JSON) of pairs.Strategy() with the flags given applied, to edit
and pass back with --strategy FILE to signal, backtest, report and signal --follow.

examples:
  pairs strategy > my_strategy.json
  pairs strategy --log --hedge rolling --window 90 --entry-z 2.5 -o my_strategy.json""",
}


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


class _Parser(argparse.ArgumentParser):
    """Argument errors as one line ``pairs: error: ...`` (exit code 2), like library errors."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"pairs: error: {message} (see '{self.prog} --help')\n")


def _sub(
    sub: Any, name: str, help_text: str, func: Callable[[argparse.Namespace], int]
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help_text,
        description=help_text[0].upper() + help_text[1:] + ".",
        epilog=_EPILOGS[name],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=func)
    return parser


def _add_format(parser: argparse.ArgumentParser, default: str | None = "table", shown: str = "table") -> None:
    parser.add_argument(
        "--format", choices=FORMATS, default=default, help=f"output format (default: {shown})"
    )


def _add_data(parser: argparse.ArgumentParser, *, log: bool = True) -> None:
    group = parser.add_argument_group("data")
    if log:
        group.add_argument("--log", action="store_true", default=None, help="work on log prices")
    group.add_argument(
        "--layout",
        choices=("auto", *layouts()),
        default="auto",
        help="CSV layout (default: detect from the header)",
    )
    group.add_argument(
        "--yf", action="store_true", help="the sources are Yahoo Finance tickers (cached download)"
    )
    group.add_argument("--start", metavar="DATE", help="with --yf or ccxt: first date, e.g. 2022-01-01")
    group.add_argument("--end", metavar="DATE", help="with --yf or ccxt: end date (exclusive)")
    group.add_argument(
        "--interval", metavar="I", default="1d", help="with --yf or ccxt: bar interval (default: 1d)"
    )
    group.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="with --yf: cache folder (default: $PAIRS_CACHE_DIR or ~/.cache/pairs)",
    )


def _add_pair(parser: argparse.ArgumentParser, *, optional: bool = False, log: bool = True) -> None:
    nargs = "?" if optional else None
    parser.add_argument("y", metavar="Y", nargs=nargs, help="asset hedged (price source)")
    parser.add_argument("x", metavar="X", nargs=nargs, help="hedge (price source)")
    _add_data(parser, log=log)


def _add_signal_options(parser: argparse.ArgumentParser) -> None:
    """``--strategy FILE`` and a flag per setting of :data:`pairs._settings.SETTINGS`, by section.

    The flags default to None (not given): a given flag overrides the strategy file's setting,
    and the help shows the default of ``pairs.Strategy()`` from the same table.
    """
    spec = parser.add_argument_group("strategy (defaults: pairs.Strategy(); see 'pairs strategy')")
    spec.add_argument(
        "--strategy",
        metavar="FILE",
        help="strategy file (JSON, as written by 'pairs strategy'); flags given override its settings",
    )
    groups: dict[str, Any] = {}
    for s in SETTINGS:
        if s.group not in groups:
            groups[s.group] = parser.add_argument_group(s.group)
        options: dict[str, Any] = {"help": s.help.format(default=s.default)}
        if s.choices is not None:
            options["choices"] = s.choices
        else:
            options.update(metavar=s.metavar, type=s.kind)
        if s.nargs is not None:
            options["nargs"] = s.nargs
        if s.dest is not None:
            options["dest"] = s.dest
        groups[s.group].add_argument(s.flag, **options)


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
_COMMANDS = (
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


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pairs",
        description="Hedge ratios, cointegration tests and spread signals for crypto pairs.",
        epilog="Run 'pairs <command> --help' for options and examples; start with 'pairs demo'.",
    )
    parser.add_argument("--version", action="version", version=f"pairs {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in _COMMANDS:
        register(sub)
    return parser


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _os_error(exc: OSError) -> str:
    if exc.filename is not None and exc.strerror:
        return f"path must be accessible; got {str(exc.filename)!r}: {exc.strerror}."
    return str(exc)


INTERNAL_ERROR = 3
"""Exit code of an unexpected exception (a bug in pairs): one line on stderr, no traceback."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code.

    0 success; 1 the reader of stdout went away; 2 a user error (one line on stderr); 3 an
    unexpected internal error (one line on stderr; ``PAIRS_TRACEBACK=1`` adds the
    traceback); 130 an interrupt.

    Parameters
    ----------
    argv
        Arguments without the program name; default ``sys.argv[1:]``.

    Examples
    --------
    >>> main(["fit", "sample:ETH", "sample:BTC", "--log", "--format", "json"])  # doctest: +ELLIPSIS
    {
      "data": {
        "y": "ETH",
        "x": "BTC",
        "n_obs": 3065,
    ...
    0
    >>> main(["fit", "sample:NOPE", "sample:BTC"])
    2
    """
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
        return int(args.func(args))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except PairsError as exc:
        print(f"pairs: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`pairs scan ... | head`): silence the flush at exit.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 1
    except OSError as exc:
        print(f"pairs: error: {_one_line(_os_error(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        # Last resort: a bug must not look like a user error (2) or a closed pipe (1).
        if os.environ.get("PAIRS_TRACEBACK"):
            traceback.print_exc()
        print(
            f"pairs: internal error: {type(exc).__name__}: {_one_line(str(exc))[:500]} "
            "(a bug in pairs; set PAIRS_TRACEBACK=1 for the traceback and please report it).",
            file=sys.stderr,
        )
        return INTERNAL_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
