"""Simulation tests with known truth: recovered beta and half-life, size of the tests, Hurst regimes.

Every simulation uses a fixed seed; each tolerance is stated next to its assertion with the
sampling error it allows for.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom

from pairs.coint import adf, engle_granger, half_life, hurst, variance_ratio
from pairs.coint._critical import df_pvalue
from pairs.coint._kernels import adf_batch, default_max_lag, eg_stat_batch


def _ar1(phi: float, n: int, rng: np.random.Generator) -> np.ndarray:
    eps = rng.standard_normal(n)
    out = np.empty(n)
    out[0] = eps[0] / math.sqrt(max(1.0 - phi * phi, 1e-3))
    for t in range(1, n):
        out[t] = phi * out[t - 1] + eps[t]
    return out


def _fgn(n: int, h: float, rng: np.random.Generator) -> np.ndarray:
    """Fractional Gaussian noise by Davies-Harte circulant embedding."""
    k = np.arange(n + 1)
    gamma = 0.5 * (np.abs(k + 1) ** (2 * h) - 2 * np.abs(k) ** (2 * h) + np.abs(k - 1) ** (2 * h))
    row = np.concatenate([gamma, gamma[-2:0:-1]])
    lam = np.maximum(np.fft.fft(row).real, 0.0)
    z = rng.standard_normal(len(row)) + 1j * rng.standard_normal(len(row))
    return np.fft.fft(np.sqrt(lam / len(row)) * z).real[:n]


def test_simulated_cointegrated_pair_recovers_beta_and_half_life():
    rng = np.random.default_rng(7)
    n, beta, alpha, phi = 4000, 1.5, 0.3, 0.9
    index = pd.date_range("2015-01-01", periods=n, freq="D", tz="UTC")
    x = pd.Series(np.cumsum(rng.standard_normal(n)) * 0.02 + 5.0, index=index)
    spread = 0.01 * _ar1(phi, n, rng)
    y = alpha + beta * x + spread
    res = engle_granger(y, x)
    assert res.pvalue < 0.01
    # OLS is super-consistent: the error is O(sd(spread) / (sqrt(n) sd(x))) ~ 1e-3 here.
    assert abs(res.beta - beta) < 0.01
    assert abs(res.alpha - alpha) < 0.05
    hl = half_life(res.spread)
    # lambda = phi - 1 with standard error sqrt((1 - phi^2) / n) ~ 0.0069: allow 4 standard errors.
    se = math.sqrt((1 - phi**2) / n)
    assert abs(hl.lambda_ - (phi - 1)) < 4 * se
    assert hl.bars == pytest.approx(-math.log(2) / math.log(1 + hl.lambda_), rel=1e-12)
    assert hl.timedelta == pd.Timedelta(days=1) * hl.bars


@pytest.mark.parametrize("phi", [0.5, 0.9, 0.98])
def test_half_life_of_ar1_recovers_closed_form(phi):
    rng = np.random.default_rng(11)
    n = 20000
    hl = half_life(_ar1(phi, n, rng))
    se = math.sqrt((1 - phi**2) / n)
    # Exact half-life of the AR(1); four standard errors of lambda mapped through
    # -ln2 / ln(1 + lambda) (delta method), plus the O(1/n) small-sample bias of phi.
    target = -math.log(2) / math.log(phi)
    tol = 4 * se * math.log(2) / (phi * math.log(phi) ** 2) + 5 / n * target
    assert abs(hl.bars - target) < tol
    # The reported delta-method standard error is that same mapping of the OLS standard error.
    assert hl.se == pytest.approx(
        hl.lambda_se * math.log(2) / ((1 + hl.lambda_) * math.log(1 + hl.lambda_) ** 2)
    )
    # OLS standard error against the asymptotic sqrt((1 - phi^2) / n): 10% (finite n near phi = 1).
    assert hl.lambda_se == pytest.approx(se, rel=0.1)


def test_half_life_is_inf_without_mean_reversion():
    rng = np.random.default_rng(3)
    explosive = _ar1(1.01, 400, rng)
    hl = half_life(explosive)
    assert hl.lambda_ > 0
    assert math.isinf(hl.bars) and hl.timedelta is None


def test_independent_random_walks_rejected_at_nominal_rate():
    rng = np.random.default_rng(2024)
    n_obs, n_pairs, size = 500, 400, 0.05
    walks_y = np.cumsum(rng.standard_normal((n_obs, n_pairs)), axis=0)
    walks_x = np.cumsum(rng.standard_normal((n_obs, n_pairs)), axis=0)
    out = eg_stat_batch(walks_y, walks_x)
    assert out.lags.max() <= default_max_lag(n_obs, 0)
    rejected = int((out.pvalue < size).sum())
    # Two-sided 0.1% binomial acceptance region for 400 tests at the 5% level: [7, 36].
    lo, hi = binom.ppf(0.0005, n_pairs, size), binom.ppf(0.9995, n_pairs, size)
    assert lo <= rejected <= hi, rejected
    # The batch kernel and the public function agree on a few of these pairs.
    for j in (0, 17, 399):
        res = engle_granger(walks_y[:, j], walks_x[:, j])
        assert res.stat == pytest.approx(out.stat[j], rel=1e-12)
        assert res.lags == out.lags[j]
    adf_out = adf_batch(walks_y, default_max_lag(n_obs, 1), "bic", "c")
    adf_rejected = int((df_pvalue(adf_out.stat, "c", 1, adf_out.n_obs) < size).sum())
    assert lo <= adf_rejected <= hi, adf_rejected
    assert adf(walks_y[:, 5]).stat == pytest.approx(adf_out.stat[5], rel=1e-12)


def test_stationary_ar1_rejects_unit_root_and_random_walk_does_not():
    rng = np.random.default_rng(5)
    assert adf(_ar1(0.9, 1000, rng)).pvalue < 0.01
    vr = variance_ratio(_ar1(0.9, 1000, rng), 10)
    # Closed form for AR(1) levels: VR(q) = (1 - phi^q) / (q (1 - phi)) = 0.651; the estimate's
    # sampling sd at n = 1000 is ~0.06, so allow 0.15.
    assert vr.vr == pytest.approx((1 - 0.9**10) / (10 * 0.1), abs=0.15)
    assert vr.pvalue < 0.01
    walk = np.cumsum(rng.standard_normal(1000))
    assert adf(walk).pvalue > 0.05


@pytest.mark.parametrize("method", ["rs", "variance"])
def test_hurst_regimes(method):
    rng = np.random.default_rng(21)
    n = 3000
    # Standard deviation over seeds for n = 3000 is ~0.02 (rs) and ~0.04 (variance), so the
    # bands below are 2.5+ standard deviations wide.
    walk = hurst(np.cumsum(rng.standard_normal(n)), method=method).hurst
    assert abs(walk - 0.5) < 0.1
    mean_reverting = hurst(_ar1(0.9, n, rng), method=method).hurst
    assert mean_reverting < 0.4
    trending = hurst(np.cumsum(_fgn(n, 0.8, rng)), method=method).hurst
    assert trending > 0.6
