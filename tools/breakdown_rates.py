"""False alarms and power of the breakdown monitor by window (docs/statistics.md).

Run ``python tools/breakdown_rates.py [--reps 100] [--windows 60 120 250] [--k 3]``. Simulated
pairs: ``x`` a Gaussian random walk (sd 0.02 per bar), ``y = 1 + 0.8 x + u`` with ``u`` an AR(1)
spread (innovation sd 0.01) for ``PRE`` bars; then either the spread stays an AR(1) (stable pair:
false alarms) or becomes a random walk with the same innovations (a break: power).

For each window it prints: the share of the stable pair's bars at which the monitor is armed,
its ``coint_lost`` and ``cusum`` events per 10,000 bars (false alarms), the share of breaks
followed by a ``coint_lost`` (and by any event) within ``POST`` bars, the share of pairs armed at
the break, the median delay of a detected break, and, on a pair of independent random walks of
the same length (never cointegrated), the share of bars at which the monitor is armed.
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.signal import lfilter

from pairs.coint import breakdown

PRE, POST = 1500, 1000


def pair(rng: np.random.Generator, phi: float, broken: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(y, x)`` of ``PRE + POST`` bars; with ``broken`` the spread is a random walk after ``PRE``."""
    n = PRE + POST
    x = np.cumsum(rng.standard_normal(n)) * 0.02
    e = rng.standard_normal(n) * 0.01
    u = lfilter([1.0], [1.0, -phi], e)
    if broken:
        u[PRE:] = u[PRE - 1] + np.cumsum(e[PRE:])
    return 1.0 + 0.8 * x + u, x


def rates(window: int, phi: float, reps: int, seed: int, **options: object) -> dict[str, float]:
    """Monitor statistics over ``reps`` stable and ``reps`` broken pairs (seeded)."""
    lost = cusum = armed = bars = armed_null = 0
    found = found_any = armed_at_break = 0
    delays: list[int] = []
    for i in range(reps):
        rng = np.random.default_rng([seed, window, i])
        y, x = pair(rng, phi, broken=False)
        res = breakdown(y, x, window=window, **options)
        kinds = res.events["kind"].to_numpy()
        lost += int(np.sum(kinds == "coint_lost"))
        cusum += int(np.sum(kinds == "cusum"))
        state = res.rolling["cointegrated"].to_numpy()
        armed += int(state[window:].sum())
        bars += len(y) - window
        y, x = pair(rng, phi, broken=True)
        res = breakdown(y, x, window=window, **options)
        at = res.events["timestamp"].to_numpy()
        kinds = res.events["kind"].to_numpy()
        after = (at >= PRE) & (at < PRE + POST)
        armed_at_break += bool(res.rolling["cointegrated"].to_numpy()[PRE - 1])
        hits = at[after & (kinds == "coint_lost")]
        found += len(hits) > 0
        found_any += bool(after.any())
        if len(hits):
            delays.append(int(hits[0] - PRE))
        walks = np.cumsum(rng.standard_normal((2, PRE + POST)), axis=1) * 0.02
        state = breakdown(walks[0], walks[1], window=window, **options).rolling["cointegrated"].to_numpy()
        armed_null += int(state[window:].sum())
    scale = 10_000 / bars
    return {
        "armed": armed / bars,
        "lost_per_10k": lost * scale,
        "cusum_per_10k": cusum * scale,
        "power_lost": found / reps,
        "power_any": found_any / reps,
        "armed_at_break": armed_at_break / reps,
        "median_delay": float(np.median(delays)) if delays else float("nan"),
        "armed_null": armed_null / bars,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--windows", type=int, nargs="+", default=[60, 120, 250])
    parser.add_argument("--phis", type=float, nargs="+", default=[0.8, 0.9])
    parser.add_argument("--k", type=int, default=None, help="consecutive windows (default: breakdown's)")
    parser.add_argument("--k-share", type=float, default=None, help="k as a share of the window")
    parser.add_argument("--test", default=None, help="rolling test (default: breakdown's)")
    parser.add_argument("--lost-above", type=float, default=None, help="breakdown's lost_above")
    parser.add_argument("--seed", type=int, default=20261206)
    args = parser.parse_args()
    options: dict[str, object] = {}
    if args.k is not None:
        options["k"] = args.k
    if args.test is not None:
        options["test"] = args.test
    if args.lost_above is not None:
        options["lost_above"] = args.lost_above
    share = "" if args.k_share is None else f", k = {args.k_share} x window"
    print(f"{args.reps} stable and {args.reps} broken pairs per cell; options {options or 'default'}{share}")
    print(
        "| window | AR(1) phi | armed (stable) | coint_lost / 10k bars | cusum / 10k bars "
        "| armed at break | break caught (coint_lost) | caught (any event) | median delay "
        "| armed (random walks) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for phi in args.phis:
        for window in args.windows:
            if args.k_share is not None:
                options["k"] = max(1, round(args.k_share * window))
            r = rates(window, phi, args.reps, args.seed, **options)
            print(
                f"| {window} | {phi} | {r['armed']:.2f} | {r['lost_per_10k']:.1f} | {r['cusum_per_10k']:.1f} "
                f"| {r['armed_at_break']:.2f} | {r['power_lost']:.2f} | {r['power_any']:.2f} | {r['median_delay']:.0f} "
                f"| {r['armed_null']:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
