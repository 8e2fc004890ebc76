"""The per-bar arithmetic of a :class:`~pairs.Strategy` that batch and stream must share exactly.

The Kalman hedge of a strategy runs on prices *relative to the first bar*, the conventions of
:func:`pairs.kalman_hedge`'s ``noise_units`` (:mod:`pairs.hedge._kalman_units`): ``"ratio"``
(``y / y_0``) for prices and ``"log"`` (``log y - log y_0``) with ``log_prices=True``, so that
its noise settings (``delta``, ``obs_var``) mean the same thing whatever the quote currency or
the price level, and the result is equivariant to units. The conversions are
:func:`pairs.hedge._kernels.to_relative` and ``from_relative``, one definition for batch and stream.

Logs are taken with :func:`math.log` in both paths (``np.log`` on arrays may differ from it in
the last bit).
"""

from __future__ import annotations

import math

import numpy as np

from pairs._typing import NoiseUnits

__all__ = ["KALMAN_PRIOR", "kalman_noise_units", "log_values"]

# The strategy's Kalman prior at the first bar, in relative units: (beta, alpha, p00, p01, p11),
# i.e. mean 0 and covariance I (vague next to relative prices of order 1): kalman_hedge's default.
KALMAN_PRIOR: tuple[float, float, float, float, float] = (0.0, 0.0, 1.0, 0.0, 1.0)


def kalman_noise_units(log_prices: bool) -> NoiseUnits:
    """The ``noise_units`` of :func:`pairs.kalman_hedge` that a strategy's Kalman hedge runs in."""
    return "log" if log_prices else "ratio"


_MATH_LOG = np.frompyfunc(math.log, 1, 1)  # math.log itself on each element (numpy's log may round apart)


def log_values(values: np.ndarray) -> np.ndarray:
    """``math.log`` of every element: the same bits as the streaming engine's per-bar log."""
    return np.asarray(_MATH_LOG(values), dtype=np.float64)
