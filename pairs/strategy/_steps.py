"""The per-bar arithmetic of a :class:`~pairs.Strategy` that batch and stream must share exactly.

The Kalman hedge of a strategy runs on prices *relative to the first bar*, so that its noise
settings (``delta``, ``obs_var``) mean the same thing whatever the quote currency or the price
level, and the result is equivariant to units (multiplying ``y`` by ``c`` multiplies ``beta``
and ``alpha`` by ``c``; multiplying ``x`` by ``c`` divides ``beta`` by ``c``; z-scores and
positions do not change):

* raw prices: ``y~ = y / y_0`` and ``x~ = x / x_0`` (both start at 1);
* log prices: ``y~ = log y - log y_0`` and ``x~ = log x - log x_0`` (both start at 0).

In both cases a move of ``y~`` is about the relative move of ``y``, so one default works for
both. The filtered ``(beta~, alpha~)`` map back to the units of the input exactly:

* raw: ``beta = beta~ * y_0 / x_0``, ``alpha = alpha~ * y_0``, ``spread = spread~ * y_0``;
* log: ``beta = beta~``, ``alpha = alpha~ + log y_0 - beta~ log x_0``, ``spread = spread~``.

Only the first bar is used, so the transformation is causal. Logs are taken with
:func:`math.log` in both paths (``np.log`` on arrays may differ from it in the last bit).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["KALMAN_PRIOR", "from_relative", "log_values", "to_relative"]

# The strategy's Kalman prior at the first bar, in relative units: (beta, alpha, p00, p01, p11),
# i.e. mean 0 and covariance I (vague next to relative prices of order 1).
KALMAN_PRIOR: tuple[float, float, float, float, float] = (0.0, 0.0, 1.0, 0.0, 1.0)


def log_values(values: np.ndarray) -> np.ndarray:
    """``math.log`` of every element: the same bits as the streaming engine's per-bar log."""
    return np.fromiter((math.log(v) for v in values.tolist()), dtype=np.float64, count=values.shape[0])


def to_relative(values: np.ndarray, ref: float, log: bool) -> np.ndarray:
    """Prices (or log prices) relative to the first bar's ``ref``."""
    return values - ref if log else values / ref


def from_relative(
    beta: np.ndarray | float,
    alpha: np.ndarray | float,
    spread: np.ndarray | float,
    ref_y: float,
    ref_x: float,
    log: bool,
) -> tuple[np.ndarray | float, np.ndarray | float, np.ndarray | float]:
    """``(beta, alpha, spread)`` of the relative fit in the units of the input."""
    if log:
        return beta, alpha + ref_y - beta * ref_x, spread
    return beta * (ref_y / ref_x), alpha * ref_y, spread * ref_y
