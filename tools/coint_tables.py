"""Simulate the null distributions behind :mod:`pairs.coint._tables` and write that module.

Run ``python tools/coint_tables.py`` (defaults ``--reps 80000 --joh-reps 40000 --seed 20240616``);
it rewrites ``pairs/coint/_tables.py`` (about 10 minutes per half on one core; ``--part df`` and
``--part johansen`` run the halves in parallel, then ``--part write``).

Dickey-Fuller / Engle-Granger (``DF``)
    For every deterministic case ``trend`` in ``n, c, ct, ctt`` and number of variables ``N``
    (``N = 1``: ADF of one series; ``N = 2..12``: Engle-Granger residual test of ``y`` on ``N - 1``
    legs), independent Gaussian random walks of length ``n`` give the Dickey-Fuller t-statistic
    with zero lags (``n_obs = n - 1`` observations in the test regression). At every
    probability level ``p`` of ``PROBS`` the simulated quantiles over the grid of ``n_obs`` are
    fitted by OLS to MacKinnon's (2010) response surface
    ``q_p(n_obs) = b0 + b1 / n_obs + b2 / n_obs**2 + b3 / n_obs**3``; the module stores ``b``.

Johansen (``JOH``)
    For the five deterministic cases of statsmodels' VECM (``n, co, ci, lo, li``) and
    ``k = 1..12`` stochastic trends (``k = n_vars - rank`` under the null), the trace and
    maximum-eigenvalue statistics of ``k`` independent random walks of length ``JOH_T`` with
    no lagged differences. Stored as quantiles at ``PROBS`` (one large sample size; Johansen's
    small-sample distortion is not modelled).

Cross-products make one simulated panel serve every case: the Engle-Granger residual of any
subset of columns has ``sum e_{t-1}^2 = w' A w`` etc. with ``A`` the lagged cross-product.
"""

from __future__ import annotations

import argparse
import pathlib
import time
from typing import Any

import numpy as np

PROBS = np.array(
    [
        *(0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.0125, 0.015, 0.02, 0.025, 0.03, 0.035),
        *(0.04, 0.045, 0.05, 0.055, 0.06, 0.07, 0.08, 0.09, 0.10, 0.11, 0.125, 0.15, 0.175, 0.20),
        *(0.25, 0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90),
        *(0.925, 0.95, 0.975, 0.99, 0.995, 0.999),
    ]
)
DF_TRENDS = ("n", "c", "ct", "ctt")
MAX_VARS = 12
DF_NOBS = (12, 15, 20, 25, 30, 40, 50, 70, 100, 150, 250, 500, 1000)
JOH_CASES = ("n", "co", "ci", "lo", "li")
JOH_T = 1000
_TREND_SCALE = 10.0
OUT = pathlib.Path(__file__).resolve().parents[1] / "pairs" / "coint" / "_tables.py"


def _legendre(n: int, k: int) -> np.ndarray:
    u = np.linspace(-1.0, 1.0, n)
    return np.column_stack([np.ones(n), u, 1.5 * u * u - 0.5])[:, :k]


def _min_nobs(trend: str, n_vars: int) -> int:
    """Smallest simulated ``n_obs``: the regression keeps at least 6 residual degrees of freedom."""
    return n_vars + len(trend.replace("n", "")) + 6


def _first_nobs(trend: str, n_vars: int) -> int:
    return min(g for g in DF_NOBS if g >= _min_nobs(trend, n_vars))


def df_chunk(rng: np.random.Generator, n: int, reps: int) -> dict[tuple[str, int], np.ndarray]:
    """DF statistics of every (trend, N) case on ``reps`` panels of ``MAX_VARS`` walks of length ``n``."""
    walks = np.cumsum(rng.standard_normal((reps, n, MAX_VARS)), axis=1)
    det = np.broadcast_to(_legendre(n, 3), (reps, n, 3))
    z = np.concatenate([det, walks], axis=2)  # columns: 1, u, u2, y, x1..x11
    lev = z[:, :-1]
    dz = np.diff(z, axis=1)
    lev_t = lev.transpose(0, 2, 1)
    g_full = z.transpose(0, 2, 1) @ z
    a = lev_t @ lev
    c = lev_t @ dz
    e = dz.transpose(0, 2, 1) @ dz
    out: dict[tuple[str, int], np.ndarray] = {}
    m = n - 1
    for trend in DF_TRENDS:
        k = len(trend.replace("n", ""))
        det_cols = list(range(k))
        # ADF of y (N = 1): dy_t on [det, y_{t-1}], Frisch-Waugh on the deterministic columns.
        d = _legendre(m, k)
        y_lag = walks[:, :-1, 0]
        dy = np.diff(walks[:, :, 0], axis=1)
        if k:
            proj = d @ np.linalg.solve(d.T @ d, d.T)
            y_lag = y_lag - y_lag @ proj.T
            dy = dy - dy @ proj.T
        sxx = np.einsum("ij,ij->i", y_lag, y_lag)
        sxy = np.einsum("ij,ij->i", y_lag, dy)
        syy = np.einsum("ij,ij->i", dy, dy)
        rho = sxy / sxx
        s2 = (syy - rho * sxy) / (m - k - 1)
        out[(trend, 1)] = rho / np.sqrt(s2 / sxx)
        for n_vars in range(2, MAX_VARS + 1):
            if m < _min_nobs(trend, n_vars):
                continue
            cols = det_cols + [3 + j for j in range(1, n_vars)]
            yc = 3
            gxx = g_full[:, cols][:, :, cols]
            gxy = g_full[:, cols, yc]
            coef = np.linalg.solve(gxx, gxy[..., None])[..., 0]
            w_cols = [yc, *cols]
            w = np.concatenate([np.ones((reps, 1)), -coef], axis=1)
            aa = a[:, w_cols][:, :, w_cols]
            cc = c[:, w_cols][:, :, w_cols]
            ee = e[:, w_cols][:, :, w_cols]
            sxx = np.einsum("bi,bij,bj->b", w, aa, w)
            sxy = np.einsum("bi,bij,bj->b", w, cc, w)
            syy = np.einsum("bi,bij,bj->b", w, ee, w)
            rho = sxy / sxx
            s2 = (syy - rho * sxy) / (m - 1)
            out[(trend, n_vars)] = rho / np.sqrt(s2 / sxx)
    return out


