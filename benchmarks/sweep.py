"""Time ``pairs.sweep`` against a loop of ``Strategy.backtest`` and against vectorbt, in one run.

Usage::

    python benchmarks/sweep.py            # the table below (a few minutes on 2 cores)
    python benchmarks/sweep.py --quick    # fewer repeats

Data: ``load_sample("binance_1d")``, BTC hedged by ETH on the 3,065 daily bars where both trade.

Rows:

* **z-score grid, fixed hedge**: 1,000 points = 10 rolling z-score windows (10..100) x 10 entry
  thresholds (1.0..3.0) x 10 exit thresholds (-0.5..0.85) of ``Strategy(hedge="ols", beta, alpha,
  fee_bps=10)`` with the OLS beta and alpha of the whole history. Ours: ``pairs.sweep`` (one hedge,
  10 z-scores, 10 compiled passes of 100 points; the table of metrics and the bars x points
  returns matrix included). Loop: ``strategy.replace(...).backtest(y, x)`` for every point.
  vectorbt: the same grid the way its users write it: the 10 z-scores with pandas ``rolling``,
  broadcast comparisons for the long/short entry and exit signals of every point, and
  ``Portfolio.from_signals`` of both legs (2,000 columns: ``y`` and ``x`` of each point,
  grouped with cash sharing, 1 unit of ``y`` against ``beta`` units of ``x``, 10 bps fees) and
  its ``total_return``, ``sharpe_ratio`` and ``max_drawdown`` per point.
* **hedge grid**: 1,000 points = 10 rolling hedge windows x 10 entry x 10 exit thresholds of
  ``Strategy(hedge="rolling")`` (10 hedges, 10 z-scores): ours against the loop only (vectorbt
  has no rolling-hedge pair strategy to compare with).
* **account grid with execution settings**: 1,000 points = 10 entry x 10 exit thresholds x 2
  fills (``"close"``, ``"next_close"``) x 5 leverage limits (0.2..1.0) of
  ``Strategy(hedge="rolling", window=60, capital=10_000, fee_bps=10, maker_fee_bps=-1,
  maker_share=0.3)``: every point runs the account ledger of ``pairs.backtest`` (one hedge, one
  z-score); ours against the loop only.

Method: a warm-up call of each side first (numba compilation excluded), then repeats
interleaved, gc off while timing, median. Agreement: 25 random points of ours against the
loop (every metric, relative; trades exactly). The vectorbt side is not expected to agree
number for number: its portfolio is a cash account with its own conflict rules for
simultaneous signals, not the gross-exposure return of pairs; it does the same amount of work
(the same signals over the same grid, two legs per point).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import pairs  # noqa: E402

WINDOWS = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
ENTRIES = list(np.round(np.linspace(1.0, 3.0, 10), 4))
EXITS = list(np.round(np.linspace(-0.5, 0.85, 10), 4))
METRICS = ("total_return", "apr", "sharpe", "sortino", "max_drawdown", "annual_turnover")


def timed(func: Callable[[], Any], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        gc.disable()
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
        gc.enable()
    return times


def loop(strategy: pairs.Strategy, grid: dict[str, list[Any]], y: pd.Series, x: pd.Series) -> list[Any]:
    from pairs.evaluation._sweep import apply_point

    keys = list(grid)
    shape = [len(v) for v in grid.values()]
    out = []
    for flat in range(int(np.prod(shape))):
        at = np.unravel_index(flat, shape)
        point = {k: grid[k][i] for k, i in zip(keys, at, strict=True)}
        out.append(apply_point(strategy, point).backtest(y, x))
    return out


def vectorbt_grid(y: pd.Series, x: pd.Series, beta: float, alpha: float) -> Any:
    import vectorbt as vbt

    spread = y - beta * x - alpha
    z = np.column_stack(
        [((spread - spread.rolling(w).mean()) / spread.rolling(w).std()).to_numpy() for w in WINDOWS]
    )
    # Point k = (window, entry, exit) in the order of the product, as pairs.sweep numbers them.
    w_idx, e_idx, x_idx = (a.ravel() for a in np.indices((len(WINDOWS), len(ENTRIES), len(EXITS))))
    zk = z[:, w_idx]
    entry = np.asarray(ENTRIES)[e_idx]
    exit_ = np.asarray(EXITS)[x_idx]
    long_in, long_out = zk < -entry, zk >= -exit_
    short_in, short_out = zk > entry, zk <= exit_
    k = zk.shape[1]
    close = np.repeat(np.column_stack([y.to_numpy(), x.to_numpy()]), k, axis=1).reshape(len(y), 2, k)
    close = close.transpose(0, 2, 1).reshape(len(y), 2 * k)  # columns: y0, x0, y1, x1, ...

    def legs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.stack([a, b], axis=2).reshape(len(y), 2 * k)

    pf = vbt.Portfolio.from_signals(
        close=pd.DataFrame(close, index=y.index),
        entries=legs(long_in, short_in),
        exits=legs(long_out, short_out),
        short_entries=legs(short_in, long_in),
        short_exits=legs(short_out, long_out),
        size=np.tile([1.0, beta], k),
        size_type="amount",
        fees=0.001,
        group_by=np.repeat(np.arange(k), 2),
        cash_sharing=True,
        init_cash=1e7,
        freq="1D",
    )
    return pf.total_return(), pf.sharpe_ratio(), pf.max_drawdown()


def agreement(res: pairs.SweepResult, backtests: list[Any], rng: np.random.Generator) -> str:
    worst, trades = 0.0, 0
    for point in rng.choice(len(backtests), size=25, replace=False):
        row, bt = res.table.loc[int(point)], backtests[int(point)]
        for name in METRICS:
            a, b = row[name], getattr(bt, name)
            if np.isfinite(b):
                worst = max(worst, abs(a - b) / max(abs(b), 1e-300))
        trades += int(row["n_trades"] != bt.n_trades)
    return f"25 random points vs loop: metrics rel {worst:.1e} (tol 1e-12), trade-count mismatches {trades}"


def fmt(seconds: float) -> str:
    return f"{seconds * 1e3:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args(argv)
    ref_n = 1 if args.quick else 3
    ours_n = ref_n * 2  # two calls of ours between two of each reference
    prices = pairs.load_sample("binance_1d")[["BTC", "ETH"]].dropna()
    y, x = prices["BTC"], prices["ETH"]
    fit = pairs.ols_hedge(y, x)
    beta, alpha = float(fit.beta), float(fit.alpha)
    rng = np.random.default_rng(0)
    load = os.getloadavg()
    rows = []
    failed = False

    fixed = pairs.Strategy(hedge="ols", beta=beta, alpha=alpha, fee_bps=10.0)
    zgrid = {"zscore_window": WINDOWS, "rule.entry_z": ENTRIES, "rule.exit_z": EXITS}
    hedged = pairs.Strategy(hedge="rolling", fee_bps=10.0)
    hgrid = {"window": WINDOWS, "rule.entry_z": ENTRIES, "rule.exit_z": EXITS}
    account = pairs.Strategy(
        hedge="rolling", window=60, capital=10_000.0, fee_bps=10.0, maker_fee_bps=-1.0, maker_share=0.3
    )
    agrid = {
        "rule.entry_z": ENTRIES,
        "rule.exit_z": EXITS,
        "fill": ["close", "next_close"],
        "leverage": [0.2, 0.4, 0.6, 0.8, 1.0],
    }
    for label, strategy, grid, with_vbt in (
        ("z-score grid, fixed hedge", fixed, zgrid, True),
        ("hedge grid (rolling hedge window)", hedged, hgrid, False),
        ("account grid with execution settings", account, agrid, False),
    ):
        res = pairs.sweep(strategy, grid, y, x)  # warm-up: compilation
        backtests = loop(strategy, grid, y, x)
        check = agreement(res, backtests, rng)
        failed |= "mismatches 0" not in check or float(check.split("rel ")[1].split(" ")[0]) > 1e-12
        ours, looped, vbt_times = [], [], []
        if with_vbt:
            vectorbt_grid(y, x, beta, alpha)  # warm-up: vectorbt's compilation
        for _ in range(ref_n):
            ours += timed(lambda s=strategy, g=grid: pairs.sweep(s, g, y, x), 2)
            looped += timed(lambda s=strategy, g=grid: loop(s, g, y, x), 1)
            if with_vbt:
                vbt_times += timed(lambda: vectorbt_grid(y, x, beta, alpha), 1)
        t_ours, t_loop = statistics.median(ours), statistics.median(looped)
        n_points = len(res.table)
        work = f"sweep, {label}: {n_points:,} points x {len(y):,} bars"
        rows.append(
            (
                work,
                fmt(t_ours),
                f"loop of Strategy.backtest {fmt(t_loop)}",
                f"{t_loop / t_ours:,.0f}x",
                ">= 20x",
                check,
            )
        )
        if with_vbt:
            t_vbt = statistics.median(vbt_times)
            rows.append(
                (
                    work,
                    fmt(t_ours),
                    f"vectorbt from_signals {fmt(t_vbt)}",
                    f"{t_vbt / t_ours:,.1f}x",
                    "> 1x",
                    "same grid and signals; conventions differ",
                )
            )
    print(
        f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; after: "
        + " ".join(f"{v:.2f}" for v in os.getloadavg())
    )
    print(
        f"python {sys.version.split()[0]}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"vectorbt {__import__('vectorbt').__version__}; ours median of {ours_n}, references of {ref_n}"
    )
    print()
    print("| work | ours | reference | ratio | target | agreement |")
    print("|---|---:|---|---:|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
