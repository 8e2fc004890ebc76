"""Finite-sample p-values and critical values from the simulated tables in :mod:`pairs.coint._tables`.

One table serves both numbers, so a statistic equal to the reported 5% critical value has a
p-value of exactly 0.05. Between tabulated probability levels the p-value is interpolated
linearly on the probit scale (``norm.ppf(p)`` against the quantile); beyond the outermost levels
(0.05% and 99.9%) it is extrapolated linearly on that scale from a least-squares line through
the five outermost quantiles, so tiny p-values stay ordered and positive (their accuracy there is
that of a normal-tail extrapolation, not a simulation).

Dickey-Fuller / Engle-Granger quantiles are MacKinnon-style response surfaces in ``1 / n_obs``
(``n_obs``: observations of the test regression), clamped to the smallest simulated ``n_obs``
below it. Johansen quantiles are for a large sample (``JOH_T`` observations).
Phillips-Ouliaris quantiles (:mod:`pairs.coint._po_tables`; ``Zt`` reuses the Dickey-Fuller
table) are response surfaces in ``1 / n`` like the Dickey-Fuller ones; ``Pu`` and ``Pz`` reject
for large values, so their tables hold the quantiles of minus the statistic.

See ``tools/coint_tables.py``, ``tools/po_tables.py`` and docs/statistics.md for how the tables
were made.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

from pairs.coint._po_tables import PO, PO_MIN_NOBS
from pairs.coint._tables import DF, DF_MIN_NOBS, JOH, PROBS

__all__ = [
    "MAX_DF_VARS",
    "df_crit",
    "df_pvalue",
    "johansen_crit",
    "johansen_pvalue",
    "po_crit",
    "po_min_nobs",
    "po_pvalue",
]

MAX_DF_VARS = 12
_LEVELS = (0.01, 0.05, 0.10)
_Z = ndtri(PROBS)
_TAIL = 5
_INDEX = {a: int(np.argmin(np.abs(PROBS - a))) for a in (0.01, 0.05, 0.10)}


def _slope(q: np.ndarray, z: np.ndarray) -> float:
    """Least-squares slope of ``z`` on ``q``."""
    dq = q - q.mean()
    return float(dq @ (z - z.mean()) / (dq @ dq))


def _pvalue_from_quantiles(stat: np.ndarray, q: np.ndarray, z: np.ndarray, tail: int = _TAIL) -> np.ndarray:
    """Left-tail probability of ``stat`` given quantiles ``q`` at probit levels ``z`` (increasing).

    Beyond the outermost quantiles the probit is extrapolated along the least-squares line
    through the ``tail`` outermost ones.
    """
    q = np.maximum.accumulate(q)
    out = np.interp(stat, q, z)
    below, above = stat < q[0], stat > q[-1]
    if below.any():
        out = np.where(below, z[0] + _slope(q[:tail], z[:tail]) * (stat - q[0]), out)
    if above.any():
        out = np.where(above, z[-1] + _slope(q[-tail:], z[-tail:]) * (stat - q[-1]), out)
    return ndtr(out)


def _df_quantiles(trend: str, n_vars: int, n_obs: int) -> np.ndarray:
    key = (trend, n_vars)
    inv = 1.0 / max(int(n_obs), DF_MIN_NOBS[key])
    return DF[key].T @ (inv ** np.arange(4))


def df_pvalue(stat: np.ndarray | float, trend: str, n_vars: int, n_obs: np.ndarray | int) -> np.ndarray:
    """Finite-sample p-value of a Dickey-Fuller t-statistic (left tail), element-wise.

    ``n_vars`` is 1 for an ADF test and the number of variables (dependent plus legs) for an
    Engle-Granger test; ``n_obs`` (scalar or array like ``stat``) the observations of the test
    regression. NaN statistics give NaN; ``-inf`` gives 0.
    """
    stats = np.asarray(stat, dtype=np.float64)
    nobs = np.broadcast_to(np.asarray(n_obs), stats.shape)
    out = np.full(stats.shape, np.nan)
    ok = ~np.isnan(stats)
    for size in np.unique(nobs[ok]):
        sel = ok & (nobs == size)
        out[sel] = _pvalue_from_quantiles(stats[sel], _df_quantiles(trend, n_vars, int(size)), _Z)
    return out


def df_crit(trend: str, n_vars: int, n_obs: int) -> dict[str, float]:
    """1%, 5% and 10% critical values matching :func:`df_pvalue` exactly."""
    q = np.maximum.accumulate(_df_quantiles(trend, n_vars, n_obs))
    return {f"{round(a * 100)}%": float(q[_INDEX[a]]) for a in _LEVELS}


def _johansen_quantiles(test: str, case: str, k: int) -> np.ndarray:
    # Stored as 1 - PROBS quantiles of an upper-tail statistic; negate to reuse the left-tail code.
    return -JOH[f"{test}_{case}"][k - 1]


def johansen_pvalue(stat: float, test: str, case: str, k: int) -> float:
    """Asymptotic p-value of a Johansen ``"trace"`` or ``"maxeig"`` statistic with ``k`` trends."""
    if np.isnan(stat):
        return float("nan")
    return float(_pvalue_from_quantiles(np.array([-stat]), _johansen_quantiles(test, case, k), _Z)[0])


def johansen_crit(test: str, case: str, k: int) -> np.ndarray:
    """90%, 95% and 99% critical values (as statsmodels orders them) matching :func:`johansen_pvalue`."""
    q = -np.maximum.accumulate(_johansen_quantiles(test, case, k))
    return q[[_INDEX[0.10], _INDEX[0.05], _INDEX[0.01]]]


def po_min_nobs(trend: str, n_vars: int) -> int:
    """Fewest observations of a Phillips-Ouliaris test: the smallest sample its table simulated."""
    return PO_MIN_NOBS[(trend, n_vars)]


def _po_quantiles(test: str, trend: str, n_vars: int, n_obs: int) -> np.ndarray:
    """Left-tail quantiles at ``PROBS`` of the statistic (of minus it for ``Pu``/``Pz``)."""
    if test == "Zt":
        # At bandwidth 0, Zt = sqrt(n / (n - 2)) times the Engle-Granger Dickey-Fuller t-ratio
        # on n - 1 observations: the same table, rescaled.
        return _df_quantiles(trend, n_vars, n_obs - 1) * np.sqrt(n_obs / (n_obs - 2.0))
    inv = 1.0 / max(int(n_obs), PO_MIN_NOBS[(trend, n_vars)])
    return PO[(test, trend, n_vars)].T @ (inv ** np.arange(4))


def po_pvalue(stat: float, test: str, trend: str, n_vars: int, n_obs: int) -> float:
    """Finite-sample p-value of a Phillips-Ouliaris statistic (``Za``, ``Zt``: left tail; ``Pu``, ``Pz``: right)."""
    if np.isnan(stat):
        return float("nan")
    sign = 1.0 if test in ("Za", "Zt") else -1.0
    q = _po_quantiles(test, trend, n_vars, n_obs)
    return float(_pvalue_from_quantiles(np.array([sign * stat]), q, _Z)[0])


def po_crit(test: str, trend: str, n_vars: int, n_obs: int) -> dict[str, float]:
    """1%, 5% and 10% critical values matching :func:`po_pvalue` exactly."""
    sign = 1.0 if test in ("Za", "Zt") else -1.0
    q = np.maximum.accumulate(_po_quantiles(test, trend, n_vars, n_obs))
    return {f"{round(a * 100)}%": float(sign * q[_INDEX[a]]) for a in _LEVELS}
