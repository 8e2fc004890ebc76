"""The epilog of every command's ``--help``: what its sources are, what it does, and examples."""

from __future__ import annotations

__all__ = ["EPILOGS"]

_SOURCES = """\
Y and X are price sources: a CSV file in any layout pairs.read_prices reads (yfinance,
binance, cryptodatadownload), sample:COIN for a column of the bundled daily sample
(sample:binance_4h:ETH for another sample), or ccxt:EXCHANGE:SYMBOL for exchange candles
through ccxt (pip install 'pairs[ccxt]'; --interval is the timeframe, --start/--end the span,
cached like --yf); with --yf they are Yahoo Finance tickers.
The two series are aligned on their common timestamps (holes are reported)."""

EPILOGS = {
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
