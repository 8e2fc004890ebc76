"""Simulate the null distributions of the Phillips-Ouliaris Za, Pu and Pz statistics.

Run ``python tools/po_tables.py`` (defaults ``--reps 40000 --seed 20261124``); it rewrites
``pairs/coint/_po_tables.py`` (about 5 minutes on one core).

For every deterministic case ``trend`` in ``n, c, ct, ctt`` and number of variables ``N = 2..12``
(``y`` and ``N - 1`` legs), independent Gaussian random walks of length ``n`` give the statistics
of :func:`pairs.phillips_ouliaris` with the kernel at bandwidth 0 (the design of arch's tables:
serial-correlation corrections vanish under iid innovations, and the limit does not depend on
them). At every probability level of ``PROBS`` the simulated quantiles over the grid of ``n`` are
fitted by OLS to the response surface ``q(n) = b0 + b1 / n + b2 / n**2 + b3 / n**3``, as
``tools/coint_tables.py`` does for the Dickey-Fuller table. ``Pu`` and ``Pz`` reject for large
values: their table holds the quantiles of ``-stat`` so that one left-tail code reads all three.
``Zt`` needs no table: at bandwidth 0 it is the Engle-Granger Dickey-Fuller t-ratio times
``sqrt(n / (n - 2))`` (see :func:`pairs.coint._critical.po_pvalue`).

Every statistic is a function of cross-products of the panel ``[1, u, u^2, walks]`` (lagged,
leading and full sample), so one simulated panel serves every (trend, N).
"""

from __future__ import annotations

import argparse
import pathlib
import time

import numpy as np
from coint_tables import DF_TRENDS, MAX_VARS, PROBS, _array, _legendre, fit_surfaces

PO_NOBS = (20, 25, 30, 40, 50, 70, 100, 150, 250, 500, 1000)
TESTS = ("Za", "Pu", "Pz")
OUT = pathlib.Path(__file__).resolve().parents[1] / "pairs" / "coint" / "_po_tables.py"


def min_nobs(trend: str, n_vars: int) -> int:
    """Smallest simulated ``n``: the VAR(1) of the P tests keeps at least ``N + 7`` residual degrees of freedom."""
    need = 2 * n_vars + len(trend.replace("n", "")) + 8
    return min(g for g in PO_NOBS if g >= need)


def _quad(w: np.ndarray, m: np.ndarray) -> np.ndarray:
    return np.einsum("bi,bij,bj->b", w, m, w)


def _schur(m: np.ndarray, keep: list[int], out: list[int]) -> np.ndarray:
    """``M[keep, keep] - M[keep, out] M[out, out]^-1 M[out, keep]`` for each panel (residual cross-product)."""
    mkk = m[:, keep][:, :, keep]
    if not out:
        return mkk
    mko = m[:, keep][:, :, out]
    return mkk - mko @ np.linalg.solve(m[:, out][:, :, out], mko.transpose(0, 2, 1))


