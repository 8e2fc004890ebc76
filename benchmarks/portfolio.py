"""Time the portfolio backtest, split into its parts, against its selection scans and vectorbt.

Usage::

    python benchmarks/portfolio.py            # both rows (the synthetic one takes minutes)
    python benchmarks/portfolio.py --quick    # the real universe only, fewer repeats

Rows:

* 19 coins x 2 years of hourly closes (``load_sample("binance_1h")``, 17,544 bars), weekly rotation:
  ``Portfolio(Strategy(hedge="rolling", window=48, log_prices=True), Selection(top=5, log=True,
  max_half_life=48), formation="30D", trading="7D")``. Timed: the whole ``backtest``; its parts
  (selection of every window, the strategy runs of every streak, accounting: sizing, ledger,
  attribution and the result); the selection scans alone (``scan`` of each formation window's
  complete coins, the issue's yardstick: goal backtest <= 2x scans); and vectorbt
  ``Portfolio.from_orders(cash_sharing=True)`` on the backtest's own per-coin orders (whose final
  value must equal ours to 1e-7 of capital).
* 100 simulated coins x 26,280 bars (``simulate_universe``, bar counts: formation 720, trading 168),
  the same timings.

Method: one warm-up run (numba compilation excluded), then the median of the repeats, the backtest
and the scans alternated; the parts are measured by timing the private steps inside the same runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import numpy as np  # noqa: E402

import pairs  # noqa: E402
import pairs.evaluation._portfolio as engine  # noqa: E402


def _timed_parts() -> dict[str, float]:
    """Wrap the backtest's steps so that each run adds its time per step."""
    parts: dict[str, float] = {}
    for name in ("select_all", "spans_of", "attribute", "pair_trades"):
        inner = getattr(engine, name)

        def wrapper(*args: Any, _inner: Callable[..., Any] = inner, _name: str = name, **kw: Any) -> Any:
            start = time.perf_counter()
            try:
                return _inner(*args, **kw)
            finally:
                parts[_name] = parts.get(_name, 0.0) + time.perf_counter() - start

        setattr(engine, name, wrapper)
    return parts


def _median(func: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def row(name: str, prices: Any, book: pairs.Portfolio, formation: int, trading: int, repeats: int) -> None:
    book.backtest(prices)  # warm-up: compilation and caches
    parts = _timed_parts()
    result = book.backtest(prices)
    starts = range(0, len(prices) - formation, trading)
    windows = [prices.iloc[f0 : f0 + formation].dropna(axis=1) for f0 in starts]
    log = book.selection.log
    # Alternated, so that a change of the machine's load falls on both alike. The parts of each run are
    # taken from that run (the medians of the parts, of the runs' totals and of the accounting apart).
    totals, scan_times, selects, runs_, accounts = [], [], [], [], []
    for _ in range(repeats):
        parts.clear()
        start = time.perf_counter()
        book.backtest(prices)
        totals.append(time.perf_counter() - start)
        selects.append(parts["select_all"])
        runs_.append(parts["spans_of"])
        accounts.append(totals[-1] - selects[-1] - runs_[-1])
        start = time.perf_counter()
        [pairs.scan(w, log=log, min_overlap=formation) for w in windows]
        scan_times.append(time.perf_counter() - start)
    total, scans = statistics.median(totals), statistics.median(scan_times)
    select, strategy, accounting = (statistics.median(v) for v in (selects, runs_, accounts))
    print(
        f"{name}: {len(windows)} windows, {len(result.contributions)} pairs traded, {len(result.trades)} trades"
    )
    print(
        f"  backtest            {total:8.2f} s   ({total / scans:.2f}x the selection scans alone; goal <= 2x)"
    )
    print(f"  - selection         {select:8.2f} s")
    print(f"  - strategy runs     {strategy:8.2f} s")
    print(f"  - accounting        {accounting:8.2f} s")
    print(f"  selection scans     {scans:8.2f} s")
    try:
        import vectorbt as vbt
    except ImportError:
        print("  vectorbt            not installed")
        return
    close = prices.ffill().fillna(1.0)
    size = result.orders.where(result.orders != 0)
    rate = book.fee_rate + book.slippage_rate

    def vbt_run() -> Any:
        return vbt.Portfolio.from_orders(
            close,
            size,
            size_type="amount",
            direction="both",
            fees=rate,
            init_cash=book.capital,
            cash_sharing=True,
            group_by=True,
            freq="1h",
        ).value()

    value = vbt_run()
    gap = abs(float(value.iloc[-1]) - float(result.equity.iloc[-1])) / book.capital
    vt = _median(vbt_run, repeats)
    print(
        f"  vectorbt from_orders {vt:7.2f} s   (accounting of the same orders only; final value gap {gap:.1e} of capital)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 5
    print(
        f"python {sys.version.split()[0]}, numpy {np.__version__}, pairs {pairs.__version__}, cpus {os.cpu_count()}"
    )
    strategy = pairs.Strategy(hedge="rolling", window=48, log_prices=True)
    selection = pairs.Selection(top=5, log=True, max_half_life=48)
    hourly = pairs.load_sample("binance_1h")
    row(
        "19 coins x 17,544 hourly bars",
        hourly,
        pairs.Portfolio(strategy, selection, formation="30D", trading="7D"),
        720,
        168,
        repeats,
    )
    if not args.quick:
        sim = pairs.simulate_universe(
            100, 26_280, n_cointegrated=10, volatility=0.006, spread_volatility=0.004, seed=7
        )
        row(
            "100 coins x 26,280 bars (simulated)",
            sim.prices,
            pairs.Portfolio(strategy, selection, formation=720, trading=168),
            720,
            168,
            1,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
