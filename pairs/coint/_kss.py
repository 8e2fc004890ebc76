"""Kapetanios-Shin-Snell (2003) unit-root test against a globally stationary ESTAR process."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from pairs._kernels import pow2_scale
from pairs._results import ResultMixin
from pairs._typing import ArrayLike1D
from pairs._validation import as_series, check_choice, check_not_constant
from pairs.coint._kernels import TREND_TERMS, _legendre
from pairs.coint._stationarity import Autolag, resolve_lag_options

__all__ = ["KSSResult", "kss"]

KSSTrend = Literal["n", "c", "ct"]
# Kapetanios, Shin and Snell (2003), Table 1: asymptotic critical values of t_NL for the raw
# (case 1), de-meaned (case 2) and de-trended (case 3) series.
KSS_CRIT: dict[str, dict[str, float]] = {
    "n": {"1%": -2.82, "5%": -2.22, "10%": -1.92},
    "c": {"1%": -3.48, "5%": -2.93, "10%": -2.66},
    "ct": {"1%": -3.93, "5%": -3.40, "10%": -3.13},
}
# statsmodels' _autolag: 5% one-sided normal quantile for the "t-stat" rule.
_TSTAT_STOP = 1.6448536269514722


@dataclass(frozen=True, repr=False)
class KSSResult(ResultMixin):
    """KSS test (null: unit root; alternative: a globally stationary ESTAR process).

    ``pvalue`` is None: the published table gives the critical values only.
    """

    stat: float
    pvalue: float | None
    crit_values: dict[str, float]
    lags: int
    n_obs: int
    icbest: float | None
    trend: str
    autolag: str | None
    max_lag: int
    _title = "Kapetanios-Shin-Snell nonlinear unit-root test"


def _fit(dep: np.ndarray, design: np.ndarray) -> tuple[np.ndarray, float]:
    """t-values and residual sum of squares of the OLS of ``dep`` on ``design`` (no constant added)."""
    # Columns scaled to unit norm: t-values are scale free, and v^3 next to differences of v
    # would otherwise make the cross-product badly conditioned.
    norms = np.sqrt((design**2).sum(axis=0))
    xs = design / norms
    coef, *_ = np.linalg.lstsq(xs, dep, rcond=None)
    resid = dep - xs @ coef
    ssr = float(resid @ resid)
    dof = dep.shape[0] - design.shape[1]
    se = np.sqrt(ssr / dof * np.diag(np.linalg.inv(xs.T @ xs)))
    return coef / se, ssr


def _regression(v: np.ndarray, lags: int, first: int) -> tuple[np.ndarray, np.ndarray]:
    """``dv_t`` on ``[v_{t-1}^3, dv_{t-1}, ..., dv_{t-lags}]`` for the differences from index ``first``."""
    dv = np.diff(v)
    rows = slice(first, dv.shape[0])
    cols = [v[:-1][rows] ** 3] + [dv[first - j : dv.shape[0] - j] for j in range(1, lags + 1)]
    return dv[rows], np.column_stack(cols)


def _select_lag(v: np.ndarray, max_lag: int, autolag: str, scale: float) -> tuple[int, float]:
    """statsmodels' ``_autolag`` rule on the common sample of ``max_lag`` lags: ``(lag, icbest)``
    (``v`` is the series divided by ``scale``, which the information criteria add back)."""
    dep, full = _regression(v, max_lag, max_lag)
    n = dep.shape[0]
    if autolag == "t-stat":
        for lag in range(max_lag, -1, -1):
            tvals, _ = _fit(dep, full[:, : lag + 1])
            if abs(tvals[-1]) >= _TSTAT_STOP or lag == 0:
                return lag, abs(float(tvals[-1]))
    penalty = 2.0 if autolag == "aic" else math.log(n)
    ics = []
    for lag in range(max_lag + 1):
        _, ssr = _fit(dep, full[:, : lag + 1])
        llf = -n / 2.0 * (math.log(2.0 * math.pi) + math.log(ssr / n) + 2.0 * math.log(scale) + 1.0)
        ics.append(-2.0 * llf + penalty * (lag + 1))
    best = int(np.argmin(ics))
    return best, float(ics[best])


def kss(
    series: ArrayLike1D,
    *,
    trend: KSSTrend = "c",
    max_lag: int | None = None,
    autolag: Autolag | None = "bic",
) -> KSSResult:
    """Kapetanios-Shin-Snell (2003) test of a unit root against a stationary ESTAR process.

    Under the alternative the series mean-reverts faster the further it is from equilibrium
    (an exponential smooth-transition autoregression, as a spread bounded by arbitrage). The
    series is first de-meaned (``trend="c"``) or de-trended by OLS on ``[1, t]`` (``"ct"``), or
    left as it is (``"n"``); ``stat`` is then the t-ratio ``t_NL`` of ``delta`` in the OLS, without
    deterministic terms, of ``dv_t = delta v_{t-1}^3 + sum_j rho_j dv_{t-j} + e_t``.

    Critical values are the asymptotic ones of KSS (2003), Table 1 (1%, 5%, 10%): raw
    -2.82, -2.22, -1.92; de-meaned -3.48, -2.93, -2.66; de-trended -3.93, -3.40, -3.13. No
    p-value is published (``pvalue`` is None). Their size by simulation is in docs/statistics.md.

    Parameters
    ----------
    series
        The series to test (a spread, or log prices).
    trend
        ``"c"`` (de-meaned, default), ``"ct"`` (de-trended) or ``"n"`` (raw).
    max_lag
        Largest number of lagged differences; default and bound as in :func:`pairs.coint.adf`.
    autolag
        ``"bic"`` (default), ``"aic"``, ``"t-stat"`` (the rules of statsmodels' ``adfuller``: the
        search runs on the common sample of ``max_lag`` lags, then the chosen lag is refitted on
        its own sample), or ``None`` to use ``max_lag`` lags.

    Returns
    -------
    KSSResult
        ``stat``, ``crit_values``, the ``lags`` used, ``n_obs`` of the final regression and
        ``icbest`` (None without autolag).

    Examples
    --------
    >>> import numpy as np, pairs
    >>> btc = np.log(pairs.load_sample("binance_1d")["BTC"].dropna())
    >>> res = kss(btc)
    >>> bool(res.stat > res.crit_values["10%"]), res.crit_values["5%"]
    (True, -2.93)
    """
    s = as_series(series, "series", min_length=6)
    check_not_constant("series", s)
    check_choice("trend", trend, tuple(KSS_CRIT))
    ntrend = TREND_TERMS[trend]
    lag = resolve_lag_options(max_lag, autolag, len(s), ntrend)
    v = s.to_numpy()
    if ntrend:
        det = _legendre(len(v), ntrend).T
        v = v - det @ np.linalg.lstsq(det, v, rcond=None)[0]
    # v^3 of a series of size 1e60 (or 1e-60) overflows (underflows): scaled exactly by a power of
    # two, the t-statistic is unchanged (it is scale free).
    scale = pow2_scale(v)
    v = v / scale
    icbest: float | None = None
    chosen = lag
    if autolag is not None:
        chosen, icbest = _select_lag(v, lag, autolag, scale)
    dep, design = _regression(v, chosen, chosen)
    tvals, _ = _fit(dep, design)
    return KSSResult(
        stat=float(tvals[0]),
        pvalue=None,
        crit_values=dict(KSS_CRIT[trend]),
        lags=chosen,
        n_obs=dep.shape[0],
        icbest=icbest,
        trend=trend,
        autolag=autolag,
        max_lag=lag,
    )
