"""Median-unbiased AR(1) coefficient and its exact interval (Andrews 1993), for the half-life.

The OLS ``phi_hat`` of ``s_t = c + phi s_{t-1} + e_t`` is biased down, most near ``phi = 1``
(with an intercept, about ``-(1 + 3 phi) / n``), and its Wald interval under-covers there. Under
Gaussian iid errors with a stationary start, the distribution of ``phi_hat`` depends only on
``phi`` and the number of regression rows ``n`` (not on ``c``, the error variance or, at
``phi = 1``, the start), so it can be simulated once per ``n`` and inverted (Andrews 1993,
*Econometrica* 61, 139-165):

* the median-unbiased ``phi`` is the one whose simulated median of ``phi_hat`` equals the
  observed ``phi_hat`` (1 when the observation is above the median at the unit root);
* the interval at level ``1 - a`` holds every ``phi`` whose central ``1 - a`` range of
  ``phi_hat`` contains the observation; its upper end is 1 when the unit root is not rejected.

Any monotone function of ``phi``, the half-life among them, inherits both properties.

The table: ``_REPS`` series per grid point (common innovations across the grid, fixed seed, so
results are deterministic), ``phi = 1 - c / n`` for ``c`` = 0 and ``_GRID - 1`` values spaced
geometrically from 0.5 to ``1.99 n`` (``phi`` from ``1 - 0.5 / n`` down to -0.99), linear
interpolation between grid points. It costs O(grid x reps x n) once per ``n`` (cached, a few ``n`` at a time).
"""

from __future__ import annotations

import functools

import numpy as np

from pairs.coint._kernels import ar1_ols_slopes

__all__ = ["median_unbiased_phi"]

_REPS = 10_000
_GRID = 50
_SEED = 1993
_CACHE_SIZE = 8


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _sorted_slopes(n_obs: int) -> tuple[np.ndarray, np.ndarray]:
    """Grid of ``phi`` (increasing) and the sorted simulated ``phi_hat`` of each, ``(grid, reps)``."""
    c = np.concatenate([[0.0], np.geomspace(0.5, 1.99 * n_obs, _GRID - 1)])
    phis = (1.0 - c / n_obs)[::-1].copy()
    slopes = np.sort(ar1_ols_slopes(phis, n_obs, _REPS, np.random.default_rng(_SEED)), axis=1)
    slopes.setflags(write=False)
    return phis, slopes


def _quantile(sorted_rows: np.ndarray, prob: float) -> np.ndarray:
    """Quantile ``prob`` of each sorted row (numpy's default linear rule, without sorting again)."""
    pos = prob * (sorted_rows.shape[1] - 1)
    lo = int(pos)
    hi = min(lo + 1, sorted_rows.shape[1] - 1)
    return sorted_rows[:, lo] + (pos - lo) * (sorted_rows[:, hi] - sorted_rows[:, lo])


def _invert(phi_hat: float, phis: np.ndarray, curve: np.ndarray) -> float:
    """The ``phi`` where the non-decreasing ``curve(phi)`` reaches ``phi_hat``, clamped to the grid."""
    if phi_hat >= curve[-1]:
        return 1.0
    if phi_hat <= curve[0]:
        return float(phis[0])
    return float(np.interp(phi_hat, curve, phis))


def median_unbiased_phi(phi_hat: float, n_obs: int, level: float) -> tuple[float, float, float]:
    """``(phi, lower, upper)``: the median-unbiased AR(1) coefficient and its ``level`` interval.

    ``phi_hat`` is the OLS slope with an intercept on ``n_obs`` regression rows.
    """
    phis, slopes = _sorted_slopes(n_obs)
    tail = (1.0 - level) / 2.0
    low_q, median, high_q = (_quantile(slopes, prob) for prob in (tail, 0.5, 1.0 - tail))
    # Near phi = 1 the lower quantile is not monotone in phi (the stationary start's variance
    # explodes). The interval is the set of phi whose central range holds phi_hat: its lower end
    # is the first phi whose upper quantile reaches phi_hat (running maximum from the left), its
    # upper end the last phi whose lower quantile is still below it (running minimum from the right).
    low_envelope = np.minimum.accumulate(low_q[::-1])[::-1]
    return (
        _invert(phi_hat, phis, np.maximum.accumulate(median)),
        _invert(phi_hat, phis, np.maximum.accumulate(high_q)),
        _invert(phi_hat, phis, low_envelope),
    )
