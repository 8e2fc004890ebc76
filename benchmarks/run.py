"""Time pairs against its references side by side, check the results agree, print a table.

Usage::

    python benchmarks/run.py                  # every row (a few minutes)
    python benchmarks/run.py --quick          # fewer repeats
    python benchmarks/run.py --only kalman rolling
    python benchmarks/run.py --strict         # also exit non-zero when a speed target is missed

Rows (real data: ``pairs.load_sample("binance_1d")``, ETH hedged by BTC, 3,065 daily bars):

* ``kalman``: ``kalman_hedge(noise_units="raw")`` on log prices vs pykalman ``KalmanFilter.filter`` with the same
  matrices (``H_t = [x_t, 1]``, ``Q = delta / (1 - delta) I``, ``R = obs_var``, prior ``0, I``).
* ``rolling``: ``rolling_hedge(window=60)`` on price levels vs statsmodels ``RollingOLS(...).fit()``
  (default fit); an extra row times ``fit(params_only=True)``.
* ``coint``: Engle-Granger (constant, autolag AIC) on all 78 pairs of the 13 coins, on the 1,975
  bars where all of them trade, log prices: ``scan(n_jobs=1)`` and a loop of ``engle_granger``
  vs a loop of statsmodels ``coint``.
* ``stream``: ``Strategy(log_prices=True, zscore_method="innovation").stream().update`` per bar
  (filter, innovation z-score, entry/exit rule, timestamp check) vs pykalman ``filter_update`` per
  bar on the same relative log prices.
* ``hot``: the bot's hot path against a hand-written pure-Python step measured in the same run
  (positive prices, increasing timestamps, ``math.log``, the Kalman step on relative log prices,
  the innovation z-score and the default rule): ``update`` alone (target <= 2 us per bar) and
  ``update`` + its JSON line ``Signal.to_json()`` against the hand-written step + ``json.dumps`` of
  its dict with ``ts.isoformat()`` (target <= 1.5x; the lines must be byte-identical); an extra
  row times ``json.dumps(signal.to_dict())``.
* ``checkpoint``: ``StreamEngine.save`` of a Kalman and of a rolling engine (window 60, z-window
  60): the checksummed JSON text alone, the save with fsync and with ``os.fsync`` stubbed out;
  reference: a hand-written bot's checkpoint (``json.dumps`` of the same numbers, buffers as JSON
  lists, the same atomic write).
* ``scan``: ``scan`` of a simulated universe (``simulate_universe``, 500 coins x 2,000 bars,
  124,750 pairs) with ``n_jobs=2``, in a subprocess that reports peak memory (needs psutil); no reference
  (a loop of statsmodels ``coint`` would take over an hour), a random sample of pairs is checked against ``coint``.
* ``book``: ``StreamBook.update`` of 1,000 pairs (and of the 78 real ones) per bar vs a loop of as many
  ``StreamEngine.update`` calls; see benchmarks/book.py.

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
import functools
import gc
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Before numpy loads (every numerical import below is lazy), so that the scan subprocess and its
# workers inherit it too.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

ROWS = ("kalman", "rolling", "coint", "johansen", "stream", "hot", "checkpoint", "scan", "book")
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
    quick: bool
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


def _run(fn: Callable[[], Any], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def side_by_side(
    ours: Callable[[], Any], ref: Callable[[], Any] | None, cfg: Settings
) -> tuple[float, float]:
    """Median seconds per call of ``ours`` and of ``ref`` (NaN without one), repeats interleaved.

    Both get a warm-up call first; the garbage collector is off while timing, as in ``timeit``.
    """
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
                times.append(_run(ours, number))
            if ref is not None and i < cfg.ref_repeats:
                ref_times.append(_run(ref, 1))
    finally:
        if enabled:
            gc.enable()
    return statistics.median(times), (statistics.median(ref_times) if ref_times else math.nan)


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
        lambda: pairs.kalman_hedge(y, x, noise_units="raw", delta=1e-4, obs_var=1e-3),
        lambda: kf.filter(obs),
        cfg,
    )
    res = pairs.kalman_hedge(y, x, noise_units="raw", delta=1e-4, obs_var=1e-3)
    means, _ = kf.filter(obs)
    diff = max(_max_abs(res.beta, means[:, 0]), _max_abs(res.alpha, means[:, 1]))
    ratio = ref / ours
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


def _exact_window_fits(y: Any, x: Any, window: int, step: int) -> tuple[Any, Any, Any]:
    """Bar positions and exact (rational arithmetic) beta and alpha of every ``step``-th window."""
    from fractions import Fraction

    import numpy as np

    ends = np.arange(window - 1, len(y), step)
    betas, alphas = [], []
    for end in ends:
        ys = [Fraction(v) for v in y[end - window + 1 : end + 1]]
        xs = [Fraction(v) for v in x[end - window + 1 : end + 1]]
        mx, my = sum(xs) / window, sum(ys) / window
        beta = sum((a - mx) * (b - my) for a, b in zip(xs, ys, strict=True)) / sum((a - mx) ** 2 for a in xs)
        betas.append(float(beta))
        alphas.append(float(my - beta * mx))
    return ends, np.array(betas), np.array(alphas)


def row_rolling(cfg: Settings) -> list[Row]:
    import statsmodels.api as sm
    from statsmodels.regression.rolling import RollingOLS

    import pairs

    prices = _pair_prices()
    y, x = prices["ETH"], prices["BTC"]
    design = sm.add_constant(x)

    def ours() -> Any:
        return pairs.rolling_hedge(y, x, window=60)

    # Which side carries the difference: both against exact arithmetic on a sample of windows.
    ends, exact_beta, exact_alpha = _exact_window_fits(y.to_numpy(), x.to_numpy(), 60, 25)
    res = ours()
    ref_params = RollingOLS(y, design, window=60).fit().params
    exact = {
        side: max(_max_rel(beta[ends], exact_beta), _max_rel(alpha[ends], exact_alpha))
        for side, beta, alpha in (
            ("ours", res.beta.to_numpy(), res.alpha.to_numpy()),
            ("RollingOLS", ref_params["BTC"].to_numpy(), ref_params["const"].to_numpy()),
        )
    }

    def reference(params_only: bool) -> Any:
        return RollingOLS(y, design, window=60).fit(params_only=params_only)

    rows = []
    for label, params_only in (("fit()", False), ("fit(params_only=True)", True)):
        ours_t, ref_t = side_by_side(ours, functools.partial(reference, params_only), cfg)
        params = reference(params_only).params
        diff = max(_max_rel(res.beta, params["BTC"]), _max_rel(res.alpha, params["const"]))
        ratio = ref_t / ours_t
        default = not params_only
        rows.append(
            Row(
                f"rolling_hedge, window 60, {len(y):,} bars",
                ours_t,
                ref_t,
                ">= 200x" if default else "(info)",
                ratio >= 200 if default else None,
                f"beta/alpha rel {diff:.1e} (tol 1e-8)",
                diff <= 1e-8,
                f"statsmodels RollingOLS.{label}; max rel error vs exact arithmetic on {len(ends)} "
                f"windows: ours {exact['ours']:.0e}, RollingOLS {exact['RollingOLS']:.0e}",
            )
        )
    return rows


def _statsmodels_coint(y: Any, x: Any) -> tuple[float, float, int]:
    """statsmodels ``coint`` (stat, p-value) with pairs' default lag search (BIC up to
    ``default_max_lag``), and the ADF lag it chose (``coint`` does not return it).

    The statistic and lag must agree; the p-values differ by design (statsmodels' are asymptotic,
    pairs' finite-sample: docs/statistics.md), so they are not compared.
    """
    from statsmodels.regression.linear_model import OLS
    from statsmodels.tsa.stattools import adfuller, coint
    from statsmodels.tsa.tsatools import add_trend

    from pairs.coint._kernels import default_max_lag

    maxlag = default_max_lag(len(y), 0)
    res = coint(y, x, trend="c", autolag="bic", maxlag=maxlag)
    resid = OLS(y, add_trend(x[:, None], trend="c", prepend=False)).fit().resid
    with warnings.catch_warnings():
        # statsmodels >= 0.15 announces a change of adfuller's return type; the tuple is read here.
        warnings.simplefilter("ignore", FutureWarning)
        stat, _, lag, *_ = adfuller(resid, maxlag=maxlag, autolag="bic", regression="n")
    if stat != res[0]:
        raise RuntimeError("the replicated coint regression does not reproduce coint's statistic")
    return float(res[0]), float(res[1]), int(lag)


def _compare_coint(table: Any, logp: Any, pairs_list: list[tuple[str, str]]) -> tuple[float, int]:
    """Largest stat/p-value difference and number of lag mismatches against statsmodels."""
    rows = table.set_index(["y", "x"])
    diff, lag_mismatch = 0.0, 0
    for a, b in pairs_list:
        both = logp[[a, b]].dropna()
        stat, _, lag = _statsmodels_coint(both[a].to_numpy(), both[b].to_numpy())
        got = rows.loc[(a, b)]
        diff = max(diff, abs(got["stat"] - stat))
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

    from pairs.coint._kernels import default_max_lag

    maxlags = {pair: default_max_lag(len(logp), 0) for pair in pair_list}

    def reference() -> Any:
        return [
            coint(columns[a], columns[b], trend="c", autolag="bic", maxlag=maxlags[(a, b)])
            for a, b in pair_list
        ]

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
    what = f"Engle-Granger (BIC lag search), {len(pair_list)} pairs x {len(prices):,} bars"
    rows = []
    for label, ours_t, d, m in (
        ("scan(n_jobs=1)", scan_t, diff, mismatches),
        ("loop of engle_granger", loop_t, loop_diff, loop_mismatches),
    ):
        ratio = ref_t / ours_t
        rows.append(
            Row(
                f"{what}: {label}",
                ours_t,
                ref_t,
                ">= 50x" if label.startswith("scan") else "(info)",
                ratio >= 50 if label.startswith("scan") else None,
                f"stat abs {d:.1e} (tol 1e-8), lag mismatches {m}",
                d <= 1e-8 and m == 0,
                "loop of statsmodels coint",
            )
        )
    return rows


_JOHANSEN_COINS = ["BTC", "ETH", "LTC", "XRP", "TRX", "XLM", "BNB", "ADA", "DOGE", "SOL", "DOT", "LINK"]


def row_johansen(cfg: Settings) -> list[Row]:
    import numpy as np
    from statsmodels.tsa.vector_ar.vecm import coint_johansen

    import pairs

    sample = pairs.load_sample("binance_1d")
    rows = []
    for k in (2, 12):
        frame = np.log(sample[[c for c in _JOHANSEN_COINS if c in sample.columns][:k]].dropna())
        values = frame.to_numpy()

        def ours(f: Any = frame) -> Any:
            return pairs.johansen(f, det_order=0)

        def reference(v: Any = values) -> Any:
            return coint_johansen(v, 0, 1)

        ours_t, ref_t = side_by_side(ours, reference, cfg)
        res, ref = ours(), reference()
        diff = max(
            _max_rel(res.trace_stat.to_numpy(), ref.lr1), _max_rel(res.max_eig_stat.to_numpy(), ref.lr2)
        )
        rows.append(
            Row(
                f"johansen(det_order=0), {k} coins x {len(frame):,} bars",
                ours_t,
                ref_t,
                ">= 1x",
                ref_t / ours_t >= 1.0,
                f"trace/max-eig rel {diff:.1e} (tol 1e-9)",
                diff <= 1e-9,
                "statsmodels coint_johansen(det_order=0, k_ar_diff=1): the same statistics",
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
    # The strategy's Kalman filter runs on log prices relative to the first bar (pairs.strategy._steps).
    log_y, log_x = log_y - log_y[0], log_x - log_x[0]
    kf = _pykalman_filter(log_x, 1e-4, 1e-3)
    eye, zeros = np.eye(2), np.zeros((2, 2))
    strategy = pairs.Strategy(log_prices=True, zscore_method="innovation")

    def ours() -> list[float]:
        engine = strategy.stream()
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
            ref_t / n,
            "<= 5 us",
            per_bar <= 5e-6,
            f"beta abs {diff:.1e} (tol 1e-9)",
            diff <= 1e-9,
            f"pykalman filter_update per bar; {n:,} bars replayed with timestamps",
        )
    ]


def _hand_kalman(eth: list[float], btc: list[float], stamps: list[Any], *, json_line: bool) -> list[Any]:
    """The reference bot step, written by hand in pure Python: what ``update`` must compete with.

    Per bar: positive finite prices, strictly increasing timestamps, ``math.log``, the Kalman
    step on log prices relative to the first bar (``delta=1e-4``, ``obs_var=1e-3``), the
    innovation z-score and the default rule (enter beyond +-2, exit at 0); with ``json_line``
    also the bar's JSON line as a bot would write it (``ts.isoformat()``, ``json.dumps``).
    """
    q, r = 1e-4 / (1.0 - 1e-4), 1e-3
    beta = alpha = p01 = 0.0
    p00 = p11 = 1.0
    ref_y = ref_x = 0.0
    last = None
    pos = 0
    out: list[Any] = []
    for t in range(len(eth)):
        py, px, ts = eth[t], btc[t], stamps[t]
        if not (0.0 < py < math.inf and 0.0 < px < math.inf):
            raise ValueError(f"bad price at bar {t}")
        if last is not None and not ts > last:
            raise ValueError(f"timestamp not after the last one at bar {t}")
        last = ts
        y, x = math.log(py), math.log(px)
        if t == 0:
            ref_y, ref_x = y, x
        else:
            p00 += q
            p11 += q
        yr, xr = y - ref_y, x - ref_x
        g0 = p00 * xr + p01
        g1 = p01 * xr + p11
        s = xr * g0 + g1 + r
        e = yr - (beta * xr + alpha)
        k0, k1 = g0 / s, g1 / s
        beta += k0 * e
        alpha += k1 * e
        p00 -= k0 * g0
        p01 -= k0 * g1
        p11 -= k1 * g1
        z = e / math.sqrt(s)
        action = "hold"
        if (pos > 0 and z >= 0.0) or (pos < 0 and z <= 0.0):
            pos, action = 0, "exit"
        if pos == 0 and z < -2.0:
            pos, action = 1, "enter_long"
        elif pos == 0 and z > 2.0:
            pos, action = -1, "enter_short"
        if json_line:
            out.append(
                json.dumps(
                    {
                        "timestamp": ts.isoformat(),
                        "beta": beta,
                        "alpha": alpha + ref_y - beta * ref_x,
                        "spread": yr - beta * xr - alpha,
                        "zscore": z,
                        "position": pos,
                        "y_units": None,
                        "x_units": None,
                        "action": action,
                        "orders": None,
                    }
                )
            )
        else:
            out.append(beta)
    return out


def row_hot_path(cfg: Settings) -> list[Row]:
    """Per bar: update alone and update + JSON line, against the hand-written step in the same run."""
    import pairs

    prices = _pair_prices()
    eth, btc = prices["ETH"].tolist(), prices["BTC"].tolist()
    stamps = list(prices.index)
    n = len(eth)
    strategy = pairs.Strategy(log_prices=True, zscore_method="innovation")

    def ours_update() -> list[float]:
        update = strategy.stream().update
        return [update(eth[t], btc[t], stamps[t]).beta for t in range(n)]

    def ours_line() -> list[str]:
        update = strategy.stream().update
        return [update(eth[t], btc[t], stamps[t]).to_json() for t in range(n)]

    def ours_dumps() -> list[str]:
        update = strategy.stream().update
        return [json.dumps(update(eth[t], btc[t], stamps[t]).to_dict()) for t in range(n)]

    def hand_update() -> list[float]:
        return _hand_kalman(eth, btc, stamps, json_line=False)

    def hand_line() -> list[str]:
        return _hand_kalman(eth, btc, stamps, json_line=True)

    # Both sides repeat equally often here (the reference is as cheap as ours).
    same = Settings(cfg.quick, cfg.repeats, cfg.repeats, cfg.min_time)
    upd_t, hand_t = _side_by_side_looped(ours_update, hand_update, same)
    line_t, hand_line_t = _side_by_side_looped(ours_line, hand_line, same)
    dumps_t, hand_line_t2 = _side_by_side_looped(ours_dumps, hand_line, same)
    beta_diff = _max_abs(ours_update(), hand_update())
    lines, hand_lines = ours_line(), hand_line()
    same_lines = sum(a == b for a, b in zip(lines, hand_lines, strict=True))
    equal_dumps = lines == ours_dumps()
    note = f"hand-written pure-Python step (checks, log, Kalman, z, rule); {n:,} bars with timestamps"
    return [
        Row(
            "StreamEngine.update alone, per bar",
            upd_t / n,
            hand_t / n,
            "<= 2 us",
            upd_t / n <= 2e-6,
            f"beta abs {beta_diff:.1e} (tol 1e-12)",
            beta_diff <= 1e-12,
            note + "; ratio < 1: the hand-written step is faster",
        ),
        Row(
            "update + JSON line (Signal.to_json), per bar",
            line_t / n,
            hand_line_t / n,
            "<= 1.5x hand-written",
            line_t <= 1.5 * hand_line_t,
            f"{same_lines:,}/{n:,} lines byte-identical; to_json == json.dumps(to_dict()): {equal_dumps}",
            same_lines == n and equal_dumps,
            "hand-written step + json.dumps of its dict with ts.isoformat()",
        ),
        Row(
            "update + json.dumps(signal.to_dict()), per bar",
            dumps_t / n,
            hand_line_t2 / n,
            "(info)",
            None,
            "same lines as to_json",
            equal_dumps,
            "hand-written step + json.dumps of its dict with ts.isoformat()",
        ),
    ]


def _side_by_side_looped(
    ours: Callable[[], Any], ref: Callable[[], Any], cfg: Settings
) -> tuple[float, float]:
    """As :func:`side_by_side`, but the reference too is repeated ``number`` times per repeat."""
    ours()
    ref()
    number = _loops(ours, cfg.min_time)
    times: list[float] = []
    ref_times: list[float] = []
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(cfg.repeats):
            times.append(_run(ours, number))
            ref_times.append(_run(ref, number))
    finally:
        if enabled:
            gc.enable()
    return statistics.median(times), statistics.median(ref_times)


def row_checkpoint(cfg: Settings) -> list[Row]:
    """Checkpoint cost per bar: ``save`` (state_dict, checksum, atomic write) with and without fsync."""
    import base64
    import tempfile
    from unittest import mock

    import numpy as np

    import pairs
    from pairs._io import write_text_atomic
    from pairs.stream._state import state_text

    prices = _pair_prices().iloc[:500]
    rows = []
    folder = tempfile.mkdtemp(prefix="pairs-bench-")
    for label, strategy in (
        ("Kalman", pairs.Strategy(log_prices=True, zscore_method="innovation")),
        ("rolling (window 60, z-window 60)", pairs.Strategy(hedge="rolling", window=60, zscore_window=60)),
    ):
        engine = strategy.stream()
        engine.warmup(prices["ETH"], prices["BTC"])
        path = os.path.join(folder, "engine.json")
        ref_path = os.path.join(folder, "hand.json")
        state = engine.state_dict()["state"]
        # What a hand-written bot saves: its numbers as a JSON dict (buffers as lists of floats),
        # written atomically the same way, without a checksum.
        hand_state = json.loads(json.dumps(state))
        for part in ("hedge", "zscore"):
            for key, value in (hand_state.get(part) or {}).items():
                if isinstance(value, str):
                    hand_state[part][key] = np.frombuffer(base64.b64decode(value), "<f8").tolist()

        def ours(engine: Any = engine, path: str = path) -> None:
            engine.save(path)

        def reference(hand_state: Any = hand_state, ref_path: str = ref_path) -> None:
            write_text_atomic(ref_path, json.dumps(hand_state))

        def ours_text(engine: Any = engine) -> str:
            return state_text({"engine": engine.state_dict()})

        def reference_text(hand_state: Any = hand_state) -> str:
            return json.dumps(hand_state)

        same = Settings(cfg.quick, cfg.repeats, cfg.repeats, cfg.min_time)
        text_t, text_ref = _side_by_side_looped(ours_text, reference_text, same)
        with_t, with_ref = _side_by_side_looped(ours, reference, same)
        with mock.patch("os.fsync"):
            without_t, without_ref = _side_by_side_looped(ours, reference, same)
        back = pairs.StreamEngine.load(path)
        exact = back.state_dict() == engine.state_dict()
        size = os.path.getsize(path)
        cases = (
            ("state_dict + checksummed JSON text (no I/O)", text_t, text_ref),
            ("save, with fsync", with_t, with_ref),
            ("save, without fsync (os.fsync stubbed)", without_t, without_ref),
        )
        for what, t, ref in cases:
            rows.append(
                Row(
                    f"StreamEngine checkpoint, {label}: {what}",
                    t,
                    ref,
                    "(info)",
                    None,
                    f"load(save(e)) == e: {exact}; {size:,} bytes",
                    exact,
                    "a hand-written bot's checkpoint: json.dumps of the same numbers (buffers as JSON lists), "
                    "the same atomic write",
                )
            )
    return rows


def row_book(cfg: Settings) -> list[Row]:
    from book import row_book as book_rows  # benchmarks/book.py

    return book_rows(cfg)


def _vm_hwm_mb() -> float:
    """This process's peak resident memory since its ``exec`` (Linux ``VmHWM``)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 1024


class MemorySampler:
    """Poll the resident memory of this process and of its descendants every ``interval`` seconds.

    ``getrusage`` is not used: on Linux a process's ``ru_maxrss`` survives ``exec``, so a worker
    started by fork + exec would report the size of its parent at the fork.
    """

    def __init__(self, interval: float = 0.02) -> None:
        import psutil

        self._me = psutil.Process()
        self._error = psutil.Error
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.total_mb = 0.0
        self.worker_mb = 0.0

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            total = 0.0
            for proc in [self._me, *self._me.children(recursive=True)]:
                try:
                    rss = proc.memory_info().rss / 2**20
                except self._error:
                    continue
                total += rss
                if proc.pid != self._me.pid:
                    self.worker_mb = max(self.worker_mb, rss)
            self.total_mb = max(self.total_mb, total)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def scan_child(repeats: int) -> None:
    """Run in a fresh process: time the universe scan and print JSON with times and peak memory."""
    import numpy as np

    import pairs

    imported = _vm_hwm_mb()
    universe = pairs.simulate_universe(SCAN_COINS, SCAN_BARS, n_cointegrated=10, seed=0)
    prices = universe.prices
    # Warm-up: compiles (or loads from numba's cache) every kernel of the scan in this process.
    pairs.scan(prices.iloc[:, :4], log=True, n_jobs=1, progress=False)
    before = _vm_hwm_mb()
    times = []
    with MemorySampler() as memory:
        for _ in range(repeats):
            start = time.perf_counter()
            res = pairs.scan(prices, log=True, n_jobs=SCAN_JOBS, progress=False)
            times.append(time.perf_counter() - start)
    rng = np.random.default_rng(1)
    pick = rng.choice(len(res.table), SCAN_CHECKED_PAIRS - len(universe.planted), replace=False)
    sample = list(res.table[["y", "x"]].iloc[pick].itertuples(index=False, name=None))
    sample += list(universe.planted[["y", "x"]].itertuples(index=False, name=None))
    diff, mismatches = _compare_coint(res.table, np.log(prices), sample)
    print(
        json.dumps(
            {
                "times": times,
                "n_pairs": res.n_pairs,
                "imported_mb": imported,
                "before_mb": before,
                "driver_mb": _vm_hwm_mb(),
                "worker_mb": memory.worker_mb,
                "total_mb": memory.total_mb,
                "panel_mb": prices.to_numpy().nbytes / 2**20,
                "diff": diff,
                "lag_mismatches": mismatches,
                "checked": len(sample),
            }
        )
    )


def row_scan(cfg: Settings) -> list[Row]:
    repeats = 1 if cfg.quick else 3
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--scan-child", str(repeats)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"the scan subprocess failed:\n{out.stderr}")
    info = json.loads(out.stdout.strip().splitlines()[-1])
    seconds = statistics.median(info["times"])
    return [
        Row(
            f"scan {SCAN_COINS} coins x {SCAN_BARS:,} bars ({info['n_pairs']:,} pairs), n_jobs={SCAN_JOBS}",
            seconds,
            None,
            "<= 120 s",
            seconds <= 120,
            f"{info['checked']} pairs vs coint: stat abs {info['diff']:.1e} (tol 1e-8), "
            f"lag mismatches {info['lag_mismatches']}",
            info["diff"] <= 1e-8 and info["lag_mismatches"] == 0,
            f"median of {len(info['times'])}; peak RSS: driver {info['driver_mb']:.0f} MB "
            f"({info['imported_mb']:.0f} MB after importing pairs, {info['before_mb']:.0f} MB before the "
            f"scan), largest worker {info['worker_mb']:.0f} MB, all processes together "
            f"{info['total_mb']:.0f} MB; input panel {info['panel_mb']:.1f} MB",
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
        ratio = "-" if row.ratio is None else f"{row.ratio:,.0f}x" if row.ratio >= 10 else f"{row.ratio:.2f}x"
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
    cfg = (
        Settings(quick=True, repeats=5, ref_repeats=2, min_time=0.02)
        if args.quick
        else Settings(quick=False, repeats=11, ref_repeats=5, min_time=0.1)
    )
    runners = {
        "kalman": row_kalman,
        "rolling": row_rolling,
        "coint": row_coint,
        "stream": row_stream,
        "johansen": row_johansen,
        "hot": row_hot_path,
        "checkpoint": row_checkpoint,
        "scan": row_scan,
        "book": row_book,
    }
    print("\n".join(f"- {line}" for line in machine()))
    print(
        f"- median of {cfg.repeats} repeats (ours) and {cfg.ref_repeats} (reference), interleaved, "
        "after a warm-up call (numba compilation excluded), gc off while timing\n"
    )
    load_before = os.getloadavg()
    rows: list[Row] = []
    for name in args.only or ROWS:
        start = time.perf_counter()
        rows += runners[name](cfg)
        print(f"[{name} done in {time.perf_counter() - start:.0f} s]", file=sys.stderr, flush=True)
    load_after = os.getloadavg()
    print(
        "- load average (1, 5, 15 min) before "
        + " ".join(f"{v:.2f}" for v in load_before)
        + ", after "
        + " ".join(f"{v:.2f}" for v in load_after)
        + f" ({len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()} cores)\n"
    )
    print_table(rows)
    failed = [row.name for row in rows if not row.correct]
    missed = [row.name for row in rows if row.met is False]
    for row in rows:
        if row.status != "ok":
            ratio = "" if row.ratio is None else f", ratio {row.ratio:,.0f}x"
            print(
                f"{row.status}: {row.name}: {_fmt_time(row.ours)}{ratio} (target {row.target}); {row.diff}",
                file=sys.stderr,
            )
    return 1 if failed or (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
