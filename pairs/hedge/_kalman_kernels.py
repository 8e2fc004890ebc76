"""Numba kernels of the two-state (beta, alpha) Kalman filter behind :func:`pairs.hedge.kalman.kalman_hedge`.

The model is a random-walk state ``s_t = (beta_t, alpha_t)`` with transition covariance
``Q`` and the scalar observation ``y_t = beta_t x_t + alpha_t + e_t``, ``Var(e_t) = r``.
The 2x2 algebra is written out in scalars (``P`` is kept as its three distinct entries
``p00, p01, p11``) so one bar costs a few dozen flops and no allocation.

:func:`kalman_step` is the single source of truth: the batch kernels loop over it, and a
streaming engine calls it once per bar, so both produce bit-identical numbers.
Inputs are trusted: validation happens in :mod:`pairs.hedge.kalman`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["kalman_filter", "kalman_loglik", "kalman_step"]

_LOG_2PI = math.log(2.0 * math.pi)


@njit(cache=True)
def kalman_step(
    beta: float,
    alpha: float,
    p00: float,
    p01: float,
    p11: float,
    y: float,
    x: float,
    q00: float,
    q01: float,
    q11: float,
    r: float,
    first: bool,
) -> tuple[float, float, float, float, float, float, float, float]:
    """Advance the filter by one bar.

    Parameters
    ----------
    beta, alpha, p00, p01, p11
        Filtered state mean and covariance after the previous bar or, when ``first``,
        the prior at this bar.
    y, x
        This bar's observation; NaN in either makes the bar prediction-only.
    q00, q01, q11
        Transition covariance ``Q``.
    r
        Observation variance, > 0.
    first
        True for the first bar of a series: no prediction step (pykalman's convention).

    Returns
    -------
    tuple of float
        ``(beta, alpha, p00, p01, p11, innovation, innovation_var, loglik)``: the filtered
        state after this bar, the one-step-ahead innovation and its variance (NaN on a
        prediction-only bar) and the bar's Gaussian log-likelihood (0 on such a bar).
    """
    if not first:
        p00 += q00
        p01 += q01
        p11 += q11
    if math.isnan(y) or math.isnan(x):
        return beta, alpha, p00, p01, p11, math.nan, math.nan, 0.0
    # g = P H' with H = [x, 1]; s = H P H' + r
    g0 = p00 * x + p01
    g1 = p01 * x + p11
    s = x * g0 + g1 + r
    e = y - (beta * x + alpha)
    k0 = g0 / s
    k1 = g1 / s
    beta += k0 * e
    alpha += k1 * e
    # Joseph-free form P - K H P, as pykalman, so the two agree to rounding.
    p00 -= k0 * g0
    p01 -= k0 * g1
    p11 -= k1 * g1
    loglik = -0.5 * (_LOG_2PI + math.log(s) + e * e / s)
    return beta, alpha, p00, p01, p11, e, s, loglik


@njit(cache=True)
def kalman_filter(
    y: np.ndarray,
    x: np.ndarray,
    beta0: float,
    alpha0: float,
    p00: float,
    p01: float,
    p11: float,
    q00: float,
    q01: float,
    q11: float,
    r: float,
) -> tuple[np.ndarray, float, float, float, float]:
    """Run the filter over a series from the prior ``(beta0, alpha0, P0)`` at the first bar.

    Returns ``(paths, loglik, p00, p01, p11)``: ``paths`` is a ``(6, n)`` array of the filtered
    ``beta``, ``alpha``, the ``spread`` ``y - beta x - alpha``, the innovation, its variance
    and the z-score ``innovation / sqrt(innovation_var)`` (one block, so the caller slices six
    views out of one allocation), then the total log-likelihood and the final state covariance.
    """
    n = y.shape[0]
    paths = np.empty((6, n))
    beta, alpha = beta0, alpha0
    total = 0.0
    for t in range(n):
        beta, alpha, p00, p01, p11, e, s, ll = kalman_step(
            beta, alpha, p00, p01, p11, y[t], x[t], q00, q01, q11, r, t == 0
        )
        paths[0, t] = beta
        paths[1, t] = alpha
        paths[2, t] = y[t] - beta * x[t] - alpha
        paths[3, t] = e
        paths[4, t] = s
        paths[5, t] = e / math.sqrt(s)
        total += ll
    return paths, total, p00, p01, p11


@njit(cache=True)
def kalman_loglik(
    y: np.ndarray,
    x: np.ndarray,
    beta0: float,
    alpha0: float,
    p00: float,
    p01: float,
    p11: float,
    q00: float,
    q01: float,
    q11: float,
    r: float,
) -> float:
    """Total innovation log-likelihood only: the objective of the MLE, without output arrays."""
    beta, alpha = beta0, alpha0
    total = 0.0
    for t in range(y.shape[0]):
        beta, alpha, p00, p01, p11, _, _, ll = kalman_step(
            beta, alpha, p00, p01, p11, y[t], x[t], q00, q01, q11, r, t == 0
        )
        total += ll
    return total
