"""Time ``StreamBook.update`` (many pairs per bar) against a loop of one ``StreamEngine`` per pair.

Usage::

    python benchmarks/book.py            # the table below
    python benchmarks/book.py --quick    # fewer repeats
    python benchmarks/run.py --only book # the same rows in the main table

Rows:

* 1,000 pairs of 46 simulated coins (log prices: one common random walk plus an AR(1) per
  coin), Kalman hedge on log prices with a rolling z-score, leg sizing with capital: per bar,
  ``StreamBook.update`` alone (signals built lazily), with the per-pair ``arrays``, and with
  every ``Signal`` object built, against the same bar fed to 1,000 ``StreamEngine.update``
  calls (which build their Signals) in the same run. Target: <= 1 ms per bar, >= 10x.
* 78 real pairs (``load_sample("binance_1d")``, all 13 coins), the same comparison.

Method: the book and the engines first replay 300 bars (not timed); each repeat then streams
the next 200 bars through a deep copy of both, so every repeat times the same work; median
of the repeats, gc off while timing. Agreement: after the timed bars every pair's engine
state exported from the book (``book.engine(name).state_dict()``) must equal, as JSON, the
state of the engine fed the same bars.
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

WARM, TIMED = 300, 200


def simulated_prices(n_coins: int, n_bars: int, seed: int = 0) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    common = np.cumsum(rng.normal(0.0, 0.03, n_bars))
    own = np.empty((n_bars, n_coins))
    own[0] = rng.normal(0.0, 0.05, n_coins)
    for t in range(1, n_bars):
        own[t] = 0.97 * own[t - 1] + rng.normal(0.0, 0.01, n_coins)
    loadings = rng.uniform(0.5, 1.5, n_coins)
    levels = rng.uniform(0.0, 8.0, n_coins)
    logp = levels + common[:, None] * loadings + own
    index = pd.date_range("2021-01-01", periods=n_bars, freq="D", tz="UTC")
    return pd.DataFrame(np.exp(logp), index=index, columns=[f"C{k:02d}" for k in range(n_coins)])


def _time(fn: Callable[[], Any], setup: Callable[[], Any], repeats: int) -> float:
    """Median seconds of ``fn(state)`` over fresh ``setup()`` states, gc off while timing."""
    times = []
    for _ in range(repeats):
        state = setup()
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            fn(state)
            times.append(time.perf_counter() - start)
        finally:
            gc.enable()
    return statistics.median(times)


def measure(prices: Any, pair_list: list[tuple[str, str]], repeats: int) -> dict[str, Any]:
    """Seconds per bar of the book (three ways) and of the engine loop, plus the agreement check."""
    import pairs

    strategy = pairs.Strategy(log_prices=True, delta=1e-5, zscore_window=60, capital=1e4)
    cols = list(prices.columns)
    records = [
        (ts, {c: float(v) for c, v in zip(cols, row, strict=True)})
        for ts, row in zip(prices.index, prices.to_numpy().tolist(), strict=True)
    ]
    warm, timed = records[:WARM], records[WARM : WARM + TIMED]
    book = pairs.StreamBook(pair_list, strategy=strategy)
    engines = [(y, x, strategy.stream()) for y, x in pair_list]
    for ts, bar in warm:
        book.update(bar, ts)
        for y, x, engine in engines:
            engine.update(bar[y], bar[x], ts)

    def book_lazy(b: Any) -> None:
        for ts, bar in timed:
            b.update(bar, ts)

    def book_arrays(b: Any) -> None:
        for ts, bar in timed:
            b.update(bar, ts).arrays  # noqa: B018 - the access is the work timed

    def book_signals(b: Any) -> None:
        for ts, bar in timed:
            dict(b.update(bar, ts).items())

    def engine_loop(es: Any) -> None:
        for ts, bar in timed:
            {f"{y}/{x}": e.update(bar[y], bar[x], ts) for y, x, e in es}

    out = {
        name: _time(fn, lambda src=src: copy.deepcopy(src), repeats) / TIMED
        for name, fn, src in (
            ("lazy", book_lazy, book),
            ("arrays", book_arrays, book),
            ("signals", book_signals, book),
            ("engines", engine_loop, engines),
        )
    }
    book_lazy(book)
    engine_loop(engines)
    out["identical"] = all(
        json.dumps(book.engine(f"{y}/{x}").state_dict()) == json.dumps(e.state_dict()) for y, x, e in engines
    )
    out["pairs"] = len(pair_list)
    return out


def cases(quick: bool) -> list[tuple[str, Any, list[tuple[str, str]]]]:
    import pairs

    sim = simulated_prices(46, WARM + TIMED)
    coins = list(sim.columns)
    sim_pairs = [(a, b) for i, a in enumerate(coins) for b in coins[i + 1 :]][:1000]
    real = pairs.load_sample("binance_1d").dropna().iloc[: WARM + TIMED]
    real_pairs = [(a, b) for i, a in enumerate(real.columns) for b in real.columns[i + 1 :]]
    return [("1,000 simulated pairs", sim, sim_pairs), ("78 real pairs (binance_1d)", real, real_pairs)]


def _fmt(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.3g} us"


def rows(quick: bool) -> list[dict[str, Any]]:
    """One result per case (see :func:`measure`)."""
    repeats = 3 if quick else 7
    return [{"case": label, **measure(prices, pl, repeats)} for label, prices, pl in cases(quick)]


def print_table(results: list[dict[str, Any]]) -> None:
    print(
        "| pairs per bar | StreamBook.update | + arrays | + every Signal | StreamEngine loop | ratio | identical |"
    )
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in results:
        print(
            f"| {r['case']} | {_fmt(r['lazy'])} | {_fmt(r['arrays'])} | {_fmt(r['signals'])} "
            f"| {_fmt(r['engines'])} | {r['engines'] / r['lazy']:,.0f}x | {'yes' if r['identical'] else 'NO'} |"
        )


def row_book(cfg: Any) -> list[Any]:
    """The rows of benchmarks/run.py (its ``Row`` type): 1,000 pairs, then the 78 real ones."""
    from run import Row  # type: ignore[import-not-found]

    out = []
    for r in rows(cfg.quick):
        big = r["pairs"] >= 1000
        out.append(
            Row(
                f"StreamBook.update, {r['case']}, per bar",
                r["lazy"],
                r["engines"],
                "<= 1 ms and >= 10x" if big else ">= 10x",
                (r["lazy"] <= 1e-3 if big else True) and r["engines"] / r["lazy"] >= 10,
                "every pair's state == its engine's" if r["identical"] else "states differ",
                r["identical"],
                f"a loop of {r['pairs']:,} StreamEngine.update; with every Signal built: {_fmt(r['signals'])}",
            )
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args(argv)
    results = rows(args.quick)
    print_table(results)
    big = results[0]
    ok = all(r["identical"] for r in results)
    met = big["lazy"] <= 1e-3 and big["engines"] / big["lazy"] >= 10
    if not met:
        print(f"MISS: {_fmt(big['lazy'])} per bar, {big['engines'] / big['lazy']:.1f}x", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
