"""Size, far tail and scan FDR of the bootstrap ADF / Engle-Granger p-values (docs/statistics.md).

Run ``python tools/bootstrap_sizes.py [--reps 2000] [--boot 199] [--universes 200]``. Prints
Markdown tables:

* the rejection rate at nominal 5% under the null, with the response-surface p-values
  (``pvalue="surface"``) and the sieve wild bootstrap (``pvalue="bootstrap"``), for iid Gaussian
  innovations and for AR(1)-GARCH(1,1)-t(5) innovations (:func:`garch_t`);
* the share of null p-values below 1e-2 and 1e-3 (the tail a Benjamini-Hochberg scan uses);
* the false-discovery rate and power of Benjamini-Hochberg at 0.05 over simulated universes of
  independent pairs, 90% null and 10% cointegrated, under the same GARCH-t innovations.

The unit-root null of ADF is a random walk of the innovations; the Engle-Granger null is
``y = x + u`` with ``x`` and ``u`` independent random walks of them.
"""

from __future__ import annotations

import argparse

import numpy as np
from statsmodels.stats.multitest import multipletests

from pairs.coint._bootstrap import adf_boot_stats, boot_pvalue, eg_boot_pvalues
from pairs.coint._critical import df_pvalue
from pairs.coint._kernels import adf_batch, default_max_lag, eg_stat_batch

NS = (50, 100, 250, 500, 1000)
AUTOLAG_BIC = 2


def garch_t(
    rng: np.random.Generator,
    n: int,
    reps: int,
    *,
    ar: float = -0.05,
    arch: float = 0.12,
    garch: float = 0.86,
    nu: float = 5.0,
    burn: int = 200,
) -> np.ndarray:
    """``n x reps`` AR(1)-GARCH(1,1) returns with unit-variance t(``nu``) shocks and unit variance.

    The defaults are in the range fitted to daily BTC and ETH returns (persistence
    ``arch + garch = 0.98``, t(5) tails, a small negative first autocorrelation).
    """
    z = rng.standard_t(nu, (n + burn, reps)) * np.sqrt((nu - 2.0) / nu)
    omega = 1.0 - arch - garch
    h = np.ones(reps)
    eps = np.zeros(reps)
    r = np.zeros(reps)
    out = np.empty((n + burn, reps))
    for t in range(n + burn):
        h = omega + arch * eps**2 + garch * h
        eps = np.sqrt(h) * z[t]
        r = ar * r + eps
        out[t] = r
    return out[burn:]


def ar1(shocks: np.ndarray, phi: float) -> np.ndarray:
    """AR(1) path of each column of ``shocks``."""
    out = np.empty_like(shocks)
    out[0] = shocks[0]
    for t in range(1, len(shocks)):
        out[t] = phi * out[t - 1] + shocks[t]
    return out


