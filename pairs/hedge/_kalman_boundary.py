"""Is a fitted Kalman noise at the boundary of its parameter space (``obs_var`` or ``Q`` at 0)?

A variance fitted at (or converging to) 0 is not an interior optimum: the likelihood is flat
toward 0, the usual standard errors do not apply, and the filter degenerates. The check is a
likelihood-ratio test of the boundary value against the fit, with the other noise held at its
fitted value: twice the log-likelihood gain of the fit over the boundary below 2.71, the 5%
critical value of a variance on its boundary (the 50:50 mixture of 0 and chi-square(1); Self and
Liang 1987), means the data cannot tell the fit from 0. Holding the other noise fixed overstates
the gain, so the check errs toward not warning.
"""

from __future__ import annotations

import warnings

import numpy as np

from pairs.exceptions import KalmanBoundaryWarning
from pairs.hedge._kernels import kalman_loglik

__all__ = ["BOUNDARY_LR_CRIT", "warn_at_boundary"]

BOUNDARY_LR_CRIT = 2.71
# The boundary is evaluated a million times below the fit, not at 0, so the innovation variance
# stays positive whatever the prior; the log-likelihood is continuous there.
_TOWARD_ZERO = 1e-6


def warn_at_boundary(
    y: np.ndarray,
    x: np.ndarray,
    mean0: tuple[float, float],
    cov0: tuple[float, float, float],
    trans_cov: np.ndarray,
    r: float,
    loglik: float,
    innovation_var: np.ndarray,
    fit: str,
) -> None:
    """Emit :class:`~pairs.exceptions.KalmanBoundaryWarning` when ``obs_var`` or ``Q`` is at 0.

    ``loglik`` is the log-likelihood of the fit and ``innovation_var`` its path, both in the
    filter's units (``y``, ``x`` as the filter saw them).
    """
    q00, q01, q11 = float(trans_cov[0, 0]), float(trans_cov[0, 1]), float(trans_cov[1, 1])
    lr_obs = 2.0 * (loglik - kalman_loglik(y, x, *mean0, *cov0, q00, q01, q11, r * _TOWARD_ZERO))
    if lr_obs < BOUNDARY_LR_CRIT:
        shrink = float(np.nanmedian(r / innovation_var))
        warnings.warn(
            f"obs_var must be away from 0 for the spread to mean anything; got fit={fit!r} ending at "
            f"obs_var={r:.3g}, which the data cannot tell from 0 (twice the log-likelihood ratio of "
            f"the fit to obs_var -> 0 is {lr_obs:.3g} < {BOUNDARY_LR_CRIT}, the 5% critical value of a "
            f"variance at its boundary). The spread is obs_var / innovation_var times the innovation "
            f"(median {shrink:.2g}): as obs_var -> 0 the state absorbs every move of y, the spread "
            "goes to 0 and carries no mean-reversion signal. Fix obs_var and delta (fit=None) instead.",
            KalmanBoundaryWarning,
            stacklevel=3,
        )
    lr_state = 2.0 * (
        loglik
        - kalman_loglik(y, x, *mean0, *cov0, q00 * _TOWARD_ZERO, q01 * _TOWARD_ZERO, q11 * _TOWARD_ZERO, r)
    )
    if lr_state < BOUNDARY_LR_CRIT:
        warnings.warn(
            f"the state noise must be away from 0 for a time-varying hedge; got fit={fit!r} ending "
            f"at a transition variance of {max(q00, q11):.3g}, which the data cannot tell from 0 "
            f"(twice the log-likelihood ratio of the fit to Q -> 0 is {lr_state:.3g} < "
            f"{BOUNDARY_LR_CRIT}). "
            "The hedge ratio and intercept are then constant: a static OLS hedge fits as well.",
            KalmanBoundaryWarning,
            stacklevel=3,
        )
