"""Kalman hedge ratio: pykalman reference, streaming step, MLE, properties and bad inputs.

Tolerances: our kernel and pykalman run the same recursion (predict, then ``P - K H P``) in a
different association order (scalars vs 2x2 matrix products and ``pinv``), so paths agree to
rounding: 1e-9 absolute on ``beta``/``alpha`` and 1e-9 relative on innovations, their
variance and the log-likelihood leaves ~1e5 of margin over the observed ~1e-14. EM calls
pykalman itself, so the fitted matrices must match an independent pykalman run to 1e-12.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pykalman import KalmanFilter
from pykalman.standard import _filter, _loglikelihoods

from pairs import KalmanResult, Strategy, kalman_hedge
from pairs.exceptions import DataError, InsufficientDataError, PairsError
from pairs.hedge._kalman import kalman_step
from pairs.strategy._steps import log_values

PRIORS = {
    "identity": ((0.0, 0.0), 1.0),
    "full": ((0.5, -1.0), [[0.1, 0.02], [0.02, 4.0]]),
    "zero": ((0.1, 0.2), 0.0),
}
NOISES = {"default": (1e-4, 1e-3), "slow": (1e-6, 10.0)}


@pytest.fixture(scope="module")
def prices(btc_eth_daily: pd.DataFrame) -> pd.DataFrame:
    return btc_eth_daily


@pytest.fixture(scope="module")
def logp(prices: pd.DataFrame) -> pd.DataFrame:
    return np.log(prices)


def _with_gaps(frame: pd.DataFrame) -> pd.DataFrame:
    """Real log prices with NaN bars: the first bar, y-only, x-only and a run of both."""
    out = frame.copy()
    out.iloc[0, 1] = np.nan
    out.iloc[[7, 50, 51], 1] = np.nan
    out.iloc[[20, 90], 0] = np.nan
    out.iloc[120:125] = np.nan
    return out


def _reference(y: np.ndarray, x: np.ndarray, q_cov: np.ndarray, r: float, mean0, cov0) -> dict:
    """pykalman's filter and per-bar log-likelihoods; NaN bars become masked observations."""
    missing = np.isnan(y) | np.isnan(x)
    h = np.column_stack([np.where(missing, 0.0, x), np.ones_like(x)])
    obs = np.ma.masked_array(np.where(missing, 0.0, y), mask=missing)[:, None]
    p0 = np.asarray(cov0, dtype=float) * (np.eye(2) if np.ndim(cov0) == 0 else 1.0)
    r_mat = np.array([[r]])
    pm, pp, _, fm, fp = _filter(
        np.eye(2), h[:, None, :], q_cov, r_mat, np.zeros(2), np.zeros(1), np.asarray(mean0), p0, obs
    )
    ll = _loglikelihoods(h[:, None, :], np.zeros(1), r_mat, pm, pp, obs)
    innov = np.where(missing, np.nan, y - (h * pm).sum(axis=1))
    s = np.where(missing, np.nan, np.einsum("ti,tij,tj->t", h, pp, h) + r)
    return {"beta": fm[:, 0], "alpha": fm[:, 1], "innov": innov, "var": s, "loglik": ll.sum(), "P": fp[-1]}


