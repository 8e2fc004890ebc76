"""Time ``scan(pvalue="bootstrap")`` against the response-surface p-values on the same universe.

Usage::

    python benchmarks/bootstrap.py

Row: the last 720 hourly bars of ``load_sample("binance_1h")`` (the coins with a price on every
bar: 14 coins, 91 pairs), log prices, ``min_overlap=700``; ``n_boot=499`` (the default). One warm-up
(compilation excluded), then the median of three runs of each. The two scans must test the same
pairs with the same statistics (only the p-values differ).
"""

from __future__ import annotations

import os
import statistics
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import numpy as np  # noqa: E402

import pairs  # noqa: E402


def _median(func) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(3):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    universe = pairs.load_sample("binance_1h").iloc[-720:].dropna(axis=1)
    boot = pairs.scan(universe, log=True, min_overlap=700, pvalue="bootstrap")
    surface = pairs.scan(universe, log=True, min_overlap=700)
    a = boot.table.sort_values(["y", "x"])["stat"].to_numpy()
    b = surface.table.sort_values(["y", "x"])["stat"].to_numpy()
    assert np.array_equal(a, b), "the two scans must test the same statistics"
    tb = _median(lambda: pairs.scan(universe, log=True, min_overlap=700, pvalue="bootstrap"))
    ts = _median(lambda: pairs.scan(universe, log=True, min_overlap=700))
    n = boot.n_tested
    print(f"{universe.shape[1]} coins, {n} pairs, 720 bars, n_boot=499")
    print(f"  bootstrap p-values  {tb:7.2f} s  ({1e3 * tb / n:.1f} ms a pair)")
    print(f"  surface p-values    {ts:7.3f} s  ({tb / ts:.0f}x faster)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
