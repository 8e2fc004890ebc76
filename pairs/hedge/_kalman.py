"""Kalman-filter dynamic hedge ratio: ``y_t = beta_t x_t + alpha_t + e_t``.

The state ``(beta_t, alpha_t)`` follows a random walk with transition covariance
``delta / (1 - delta) * I`` and ``Var(e_t) = obs_var``. Reported paths are *filtered*
(bar ``t`` uses data up to and including ``t``), never smoothed, so they are causal.
``delta``, ``obs_var`` and the prior are in ``noise_units``: the filter runs on prices over
their first value (``"ratio"``, the default), log prices minus their first value (``"log"``) or
the data as given (``"raw"``), and the paths are mapped back to the input's units (see
:mod:`pairs.hedge._kalman_units`). The prior ``initial_state_mean`` / ``initial_state_cov`` applies AT the first bar, with no
prediction step before the first update: the convention of pykalman, whose
``KalmanFilter.filter`` this module reproduces to rounding error (see the tests).

A bar where ``y`` or ``x`` is NaN is prediction-only: no update, ``beta``/``alpha`` carry
the predicted state and ``innovation``/``zscore`` are NaN.

Streaming
---------
:func:`kalman_step` advances the filter by one bar in O(1) and is the same function the
batch kernel loops over, so stepping bar by bar reproduces :func:`kalman_hedge` exactly::

    kalman_step(beta, alpha, p00, p01, p11, y, x, q00, q01, q11, r, first)
        -> (beta, alpha, p00, p01, p11, innovation, innovation_var, loglik)

``(p00, p01, p11)`` are the entries of the symmetric 2x2 state covariance,
``(q00, q01, q11)`` those of the transition covariance and ``r`` the observation variance.
Pass ``first=True`` on the very first bar (the state is then the prior at that bar) and
``False`` afterwards. To continue a batch fit of ``noise_units="raw"`` live, start from
``result.beta.iloc[-1]``, ``result.alpha.iloc[-1]``, ``result.state_cov``,
``result.transition_cov`` and ``result.obs_var`` with ``first=False``. With ``"ratio"`` or
``"log"`` the step runs on the relative values, which ``Strategy(hedge="kalman").stream()``
does for you (its filter is ``kalman_hedge`` with ``noise_units="ratio"``, or ``"log"`` with
``log_prices=True``, and the default prior).

>>> beta, alpha, p00, p01, p11, e, s, ll = kalman_step(
...     0.0, 0.0, 1.0, 0.0, 1.0, 2.0, 1.0, 1e-4, 0.0, 1e-4, 1e-3, True)
>>> round(beta, 6), round(e, 6), round(s, 6)
(0.9995, 2.0, 2.001)
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from pairs._results import ResultMixin
from pairs._typing import ArrayLike1D, FitMethod, NoiseUnits
from pairs._validation import (
    align_pair,
    check_choice,
    check_float,
    check_int,
    clean_pair_values,
    raise_if_constant,
)
from pairs.exceptions import InsufficientDataError, PairsError
from pairs.hedge._kalman_boundary import warn_at_boundary
from pairs.hedge._kalman_em import fit_em
from pairs.hedge._kalman_units import NOISE_UNITS, paths_to_input_units, relative_inputs
from pairs.hedge._kernels import kalman_filter, kalman_loglik, kalman_step

__all__ = ["KalmanResult", "kalman_hedge", "kalman_step"]

_FITS: tuple[str, ...] = ("em", "mle")
_MIN_FIT_OBS = 20
_PATHS = ("beta", "alpha", "spread", "innovation", "innovation_var", "zscore")


@dataclass(frozen=True, repr=False)
class KalmanResult(ResultMixin):
    """Output of :func:`kalman_hedge`; every Series is aligned to the input index."""

    _title = "Kalman-filter hedge ratio"

    beta: pd.Series
    """Filtered hedge ratio ``beta_{t|t}``."""
    alpha: pd.Series
    """Filtered intercept ``alpha_{t|t}``."""
    spread: pd.Series
    """``y - beta * x - alpha`` with the filtered state of the same bar."""
    innovation: pd.Series
    """One-step-ahead error ``y_t - (beta_{t|t-1} x_t + alpha_{t|t-1})``; NaN on missing bars."""
    innovation_var: pd.Series
    """Predicted variance of the innovation."""
    zscore: pd.Series
    """``innovation / sqrt(innovation_var)``: standard normal under the model (sd within 2% of 1 on
    data simulated from the default model); on real data its sd is 1 only where ``delta`` and
    ``obs_var`` fit the data (docs/statistics.md)."""
    loglik: float
    """Total Gaussian innovation log-likelihood of ``y`` as given (in the input's units), over the
    observed bars."""
    noise_units: str
    """``"ratio"``, ``"log"`` or ``"raw"``: the units of ``delta``, ``obs_var``, the covariances
    and the prior (see :func:`kalman_hedge`)."""
    delta: float | None
    """``delta`` used or fitted by ``"mle"``; None after ``"em"``, whose ``Q`` is a full matrix."""
    obs_var: float
    """Observation variance used or fitted, in ``noise_units``."""
    transition_cov: np.ndarray
    """Transition covariance ``Q`` of ``(beta, alpha)`` in ``noise_units``: ``delta / (1 - delta) * I``
    or EM's matrix."""
    state_cov: np.ndarray
    """Filtered state covariance after the last bar, in ``noise_units``."""
    fit: str | None
    """Noise estimation: None (given), ``"em"`` or ``"mle"`` (full-sample fits, not causal)."""
    n_obs: int
    """Number of bars where both ``y`` and ``x`` were observed (update steps)."""

    def _summary_rows(self) -> list[tuple[str, Any]]:
        return [
            ("fit", self.fit or "none"),
            ("n_obs", self.n_obs),
            ("noise_units", self.noise_units),
            ("delta", self.delta),
            ("obs_var", self.obs_var),
            ("transition_var[beta]", float(self.transition_cov[0, 0])),
            ("transition_var[alpha]", float(self.transition_cov[1, 1])),
            ("loglik", self.loglik),
            ("beta (last)", float(self.beta.iloc[-1])),
            ("alpha (last)", float(self.alpha.iloc[-1])),
        ]


def _prior_mean(value: Any) -> tuple[float, float]:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.shape != (2,) or not np.isfinite(arr).all():
        raise PairsError(f"initial_state_mean must be two finite numbers (beta, alpha); got {value!r}.")
    return float(arr[0]), float(arr[1])


def _prior_cov(value: Any) -> tuple[float, float, float]:
    name = "initial_state_cov"
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        var = check_float(name, value, minimum=0.0)
        return var, 0.0, var
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.shape != (2, 2) or not np.isfinite(arr).all():
        raise PairsError(f"{name} must be a non-negative number or a finite 2x2 matrix; got {value!r}.")
    scale = float(np.abs(arr).max())
    if abs(arr[0, 1] - arr[1, 0]) > 1e-12 * scale:
        raise PairsError(f"{name} must be symmetric; got {arr.tolist()!r}.")
    if np.linalg.eigvalsh(arr)[0] < -1e-12 * scale:
        raise PairsError(f"{name} must be positive semi-definite; got {arr.tolist()!r}.")
    return float(arr[0, 0]), float(arr[0, 1]), float(arr[1, 1])


def _fit_mle(
    y: np.ndarray,
    x: np.ndarray,
    mean0: tuple[float, float],
    cov0: tuple[float, float, float],
    q: float,
    r: float,
) -> tuple[float, float]:
    """Maximise the innovation log-likelihood over ``(log q, log r)``.

    Nelder-Mead starts from the better of the given ``(q, r)`` and the best point of a
    coarse grid, because the likelihood is flat in ``q`` far below its optimum and a
    simplex started there stalls.
    """

    def negloglik(theta: np.ndarray) -> float:
        qt, rt = math.exp(theta[0]), math.exp(theta[1])
        return -kalman_loglik(y, x, *mean0, *cov0, qt, 0.0, qt, rt)

    bounds = np.array([[-60.0, 20.0], [-80.0, 80.0]])
    observed = y[~(np.isnan(y) | np.isnan(x))]
    # The grid of r is centred on the variance of y's changes, which sets its units.
    scale = float(np.var(np.diff(observed)))
    log_scale = math.log(scale) if scale > 0.0 else math.log(r)
    grid = [
        np.array([a, log_scale + b]) for a in np.arange(-30.0, 1.0, 2.0) for b in np.arange(-16.0, 3.0, 2.0)
    ]
    candidates = [np.clip(np.log([q, r]), bounds[:, 0], bounds[:, 1]), *grid]
    start = min(candidates, key=negloglik)
    # A simplex one unit wide in log space (a factor e) moves across orders of magnitude quickly.
    simplex = start + np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    from scipy import optimize  # scipy loads on first use

    res = optimize.minimize(
        negloglik,
        start,
        method="Nelder-Mead",
        # Bounds keep exp() finite and delta = q / (1 + q) representable below 1.
        bounds=bounds,
        options={"initial_simplex": simplex, "xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000},
    )
    q_hat, r_hat = math.exp(res.x[0]), math.exp(res.x[1])
    if not (res.success and np.isfinite(res.fun) and q_hat > 0.0 and r_hat > 0.0):
        raise PairsError(f"fit must converge; got fit='mle' stopping with {res.message!r}.")
    return q_hat, r_hat


def kalman_hedge(
    y: ArrayLike1D,
    x: ArrayLike1D,
    *,
    noise_units: NoiseUnits = "ratio",
    delta: float = 1e-4,
    obs_var: float = 1e-3,
    initial_state_mean: Any = (0.0, 0.0),
    initial_state_cov: Any = 1.0,
    fit: FitMethod | None = None,
    em_iter: int = 10_000,
    em_tol: float = 1e-8,
) -> KalmanResult:
    """Estimate a time-varying hedge ratio and intercept with a Kalman filter.

    Parameters
    ----------
    y, x
        Prices (or log prices) of the asset hedged and of the hedge, on one index.
        NaN bars are prediction-only steps; inf is rejected.
    noise_units
        The units of ``delta``, ``obs_var`` and the prior, i.e. the values the filter runs on
        (``y_0``, ``x_0``: the first bar observed in both, so the transformation is causal):

        * ``"ratio"`` (default, for prices): ``y / y_0`` and ``x / x_0``. One setting then works
          on any price level: multiplying ``y`` by ``c`` multiplies ``beta``, ``alpha`` and
          ``spread`` by ``c``, multiplying ``x`` by ``c`` divides ``beta`` by ``c``, and
          ``zscore`` does not change. ``y_0`` and ``x_0`` must not be 0.
        * ``"log"`` (for log prices): ``y - y_0`` and ``x - x_0``, so a move is about a relative
          move of the price, as with ``"ratio"``. Pass log prices with it; ``"ratio"`` on log
          prices divides by ``log y_0``, which is meaningless (and near 0 for a coin priced
          near 1).
        * ``"raw"``: the data as given (pykalman's model, e.g. to reproduce it).

        The paths are mapped back to the input's units exactly: ``"ratio"`` and ``"log"`` are the
        conventions of :class:`~pairs.Strategy` with ``log_prices=False`` and ``True``, whose
        Kalman hedge equals this function's with the same ``delta``, ``obs_var`` and default
        prior. Before the first bar observed in both there is no reference: ``beta`` and
        ``alpha`` are NaN there with ``"ratio"`` and ``"log"``.
    delta
        State noise, ``0 < delta < 1``: the transition covariance is ``delta / (1 - delta) * I``
        in ``noise_units``. Larger values let ``beta`` move faster. With ``fit``, the starting
        value.
    obs_var
        Observation noise variance, > 0, in ``noise_units`` (the default 1e-3 is about a 3%
        noise with ``"ratio"`` or ``"log"``). With ``fit``, the starting value.
    initial_state_mean
        Prior mean of ``(beta, alpha)`` at the first bar, in ``noise_units``.
    initial_state_cov
        Prior covariance at the first bar, in ``noise_units``: a number ``v >= 0`` (meaning
        ``v * I``) or a symmetric positive semi-definite 2x2 matrix.
    fit
        None keeps ``delta`` and ``obs_var``. ``"em"`` runs EM (pykalman's algorithm, compiled)
        over the full transition covariance and ``obs_var`` until converged (see ``em_tol``);
        ``result.transition_cov`` holds the fitted matrix and ``result.delta`` is None.
        ``"mle"`` maximises the innovation log-likelihood over
        ``(delta, obs_var)``, starting from the better of the given values and a coarse
        grid. Both fit in ``noise_units`` and report the fitted noise in them, so passing it
        back reproduces the fit. Both use the whole sample, so the paths are then not causal.
        A fit (MLE, or EM run to convergence) whose ``obs_var`` or state noise the data cannot
        tell from 0 (a likelihood-ratio test at 5%) emits
        :class:`pairs.exceptions.KalmanBoundaryWarning`: with ``obs_var`` at 0 the spread is
        about 0 (``"mle"`` on log ETH/BTC with the default units does this), with the state
        noise at 0 the hedge is constant.
    em_iter
        Largest number of EM iterations for ``fit="em"``; reaching it before convergence
        emits :class:`pairs.exceptions.EMConvergenceWarning`.
    em_tol
        EM stops when one iteration raises the log-likelihood by at most
        ``em_tol * (1 + |loglik|)``. 0 runs exactly ``em_iter`` iterations (as pykalman's
        ``em(n_iter=em_iter)``), without a warning.

    Returns
    -------
    KalmanResult
        Filtered ``beta``, ``alpha``, ``spread``, ``innovation``, ``innovation_var`` and
        ``zscore`` Series in the input's units, ``loglik``, and the noise used and the final
        ``state_cov`` in ``noise_units``.

    Notes
    -----
    Changed after 0.1.0 (issue #22): ``obs_var`` defaulted to None, meaning 1e-3 relative to
    ``|y_0|`` whatever the input (log prices too), while a given ``obs_var`` was in the data's
    units. The units are now the explicit ``noise_units``, so passing a default explicitly
    changes nothing; a call that gave ``obs_var`` in the data's units needs ``noise_units="raw"``,
    and one on log prices ``noise_units="log"``.

    Examples
    --------
    >>> import numpy as np
    >>> from pairs import load_sample
    >>> prices = np.log(load_sample("binance_1d")[["BTC", "ETH"]].dropna())
    >>> res = kalman_hedge(prices["ETH"], prices["BTC"], noise_units="log", delta=1e-5)
    >>> res.beta.index.equals(prices.index)
    True
    >>> bool(res.zscore.abs().mean() < 2)
    True
    """
    values = clean_pair_values(y, x, allow_nan=True)
    if values is None:
        ys, xs = align_pair(y, x, allow_nan=True)
        index = ys.index
        y_arr, x_arr = ys.to_numpy(), xs.to_numpy()
    else:
        index = cast(pd.Series, y).index  # clean_pair_values accepts only Series
        y_arr, x_arr = values
    check_choice("noise_units", noise_units, NOISE_UNITS)
    delta_f = check_float("delta", delta, minimum=0.0, maximum=1.0, strict_min=True, strict_max=True)
    r = check_float("obs_var", obs_var, minimum=0.0, strict_min=True)
    mean0 = _prior_mean(initial_state_mean)
    cov0 = _prior_cov(initial_state_cov)
    if fit is not None:
        check_choice("fit", fit, _FITS)
    n_iter = check_int("em_iter", em_iter, minimum=1)
    tol = check_float("em_tol", em_tol, minimum=0.0)
    raise_if_constant("x", x_arr)

    n_obs = int(np.count_nonzero(~(np.isnan(y_arr) | np.isnan(x_arr))))
    need = 2 if fit is None else _MIN_FIT_OBS
    if n_obs < need:
        raise InsufficientDataError(
            f"y and x must have at least {need} bars where both are observed; got {n_obs}."
        )

    y_arr, x_arr, first, ref_y, ref_x = relative_inputs(y_arr, x_arr, noise_units)
    q = delta_f / (1.0 - delta_f)
    fitted_delta: float | None = delta_f
    # An EM stopped before convergence (em_tol=0 or the cap) is no optimum to judge.
    at_optimum = fit == "mle"
    if fit == "em":
        trans_cov, r, at_optimum = fit_em(y_arr, x_arr, mean0, cov0, q, r, n_iter, tol)
        fitted_delta = None
    else:
        if fit == "mle":
            q, r = _fit_mle(y_arr, x_arr, mean0, cov0, q, r)
            fitted_delta = q / (1.0 + q)
        trans_cov = np.array([[q, 0.0], [0.0, q]])

    paths, loglik, p00, p01, p11 = kalman_filter(
        y_arr, x_arr, *mean0, *cov0, trans_cov[0, 0], trans_cov[0, 1], trans_cov[1, 1], r
    )
    if at_optimum:
        warn_at_boundary(y_arr, x_arr, mean0, cov0, trans_cov, r, loglik, paths[4], str(fit))
    loglik += n_obs * paths_to_input_units(paths, first, ref_y, ref_x, noise_units)
    state_cov = np.array([[p00, p01], [p01, p11]])
    trans_cov.setflags(write=False)
    state_cov.setflags(write=False)
    beta, alpha, spread, innov, innov_var, zscore = (
        pd.Series(row, index=index, name=name, copy=False) for row, name in zip(paths, _PATHS, strict=True)
    )
    return KalmanResult(
        beta=beta,
        alpha=alpha,
        spread=spread,
        innovation=innov,
        innovation_var=innov_var,
        zscore=zscore,
        loglik=float(loglik),
        noise_units=noise_units,
        delta=fitted_delta,
        obs_var=float(r),
        transition_cov=trans_cov,
        state_cov=state_cov,
        fit=fit,
        n_obs=n_obs,
    )
