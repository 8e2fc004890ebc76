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
* 10,000 pairs of 142 simulated coins, the same strategy: ``StreamBook.update`` per bar against
  a plain vectorised numpy step of the same chain (Kalman, rolling z-score from running sums,
  entry/exit rule, beta-neutral units; one array per statistic, no checks), and the state file:
  ``StreamBook.save``/``load`` (binary: checksummed, atomic, validated) against ``np.save`` of the
  same arrays to a temporary file, fsync and rename, and ``np.load``. Goals: <= 0.5 ms per bar,
  save and load <= 50 ms each. The JSON export (``save`` to a ``.json`` path) is timed for
  information.

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
    engines = [(y, x, pairs.StreamEngine(strategy, symbols=(y, x))) for y, x in pair_list]
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


def numpy_step(s: dict[str, Any], ly: Any, lx: Any, py: Any, px: Any, t: int, c: dict[str, float]) -> None:
    """One bar of the benchmark's strategy for every pair at once, in plain numpy (the reference)."""
    import numpy as np

    first = t == 0
    if first:
        s["ref_y"], s["ref_x"] = ly.copy(), lx.copy()
    yr, xr = ly - s["ref_y"], lx - s["ref_x"]
    q, r = c["q"], c["r"]
    b, a, p00, p01, p11 = s["b"], s["a"], s["p00"], s["p01"], s["p11"]
    if not first:
        p00, p11 = p00 + q, p11 + q
    e = yr - (b * xr + a)
    v = xr * (p00 * xr + p01) + (p01 * xr + p11) + r
    k0, k1 = (p00 * xr + p01) / v, (p01 * xr + p11) / v
    b, a = b + k0 * e, a + k1 * e
    s["b"], s["a"] = b, a
    s["p00"], s["p01"], s["p11"] = (
        p00 - k0 * (p00 * xr + p01),
        p01 - k0 * (p01 * xr + p11),
        p11 - k1 * (p01 * xr + p11),
    )
    spread = yr - b * xr - a
    w = s["buf"].shape[0]
    slot = t % w
    old = s["buf"][slot]
    s["buf"][slot] = spread
    s["sum"] += spread - old
    s["sq"] += spread * spread - old * old
    mean = s["sum"] / w
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (spread - mean) / np.sqrt((s["sq"] - w * mean * mean) / (w - 1))
    if t + 1 < w:
        z[:] = np.nan
    pos = s["pos"]
    entry, exit_ = c["entry"], c["exit"]
    flat = pos == 0
    new = np.where(flat & (z < -entry), 1, np.where(flat & (z > entry), -1, pos))
    new = np.where(~flat & (((pos > 0) & (z >= -exit_)) | ((pos < 0) & (z <= exit_))), 0, new)
    bb = b * py / px
    changed = new != pos
    yu = np.where(changed, c["capital"] * new / (py + np.abs(bb) * px), s["yu"])
    s["yu"], s["xu"], s["pos"] = yu, np.where(changed, -bb * yu, s["xu"]), new


