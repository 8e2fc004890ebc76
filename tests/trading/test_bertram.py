"""Bertram (2010) optimal OU bands: against the closed form maximised numerically and a simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.signal import lfilter
from scipy.special import erfi

import pairs
from pairs.exceptions import PairsError
from pairs.trading._bertram import ou_fit


def _rate(lower: float, upper: float, theta: float, sigma: float, cost: float) -> float:
    """Bertram's expected return per unit time, mu = 0, written out from the paper."""
    k = math.sqrt(theta) / sigma
    period = math.pi / theta * (erfi(upper * k) - erfi(lower * k))
    return (upper - lower - cost) / period


@pytest.mark.parametrize(
    ("theta", "sigma", "cost"), [(0.05, 0.01, 0.002), (2.0, 0.3, 0.05), (0.001, 0.02, 0.1)]
)
def test_band_maximises_the_closed_form_rate_over_asymmetric_bands(theta, sigma, cost):
    res = pairs.bertram_thresholds(theta=theta, mu=0.0, sigma=sigma, cost=cost)
    sd = sigma / math.sqrt(2.0 * theta)
    best = minimize(
        lambda v: -_rate(v[0] * sd, v[1] * sd, theta, sigma, cost),
        x0=[-1.0, 0.5],
        method="Nelder-Mead",
        options={"xatol": 1e-9, "fatol": 1e-14, "maxiter": 5000},
    )
    lower, upper = best.x * sd
    # The numerical optimum is the symmetric band (to the optimiser's tolerance).
    assert lower == pytest.approx(res.lower, abs=1e-5 * sd)
    assert upper == pytest.approx(res.upper, abs=1e-5 * sd)
    assert res.return_rate == pytest.approx(_rate(res.lower, res.upper, theta, sigma, cost), rel=1e-12)
    assert res.return_rate >= -best.fun * (1 - 1e-10)
    assert res.entry_z == pytest.approx(res.band / sd, rel=1e-12)


def test_mean_shifts_the_band():
    a = pairs.bertram_thresholds(theta=0.1, mu=0.0, sigma=0.02, cost=0.004)
    b = pairs.bertram_thresholds(theta=0.1, mu=1.5, sigma=0.02, cost=0.004)
    assert (b.lower - 1.5, b.upper - 1.5, b.entry_z) == pytest.approx(
        (a.lower, a.upper, a.entry_z), abs=1e-12
    )


def test_cycle_time_and_return_match_a_simulation_of_the_rule():
    """Exact OU at 4,000,000 bars (theta 5e-4 per bar, ~1,300 half-cycles, seeded), traded by ``signals``.

    Both sides are traded (each band crossing reverses the position), so a flip happens every
    half cycle and the rate is twice Bertram's one-sided rate. Tolerance 8%: simulation error
    (about 3% on the mean cycle time) plus the overshoot of bar-by-bar monitoring (about 2%).
    """
    theta, sigma, cost, n = 5e-4, 0.01, 0.02, 4_000_000
    res = pairs.bertram_thresholds(theta=theta, mu=0.0, sigma=sigma, cost=cost)
    phi = math.exp(-theta)
    step_sd = sigma * math.sqrt((1.0 - phi * phi) / (2.0 * theta))
    rng = np.random.default_rng(7)
    s = lfilter([1.0], [1.0, -phi], step_sd * rng.standard_normal(n))
    z = s / (sigma / math.sqrt(2.0 * theta))
    pos = pairs.signals(z, rule=pairs.SignalRule.from_bertram(s, cost=cost)).to_numpy()
    # The rule fitted on the path itself is the one computed from the true parameters, to fit error.
    assert pairs.SignalRule.from_bertram(s, cost=cost).entry_z == pytest.approx(res.entry_z, rel=0.05)
    pos = pairs.signals(z, rule=res.rule()).to_numpy()
    flips = np.flatnonzero(np.abs(np.diff(pos)) == 2)
    half_cycles = np.diff(flips)
    assert len(half_cycles) > 1000
    assert half_cycles.mean() == pytest.approx(res.cycle_time / 2, rel=0.08)
    span = slice(flips[0] + 1, flips[-1] + 1)
    pnl = pos[span] * np.diff(s)[span]
    rate = (pnl.sum() - cost * (len(flips) - 1)) / (flips[-1] - flips[0])
    assert rate == pytest.approx(2 * res.return_rate, rel=0.08)


def test_ou_fit_recovers_parameters():
    """200,000 bars of an exact OU (theta 0.02, mu 0.3, sigma 0.01), seeded; 3 s.e. tolerances."""
    theta, mu, sigma, n = 0.02, 0.3, 0.01, 200_000
    phi = math.exp(-theta)
    rng = np.random.default_rng(3)
    e = sigma * math.sqrt((1 - phi * phi) / (2 * theta)) * rng.standard_normal(n)
    s = mu + lfilter([1.0], [1.0, -phi], e)
    th, m, sg = ou_fit(s)
    # se(phi) = sqrt((1 - phi^2) / n) = 4.4e-4, i.e. 2.2% of theta.
    assert th == pytest.approx(theta, rel=0.07)
    assert m == pytest.approx(mu, abs=3 * sigma / math.sqrt(2 * theta) / math.sqrt(n * theta))
    assert sg == pytest.approx(sigma, rel=0.05)
    res = pairs.bertram_thresholds(s, cost=0.002)
    assert (res.theta, res.mu, res.sigma) == (th, m, sg)


def test_from_bertram_is_the_result_rule():
    rng = np.random.default_rng(1)
    s = lfilter([1.0], [1.0, -0.9], 0.01 * rng.standard_normal(3000))
    rule = pairs.SignalRule.from_bertram(s, cost=0.003, stop_z=4.0, cooldown=1)
    res = pairs.bertram_thresholds(s, cost=0.003)
    assert rule == pairs.SignalRule(entry_z=res.entry_z, exit_z=-res.entry_z, stop_z=4.0, cooldown=1)
    assert "entry_z" in res.summary()


@pytest.mark.parametrize(
    ("args", "kwargs", "name"),
    [
        ((), {"theta": 0.1, "mu": 0.0, "sigma": 0.01, "cost": 0.0}, "cost"),
        ((), {"theta": 0.1, "mu": 0.0, "cost": 0.01}, "theta, mu and sigma"),
        ((), {"theta": -0.1, "mu": 0.0, "sigma": 0.01, "cost": 0.01}, "theta"),
        ((np.cumsum(np.ones(50)),), {"cost": 0.01}, "spread"),
        ((np.arange(50.0) % 3,), {"cost": 0.01, "theta": 0.1}, "theta, mu and sigma"),
    ],
)
def test_bad_input(args, kwargs, name):
    with pytest.raises(PairsError, match=name):
        pairs.bertram_thresholds(*args, **kwargs)
