"""Size and power of the default ADF / Engle-Granger / Johansen tests by simulation (docs/statistics.md).

Run ``python tools/coint_sizes.py [--reps 4000]``. Prints Markdown tables: the rejection rate at
nominal 5% under the null (independent Gaussian random walks) and under a few alternatives
(a stationary AR(1) spread), for the sample sizes of the issue. ``--part more`` prints the size
of ``phillips_ouliaris``, ``kss`` and ``gregory_hansen`` (``--more-reps`` draws per cell).
"""

from __future__ import annotations

import argparse

import numpy as np

from pairs.coint import gregory_hansen, johansen, kss, phillips_ouliaris
from pairs.coint._critical import df_pvalue
from pairs.coint._kernels import adf_batch, default_max_lag, eg_stat_batch

NS = (20, 30, 60, 100, 500)


def _ar1(rng: np.random.Generator, n: int, reps: int, phi: float) -> np.ndarray:
    e = rng.standard_normal((n, reps))
    out = np.empty((n, reps))
    out[0] = e[0]
    for t in range(1, n):
        out[t] = phi * out[t - 1] + e[t]
    return out


def df_rates(reps: int, seed: int, autolag: str | None = "bic", lag_rule=default_max_lag) -> list[str]:
    rows = ["| test | DGP | " + " | ".join(f"n={n}" for n in NS) + " |", "|---|---|" + "---|" * len(NS)]
    for label, phi in (("random walk (size)", 1.0), ("AR(1) phi=0.9", 0.9), ("AR(1) phi=0.7", 0.7)):
        adf_row, eg_row = [], []
        for n in NS:
            rng = np.random.default_rng(seed + n)
            y = _ar1(rng, n, reps, phi)
            walk = np.cumsum(rng.standard_normal((n, reps)), axis=0)
            out = adf_batch(y, lag_rule(n, 1), autolag, "c")
            adf_row.append(np.mean(df_pvalue(out.stat, "c", 1, out.n_obs) < 0.05))
            # Engle-Granger: y = x + spread, spread the AR(1) (a random walk under the null).
            eg = eg_stat_batch(walk + y, walk, max_lag=lag_rule(n, 0), autolag=autolag)
            eg_row.append(np.mean(eg.pvalue < 0.05))
        rows.append(f"| adf | {label} | " + " | ".join(f"{v:.3f}" for v in adf_row) + " |")
        rows.append(f"| engle_granger | {label} | " + " | ".join(f"{v:.3f}" for v in eg_row) + " |")
    return rows


def johansen_rates(reps: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    rows = ["| deterministic | DGP (n=500) | rank>0 | rank=1 |", "|---|---|---|---|"]
    for case in ("ci", "co", "n", "li", "lo"):
        ranks = np.array(
            [
                johansen(np.cumsum(rng.standard_normal((500, 2)), axis=0) + 5.0, deterministic=case).rank()
                for _ in range(reps)
            ]
        )
        rows.append(
            f"| {case} | driftless random walks | {np.mean(ranks > 0):.3f} | {np.mean(ranks == 1):.3f} |"
        )
        ranks = []
        for _ in range(reps):
            x = np.cumsum(rng.standard_normal(500))
            u = _ar1(rng, 500, 1, 0.9)[:, 0]
            ranks.append(johansen(np.column_stack([1.0 + 0.8 * x + u, x]), deterministic=case).rank())
        ranks = np.array(ranks)
        rows.append(
            f"| {case} | cointegrated, AR(1) 0.9 spread | {np.mean(ranks > 0):.3f} | {np.mean(ranks == 1):.3f} |"
        )
    return rows


MORE_NS = (100, 250, 500)


def more_rates(reps: int, seed: int) -> list[str]:
    """Size at nominal 5% of the defaults of the Phillips-Ouliaris, KSS and Gregory-Hansen tests."""
    rows = ["| test | " + " | ".join(f"n={n}" for n in MORE_NS) + " |", "|---|" + "---|" * len(MORE_NS)]
    cells: dict[str, list[float]] = {}
    for n in MORE_NS:
        rng = np.random.default_rng(seed + n)
        hits: dict[str, int] = {}
        for rep in range(reps):
            walks = rng.standard_normal((n, 2)).cumsum(axis=0)
            y, x = walks[:, 0], walks[:, 1]
            for test_type in ("Zt", "Za", "Pu", "Pz"):
                key = f"phillips_ouliaris {test_type}"
                hits[key] = hits.get(key, 0) + (phillips_ouliaris(y, x, test_type=test_type).pvalue < 0.05)
            for trend in ("c", "ct"):
                res = kss(y, trend=trend)
                key = f"kss {trend}"
                hits[key] = hits.get(key, 0) + (res.stat < res.crit_values["5%"])
            # Gregory-Hansen costs ~n ADF tests: a quarter of the draws.
            if rep % 4 == 0:
                for model in ("c", "ct", "cs", "rs"):
                    res = gregory_hansen(y, x, model=model)
                    key = f"gregory_hansen {model}"
                    hits[key] = hits.get(key, 0) + 4 * (res.stat < res.crit_values["5%"])
        for key, count in hits.items():
            cells.setdefault(key, []).append(count / reps)
    rows += [f"| {key} | " + " | ".join(f"{v:.3f}" for v in vals) + " |" for key, vals in cells.items()]
    return rows


def gh_quantiles(reps: int, seed: int, n: int = 500) -> list[str]:
    """Simulated 1/5/10% quantiles of ADF* (no lags) on independent random walks, one leg, per model."""
    rng = np.random.default_rng(seed)
    rows = [f"| model | 1% | 5% | 10% (n={n}, {reps} draws) |", "|---|---|---|---|"]
    draws = [rng.standard_normal((n, 2)).cumsum(axis=0) for _ in range(reps)]
    for model in ("c", "ct", "cs", "rs"):
        stats = [gregory_hansen(w[:, 0], w[:, 1], model=model, max_lag=0, autolag=None).stat for w in draws]
        q = np.quantile(stats, [0.01, 0.05, 0.10])
        rows.append(f"| {model} | " + " | ".join(f"{v:.2f}" for v in q) + " |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=4000)
    parser.add_argument("--joh-reps", type=int, default=1000)
    parser.add_argument("--more-reps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--gh-reps", type=int, default=2000)
    parser.add_argument("--part", choices=["all", "df", "johansen", "more", "gh"], default="all")
    ns = parser.parse_args()
    if ns.part in ("all", "df"):
        print("\n".join(df_rates(ns.reps, ns.seed)))
        print()
    if ns.part in ("all", "johansen"):
        print("\n".join(johansen_rates(ns.joh_reps, ns.seed)))
        print()
    if ns.part in ("all", "more"):
        print("\n".join(more_rates(ns.more_reps, ns.seed)))
        print()
    if ns.part in ("all", "gh"):
        print("\n".join(gh_quantiles(ns.gh_reps, ns.seed)))


if __name__ == "__main__":
    main()
