"""Compiled EM of the Kalman hedge: pykalman's numbers for a fixed iteration count, convergence by default."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from pykalman import KalmanFilter

import pairs
from pairs.exceptions import EMConvergenceWarning, KalmanBoundaryWarning, PairsError
from pairs.hedge import kalman_hedge
from pairs.hedge._kernels import kalman_em, kalman_smoother

Q0 = 1e-4 / (1 - 1e-4)


@pytest.fixture(scope="module")
def logp(btc_eth_daily):
    return np.log(btc_eth_daily)


def _pykalman(y: np.ndarray, x: np.ndarray, mean0=(1.0, -2.0)) -> tuple[KalmanFilter, np.ma.MaskedArray]:
    missing = np.isnan(y) | np.isnan(x)
    kf = KalmanFilter(
        transition_matrices=np.eye(2),
        observation_matrices=np.column_stack([np.where(missing, 0.0, x), np.ones_like(x)])[:, None, :],
        transition_covariance=Q0 * np.eye(2),
        observation_covariance=[[1e-3]],
        initial_state_mean=list(mean0),
        initial_state_covariance=np.eye(2),
        em_vars=["transition_covariance", "observation_covariance"],
    )
    return kf, np.ma.masked_array(np.where(missing, 0.0, y), mask=missing)


def _gappy(logp):
    frame = logp.iloc[-300:].copy()
    frame.iloc[[5, 40, 41, 200], 1] = np.nan
    frame.iloc[[100], 0] = np.nan
    return frame["ETH"].to_numpy(), frame["BTC"].to_numpy()


def test_smoother_equals_pykalman(logp):
    y, x = _gappy(logp)
    kf, obs = _pykalman(y, x)
    ref_mean, ref_cov = kf.smooth(obs)
    means, covs, _, loglik = kalman_smoother(y, x, 1.0, -2.0, 1.0, 0.0, 1.0, Q0, 0.0, Q0, 1e-3)
    # Same algorithm, different operation order (pykalman uses pinv): agreement to rounding.
    np.testing.assert_allclose(means, ref_mean, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(covs, ref_cov.reshape(-1, 4)[:, [0, 1, 3]], rtol=1e-8, atol=1e-15)
    assert loglik == pytest.approx(kf.loglikelihood(obs), rel=1e-10)


def test_em_fixed_iterations_equals_pykalman_em(logp):
    y, x = _gappy(logp)
    kf, obs = _pykalman(y, x)
    kf = kf.em(obs, n_iter=6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = pairs.kalman_hedge(
            y, x, noise_units="raw", fit="em", em_iter=6, em_tol=0.0, initial_state_mean=(1.0, -2.0)
        )
    # The M-step for Q subtracts nearly equal terms, which amplifies rounding differences ~1e3.
    np.testing.assert_allclose(res.transition_cov, kf.transition_covariance, rtol=1e-9)
    assert res.obs_var == pytest.approx(kf.observation_covariance[0, 0], rel=1e-9)


def test_em_converges_by_default_above_the_mle(logp):
    y, x = logp["ETH"], logp["BTC"]
    with warnings.catch_warnings(), pytest.warns(KalmanBoundaryWarning, match=r"^obs_var must be away"):
        warnings.simplefilter("error", EMConvergenceWarning)
        em = kalman_hedge(y, x, noise_units="log", fit="em")
    mle = kalman_hedge(y, x, noise_units="log", fit="mle")
    # EM fits 4 noise parameters (full Q, r) against the MLE's 2: its optimum is at least as high.
    assert em.loglik >= mle.loglik
    # Ten iterations (the former default) reach 6448.5; em_tol=1e-10 reaches 6678.46 from the
    # default start, and the default em_tol=1e-8 stops within 0.2 of it.
    assert em.loglik > 6678.2
    # ... with obs_var heading to 0, which the boundary warning above reports.
    assert em.obs_var < 2e-6


def test_em_loglik_never_decreases_and_cap_warns(logp):
    y, x = logp["ETH"].to_numpy()[-500:], logp["BTC"].to_numpy()[-500:]
    *_, path, converged = kalman_em(y, x, 0.0, 0.0, 1.0, 0.0, 1.0, Q0, 0.0, Q0, 1e-3, 300, 0.0)
    assert not converged and len(path) == 300
    assert np.all(np.diff(path) >= -1e-9 * np.abs(path[1:]))
    with pytest.warns(EMConvergenceWarning, match="em_iter"):
        kalman_hedge(y, x, fit="em", em_iter=3)


def test_em_tol_is_validated(logp):
    with pytest.raises(PairsError, match=r"^em_tol"):
        kalman_hedge(logp["ETH"], logp["BTC"], fit="em", em_tol=-1.0)
