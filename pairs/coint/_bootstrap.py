"""Sieve wild-bootstrap p-values of the ADF and Engle-Granger tests, robust to heteroskedasticity.

Why: under volatility clustering with fat tails (GARCH(1,1) with t(5) errors, as crypto
returns) the response-surface p-values over-reject, 8-10% at nominal 5%, and their far tail is
too liberal for a Benjamini-Hochberg scan (docs/statistics.md). The bootstrap keeps the
volatility path of the data, and with it the finite-sample distribution of the statistic.

Data generator, under the unit-root null (Cavaliere & Taylor 2009, "Heteroskedastic time
series with a unit root"; Smeekes & Taylor 2012):

* ADF: the differences ``d`` of the series follow the test regression without its level,
  ``d_t = c + gamma_1 d_{t-1} + ... + gamma_p d_{t-p} + e_t`` (a constant when the test has
  deterministic terms), with the lag ``p`` AIC picks up to the test's ``max_lag``. Bootstrap
  differences are ``d*_t = sum_j gamma_j d*_{t-j} + w_t e_t`` (no drift: the null of the
  tables), started at the first ``p`` observed differences and cumulated from the first
  observation; ``w_t`` are Rademacher multipliers (+-1), one per path and bar, so
  ``|w_t e_t| = |e_t|`` keeps the volatility path exactly.
* Engle-Granger: the same on the cointegrating residual ``u`` (its ADF has no constant), and
  each leg ``x`` is cumulated from its centred differences times the same ``w_t``, which keeps
  their correlation with the residual's innovations. The statistic of ``y* = b x* + u*`` on
  ``x*`` equals that of ``u*`` on ``x*`` for every ``b`` (the residual of a regression does not
  change when a multiple of a regressor is added), so the paths are ``(u*, x*)``.

Each path runs through the test's own compiled code (same trend, ``max_lag`` and lag rule), so
the bootstrap reproduces the lag search too. The p-value reads the statistic's left-tail
probability off the sorted bootstrap statistics at plotting positions ``i / (n_boot + 1)``,
interpolated on the probit scale as the response surfaces are (:mod:`pairs.coint._critical`);
below the smallest bootstrap statistic the probit is extrapolated along the line through the
lowest 5% of them, so the p-values of a scan stay ordered below ``1 / (n_boot + 1)``.

Multipliers come from ``numpy.random.default_rng([seed, n_obs])``: every series or pair of one
length gets the same ones, so a pair's p-value depends on the seed and its own data only (not on
the other pairs of a scan, their order or the backend).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import ndtri

from pairs._validation import check_choice, check_int
from pairs.coint._critical import _LEVELS, _pvalue_from_quantiles
from pairs.coint._kernels import AUTOLAG_CODES, _adf, _c_array, _coint, eg_rows, sieve_paths

__all__ = ["adf_boot_stats", "boot_crit", "boot_pvalue", "eg_boot_pvalues", "multipliers", "resolve_boot"]

# Share of the bootstrap statistics (the lowest) that set the slope of the far-tail extrapolation.
_TAIL_SHARE = 0.05


def resolve_boot(pvalue: Any, n_boot: Any, seed: Any) -> tuple[int, int] | None:
    """Validate the p-value options of a test: ``(n_boot, seed)`` for the bootstrap, None for the surface."""
    check_choice("pvalue", pvalue, ("surface", "bootstrap"))
    paths = check_int("n_boot", n_boot, minimum=19)
    start = check_int("seed", seed, minimum=0)
    return (paths, start) if pvalue == "bootstrap" else None


def multipliers(seed: int, n_boot: int, n_obs: int) -> np.ndarray:
    """Rademacher multipliers ``(n_boot, n_obs - 1)``, one per path and difference."""
    rng = np.random.default_rng([seed, n_obs])
    return rng.integers(0, 2, size=(n_boot, n_obs - 1)).astype(np.float64) * 2.0 - 1.0


def _levels(boot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted finite bootstrap statistics and their probit plotting positions."""
    q = np.sort(boot[np.isfinite(boot)])
    return q, ndtri(np.arange(1, len(q) + 1) / (len(q) + 1.0))


def boot_pvalue(stat: float, boot: np.ndarray) -> float:
    """Left-tail bootstrap p-value of ``stat`` given the bootstrap statistics ``boot``.

    NaN for a NaN statistic, 0 for ``-inf``; NaN when fewer than 10 bootstrap statistics are finite.
    """
    q, z = _levels(boot)
    if np.isnan(stat) or len(q) < 10:
        return float("nan")
    tail = max(5, int(_TAIL_SHARE * len(q)))
    return float(_pvalue_from_quantiles(np.array([stat]), q, z, tail)[0])