def simulate_df(reps: int, rng: np.random.Generator) -> dict[tuple[str, int], np.ndarray]:
    """Response-surface coefficients ``(4, len(PROBS))`` for every (trend, N)."""
    quantiles: dict[tuple[str, int], dict[int, np.ndarray]] = {}
    for nobs in DF_NOBS:
        n = nobs + 1
        chunk = max(200, min(20000, int(4e7 / (n * MAX_VARS * 8))))
        stats: dict[tuple[str, int], list[np.ndarray]] = {}
        done = 0
        start = time.time()
        while done < reps:
            size = min(chunk, reps - done)
            for key, value in df_chunk(rng, n, size).items():
                stats.setdefault(key, []).append(value)
            done += size
        for key, parts in stats.items():
            if nobs >= _min_nobs(key[0], key[1]):
                quantiles.setdefault(key, {})[nobs] = np.quantile(np.concatenate(parts), PROBS)
        print(f"DF n_obs={nobs}: {time.time() - start:.1f} s", flush=True)
    return fit_surfaces(quantiles)


def fit_surfaces(quantiles: dict[Any, dict[int, np.ndarray]]) -> dict[Any, np.ndarray]:
    """Per key, quantiles at several sample sizes -> coefficients of a cubic in 1/n (4 x len(PROBS))."""
    coefs = {}
    for key, by_n in quantiles.items():
        grid = np.array(sorted(by_n))
        q = np.array([by_n[g] for g in grid])
        inv = 1.0 / grid
        # Fewer sample sizes than 6 (many legs): drop the cubic term rather than overfit.
        order = 4 if len(grid) >= 6 else 3
        design = np.column_stack([inv**j for j in range(order)])
        b = np.linalg.lstsq(design, q, rcond=None)[0]
        full = np.zeros((4, len(PROBS)))
        full[:order] = b
        coefs[key] = full
    return coefs


def johansen_chunk(rng: np.random.Generator, t: int, reps: int, case: str) -> tuple[np.ndarray, np.ndarray]:
    """Trace and max-eigenvalue statistics for ``k = 1..12`` (nested columns) under the null."""
    walks = np.cumsum(rng.standard_normal((reps, t + 1, MAX_VARS)), axis=1)
    # The published tables of the unrestricted cases ("co": Johansen's case 3, "lo": case 5) assume
    # the highest-order trend is present in the data (a drift, a quadratic trend): without it the
    # limit is a different functional. One dominant trend in the first column reproduces them.
    steps = np.arange(t + 1, dtype=float)
    if case == "co":
        walks[:, :, 0] += _TREND_SCALE * steps
    elif case == "lo":
        walks[:, :, 0] += _TREND_SCALE * steps**2 / t
    dz = np.diff(walks, axis=1)
    lev = walks[:, :-1]
    tt = np.arange(1, t + 1, dtype=float)[:, None]
    ones = np.ones((t, 1))
    trace = np.empty((reps, MAX_VARS))
    maxeig = np.empty((reps, MAX_VARS))
    for k in range(1, MAX_VARS + 1):
        r0 = dz[:, :, :k]
        r1 = lev[:, :, :k]
        u = {"n": None, "co": ones, "ci": None, "lo": np.hstack([ones, tt]), "li": ones}[case]
        if case == "ci":
            r1 = np.concatenate([r1, np.ones((reps, t, 1))], axis=2)
        elif case == "li":
            r1 = np.concatenate([r1, np.broadcast_to(tt, (reps, t, 1))], axis=2)
        if u is not None:
            # Residualise on the unrestricted terms with an orthonormal basis: O(T) per column.
            basis = np.linalg.qr(u)[0]
            r0 = r0 - basis @ (basis.T @ r0)
            r1 = r1 - basis @ (basis.T @ r1)
        s00 = r0.transpose(0, 2, 1) @ r0 / t
        s01 = r0.transpose(0, 2, 1) @ r1 / t
        s11 = r1.transpose(0, 2, 1) @ r1 / t
        chol = np.linalg.cholesky(s11)
        inv_chol = np.linalg.inv(chol)
        mat = inv_chol @ s01.transpose(0, 2, 1) @ np.linalg.solve(s00, s01) @ inv_chol.transpose(0, 2, 1)
        lam = np.linalg.eigvalsh((mat + mat.transpose(0, 2, 1)) / 2)[:, ::-1][:, :k]
        lam = np.clip(lam, 0.0, 1.0 - 1e-15)
        trace[:, k - 1] = -t * np.log1p(-lam).sum(axis=1)
        maxeig[:, k - 1] = -t * np.log1p(-lam[:, 0])
    return trace, maxeig