def _assert_matches(res: KalmanResult, ref: dict) -> None:
    np.testing.assert_allclose(res.beta, ref["beta"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(res.alpha, ref["alpha"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(res.innovation, ref["innov"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res.innovation_var, ref["var"], rtol=1e-9)
    np.testing.assert_allclose(res.loglik, ref["loglik"], rtol=1e-9)
    np.testing.assert_allclose(res.state_cov, ref["P"], rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("scale", ["raw", "log"])
@pytest.mark.parametrize("noise", NOISES)
@pytest.mark.parametrize("prior", PRIORS)
def test_filter_matches_pykalman(prices, logp, scale, noise, prior):
    frame = prices if scale == "raw" else logp
    delta, r = NOISES[noise]
    mean0, cov0 = PRIORS[prior]
    res = kalman_hedge(
        frame["ETH"],
        frame["BTC"],
        noise_units="raw",
        delta=delta,
        obs_var=r,
        initial_state_mean=mean0,
        initial_state_cov=cov0,
    )
    q = delta / (1 - delta)
    ref = _reference(frame["ETH"].to_numpy(), frame["BTC"].to_numpy(), q * np.eye(2), r, mean0, cov0)
    _assert_matches(res, ref)
    spread = frame["ETH"] - res.beta * frame["BTC"] - res.alpha
    np.testing.assert_allclose(res.spread, spread, rtol=0, atol=1e-9)
    np.testing.assert_allclose(res.zscore, ref["innov"] / np.sqrt(ref["var"]), rtol=1e-9)


def test_zero_prior_keeps_the_prior_at_the_first_bar(logp):
    res = kalman_hedge(
        logp["ETH"], logp["BTC"], noise_units="raw", initial_state_mean=(1.0, 0.5), initial_state_cov=0.0
    )
    assert (res.beta.iloc[0], res.alpha.iloc[0]) == (1.0, 0.5)
    assert res.innovation_var.iloc[0] == res.obs_var


def test_nan_bars_match_pykalman_masked(logp):
    frame = _with_gaps(logp.iloc[:600])
    res = kalman_hedge(frame["ETH"], frame["BTC"], noise_units="raw", delta=1e-4, obs_var=1e-3)
    y, x = frame["ETH"].to_numpy(), frame["BTC"].to_numpy()
    ref = _reference(y, x, 1e-4 / (1 - 1e-4) * np.eye(2), 1e-3, (0.0, 0.0), 1.0)
    _assert_matches(res, ref)
    missing = np.isnan(y) | np.isnan(x)
    assert res.n_obs == int((~missing).sum())
    assert res.innovation[missing].isna().all() and res.zscore[missing].isna().all()
    assert res.innovation[~missing].notna().all() and res.beta.notna().all()
    # A prediction-only step under a random walk carries the state forward unchanged.
    gap = np.flatnonzero(missing[1:]) + 1
    np.testing.assert_array_equal(res.beta.to_numpy()[gap], res.beta.to_numpy()[gap - 1])
    assert (res.beta.iloc[0], res.alpha.iloc[0]) == (0.0, 0.0)


def test_em_matches_pykalman_em(logp):
    frame = _with_gaps(logp.iloc[-300:])
    y, x = frame["ETH"].to_numpy(), frame["BTC"].to_numpy()
    res = kalman_hedge(
        frame["ETH"],
        frame["BTC"],
        noise_units="raw",
        fit="em",
        em_iter=4,
        em_tol=0.0,
        initial_state_mean=(1.0, -2.0),
    )
    missing = np.isnan(y) | np.isnan(x)
    h = np.column_stack([np.where(missing, 0.0, x), np.ones_like(x)])[:, None, :]
    kf = KalmanFilter(
        transition_matrices=np.eye(2),
        observation_matrices=h,
        transition_covariance=1e-4 / (1 - 1e-4) * np.eye(2),
        observation_covariance=[[1e-3]],
        initial_state_mean=[1.0, -2.0],
        initial_state_covariance=np.eye(2),
        em_vars=["transition_covariance", "observation_covariance"],
    )
    obs = np.ma.masked_array(np.where(missing, 0.0, y), mask=missing)
    kf = kf.em(obs, n_iter=4)
    np.testing.assert_allclose(res.transition_cov, kf.transition_covariance, rtol=1e-9)
    np.testing.assert_allclose(res.obs_var, kf.observation_covariance[0, 0], rtol=1e-9)
    assert res.delta is None and res.fit == "em"
    assert abs(res.transition_cov[0, 1]) > 0  # EM fits the full matrix, not delta * I
    _assert_matches(res, _reference(y, x, kf.transition_covariance, res.obs_var, (1.0, -2.0), 1.0))
    start = kalman_hedge(frame["ETH"], frame["BTC"], noise_units="raw", initial_state_mean=(1.0, -2.0))
    assert res.loglik > start.loglik  # EM never decreases the likelihood


# These MLE fits of ETH/BTC end at the obs_var boundary, which KalmanBoundaryWarning reports
# (tested in test_kalman_boundary.py); here they check other properties of the fit.
AT_BOUNDARY = pytest.mark.filterwarnings("ignore::pairs.KalmanBoundaryWarning")


@AT_BOUNDARY
def test_mle_is_a_maximum(logp):
    y, x = logp["ETH"], logp["BTC"]
    res = kalman_hedge(y, x, noise_units="raw", fit="mle")
    q = res.delta / (1 - res.delta)
    refit = kalman_hedge(y, x, noise_units="raw", delta=res.delta, obs_var=res.obs_var)
    np.testing.assert_allclose(res.loglik, refit.loglik, rtol=1e-12)
    np.testing.assert_allclose(res.beta, refit.beta, rtol=1e-12)

    def loglik(q_: float, r_: float) -> float:
        return kalman_hedge(y, x, noise_units="raw", delta=q_ / (1 + q_), obs_var=r_).loglik

    for h in (-0.05, 0.05):
        assert res.loglik > loglik(q * math.exp(h), res.obs_var)
        assert res.loglik > loglik(q, res.obs_var * math.exp(h))
    assert res.loglik > kalman_hedge(y, x, noise_units="raw").loglik + 100
    grid = [loglik(10.0**a, 10.0**b) for a in np.arange(-8.0, -2.9, 0.5) for b in np.arange(-7.0, -1.9, 0.5)]
    assert res.loglik >= max(grid)


@AT_BOUNDARY
def test_mle_does_not_depend_on_a_bad_start(logp):
    # Far below the optimum the likelihood is flat in delta; the grid start must rescue the search.
    good = kalman_hedge(logp["ETH"], logp["BTC"], noise_units="raw", fit="mle")
    bad = kalman_hedge(logp["ETH"], logp["BTC"], noise_units="raw", fit="mle", delta=1e-30, obs_var=1e6)
    assert bad.delta == pytest.approx(good.delta, rel=1e-4)
    assert bad.obs_var == pytest.approx(good.obs_var, rel=1e-4)
    assert bad.loglik == pytest.approx(good.loglik, abs=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mle_recovers_simulated_noise(logp, seed):
    # State noise q=1e-6 and observation noise r=1e-4 on the real log-BTC path: across 30 seeds
    # the relative errors have sd 6.6% (q) and 4.4% (r); the bounds are ~4 sd.
    x = logp["BTC"].to_numpy()
    q_true, r_true = 1e-6, 1e-4
    rng = np.random.default_rng(seed)
    state = np.array([1.0, -2.0]) + np.cumsum(rng.normal(0.0, math.sqrt(q_true), (len(x), 2)), axis=0)
    y = state[:, 0] * x + state[:, 1] + rng.normal(0.0, math.sqrt(r_true), len(x))
    res = kalman_hedge(y, x, noise_units="raw", initial_state_mean=(1.0, -2.0), fit="mle")
    assert res.delta / (1 - res.delta) == pytest.approx(q_true, rel=0.25)
    assert res.obs_var == pytest.approx(r_true, rel=0.15)


def test_step_reproduces_batch(logp):
    frame = _with_gaps(logp)
    res = kalman_hedge(
        frame["ETH"],
        frame["BTC"],
        noise_units="raw",
        delta=1e-5,
        obs_var=1e-4,
        initial_state_cov=[[2.0, 0.1], [0.1, 1.0]],
    )
    q = 1e-5 / (1 - 1e-5)
    state = (0.0, 0.0, 2.0, 0.1, 1.0)
    out = np.empty((len(frame), 4))
    total = 0.0
    for t, (x, y) in enumerate(frame[["BTC", "ETH"]].to_numpy()):
        *state, e, s, ll = kalman_step(*state, y, x, q, 0.0, q, 1e-4, t == 0)
        out[t] = state[0], state[1], e, s
        total += ll
    expected = np.column_stack([res.beta, res.alpha, res.innovation, res.innovation_var])
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(state[2:], res.state_cov[np.triu_indices(2)], rtol=1e-12)
    assert total == pytest.approx(res.loglik, rel=1e-12)


@pytest.mark.parametrize("units", ["ratio", "log", "raw"])
@settings(max_examples=25, deadline=None)
@given(t=st.integers(min_value=3, max_value=400))  # bar 0 is missing; 2 observed bars minimum
def test_causality(prices, logp, units, t):
    # The relative conventions take their reference from the first bar observed in both (bar 1).
    frame = _with_gaps((prices if units == "ratio" else logp).iloc[-400:])
    options = {"noise_units": units, "delta": 1e-5, "obs_var": 1e-4}
    full = kalman_hedge(frame["ETH"], frame["BTC"], **options)
    part = kalman_hedge(frame["ETH"].iloc[:t], frame["BTC"].iloc[:t], **options)
    for name in ("beta", "alpha", "spread", "innovation", "innovation_var", "zscore"):
        pd.testing.assert_series_equal(getattr(part, name), getattr(full, name).iloc[:t], rtol=0, atol=0)


@settings(max_examples=20, deadline=None)
@given(c=st.floats(min_value=1e-2, max_value=1e2), k=st.floats(min_value=-50.0, max_value=50.0))
def test_y_scale_and_shift_invariance(logp, c, k):
    # y -> c*y + k with the prior mean (c*b0, c*a0 + k), prior cov, Q and r all scaled by c**2 is
    # the same model in new units: the state maps to (c*beta, c*alpha + k), zscores are unchanged
    # and each observed bar's density gains the Jacobian -log(c).
    frame = logp.iloc[-500:]
    y, x = frame["ETH"], frame["BTC"]
    delta, r, b0, a0 = 1e-5, 1e-4, 0.8, -1.0
    base = kalman_hedge(y, x, noise_units="raw", delta=delta, obs_var=r, initial_state_mean=(b0, a0))
    q2 = c**2 * delta / (1 - delta)
    moved = kalman_hedge(
        c * y + k,
        x,
        noise_units="raw",
        delta=q2 / (1 + q2),
        obs_var=c**2 * r,
        initial_state_mean=(c * b0, c * a0 + k),
        initial_state_cov=c**2,
    )
    np.testing.assert_allclose(moved.beta, c * base.beta, rtol=1e-8)
    np.testing.assert_allclose(moved.alpha, c * base.alpha + k, rtol=1e-8, atol=1e-8 * (1 + abs(k)))
    np.testing.assert_allclose(moved.zscore, base.zscore, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(moved.loglik, base.loglik - base.n_obs * math.log(c), rtol=1e-9)


def test_result_object(logp):
    res = kalman_hedge(logp["ETH"], logp["BTC"], noise_units="log")
    assert isinstance(res, KalmanResult)
    for name in ("beta", "alpha", "spread", "innovation", "innovation_var", "zscore"):
        series = getattr(res, name)
        assert series.index.equals(logp.index) and series.name == name
    assert res.delta == 1e-4 and res.obs_var == 1e-3 and res.fit is None and res.n_obs == len(logp)
    np.testing.assert_array_equal(res.transition_cov, 1e-4 / (1 - 1e-4) * np.eye(2))
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.delta = 0.5  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        res.state_cov[0, 0] = 1.0
    payload = json.loads(json.dumps(res.to_dict()))
    assert payload["beta"]["values"][-1] == pytest.approx(res.beta.iloc[-1])
    assert "Kalman" in res.summary() and "loglik" in res.summary() and res.noise_units == "log"
    assert payload["noise_units"] == "log"
    arrays = kalman_hedge(logp["ETH"].to_numpy(), logp["BTC"].to_numpy(), noise_units="log")
    assert isinstance(arrays.beta.index, pd.RangeIndex)
    np.testing.assert_array_equal(arrays.beta, res.beta)


# ----------------------------------------------------------------- noise units (issue #22)
def _relative(frame: pd.DataFrame, units: str) -> tuple[pd.Series, pd.Series]:
    """The values a convention filters, written out: prices over / log prices minus the first bar."""
    y, x = frame["ETH"], frame["BTC"]
    if units == "ratio":
        return y / y.iloc[0], x / x.iloc[0]
    if units == "log":
        return y - y.iloc[0], x - x.iloc[0]
    return y, x


def _pykalman_em(y: pd.Series, x: pd.Series, n_iter: int) -> KalmanFilter:
    kf = KalmanFilter(
        transition_matrices=np.eye(2),
        observation_matrices=np.column_stack([x.to_numpy(), np.ones(len(x))])[:, None, :],
        transition_covariance=1e-4 / (1 - 1e-4) * np.eye(2),
        observation_covariance=[[1e-3]],
        initial_state_mean=[0.0, 0.0],
        initial_state_covariance=np.eye(2),
        em_vars=["transition_covariance", "observation_covariance"],
    )
    return kf.em(y.to_numpy(), n_iter=n_iter)


@pytest.mark.parametrize("units", ["ratio", "log"])
def test_relative_units_are_pykalman_on_relative_values(prices, logp, units):
    # What delta, obs_var and the prior mean: pykalman's filter on the relative values with
    # these settings, its state mapped back to the input's units as docs/strategy.md writes it.
    frame = prices if units == "ratio" else logp
    mean0, cov0 = (0.5, -0.2), [[0.1, 0.02], [0.02, 4.0]]
    res = kalman_hedge(
        frame["ETH"],
        frame["BTC"],
        noise_units=units,
        delta=1e-5,
        obs_var=1e-4,
        initial_state_mean=mean0,
        initial_state_cov=cov0,
    )
    yr, xr = _relative(frame, units)
    ref = _reference(yr.to_numpy(), xr.to_numpy(), 1e-5 / (1 - 1e-5) * np.eye(2), 1e-4, mean0, cov0)
    y0, x0 = frame["ETH"].iloc[0], frame["BTC"].iloc[0]
    if units == "ratio":
        beta, alpha, scale = ref["beta"] * y0 / x0, ref["alpha"] * y0, y0
    else:
        beta, alpha, scale = ref["beta"], ref["alpha"] + y0 - ref["beta"] * x0, 1.0
    np.testing.assert_allclose(res.beta, beta, rtol=0, atol=1e-9)
    np.testing.assert_allclose(res.alpha, alpha, rtol=0, atol=1e-8 * scale)
    np.testing.assert_allclose(res.innovation, ref["innov"] * scale, rtol=1e-9, atol=1e-12 * scale)
    np.testing.assert_allclose(res.innovation_var, ref["var"] * scale**2, rtol=1e-9)
    np.testing.assert_allclose(res.zscore, ref["innov"] / np.sqrt(ref["var"]), rtol=1e-9, atol=1e-12)
    # The log-likelihood is that of y as given: y / y0 has the Jacobian 1 / y0 per bar.
    np.testing.assert_allclose(res.loglik, ref["loglik"] - len(frame) * math.log(scale), rtol=1e-9)
    np.testing.assert_allclose(res.state_cov, ref["P"], rtol=1e-9, atol=1e-15)
    assert (res.delta, res.obs_var, res.noise_units) == (1e-5, 1e-4, units)


@pytest.mark.parametrize("log", [False, True], ids=["ratio", "log"])
def test_noise_units_reproduce_the_strategy_on_eth_btc(prices, log):
    y, x = prices["ETH"], prices["BTC"]
    strategy = Strategy(hedge="kalman", log_prices=log, zscore_method="innovation")
    frame = strategy.run(y, x).frame
    units = "log" if log else "ratio"
    fits = {"np.log": kalman_hedge(np.log(y), np.log(x), noise_units=units)} if log else {}
    # The strategy takes logs with math.log; np.log may differ from it in the last bit.
    yv, xv = (log_values(y.to_numpy()), log_values(x.to_numpy())) if log else (y, x)
    exact = kalman_hedge(pd.Series(yv, index=y.index), pd.Series(xv, index=x.index), noise_units=units)
    for name in ("beta", "alpha", "spread", "zscore"):
        np.testing.assert_array_equal(getattr(exact, name).to_numpy(), frame[name].to_numpy())
        for fit in fits.values():
            np.testing.assert_allclose(getattr(fit, name), frame[name], rtol=0, atol=1e-12)
    # Before issue #22 the default divided log prices by |log y0|: betas off by up to 1.0.
    assert float(np.abs(frame["beta"] - exact.beta).max()) == 0.0


@pytest.mark.parametrize("shift", ["y", "x"])
def test_log_units_do_not_depend_on_the_price_level(logp, shift):
    # Rescaling a coin's price by e^k shifts its log by k: with noise_units="log", beta, spread and
    # zscore do not move and alpha moves by k (y) or -beta k (x), also for a coin whose price
    # starts at 1 (log 0), which "ratio" on log prices (the former default) cannot divide by.
    y, x = logp["ETH"], logp["BTC"]
    base = kalman_hedge(y, x, noise_units="log")
    moved_leg = y if shift == "y" else x
    for k in (-moved_leg.iloc[0], 3.0):
        moved = (
            kalman_hedge(y + k, x, noise_units="log")
            if shift == "y"
            else kalman_hedge(y, x + k, noise_units="log")
        )
        expected_alpha = base.alpha + k if shift == "y" else base.alpha - base.beta * k
        np.testing.assert_allclose(moved.beta, base.beta, rtol=0, atol=1e-10)
        np.testing.assert_allclose(moved.alpha, expected_alpha, rtol=0, atol=1e-9)
        np.testing.assert_allclose(moved.spread, base.spread, rtol=0, atol=1e-9)
        np.testing.assert_allclose(moved.zscore, base.zscore, rtol=0, atol=1e-7)
    with pytest.raises(PairsError, match="noise_units='raw'"):
        kalman_hedge(y - y.iloc[0], x, noise_units="ratio")


def test_passing_the_defaults_explicitly_changes_nothing(prices):
    y, x = prices["ETH"], prices["BTC"]
    defaults = {
        name: p.default
        for name, p in inspect.signature(kalman_hedge).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    assert defaults["noise_units"] == "ratio" and defaults["obs_var"] == 1e-3
    implicit = kalman_hedge(y, x)
    for passed in (defaults, {"obs_var": 1e-3}, {"noise_units": "ratio"}):
        explicit = kalman_hedge(y, x, **passed)
        for name in ("beta", "alpha", "spread", "innovation", "innovation_var", "zscore"):
            pd.testing.assert_series_equal(getattr(explicit, name), getattr(implicit, name), rtol=0, atol=0)
        assert (
            (explicit.obs_var, explicit.loglik)
            == (implicit.obs_var, implicit.loglik)
            == (1e-3, implicit.loglik)
        )


@AT_BOUNDARY
@pytest.mark.parametrize("units", ["ratio", "log", "raw"])
def test_fits_report_the_noise_in_their_units(prices, logp, units):
    frame = (prices if units == "ratio" else logp).iloc[-300:]
    y, x = frame["ETH"], frame["BTC"]
    mle = kalman_hedge(y, x, noise_units=units, fit="mle")
    refit = kalman_hedge(y, x, noise_units=units, delta=mle.delta, obs_var=mle.obs_var)
    np.testing.assert_allclose(refit.beta, mle.beta, rtol=1e-12)
    assert refit.loglik == pytest.approx(mle.loglik, rel=1e-12)
    # EM in a convention is pykalman's EM on that convention's values, from the same start.
    em = kalman_hedge(y, x, noise_units=units, fit="em", em_iter=5, em_tol=0.0)
    kf = _pykalman_em(*_relative(frame, units), n_iter=5)
    np.testing.assert_allclose(em.transition_cov, kf.transition_covariance, rtol=1e-9)
    assert em.obs_var == pytest.approx(kf.observation_covariance[0, 0], rel=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"delta": 0.0}, "delta"),
        ({"delta": 1.0}, "delta"),
        ({"delta": -1e-4}, "delta"),
        ({"delta": float("nan")}, "delta"),
        ({"delta": "small"}, "delta"),
        ({"obs_var": 0.0}, "obs_var"),
        ({"obs_var": -1e-3}, "obs_var"),
        ({"initial_state_mean": (0.0, 0.0, 0.0)}, "initial_state_mean"),
        ({"initial_state_mean": (0.0, float("nan"))}, "initial_state_mean"),
        ({"initial_state_mean": "ab"}, "initial_state_mean"),
        ({"initial_state_cov": -1.0}, "initial_state_cov"),
        ({"initial_state_cov": np.eye(3)}, "initial_state_cov"),
        ({"initial_state_cov": [1.0, 1.0]}, "initial_state_cov"),
        ({"initial_state_cov": [[1.0, 0.5], [0.0, 1.0]]}, "initial_state_cov"),
        ({"initial_state_cov": [[1.0, 0.0], [0.0, -1.0]]}, "initial_state_cov"),
        ({"initial_state_cov": -np.eye(2)}, "initial_state_cov"),
        ({"initial_state_cov": [[1.0, 2.0], [2.0, 1.0]]}, "initial_state_cov"),
        ({"fit": "kalman"}, "fit"),
        ({"fit": "EM"}, "fit"),
        ({"fit": 1}, "fit"),
        ({"em_iter": 0}, "em_iter"),
        ({"em_iter": 2.5}, "em_iter"),
        ({"noise_units": "relative"}, "noise_units"),
        ({"noise_units": None}, "noise_units"),
        ({"obs_var": None}, "obs_var"),
    ],
)
def test_bad_options(logp, kwargs, match):
    with pytest.raises(PairsError, match=match):
        kalman_hedge(logp["ETH"].iloc[:50], logp["BTC"].iloc[:50], **kwargs)


def test_bad_data(logp):
    y, x = logp["ETH"].iloc[:50].copy(), logp["BTC"].iloc[:50].copy()
    y_inf = y.copy()
    y_inf.iloc[3] = np.inf
    with pytest.raises(DataError, match="y must contain only finite"):
        kalman_hedge(y_inf, x)
    x_inf = x.copy()
    x_inf.iloc[3] = -np.inf
    with pytest.raises(DataError, match="x must contain only finite"):
        kalman_hedge(y, x_inf)
    with pytest.raises(DataError, match="x index must equal y index"):
        kalman_hedge(y, x.shift(1, freq="D"))
    with pytest.raises(DataError, match="x must have the same length"):
        kalman_hedge(y, x.iloc[:-1])
    with pytest.raises(InsufficientDataError, match="y must have at least"):
        kalman_hedge(y.iloc[:1], x.iloc[:1])
    with pytest.raises(DataError, match="x must not be constant"):
        kalman_hedge(y, pd.Series(3.0, index=y.index))
    with pytest.raises(DataError, match="y index must be sorted"):
        kalman_hedge(y.iloc[::-1], x.iloc[::-1])
    with pytest.raises(DataError, match="y must have a numeric dtype"):
        kalman_hedge(y.astype(str), x)
    with pytest.raises(DataError, match="x must be a pandas Series or 1-d array"):
        kalman_hedge(y, "BTC")


def test_nan_policy(logp):
    y, x = logp["ETH"].iloc[:50].copy(), logp["BTC"].iloc[:50].copy()
    y.iloc[:49] = np.nan
    with pytest.raises(InsufficientDataError, match="y and x must have at least 2 bars"):
        kalman_hedge(y, x)
    y, x = logp["ETH"].iloc[:50].copy(), logp["BTC"].iloc[:50].copy()
    x.iloc[:35] = np.nan
    assert kalman_hedge(y, x).n_obs == 15
    # The relative conventions have no reference before the first bar observed in both; "raw"
    # carries its prior there.
    for units in ("ratio", "log"):
        res = kalman_hedge(y, x, noise_units=units)
        assert res.beta.iloc[:35].isna().all() and res.alpha.iloc[:35].isna().all()
        assert res.beta.iloc[35:].notna().all() and res.alpha.iloc[35:].notna().all()
    assert (kalman_hedge(y, x, noise_units="raw").beta.iloc[:35] == 0.0).all()
    for fit in ("em", "mle"):
        with pytest.raises(InsufficientDataError, match="at least 20 bars"):
            kalman_hedge(y, x, fit=fit)
