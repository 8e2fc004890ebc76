"""Time pairs against its references side by side, check the results agree, print a table.

Usage::

    python benchmarks/run.py                  # every row (a few minutes)
    python benchmarks/run.py --quick          # fewer repeats
    python benchmarks/run.py --only kalman rolling
    python benchmarks/run.py --strict         # also exit non-zero when a speed target is missed

Rows (real data: ``pairs.load_sample("binance_1d")``, ETH hedged by BTC, 3,065 daily bars):

* ``kalman``: ``kalman_hedge`` on log prices vs pykalman ``KalmanFilter.filter`` with the same
  matrices (``H_t = [x_t, 1]``, ``Q = delta / (1 - delta) I``, ``R = obs_var``, prior ``0, I``).
* ``rolling``: ``rolling_hedge(window=60)`` on price levels vs statsmodels ``RollingOLS(...).fit()``
  (default fit); an extra row times ``fit(params_only=True)``.
* ``coint``: Engle-Granger (constant, autolag AIC) on all 78 pairs of the 13 coins, on the 1,975
  bars where all of them trade, log prices: ``scan(n_jobs=1)`` and a loop of ``engle_granger``
  vs a loop of statsmodels ``coint``.
* ``stream``: ``StreamEngine("kalman", log_prices=True).update`` per bar (filter, innovation
  z-score, entry/exit rule, timestamp check) vs pykalman ``filter_update`` per bar.
* ``scan``: ``scan`` of a simulated universe (``simulate_universe``, 500 coins x 2,000 bars,
  124,750 pairs) with ``n_jobs=2``, in a subprocess that reports its peak memory; no reference
  (statsmodels would need about 3 hours), a random sample of pairs is checked against ``coint``.

Method: OPENBLAS_NUM_THREADS (and OMP/MKL) are pinned to 1 before numpy loads, so the references
run single-threaded like our kernels; OPENBLAS_CORETYPE is left as the environment sets it. Each
row warms up first (numba compilation and cache loading are excluded), then alternates repeats of
ours and of the reference with the garbage collector off, and reports the median. A result that
differs from its reference beyond the stated tolerance prints FAIL and makes the exit status 1;
a missed speed target prints MISS (exit status 1 only with ``--strict``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Before numpy loads (every numerical import below is lazy), so that the scan subprocess and its
# workers inherit it too.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

ROWS = ("kalman", "rolling", "coint", "stream", "scan")
SCAN_COINS, SCAN_BARS, SCAN_JOBS = 500, 2000, 2
SCAN_CHECKED_PAIRS = 20


@dataclass
class Row:
    """One line of the table: timings, the agreement with the reference and the target."""

    name: str
    ours: float
    reference: float | None
    target: str
    met: bool | None
    diff: str
    correct: bool
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return None if self.reference is None else self.reference / self.ours

    @property
    def status(self) -> str:
        if not self.correct:
            return "FAIL"
        return "MISS" if self.met is False else "ok"


@dataclass
class Settings:
    repeats: int
    ref_repeats: int
    min_time: float


def _fmt_time(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _loops(fn: Callable[[], Any], min_time: float) -> int:
    """Calls per repeat so that one repeat lasts at least ``min_time`` (as ``timeit.autorange``)."""
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        if time.perf_counter() - start >= min_time:
            return number
        number *= 2


def side_by_side(
    ours: Callable[[], Any], ref: Callable[[], Any] | None, cfg: Settings
) -> tuple[float, float | None]:
    """Median seconds per call of ``ours`` and ``ref``, repeats interleaved, after a warm-up call each."""
    ours()
    if ref is not None:
        ref()
    number = _loops(ours, cfg.min_time)
    times: list[float] = []
    ref_times: list[float] = []
    enabled = gc.isenabled()
    gc.disable()
    try:
        for i in range(max(cfg.repeats, cfg.ref_repeats)):
            if i < cfg.repeats:
                start = time.perf_counter()
                for _ in range(number):
                    ours()
                times.append((time.perf_counter() - start) / number)
            if ref is not None and i < cfg.ref_repeats:
                start = time.perf_counter()
                ref()
                ref_times.append(time.perf_counter() - start)
    finally:
        if enabled:
            gc.enable()
    return statistics.median(times), (statistics.median(ref_times) if ref_times else None)


def _max_abs(a: Any, b: Any) -> float:
    import numpy as np

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if not np.array_equal(np.isnan(a), np.isnan(b)):
        return float("inf")
    return float(np.nanmax(np.abs(a - b)))


def _max_rel(a: Any, b: Any) -> float:
    """Largest ``|a - b| / |b|`` (``assert_allclose``'s ``rtol``); inf if the NaN patterns differ."""
    import numpy as np

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if not np.array_equal(np.isnan(a), np.isnan(b)):
        return float("inf")
    ok = ~np.isnan(b)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.abs(a[ok] - b[ok]) / np.abs(b[ok])
    return float(np.max(np.where(a[ok] == b[ok], 0.0, rel)))


def _pair_prices() -> Any:
    import pairs

    return pairs.load_sample("binance_1d")[["BTC", "ETH"]].dropna()


def _pykalman_filter(x: Any, delta: float, obs_var: float) -> Any:
    import numpy as np
    from pykalman import KalmanFilter

    return KalmanFilter(
        transition_matrices=np.eye(2),
        observation_matrices=np.column_stack([x, np.ones_like(x)])[:, None, :],
        transition_covariance=delta / (1.0 - delta) * np.eye(2),
        observation_covariance=np.array([[obs_var]]),
        initial_state_mean=np.zeros(2),
        initial_state_covariance=np.eye(2),
    )


def row_kalman(cfg: Settings) -> list[Row]:
    import numpy as np

    import pairs

    logp = np.log(_pair_prices())
    y, x = logp["ETH"], logp["BTC"]
    kf = _pykalman_filter(x.to_numpy(), 1e-4, 1e-3)
    obs = y.to_numpy()[:, None]
    ours, ref = side_by_side(
        lambda: pairs.kalman_hedge(y, x, delta=1e-4, obs_var=1e-3), lambda: kf.filter(obs), cfg
    )
    res = pairs.kalman_hedge(y, x, delta=1e-4, obs_var=1e-3)
    means, _ = kf.filter(obs)
    diff = max(_max_abs(res.beta, means[:, 0]), _max_abs(res.alpha, means[:, 1]))
    ratio = ref / ours  # type: ignore[operator]
    return [
        Row(
            f"kalman_hedge, {len(y):,} bars",
            ours,
            ref,
            ">= 1,000x",
            ratio >= 1000,
            f"beta/alpha abs {diff:.1e} (tol 1e-9)",
            diff <= 1e-9,
            "pykalman KalmanFilter.filter, same matrices",
        )
    ]


def row_rolling(cfg: Settings) -> list[Row]:
    import statsmodels.api as sm
    from statsmodels.regression.rolling import RollingOLS

    import pairs

    prices = _pair_prices()
    y, x = prices["ETH"], prices["BTC"]
    design = sm.add_constant(x)

    def ours() -> Any:
        return pairs.rolling_hedge(y, x, window=60)

    rows = []
    for label, kwargs in (("fit()", {}), ("fit(params_only=True)", {"params_only": True})):
        ours_t, ref_t = side_by_side(ours, lambda kw=kwargs: RollingOLS(y, design, window=60).fit(**kw), cfg)
        res = ours()
        params = RollingOLS(y, design, window=60).fit(**kwargs).params
        diff = max(_max_rel(res.beta, params["BTC"]), _max_rel(res.alpha, params["const"]))
        ratio = ref_t / ours_t  # type: ignore[operator]
        default = not kwargs
        rows.append(
            Row(
                f"rolling_hedge, window 60, {len(y):,} bars",
                ours_t,
                ref_t,
                ">= 200x" if default else "(info)",
                ratio >= 200 if default else None,
                f"beta/alpha rel {diff:.1e} (tol 1e-8)",
                diff <= 1e-8,
                f"statsmodels RollingOLS.{label}",
            )
        )
    return rows


def _statsmodels_coint(y: Any, x: Any) -> tuple[float, float, int]:
    """statsmodels ``coint`` (stat, p-value) and the ADF lag it chose (``coint`` does not return it)."""
    from statsmodels.regression.linear_model import OLS
    from statsmodels.tsa.stattools import adfuller, coint
    from statsmodels.tsa.tsatools import add_trend

    res = coint(y, x, trend="c", autolag="aic")
    resid = OLS(y, add_trend(x[:, None], trend="c", prepend=False)).fit().resid
    stat, _, lag, *_ = adfuller(resid, autolag="aic", regression="n")
    if stat != res[0]:
        raise RuntimeError("the replicated coint regression does not reproduce coint's statistic")
    return float(res[0]), float(res[1]), int(lag)


def _compare_coint(table: Any, logp: Any, pairs_list: list[tuple[str, str]]) -> tuple[float, int]:
    """Largest stat/p-value difference and number of lag mismatches against statsmodels."""
    rows = table.set_index(["y", "x"])
    diff, lag_mismatch = 0.0, 0
    for a, b in pairs_list:
        both = logp[[a, b]].dropna()
        stat, pvalue, lag = _statsmodels_coint(both[a].to_numpy(), both[b].to_numpy())
        got = rows.loc[(a, b)]
        diff = max(diff, abs(got["stat"] - stat), abs(got["pvalue"] - pvalue))
        lag_mismatch += int(got["lags"] != lag)
    return diff, lag_mismatch


def row_coint(cfg: Settings) -> list[Row]:
    import itertools

    import numpy as np
    import pandas as pd
    from statsmodels.tsa.stattools import coint

    import pairs

    prices = pairs.load_sample("binance_1d").dropna()
    logp = np.log(prices)
    names = list(prices.columns)
    pair_list = list(itertools.combinations(names, 2))
    columns = {name: logp[name].to_numpy() for name in names}
    series = {name: logp[name] for name in names}

    def ours_scan() -> Any:
        return pairs.scan(prices, log=True, correction="none", n_jobs=1, progress=False)

    def ours_loop() -> Any:
        return [pairs.engle_granger(series[a], series[b]) for a, b in pair_list]

    def reference() -> Any:
        return [coint(columns[a], columns[b], trend="c", autolag="aic") for a, b in pair_list]

    scan_t, ref_t = side_by_side(ours_scan, reference, cfg)
    loop_t, _ = side_by_side(ours_loop, None, cfg)
    diff, mismatches = _compare_coint(ours_scan().table, logp, pair_list)
    loop = ours_loop()
    loop_table = pd.DataFrame(
        {
            "y": [a for a, _ in pair_list],
            "x": [b for _, b in pair_list],
            "stat": [r.stat for r in loop],
            "pvalue": [r.pvalue for r in loop],
            "lags": [r.lags for r in loop],
        }
    )
    loop_diff, loop_mismatches = _compare_coint(loop_table, logp, pair_list)
    what = f"Engle-Granger AIC, {len(pair_list)} pairs x {len(prices):,} bars"
    rows = []
    for label, ours_t, d, m in (
        ("scan(n_jobs=1)", scan_t, diff, mismatches),
        ("loop of engle_granger", loop_t, loop_diff, loop_mismatches),
    ):
        ratio = ref_t / ours_t  # type: ignore[operator]
        rows.append(
            Row(
                f"{what}: {label}",
                ours_t,
                ref_t,
                ">= 50x",
                ratio >= 50,
                f"stat/p abs {d:.1e} (tol 1e-8), lag mismatches {m}",
                d <= 1e-8 and m == 0,
                "loop of statsmodels coint",
            )
        )
    return rows


def row_stream(cfg: Settings) -> list[Row]:
    import numpy as np

    import pairs

    prices = _pair_prices()
    eth, btc = prices["ETH"].tolist(), prices["BTC"].tolist()
    stamps = list(prices.index)
    n = len(eth)
    log_y, log_x = np.log(prices["ETH"].to_numpy()), np.log(prices["BTC"].to_numpy())
    kf = _pykalman_filter(log_x, 1e-4, 1e-3)
    eye, zeros = np.eye(2), np.zeros((2, 2))

    def ours() -> list[float]:
        engine = pairs.StreamEngine("kalman", delta=1e-4, obs_var=1e-3, log_prices=True)
        return [engine.update(eth[t], btc[t], stamps[t]).beta for t in range(n)]

    def reference() -> np.ndarray:
        mean, cov = np.zeros(2), eye
        betas = np.empty(n)
        for t in range(n):
            # No prediction before the first bar: the prior applies at it, as in KalmanFilter.filter.
            mean, cov = kf.filter_update(
                mean,
                cov,
                observation=np.array([log_y[t]]),
                observation_matrix=np.array([[log_x[t], 1.0]]),
                transition_covariance=zeros if t == 0 else None,
            )
            betas[t] = mean[0]
        return betas

    ours_t, ref_t = side_by_side(ours, reference, cfg)
    diff = _max_abs(ours(), reference())
    per_bar = ours_t / n
    return [
        Row(
            "StreamEngine.update (Kalman + z-score + rule), per bar",
            per_bar,
            ref_t / n,  # type: ignore[operator]
            "<= 5 us",
            per_bar <= 5e-6,
            f"beta abs {diff:.1e} (tol 1e-9)",
            diff <= 1e-9,
            f"pykalman filter_update per bar; {n:,} bars replayed with timestamps",
        )
    ]


def scan_child(repeats: int) -> None:
    """Run in a fresh process: time the universe scan and print JSON with times and peak memory."""
    import resource

    import numpy as np

    import pairs

    universe = pairs.simulate_universe(SCAN_COINS, SCAN_BARS, n_cointegrated=10, seed=0)
    prices = universe.prices
    # Warm-up: compiles (or loads from numba's cache) every kernel of the scan in this process.
    pairs.scan(prices.iloc[:, :4], log=True, n_jobs=1, progress=False)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        res = pairs.scan(prices, log=True, n_jobs=SCAN_JOBS, progress=False)
        times.append(time.perf_counter() - start)
    rng = np.random.default_rng(1)
    pick = rng.choice(len(res.table), SCAN_CHECKED_PAIRS - len(universe.planted), replace=False)
    sample = list(res.table[["y", "x"]].iloc[pick].itertuples(index=False, name=None))
    sample += list(universe.planted[["y", "x"]].itertuples(index=False, name=None))
    diff, mismatches = _compare_coint(res.table, np.log(prices), sample)
    found = res.table.set_index(["y", "x"]).loc[list(universe.planted[["y", "x"]].itertuples(index=False))]
    print(
        json.dumps(
            {
                "times": times,
                "n_pairs": res.n_pairs,
                "n_tested": res.n_tested,
                "rss_before_mb": before / 1024,
                "rss_driver_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "rss_worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                "panel_mb": prices.to_numpy().nbytes / 2**20,
                "diff": diff,
                "lag_mismatches": mismatches,
                "checked": len(sample),
                "planted_found": int(found["significant"].sum()),
                "planted": len(universe.planted),
            }
        )
    )


def row_scan(cfg: Settings) -> list[Row]:
    repeats = max(1, min(cfg.repeats, 3))
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--scan-child", str(repeats)],
        capture_output=True,
        text=True,
        check=True,
    )
    info = json.loads(out.stdout.strip().splitlines()[-1])
    seconds = statistics.median(info["times"])
    bound = info["rss_driver_mb"] + SCAN_JOBS * info["rss_worker_mb"]
    return [
        Row(
            f"scan {SCAN_COINS} coins x {SCAN_BARS:,} bars ({info['n_pairs']:,} pairs), n_jobs={SCAN_JOBS}",
            seconds,
            None,
            "<= 120 s",
            seconds <= 120,
            f"{info['checked']} pairs vs coint: stat/p abs {info['diff']:.1e} (tol 1e-8), "
            f"lag mismatches {info['lag_mismatches']}",
            info["diff"] <= 1e-8 and info["lag_mismatches"] == 0,
            f"median of {len(info['times'])}; peak RSS: driver {info['rss_driver_mb']:.0f} MB "
            f"({info['rss_before_mb']:.0f} MB before the scan), largest worker {info['rss_worker_mb']:.0f} MB, "
            f"total <= {bound:.0f} MB; panel {info['panel_mb']:.1f} MB; "
            f"planted pairs significant {info['planted_found']}/{info['planted']}",
        )
    ]