def boot_crit(boot: np.ndarray) -> dict[str, float]:
    """1%, 5% and 10% critical values matching :func:`boot_pvalue` (inside the bootstrap range)."""
    q, z = _levels(boot)
    return {f"{round(a * 100)}%": float(np.interp(ndtri(a), z, q)) for a in _LEVELS}


def _null_ar(d: np.ndarray, p: int, ntrend: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``(gamma, e)`` of the OLS of ``d_t`` on ``d_{t-1..t-p}`` (and a constant if ``ntrend``); None if singular.

    The regression kernel of the Engle-Granger test, on the panel ``[d_t, d_{t-1}, ..., d_{t-p}]``.
    """
    n = d.shape[0] - p
    panel = np.ascontiguousarray(np.stack([d[p - j : p - j + n] for j in range(p + 1)]))
    beta, _, resid, _ = _coint(
        panel,
        np.arange(n, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
        np.arange(1, p + 1, dtype=np.int64)[None, :],
        ntrend,
    )
    if np.isnan(beta).any() or np.isnan(resid).any():
        return None
    return np.ascontiguousarray(beta[0]), np.ascontiguousarray(resid[0])


def _paths(level: np.ndarray, max_lag: int, ntrend: int, w: np.ndarray, out: np.ndarray) -> bool:
    """Sieve paths of ``level`` into ``out``; False if the null model is singular.

    The sieve order is the lag AIC picks for the ADF regression of ``level`` (``ntrend`` terms)
    up to ``max_lag``: longer than the test's BIC lag when the differences have weak
    autocorrelation, which the paths must carry for the bootstrap to reproduce the test's own
    lag-selection error.
    """
    level = _c_array(level)
    lag = int(_adf(level[None, :], max_lag, AUTOLAG_CODES["aic"], ntrend)[1][0])
    d = np.diff(level)
    fit = _null_ar(d, lag, min(ntrend, 1))
    if fit is None:
        return False
    sieve_paths(float(level[0]), np.ascontiguousarray(d[:lag]), fit[0], fit[1], w, np.empty(len(d)), out)
    return True


def adf_boot_stats(
    x: np.ndarray, max_lag: int, autolag: int, ntrend: int, n_boot: int, seed: int
) -> np.ndarray:
    """ADF statistics of ``n_boot`` sieve wild-bootstrap paths of ``x``.

    ``autolag`` and ``ntrend`` are the kernel codes of the test; empty when the null model is singular.
    """
    n = x.shape[0]
    out = np.empty((n_boot, n))
    if not _paths(x, max_lag, ntrend, multipliers(seed, n_boot, n), out):
        return np.empty(0)
    return _adf(out, max_lag, autolag, ntrend)[0]


def eg_boot_pvalues(
    panel: np.ndarray,
    rows: np.ndarray,
    yi: np.ndarray,
    xi: np.ndarray,
    ntrend: int,
    max_lag: int,
    autolag: int,
    n_boot: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Engle-Granger statistics (:func:`~pairs.coint._kernels.eg_rows`) and bootstrap p-values of every regression.

    Arguments as :func:`~pairs.coint._kernels.eg_rows` plus the number of paths and the seed;
    returns ``(stat, pvalue, boot)`` with the bootstrap statistics of each regression (empty
    where the test or its null model is degenerate: NaN p-value).
    """
    out = eg_rows(panel, rows, yi, xi, ntrend, max_lag, autolag)
    m, k = xi.shape
    n = rows.shape[0]
    w = multipliers(seed, n_boot, n)
    paths = np.empty((n_boot * (k + 1), n))
    boot_rows = np.arange(n, dtype=np.int64)
    boot_yi = np.arange(n_boot, dtype=np.int64)
    boot_xi = n_boot * (1 + np.arange(k, dtype=np.int64))[None, :] + boot_yi[:, None]
    pvalue = np.full(m, np.nan)
    boots: list[np.ndarray] = []
    for q in range(m):
        boot = np.empty(0)
        stat = out.stat[q]
        if np.isneginf(stat):
            pvalue[q] = 0.0
        elif np.isfinite(stat) and _paths(out.resid[q], max_lag, 0, w, paths[:n_boot]):
            for j in range(k):
                leg = panel[xi[q, j], rows]
                centred = np.diff(leg)
                centred -= centred.mean()
                # A leg's path: no lags, its centred differences as the innovations.
                sieve_paths(
                    float(leg[0]),
                    np.empty(0),
                    np.empty(0),
                    centred,
                    w,
                    np.empty(n - 1),
                    paths[n_boot * (j + 1) : n_boot * (j + 2)],
                )
            boot = eg_rows(paths, boot_rows, boot_yi, boot_xi, ntrend, max_lag, autolag).stat
            pvalue[q] = boot_pvalue(stat, boot)
        boots.append(boot)
    return out.stat, pvalue, boots