def adf_pvalues(u: np.ndarray, n_boot: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Surface and bootstrap p-values of the default ADF (trend "c", BIC) of every column of ``u``."""
    lag = default_max_lag(len(u), 1)
    out = adf_batch(u, lag, "bic", "c")
    boot = np.array(
        [
            boot_pvalue(
                out.stat[j], adf_boot_stats(np.ascontiguousarray(u[:, j]), lag, AUTOLAG_BIC, 1, n_boot, seed)
            )
            for j in range(u.shape[1])
        ]
    )
    return df_pvalue(out.stat, "c", 1, out.n_obs), boot


def eg_pvalues(y: np.ndarray, x: np.ndarray, n_boot: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Surface and bootstrap p-values of the default Engle-Granger of ``y[:, j]`` on ``x[:, j]``."""
    n, m = y.shape
    panel = np.ascontiguousarray(np.vstack([y.T, x.T]))
    lag = default_max_lag(n, 0)
    pairs = np.arange(m, dtype=np.int64)
    _, boot, _ = eg_boot_pvalues(
        panel, np.arange(n, dtype=np.int64), pairs, (pairs + m)[:, None], 1, lag, AUTOLAG_BIC, n_boot, seed
    )
    return eg_stat_batch(y, x).pvalue, boot


def _draw(rng: np.random.Generator, n: int, reps: int, label: str) -> np.ndarray:
    return rng.standard_normal((n, reps)) if label == "iid Gaussian" else garch_t(rng, n, reps)


def sizes(reps: int, n_boot: int, seed: int) -> list[str]:
    rows = [
        "| test | innovations | p-value | " + " | ".join(f"n={n}" for n in NS) + " |",
        "|---|---|---|" + "---|" * len(NS),
    ]
    tails = ["| test | p-value | n | P(p<0.05) | P(p<0.01) | P(p<0.001) |", "|---|---|---|---|---|---|"]
    for test in ("adf", "engle_granger"):
        for label in ("iid Gaussian", "AR-GARCH-t(5)"):
            cells: dict[str, list[str]] = {"surface": [], "bootstrap": []}
            for n in NS:
                rng = np.random.default_rng([seed, n])
                u = np.cumsum(_draw(rng, n, reps, label), axis=0)
                if test == "adf":
                    surface, boot = adf_pvalues(u, n_boot, seed)
                else:
                    x = np.cumsum(_draw(rng, n, reps, label), axis=0)
                    surface, boot = eg_pvalues(x + u, x, n_boot, seed)
                for name, p in (("surface", surface), ("bootstrap", boot)):
                    cells[name].append(f"{np.mean(p < 0.05):.3f}")
                    if label != "iid Gaussian" and n in (100, 500):
                        tails.append(
                            f"| {test} | {name} | {n} | {np.mean(p < 0.05):.4f} | {np.mean(p < 0.01):.4f} "
                            f"| {np.mean(p < 0.001):.4f} |"
                        )
            for name, values in cells.items():
                rows.append(f"| {test} | {label} | {name} | " + " | ".join(values) + " |")
    return [*rows, "", *tails]


def scan_fdr(
    universes: int, n_boot: int, seed: int, n: int = 250, m: int = 100, planted: int = 10
) -> list[str]:
    """BH at 0.05 over ``universes`` sets of ``m`` independent pairs, ``planted`` of them cointegrated."""
    rng = np.random.default_rng(seed)
    fdp: dict[str, list[float]] = {"surface": [], "bootstrap": []}
    power: dict[str, list[float]] = {"surface": [], "bootstrap": []}
    for _ in range(universes):
        x = np.cumsum(garch_t(rng, n, m), axis=0)
        u = np.cumsum(garch_t(rng, n, m), axis=0)
        u[:, :planted] = ar1(garch_t(rng, n, planted), 0.8)
        truth = np.arange(m) < planted
        for name, p in zip(("surface", "bootstrap"), eg_pvalues(x + u, x, n_boot, seed), strict=True):
            reject = multipletests(p, alpha=0.05, method="fdr_bh")[0]
            fdp[name].append(np.sum(reject & ~truth) / max(1, np.sum(reject)))
            power[name].append(np.mean(reject[truth]))
    rows = ["| p-value | FDR (BH at 0.05) | its s.e. | power |", "|---|---|---|---|"]
    for name in fdp:
        f = np.array(fdp[name])
        rows.append(
            f"| {name} | {f.mean():.4f} | {f.std(ddof=1) / np.sqrt(len(f)):.4f} | {np.mean(power[name]):.3f} |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--boot", type=int, default=199)
    parser.add_argument("--universes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--part", choices=("all", "sizes", "fdr"), default="all")
    args = parser.parse_args()
    if args.part in ("all", "sizes"):
        print("\n".join(sizes(args.reps, args.boot, args.seed)), flush=True)
        print()
    if args.part in ("all", "fdr"):
        print(f"Scan FDR: {args.universes} universes of 100 pairs (10 cointegrated, AR(1) phi=0.8), n=250")
        print("\n".join(scan_fdr(args.universes, args.boot, args.seed)))


if __name__ == "__main__":
    main()
