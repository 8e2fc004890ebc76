"""Cold start: what a fresh process pays, with an empty and with a warm numba cache (issue #15).

Each figure is the CPU time (user + sys, from ``resource.getrusage(RUSAGE_CHILDREN)``) and the
wall time of a whole subprocess; the table shows medians of the repeats, and every ratio is
taken between medians of the same run. "cold" runs get a fresh, empty ``NUMBA_CACHE_DIR``
each; "warm" runs share one that a first, uncounted run filled. The load average and CPU model
are printed with the table: on a shared machine, read ratios rather than absolute times.

    python benchmarks/cold_start.py              # the default repeats
    python benchmarks/cold_start.py --quick      # fewer repeats (the cold demo dominates)
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence

KALMAN = "import pairs\np = pairs.load_sample()\npairs.kalman_hedge(p['ETH'], p['BTC'])"


def _run(argv: Sequence[str], env: dict[str, str]) -> tuple[float, float]:
    """Return (cpu seconds, wall seconds) of one subprocess."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def _env(cache: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    if cache is not None:
        env["NUMBA_CACHE_DIR"] = cache
    return env


def _median(argv: Sequence[str], repeats: int, *, cold: bool, warm_dir: str) -> tuple[float, float]:
    runs = []
    for _ in range(repeats):
        if cold:
            with tempfile.TemporaryDirectory(prefix="pairs-cold-") as fresh:
                runs.append(_run(argv, _env(fresh)))
        else:
            runs.append(_run(argv, _env(warm_dir)))
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args(argv)
    py = sys.executable
    n_import, n_warm, n_cold = (5, 3, 1) if args.quick else (11, 5, 3)
    rows: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="pairs-warm-") as warm_dir:
        # Fill the warm cache once (uncounted); also warms the OS file cache for every row.
        _run([py, "-m", "pairs", "demo"], _env(warm_dir))
        _run([py, "-c", KALMAN], _env(warm_dir))
        load_before = os.getloadavg()
        cases = [
            ("import pandas", [py, "-c", "import pandas"], n_import, False),
            ("import pairs", [py, "-c", "import pairs"], n_import, False),
            ("pairs --help", [py, "-m", "pairs", "--help"], n_import, False),
            ("first kalman_hedge, warm cache", [py, "-c", KALMAN], n_warm, False),
            ("first kalman_hedge, empty cache", [py, "-c", KALMAN], n_cold, True),
            ("pairs demo, warm cache", [py, "-m", "pairs", "demo"], n_warm, False),
            ("pairs demo, empty cache", [py, "-m", "pairs", "demo"], n_cold, True),
        ]
        for label, command, repeats, cold in cases:
            cpu, wall = _median(command, repeats, cold=cold, warm_dir=warm_dir)
            rows.append((f"{label} (median of {repeats})", cpu, wall))
            print(f"{rows[-1][0]:<48} cpu {cpu:7.2f} s   wall {wall:7.2f} s", flush=True)
        load_after = os.getloadavg()
    cpu = {label.split(" (")[0]: c for label, c, _ in rows}
    print()
    print(f"import pairs / import pandas (CPU): {cpu['import pairs'] / cpu['import pandas']:.2f}")
    print(f"pairs --help / import pandas (CPU): {cpu['pairs --help'] / cpu['import pandas']:.2f}")
    print(
        "first kalman_hedge, empty / warm cache (CPU): "
        f"{cpu['first kalman_hedge, empty cache'] / cpu['first kalman_hedge, warm cache']:.2f}"
    )
    print(
        f"pairs demo, empty / warm cache (CPU): {cpu['pairs demo, empty cache'] / cpu['pairs demo, warm cache']:.2f}"
    )
    print(
        f"\n{_cpu_model()}, {os.cpu_count()} CPUs; load average (1, 5, 15 min) "
        f"before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
        f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}; "
        f"python {platform.python_version()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
