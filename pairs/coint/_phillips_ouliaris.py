"""Phillips-Ouliaris (1990) residual-based cointegration tests: Z-alpha, Z-t, P-u and P-z."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from pairs._results import ResultMixin
from pairs._typing import ArrayLike1D, ArrayLike2D
from pairs._validation import align_pair, check_choice, check_float, check_not_constant
from pairs.coint._critical import MAX_DF_VARS, po_crit, po_min_nobs, po_pvalue
from pairs.coint._kernels import _COLLINEAR_R2, TREND_TERMS, _coint, _legendre
from pairs.coint._lrcov import KERNELS, Kernel, long_run_cov
from pairs.coint._stationarity import Trend
from pairs.exceptions import DataError, InsufficientDataError, PairsError

__all__ = ["PhillipsOuliarisResult", "phillips_ouliaris"]

TestType = Literal["Za", "Zt", "Pu", "Pz"]
_TEST_TYPES = ("Za", "Zt", "Pu", "Pz")


@dataclass(frozen=True, repr=False)
class PhillipsOuliarisResult(ResultMixin):
    """Phillips-Ouliaris cointegration test (null: no cointegration).

    ``beta``, ``alpha`` and ``spread`` are those of the cointegrating regression
    ``y = alpha + beta * x [+ trend] + spread``, as in :class:`~pairs.EngleGrangerResult`.
    ``Za`` and ``Zt`` reject for small (negative) values, ``Pu`` and ``Pz`` for large ones.
    """

    stat: float
    pvalue: float
    crit_values: dict[str, float]
    test_type: str
    beta: float | pd.Series
    alpha: float
    spread: pd.Series
    kernel: str
    bandwidth: float
    n_obs: int
    trend: str
    _title = "Phillips-Ouliaris cointegration test"


def _z_stat(u: np.ndarray, test_type: str, kernel: str, bandwidth: float | None) -> tuple[float, float]:
    """Z-alpha or Z-t of the residual ``u`` of the cointegrating regression."""
    n = u.shape[0]
    lag, lead = u[:-1], u[1:]
    u2 = float(lag @ lag)
    rho = float(lag @ lead) / u2
    cov = long_run_cov((lead - rho * lag)[:, None], kernel, bandwidth)
    # Rescale the (n - 1)-row covariances to Phillips and Ouliaris' division by n.
    scale = (n - 1) / n
    z = (rho - 1.0) - n * scale * float(cov.one_sided_strict[0, 0]) / u2
    if test_type == "Za":
        return n * z, cov.bandwidth
    return z / np.sqrt(scale * float(cov.long_run[0, 0]) / u2), cov.bandwidth


def _p_stat(
    z: np.ndarray, u: np.ndarray, test_type: str, ntrend: int, kernel: str, bandwidth: float | None
) -> tuple[float, float]:
    """P-u or P-z of the data ``z = [y, x]`` (``n x N``) with cointegrating residual ``u``."""
    n = z.shape[0]
    # VAR(1) of z with the deterministic terms: its residuals estimate the long-run covariance.
    design = np.hstack([z[:-1], _legendre(n - 1, ntrend).T])
    xi = z[1:] - design @ np.linalg.lstsq(design, z[1:], rcond=None)[0]
    cov = long_run_cov(xi, kernel, bandwidth)
    omega = (n - 1) / n * cov.long_run
    if test_type == "Pu":
        w21 = omega[1:, 0]
        omega112 = omega[0, 0] - w21 @ np.linalg.solve(omega[1:, 1:], w21)
        return n * omega112 / (float(u @ u) / n), cov.bandwidth
    if ntrend:
        det = _legendre(n, ntrend).T
        zt = z - det @ np.linalg.lstsq(det, z, rcond=None)[0]
    else:
        # Without deterministic terms the first value would shift the distribution (as arch).
        zt = z - z[:1]
    return n * float(np.trace(np.linalg.solve(zt.T @ zt / n, omega))), cov.bandwidth


def phillips_ouliaris(
    y: ArrayLike1D,
    x: ArrayLike1D | ArrayLike2D,
    *,
    trend: Trend = "c",
    test_type: TestType = "Zt",
    kernel: Kernel = "bartlett",
    bandwidth: float | None = None,
) -> PhillipsOuliarisResult:
    """Phillips-Ouliaris cointegration test with finite-sample p-values.

    The statistics are those of ``arch.unitroot.cointegration.phillips_ouliaris`` (equal to
    1e-10 on real data): with ``u`` the residual of the cointegrating regression of ``y`` on
    ``x`` and the deterministic terms of ``trend`` (the Engle-Granger regression),

    * ``"Za"``: ``n (rho - 1 - lambda / s_uu)``, the bias-corrected AR(1) coefficient of ``u``;
    * ``"Zt"``: the same correction as a t-ratio, ``(rho - 1 - lambda / s_uu) / sqrt(omega / s_uu)``;
    * ``"Pu"``: the variance ratio ``n omega_11.2 / (u'u / n)``;
    * ``"Pz"``: ``n tr(Omega M_zz^-1)``, invariant to which series is ``y``.

    ``lambda``/``omega`` (one-sided and long-run variances of the AR(1) innovations) and ``Omega``
    (of the residuals of a VAR(1) of ``[y, x]``) are kernel estimates (:mod:`pairs.coint._lrcov`).
    ``Za`` and ``Zt`` reject for small values, ``Pu`` and ``Pz`` for large ones.

    P-values and critical values come from one simulated response surface per statistic,
    ``trend`` and number of variables ``N`` (1 + legs, up to 12) in the number of observations
    ``n``, under independent random walks with the kernel at bandwidth 0 (as arch's tables; the
    kernel correction only matters asymptotically): ``"Zt"`` reuses the Engle-Granger table
    (at bandwidth 0, ``Zt`` is the Dickey-Fuller t-ratio times ``sqrt(n / (n - 2))``), the others
    are in :mod:`pairs.coint._po_tables` (docs/statistics.md).

    Parameters
    ----------
    y
        The asset hedged (log prices).
    x
        The hedge: a Series, or a DataFrame of up to 11 legs.
    trend
        Deterministic terms of the cointegrating regression: ``"n"``, ``"c"``, ``"ct"``, ``"ctt"``.
    test_type
        ``"Zt"`` (default), ``"Za"``, ``"Pu"`` or ``"Pz"``.
    kernel
        Long-run covariance kernel: ``"bartlett"`` (Newey-West, default), ``"parzen"`` or
        ``"quadratic-spectral"``.
    bandwidth
        Kernel bandwidth (>= 0; 0 ignores serial correlation). Default: Andrews / Newey-West
        automatic selection, as arch. For ``Pu`` and ``Pz`` it is chosen on the sum of the VAR
        residuals of ``y`` and ``x``, so it depends on their relative units (use log prices).

    Returns
    -------
    PhillipsOuliarisResult

    Examples
    --------
    >>> import numpy as np, pairs
    >>> prices = np.log(pairs.load_sample("binance_1d")[["BTC", "ETH"]].dropna())
    >>> res = phillips_ouliaris(prices["ETH"], prices["BTC"])
    >>> bool(res.pvalue > 0.10), round(res.beta, 3)
    (True, 1.053)
    """
    check_choice("test_type", test_type, _TEST_TYPES)
    check_choice("trend", trend, TREND_TERMS)
    check_choice("kernel", kernel, KERNELS)
    if bandwidth is not None:
        bandwidth = check_float("bandwidth", bandwidth, minimum=0.0)
    ys, xs = align_pair(y, x, allow_frame_x=True, min_length=2)
    check_not_constant("y", ys)
    check_not_constant("x", xs)
    legs = xs if isinstance(xs, pd.DataFrame) else xs.to_frame()
    n_vars = legs.shape[1] + 1
    if n_vars > MAX_DF_VARS:
        raise PairsError(f"x must have at most {MAX_DF_VARS - 1} columns; got {legs.shape[1]}.")
    ntrend = TREND_TERMS[trend]
    n = len(ys)
    need = po_min_nobs(trend, n_vars)
    if n < need:
        raise InsufficientDataError(
            f"y must have at least {need} observations for {n_vars - 1} leg(s) and trend {trend!r}; got {n}."
        )
    z = np.column_stack([ys.to_numpy(), legs.to_numpy()])
    panel = np.ascontiguousarray(z.T)
    beta, alpha, resid, r2 = _coint(
        panel,
        np.arange(n, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
        np.arange(1, n_vars, dtype=np.int64)[None, :],
        ntrend,
    )
    if np.isnan(beta).any() or not r2[0] < _COLLINEAR_R2:
        raise DataError(
            "x must not fit y exactly (or be collinear); got a cointegrating regression with R^2 = 1."
        )
    u = resid[0]
    if test_type in ("Za", "Zt"):
        stat, bw = _z_stat(u, test_type, kernel, bandwidth)
    else:
        stat, bw = _p_stat(z, u, test_type, ntrend, kernel, bandwidth)
    coef: float | pd.Series = (
        float(beta[0, 0]) if legs.shape[1] == 1 else pd.Series(beta[0], index=legs.columns, name="beta")
    )
    return PhillipsOuliarisResult(
        stat=float(stat),
        pvalue=po_pvalue(float(stat), test_type, trend, n_vars, n),
        crit_values=po_crit(test_type, trend, n_vars, n),
        test_type=test_type,
        beta=coef,
        alpha=float(alpha[0]),
        spread=pd.Series(u, index=ys.index, name="spread"),
        kernel=kernel,
        bandwidth=float(bw),
        n_obs=n,
        trend=trend,
    )