def machine() -> list[str]:
    import numba
    import numpy as np
    import pandas as pd
    import pykalman
    import scipy
    import statsmodels

    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        f"date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"cpu: {cpu}, {cores} cores available (nproc), {platform.system()} {platform.machine()}",
        f"python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}, "
        f"pandas {pd.__version__}, scipy {scipy.__version__}, statsmodels {statsmodels.__version__}, "
        f"pykalman {getattr(pykalman, '__version__', '?')}",
        f"OPENBLAS_NUM_THREADS=1 (pinned); OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}",
    ]


def print_table(rows: list[Row]) -> None:
    print("| work | ours | reference | ratio | target | agreement | status | reference / notes |")
    print("|---|---:|---:|---:|---|---|---|---|")
    for row in rows:
        ref = "-" if row.reference is None else _fmt_time(row.reference)
        ratio = "-" if row.ratio is None else f"{row.ratio:,.0f}x"
        print(
            f"| {row.name} | {_fmt_time(row.ours)} | {ref} | {ratio} | {row.target} | {row.diff} "
            f"| {row.status} | {row.note} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (numbers are noisier)")
    parser.add_argument(
        "--only", nargs="+", choices=ROWS, metavar="ROW", help=f"rows to run: {', '.join(ROWS)}"
    )
    parser.add_argument("--strict", action="store_true", help="exit non-zero when a speed target is missed")
    parser.add_argument("--scan-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.scan_child is not None:
        scan_child(args.scan_child)
        return 0
    cfg = Settings(repeats=5, ref_repeats=2, min_time=0.02) if args.quick else Settings(11, 5, 0.1)
    runners = {"kalman": row_kalman, "rolling": row_rolling, "coint": row_coint, "stream": row_stream}
    runners["scan"] = row_scan
    print("\n".join(f"- {line}" for line in machine()))
    print(
        f"- median of {cfg.repeats} repeats (ours) and {cfg.ref_repeats} (reference), interleaved, "
        "after a warm-up call (numba compilation excluded), gc off while timing\n"
    )
    rows: list[Row] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in args.only or ROWS:
            start = time.perf_counter()
            rows += runners[name](cfg)
            print(f"[{name} done in {time.perf_counter() - start:.0f} s]", file=sys.stderr, flush=True)
    print_table(rows)
    failed = [row.name for row in rows if not row.correct]
    missed = [row.name for row in rows if row.met is False]
    for row in rows:
        if row.status != "ok":
            print(f"{row.status}: {row.name}: {row.diff}; target {row.target}", file=sys.stderr)
    return 1 if failed or (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
