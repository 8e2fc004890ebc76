"""EM estimation of the Kalman hedge's noise: full transition covariance ``Q`` and ``obs_var``.

The E-step is the Rauch-Tung-Striebel smoother and the M-steps are pykalman's closed forms
(``transition_covariance`` and ``observation_covariance`` only), all compiled in
:mod:`pairs.hedge._kernels` (:func:`~pairs.hedge._kernels.kalman_em`). With ``tol=0`` and the
same number of iterations the numbers equal pykalman's ``KalmanFilter.em`` to rounding.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from pairs.exceptions import EMConvergenceWarning
from pairs.hedge._kernels import kalman_em

__all__ = ["fit_em"]


def fit_em(
    y: np.ndarray,
    x: np.ndarray,
    mean0: tuple[float, float],
    cov0: tuple[float, float, float],
    q: float,
    r: float,
    n_iter: int,
    tol: float,
) -> tuple[np.ndarray, float, bool]:
    """Run EM from ``Q = q * I`` and ``r``: returns ``(Q, r, converged)``.

    Stops when an iteration raises the log-likelihood by at most ``tol * (1 + |loglik|)``
    (EM never lowers it), or after ``n_iter`` iterations with an
    :class:`~pairs.exceptions.EMConvergenceWarning`; ``tol = 0`` runs exactly ``n_iter``
    iterations without a warning (and ``converged`` False). Inputs are trusted (validated by ``kalman_hedge``).
    """
    q00, q01, q11, r_hat, path, converged = kalman_em(y, x, *mean0, *cov0, q, 0.0, q, r, n_iter, tol)
    if tol > 0.0 and not converged:
        gain = path[-1] - path[-2] if len(path) > 1 else math.nan
        warnings.warn(
            f"em_iter must be large enough for EM to converge; got em_iter={n_iter}, stopping with a "
            f"log-likelihood gain of {gain:.3g} per iteration (em_tol={tol:g}).",
            EMConvergenceWarning,
            stacklevel=3,
        )
    return np.array([[q00, q01], [q01, q11]]), float(r_hat), tol > 0.0 and bool(converged)
