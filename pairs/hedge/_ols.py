"""Static hedge ratio by ordinary least squares, on levels or on one-bar changes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pairs._kernels import pow2_scale
from pairs._typing import ArrayLike1D, ArrayLike2D
from pairs._validation import check_flag
from pairs.exceptions import DataError, InsufficientDataError
from pairs.hedge._result import HedgeResult
from pairs.hedge._transform import On, prepare_pair

__all__ = ["ols_hedge"]

# A leg whose QR pivot is this small relative to its own norm is a combination of the others.
_COLLINEAR_RTOL = 1e-10


def ols_hedge(
    y: ArrayLike1D, x: ArrayLike1D | ArrayLike2D, *, intercept: bool = True, on: On = "levels"
) -> HedgeResult:
    """Full-sample OLS hedge ratio ``y' = alpha + beta . x' + e`` on the representation ``on``.

    Parameters
    ----------
    y
        Prices of the asset hedged (Series or 1-d array).
    x
        Prices of the hedge: a Series, or a DataFrame with one column per leg.
    intercept
        Fit ``alpha`` (default) or force the line through the origin.
    on
        ``"levels"`` (cointegrating ratio, spread = price spread), ``"diff"``, ``"returns"`` or
        ``"log_returns"`` (minimum-variance ratio ``Cov(dy, dx) / Var(dx)``; the spread is the
        hedged one-bar change). See :mod:`pairs.hedge._transform` for the exact definitions.

    Returns
    -------
    HedgeResult
        ``beta`` (float, or Series by leg), ``alpha``, ``spread`` aligned to the input index
        (NaN at the first bar for changes), ``r_squared`` (centred with an intercept,
        uncentred without, as statsmodels), ``beta_se`` / ``alpha_se`` (classical OLS standard
        errors) and the ``beta_tstat`` / ``alpha_tstat`` properties.

    Notes
    -----
    The full-sample fit looks ahead: use :func:`pairs.hedge._rolling.rolling_hedge` or
    :func:`pairs.hedge._rolling.expanding_hedge` for a ratio known at each bar. The fit centres
    the data before a QR decomposition, so BTC-sized prices lose no precision.

    Examples
    --------
    >>> from pairs import load_sample
    >>> prices = load_sample("binance_1d")[["BTC", "ETH"]].dropna()
    >>> res = ols_hedge(prices["BTC"], prices["ETH"], on="log_returns")
    >>> print(f"beta={res.beta:.4f} r2={res.r_squared:.3f} n={res.n_obs}")
    beta=0.6149 r2=0.630 n=3064
    """
    intercept = check_flag("intercept", intercept)
    prep = prepare_pair(y, x, on)
    yv = prep.yt[prep.offset :]
    xv = prep.xt[prep.offset :]
    n, k = xv.shape
    n_params = k + int(intercept)
    if n <= n_params:
        raise InsufficientDataError(
            f"y must have more than {n_params} observations on {on!r} to fit {n_params} parameter(s); "
            f"got {n}."
        )
    if intercept:
        mean_x = xv.mean(axis=0)
        mean_y = float(yv.mean())
        xc, yc = xv - mean_x, yv - mean_y
    else:
        mean_x, mean_y = np.zeros(k), 0.0
        xc, yc = xv, yv
    # Scaled by powers of two (exact): prices near 1e-303 (or 1e300) would under- or overflow
    # the sums of squares; every output is scale-equivariant and converted back below.
    sy = pow2_scale(yc)
    sx = np.array([pow2_scale(col) for col in xc.T])
    xs, ys = xc / sx, yc / sy
    q, r = np.linalg.qr(xs)
    if np.any(np.abs(np.diag(r)) <= _COLLINEAR_RTOL * np.linalg.norm(xs, axis=0)):
        raise DataError("x must not have collinear legs; got a column that is a combination of the others.")
    from scipy.linalg import solve_triangular  # scipy loads on first use

    coef_s = solve_triangular(r, q.T @ ys)
    resid = ys - xs @ coef_s
    ssr = float(resid @ resid)
    r_squared = 1.0 - ssr / float(ys @ ys)
    s2 = ssr / (n - n_params)
    r_inv = solve_triangular(r, np.eye(k))
    cov = s2 * (r_inv @ r_inv.T)
    coef = coef_s * sy / sx
    beta_se = np.sqrt(np.diag(cov)) * sy / sx
    alpha = mean_y - float(mean_x @ coef) if intercept else 0.0
    mx = mean_x / sx
    alpha_se = sy * float(np.sqrt(s2 / n + mx @ cov @ mx)) if intercept else None
    spread = pd.Series(prep.yt - prep.xt @ coef - alpha, index=prep.index, name="spread")
    legs = prep.legs
    return HedgeResult(
        method="ols",
        on=on,
        beta=float(coef[0]) if legs is None else pd.Series(coef, index=legs, name="beta"),
        alpha=alpha,
        spread=spread,
        r_squared=r_squared,
        n_obs=n,
        params={"intercept": intercept},
        beta_se=float(beta_se[0]) if legs is None else pd.Series(beta_se, index=legs, name="beta_se"),
        alpha_se=alpha_se,
    )