def po_chunk(rng: np.random.Generator, n: int, reps: int) -> dict[tuple[str, str, int], np.ndarray]:
    """Za, Pu, Pz for every (trend, N) on ``reps`` panels of ``MAX_VARS`` walks of length ``n``."""
    walks = np.cumsum(rng.standard_normal((reps, n, MAX_VARS)), axis=1)
    det = np.broadcast_to(_legendre(n, 3), (reps, n, 3))
    z = np.concatenate([det, walks], axis=2)
    zt = z.transpose(0, 2, 1)
    g = zt @ z
    lag, lead = z[:, :-1], z[:, 1:]
    a = lag.transpose(0, 2, 1) @ lag
    c = lag.transpose(0, 2, 1) @ lead
    e = lead.transpose(0, 2, 1) @ lead
    out: dict[tuple[str, str, int], np.ndarray] = {}
    for trend in DF_TRENDS:
        k = len(trend.replace("n", ""))
        dcols = list(range(k))
        for n_vars in range(2, MAX_VARS + 1):
            if n < min_nobs(trend, n_vars):
                continue
            wcols = [3 + j for j in range(n_vars)]
            # Cointegrating regression of walk 0 on the others and the deterministic terms.
            xcols = dcols + wcols[1:]
            coef = np.linalg.solve(g[:, xcols][:, :, xcols], g[:, xcols, wcols[0]][..., None])[..., 0]
            w = np.concatenate([np.ones((reps, 1)), -coef], axis=1)
            ucols = [wcols[0], *xcols]
            sxx = _quad(w, a[:, ucols][:, :, ucols])
            sxy = _quad(w, c[:, ucols][:, :, ucols]) - sxx
            out[("Za", trend, n_vars)] = n * sxy / sxx
            # VAR(1) residual covariance (leads on lags and deterministic terms), divided by n.
            var_x = dcols + wcols
            cxy = c[:, var_x][:, :, wcols]
            omega = (
                e[:, wcols][:, :, wcols]
                - cxy.transpose(0, 2, 1) @ np.linalg.solve(a[:, var_x][:, :, var_x], cxy)
            ) / n
            rss = _quad(w, g[:, ucols][:, :, ucols])
            w21 = omega[:, 1:, 0]
            omega112 = omega[:, 0, 0] - np.einsum(
                "bi,bi->b", w21, np.linalg.solve(omega[:, 1:, 1:], w21[..., None])[..., 0]
            )
            out[("Pu", trend, n_vars)] = n * omega112 / (rss / n)
            if k:
                mzz = _schur(g, wcols, dcols)
            else:
                first = walks[:, 0, :n_vars]
                total = g[:, 0, wcols]  # column 0 of the panel is the constant
                outer = first[:, :, None] * total[:, None, :]
                mzz = g[:, wcols][:, :, wcols] - outer - outer.transpose(0, 2, 1)
                mzz = mzz + n * first[:, :, None] * first[:, None, :]
            out[("Pz", trend, n_vars)] = n * np.trace(np.linalg.solve(mzz / n, omega), axis1=1, axis2=2)
    return out


def simulate(reps: int, rng: np.random.Generator) -> dict[tuple[str, str, int], np.ndarray]:
    """Response-surface coefficients ``(4, len(PROBS))`` for every (test, trend, N)."""
    quantiles: dict[tuple[str, str, int], dict[int, np.ndarray]] = {}
    for n in PO_NOBS:
        chunk = max(200, min(20000, int(4e7 / (n * (MAX_VARS + 3) * 8))))
        stats: dict[tuple[str, str, int], list[np.ndarray]] = {}
        done = 0
        start = time.time()
        while done < reps:
            size = min(chunk, reps - done)
            for key, value in po_chunk(rng, n, size).items():
                stats.setdefault(key, []).append(value)
            done += size
        for key, parts in stats.items():
            values = np.concatenate(parts)
            sign = 1.0 if key[0] == "Za" else -1.0
            quantiles.setdefault(key, {})[n] = np.quantile(sign * values, PROBS)
        print(f"PO n={n}: {time.time() - start:.1f} s", flush=True)
    return fit_surfaces(quantiles)


def write_module(coefs: dict[tuple[str, str, int], np.ndarray], args: str) -> None:
    lines = [
        '"""Simulated null distributions of the Phillips-Ouliaris Za, Pu and Pz statistics (generated file).',
        "",
        f"Written by ``python tools/po_tables.py {args}``; do not edit by hand. See that script and",
        "docs/statistics.md for the method. ``PO[(test, trend, N)]`` is a ``4 x len(PROBS)`` array of",
        "response-surface coefficients: the ``PROBS[i]`` quantile of the statistic (of minus the",
        "statistic for ``Pu`` and ``Pz``) with ``n`` observations is ``sum_j PO[key][j, i] / n**j``.",
        "``PO_MIN_NOBS[(trend, N)]`` is the smallest simulated ``n``. ``PROBS`` is that of",
        ":mod:`pairs.coint._tables`.",
        '"""',
        "",
        "import numpy as np",
        "",
        "# fmt: off",
        "PO_MIN_NOBS = {",
    ]
    pairs_ = sorted({(t, nv) for _, t, nv in coefs})
    lines += [f"    ({t!r}, {nv}): {min_nobs(t, nv)}," for t, nv in pairs_]
    lines += ["}", "PO = {"]
    for key in sorted(coefs):
        lines.append(f"    {key!r}: {_array(coefs[key])},")
    lines += ["}", "# fmt: on", ""]
    OUT.write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=40_000, help="replications per sample size")
    parser.add_argument("--seed", type=int, default=20261124)
    ns = parser.parse_args()
    coefs = simulate(ns.reps, np.random.default_rng(ns.seed))
    write_module(coefs, f"--reps {ns.reps} --seed {ns.seed}")


if __name__ == "__main__":
    main()