def simulate_johansen(reps: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    out = {}
    for case in JOH_CASES:
        start = time.time()
        traces, maxes = [], []
        done = 0
        while done < reps:
            size = min(1000, reps - done)
            tr, mx = johansen_chunk(rng, JOH_T, size, case)
            traces.append(tr)
            maxes.append(mx)
            done += size
        # Upper-tail statistics: store quantiles at 1 - PROBS so small p-values are resolved.
        out[f"trace_{case}"] = np.quantile(np.concatenate(traces), 1.0 - PROBS, axis=0).T
        out[f"maxeig_{case}"] = np.quantile(np.concatenate(maxes), 1.0 - PROBS, axis=0).T
        print(f"Johansen {case}: {time.time() - start:.1f} s", flush=True)
    return out


def _array(a: np.ndarray) -> str:
    rows = [", ".join(f"{v:.6g}" for v in row) for row in np.atleast_2d(a)]
    return "np.array([\n" + "".join(f"        [{r}],\n" for r in rows) + "    ])"


def write_module(df: dict[tuple[str, int], np.ndarray], joh: dict[str, np.ndarray], args: str) -> None:
    lines = [
        '"""Simulated null distributions of the unit-root and cointegration tests (generated file).',
        "",
        f"Written by ``python tools/coint_tables.py {args}``; do not edit by hand. See that script and",
        "docs/statistics.md for the method. ``DF[(trend, N)]`` is a ``4 x len(PROBS)`` array of",
        "response-surface coefficients: the ``PROBS[i]`` quantile of the Dickey-Fuller t-statistic",
        "with ``n_obs`` observations is ``sum_j DF[key][j, i] / n_obs**j``. ``DF_MIN_NOBS[key]`` is",
        "the smallest simulated ``n_obs``. ``JOH[f'{test}_{case}']`` is ``12 x len(PROBS)``: row",
        "``k - 1`` holds the ``1 - PROBS`` quantiles of the statistic with ``k`` stochastic trends.",
        '"""',
        "",
        "import numpy as np",
        "",
        "# fmt: off",
        f"PROBS = np.array([{', '.join(f'{p:g}' for p in PROBS)}])",
        f"JOH_T = {JOH_T}",
        "DF_MIN_NOBS = {",
    ]
    lines += [f"    ({k[0]!r}, {k[1]}): {_first_nobs(*k)}," for k in sorted(df)]
    lines += ["}", "DF = {"]
    for key in sorted(df):
        lines.append(f"    ({key[0]!r}, {key[1]}): {_array(df[key])},")
    lines += ["}", "JOH = {"]
    for key in sorted(joh):
        lines.append(f"    {key!r}: {_array(joh[key])},")
    lines += ["}", "# fmt: on", ""]
    OUT.write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=80_000, help="replications per DF sample size")
    parser.add_argument("--joh-reps", type=int, default=40_000, help="replications per Johansen case")
    parser.add_argument("--seed", type=int, default=20240616)
    parser.add_argument(
        "--part",
        choices=["all", "df", "johansen", "write"],
        default="all",
        help="run one half (cached in --cache) so the two can run in parallel, then 'write'",
    )
    parser.add_argument("--cache", default="coint_tables_cache")
    ns = parser.parse_args()
    cache = pathlib.Path(ns.cache)
    cache.mkdir(exist_ok=True)
    if ns.part in ("all", "df"):
        df = simulate_df(ns.reps, np.random.default_rng(ns.seed))
        np.savez(cache / "df.npz", **{f"{t}|{n}": v for (t, n), v in df.items()})
    if ns.part in ("all", "johansen"):
        joh = simulate_johansen(ns.joh_reps, np.random.default_rng(ns.seed + 1))
        np.savez(cache / "johansen.npz", **joh)
    if ns.part in ("all", "write"):
        with np.load(cache / "df.npz") as f:
            df = {(k.split("|")[0], int(k.split("|")[1])): f[k] for k in f.files}
        with np.load(cache / "johansen.npz") as f:
            joh = {k: f[k] for k in f.files}
        write_module(df, joh, f"--reps {ns.reps} --joh-reps {ns.joh_reps} --seed {ns.seed}")


if __name__ == "__main__":
    main()
