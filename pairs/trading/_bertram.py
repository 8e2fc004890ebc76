"""Optimal entry/exit bands of an Ornstein-Uhlenbeck spread (Bertram 2010).

Bertram, W. K. (2010), "Analytic solutions for optimal statistical arbitrage trading",
Physica A 389, 2234-2243. For ``dX = -theta (X - mu) dt + sigma dW`` a trade cycle enters at
``a`` and exits at ``m``, then waits for the spread to return to ``a``; it earns ``m - a - c``
(``c``: the cost of the round trip, in spread units). The expected cycle time is

    E[T] = pi / theta * (erfi((m - mu) sqrt(theta) / sigma) - erfi((a - mu) sqrt(theta) / sigma)),

and the expected return per unit time ``(m - a - c) / E[T]`` is largest for a band symmetric
about ``mu``, ``a = mu - b``, ``m = mu + b``, where ``u = b sqrt(theta) / sigma`` solves
Bertram's first-order condition ``sqrt(pi) erfi(u) = (2 u - c sqrt(theta) / sigma) exp(u**2)``;
with Dawson's function ``D(u) = sqrt(pi) / 2 exp(-u**2) erfi(u)`` it reads
``u - D(u) = c sqrt(theta) / (2 sigma)``, which does not overflow and has one root, in
``[s, s + 0.55]`` for ``s = c sqrt(theta) / (2 sigma)`` (``0 <= D <= 0.5410`` and ``u - D(u)``
increases).

With zero cost the best band is 0 (trade at every crossing of the mean), so ``cost > 0``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import brentq
from scipy.special import dawsn, erfi

from pairs._results import ResultMixin
from pairs._typing import ArrayLike1D
from pairs._validation import as_series, check_float, check_not_constant
from pairs.exceptions import PairsError
from pairs.trading._rules import SignalRule

__all__ = ["BertramResult", "bertram_thresholds", "cycle_time", "ou_fit"]


@dataclass(frozen=True, repr=False)
class BertramResult(ResultMixin):
    """Bertram's optimal symmetric band of an Ornstein-Uhlenbeck spread.

    ``lower`` and ``upper`` (``mu -+ band``) are the spread levels: a long spread entered at
    ``lower`` is closed at ``upper``, where a short is opened, closed at ``lower``. ``entry_z``
    is ``band`` in stationary standard deviations ``sigma / sqrt(2 theta)``. ``return_rate`` is
    Bertram's expected return per unit time of the one-sided cycle, ``(2 band - cost) /
    cycle_time``, with ``cycle_time`` the expected time (in the units of ``theta``, bars when
    fitted on a spread) to go from ``lower`` to ``upper`` and back; trading both sides (each
    crossing of the band reverses the position) earns twice that rate.
    """

    lower: float
    upper: float
    band: float
    entry_z: float
    return_rate: float
    cycle_time: float
    theta: float
    mu: float
    sigma: float
    cost: float
    _title = "Bertram optimal thresholds"

    def rule(self, **options: Any) -> SignalRule:
        """The :class:`SignalRule` trading this band on a z-score in stationary units.

        ``entry_z`` enters, ``exit_z = -entry_z`` closes at the opposite threshold (where the
        rule reverses the position); ``options`` are the other :class:`SignalRule` fields.
        """
        return SignalRule(entry_z=self.entry_z, exit_z=-self.entry_z, **options)


def cycle_time(lower: float, upper: float, theta: float, mu: float, sigma: float) -> float:
    """Bertram's expected time to go from ``lower`` to ``upper`` and back for the OU process."""
    k = math.sqrt(theta) / sigma
    return float(math.pi / theta * (erfi((upper - mu) * k) - erfi((lower - mu) * k)))


def ou_fit(spread: Any) -> tuple[float, float, float]:
    """``(theta, mu, sigma)`` per bar of an OU process from the exact AR(1) of a spread (OLS).

    ``s_t = c + phi s_{t-1} + e_t`` gives ``theta = -ln(phi)``, ``mu = c / (1 - phi)`` and
    ``sigma**2 = var(e) * 2 theta / (1 - phi**2)``, the exact discretisation at one bar.
    """
    series = as_series(spread, "spread", min_length=10)
    check_not_constant("spread", series)
    s = series.to_numpy()
    design = np.column_stack([np.ones(len(s) - 1), s[:-1]])
    coef, *_ = np.linalg.lstsq(design, s[1:], rcond=None)
    c, phi = float(coef[0]), float(coef[1])
    resid = s[1:] - design @ coef
    var = float(resid @ resid) / (len(resid) - 2)
    # A fit this close to 1 or this exact is no OU process (a trend or a deterministic path).
    if not 0.0 < phi < 1.0 - 1e-9 or var <= 1e-24 * float(s @ s):
        raise PairsError(
            f"spread must be mean-reverting with noise (AR(1) coefficient in (0, 1), residual variance > 0); "
            f"got coefficient {phi!r} and residual variance {var!r}."
        )
    theta = -math.log(phi)
    return theta, c / (1.0 - phi), math.sqrt(var * 2.0 * theta / (1.0 - phi * phi))


def bertram_thresholds(
    spread: ArrayLike1D | None = None,
    *,
    cost: float,
    theta: float | None = None,
    mu: float | None = None,
    sigma: float | None = None,
) -> BertramResult:
    """Entry/exit levels that maximise the expected return per unit time of an OU spread (Bertram 2010).

    Parameters
    ----------
    spread
        A formation-period spread to fit the OU process on (:func:`ou_fit`, per bar); or None
        with ``theta``, ``mu`` and ``sigma`` given.
    cost
        Cost of a round trip (entry and exit) in spread units, > 0: for a log-price spread,
        the fraction of the position (``0.002`` for 20 bps).
    theta, mu, sigma
        OU mean-reversion speed (> 0), mean and volatility (> 0), instead of ``spread``.

    Returns
    -------
    BertramResult
        The band, its z level, expected return per unit time and cycle time; ``rule()`` makes
        the matching :class:`SignalRule`.

    Examples
    --------
    >>> res = bertram_thresholds(theta=0.05, mu=0.0, sigma=0.01, cost=0.002)
    >>> round(res.entry_z, 3), round(res.upper, 4), res.rule().exit_z == -res.entry_z
    (0.463, 0.0146, True)
    """
    c = check_float("cost", cost, minimum=0.0, strict_min=True)
    params = (theta, mu, sigma)
    if spread is None:
        if all(p is None for p in params):
            raise PairsError("spread must be a series when theta, mu and sigma are not given; got None.")
        if any(p is None for p in params):
            raise PairsError(f"theta, mu and sigma must all be given when spread is None; got {params!r}.")
        th = check_float("theta", theta, minimum=0.0, strict_min=True)
        m0 = check_float("mu", mu)
        sg = check_float("sigma", sigma, minimum=0.0, strict_min=True)
    else:
        if any(p is not None for p in params):
            raise PairsError(f"theta, mu and sigma must be None when spread is given; got {params!r}.")
        th, m0, sg = ou_fit(spread)
    k = math.sqrt(th) / sg
    half = c * k / 2.0
    u = brentq(lambda v: v - dawsn(v) - half, half, half + 0.55, xtol=1e-15, rtol=1e-15)
    band = u / k
    period = cycle_time(m0 - band, m0 + band, th, m0, sg)
    return BertramResult(
        lower=m0 - band,
        upper=m0 + band,
        band=band,
        entry_z=band * math.sqrt(2.0 * th) / sg,
        return_rate=(2.0 * band - c) / period,
        cycle_time=period,
        theta=th,
        mu=m0,
        sigma=sg,
        cost=c,
    )