def measure_large(repeats: int) -> dict[str, Any]:
    """Seconds per bar of a 10,000-pair book and of the numpy step; state save and load times."""
    import shutil
    import tempfile

    import numpy as np

    import pairs

    n_coins = 142
    prices = simulated_prices(n_coins, WARM + TIMED)
    coins = list(prices.columns)
    pair_list = [(a, b) for i, a in enumerate(coins) for b in coins[i + 1 :]][:10_000]
    strategy = pairs.Strategy(log_prices=True, delta=1e-5, zscore_window=60, capital=1e4)
    records = [
        (ts, {c: float(v) for c, v in zip(coins, row, strict=True)})
        for ts, row in zip(prices.index, prices.to_numpy().tolist(), strict=True)
    ]
    book = pairs.StreamBook(pair_list, strategy=strategy)
    for ts, bar in records[:WARM]:
        book.update(bar, ts)
    timed = records[WARM:]

    iy = np.array([coins.index(y) for y, _ in pair_list])
    ix = np.array([coins.index(x) for _, x in pair_list])
    k = len(pair_list)
    entry, exit_, _, _, _ = (strategy.rule.entry_z, strategy.rule.exit_z, None, None, None)
    consts = {"q": 1e-5 / (1 - 1e-5), "r": strategy.obs_var, "entry": entry, "exit": exit_, "capital": 1e4}
    matrix = prices.to_numpy()
    logs = np.log(matrix)

    def fresh() -> dict[str, Any]:
        zero = np.zeros(k)
        state = {"b": zero.copy(), "a": zero.copy(), "p00": np.ones(k), "p01": zero.copy(), "p11": np.ones(k)}
        state.update(buf=np.zeros((60, k)), sum=zero.copy(), sq=zero.copy(), pos=np.zeros(k, dtype=np.int64))
        state.update(yu=zero.copy(), xu=zero.copy())
        for t in range(WARM):
            numpy_step(state, logs[t, iy], logs[t, ix], matrix[t, iy], matrix[t, ix], t, consts)
        return state

    def run_numpy(state: dict[str, Any]) -> None:
        for t in range(WARM, WARM + TIMED):
            numpy_step(state, logs[t, iy], logs[t, ix], matrix[t, iy], matrix[t, ix], t, consts)

    def run_book(b: Any) -> None:
        for ts, bar in timed:
            b.update(bar, ts)

    out = {
        "book": _time(run_book, lambda: copy.deepcopy(book), repeats) / TIMED,
        "numpy": _time(run_numpy, fresh, repeats) / TIMED,
        "pairs": k,
    }
    reference_state = fresh()
    run_numpy(reference_state)
    run_book(book)
    beta = np.array([book.engine(n).state_dict()["state"]["hedge"]["beta"] for n in book.names[:200]])
    out["beta_diff"] = float(np.max(np.abs(beta - reference_state["b"][:200])))

    folder = tempfile.mkdtemp(prefix="pairs-book-bench-")
    try:
        path, path_json, ref = (os.path.join(folder, name) for name in ("book.state", "book.json", "ref.npz"))
        arrays = {
            f"g{g}_{part}": getattr(grp, part)
            for g, grp in enumerate(book._groups.values())
            for part in ("state", "bufs")
        }

        def save_ref() -> None:
            tmp = ref + ".tmp"
            with open(tmp, "wb") as handle:
                np.savez(handle, **arrays)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, ref)

        def load_ref() -> None:
            with np.load(ref) as data:
                {name: data[name] for name in data.files}

        out["save"] = _time(lambda _: book.save(path), lambda: None, repeats)
        out["load"] = _time(lambda _: pairs.StreamBook.load(path), lambda: None, repeats)
        out["save_ref"] = _time(lambda _: save_ref(), lambda: None, repeats)
        out["load_ref"] = _time(lambda _: load_ref(), lambda: None, repeats)
        out["save_json"] = _time(lambda _: book.save(path_json), lambda: None, 1)
        out["load_json"] = _time(lambda _: pairs.StreamBook.load(path_json), lambda: None, 1)
        out["bytes"], out["bytes_json"] = os.path.getsize(path), os.path.getsize(path_json)
        out["identical"] = json.dumps(pairs.StreamBook.load(path).state_dict()) == json.dumps(
            book.state_dict()
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
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


def print_large(r: dict[str, Any]) -> None:
    print()
    print("| 10,000 pairs | ours | reference | ratio | goal |")
    print("|---|---:|---:|---:|---|")
    print(
        f"| per bar: StreamBook.update vs numpy step | {_fmt(r['book'])} | {_fmt(r['numpy'])} | {r['book'] / r['numpy']:.2f}x | <= 0.5 ms |"
    )
    print(
        f"| save (binary, {r['bytes'] / 1e6:.1f} MB) vs np.savez + fsync | {_fmt(r['save'])} | {_fmt(r['save_ref'])} | {r['save'] / r['save_ref']:.2f}x | <= 50 ms |"
    )
    print(
        f"| load (checked) vs np.load | {_fmt(r['load'])} | {_fmt(r['load_ref'])} | {r['load'] / r['load_ref']:.2f}x | <= 50 ms |"
    )
    print(
        f"| JSON export save / load ({r['bytes_json'] / 1e6:.1f} MB) | {_fmt(r['save_json'])} | {_fmt(r['load_json'])} | | (info) |"
    )
    print(
        f"binary round trip identical: {r['identical']}; beta vs numpy step (200 pairs): {r['beta_diff']:.1e}"
    )


def row_book(cfg: Any) -> list[Any]:
    """The rows of benchmarks/run.py (its ``Row`` type): 1,000 pairs, the 78 real ones, 10,000 pairs."""
    from run import Row  # type: ignore[import-not-found]

    out = []
    big = measure_large(3 if cfg.quick else 5)
    out.append(
        Row(
            "StreamBook.update, 10,000 simulated pairs, per bar",
            big["book"],
            big["numpy"],
            "<= 0.5 ms",
            big["book"] <= 5e-4,
            f"beta vs numpy step {big['beta_diff']:.1e} (tol 1e-9)",
            big["beta_diff"] <= 1e-9,
            "plain vectorised numpy step of the same chain (no checks, no Signals)",
        )
    )
    for label, ours, ref in (("save", "save", "save_ref"), ("load", "load", "load_ref")):
        out.append(
            Row(
                f"StreamBook.{label}, 10,000 pairs (binary, {big['bytes'] / 1e6:.1f} MB)",
                big[ours],
                big[ref],
                "<= 50 ms",
                big[ours] <= 0.05,
                "round trip identical" if big["identical"] else "round trip differs",
                big["identical"],
                f"np.savez + fsync + rename / np.load of the same arrays; JSON export {_fmt(big['save_json'])} / {_fmt(big['load_json'])}",
            )
        )
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
    large = measure_large(3 if args.quick else 5)
    print_large(large)
    big = results[0]
    ok = all(r["identical"] for r in results) and large["identical"] and large["beta_diff"] <= 1e-9
    met = big["lazy"] <= 1e-3 and big["engines"] / big["lazy"] >= 10
    if not met:
        print(f"MISS: {_fmt(big['lazy'])} per bar, {big['engines'] / big['lazy']:.1f}x", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
