"""Numba kernels of the universe scan: Engle-Granger and half-life of many pairs in one call."""

from __future__ import annotations

import math

import numpy as np

from pairs._numba_cache import njit
from pairs.coint._kernels import _eg_core

__all__ = ["eg_pairs"]

_LN2 = math.log(2.0)


@njit(cache=True)
def _is_constant(v: np.ndarray) -> bool:
    for t in range(1, v.shape[0]):
        if v[t] != v[0]:
            return False
    return True


@njit(cache=True)
def _half_life(s: np.ndarray) -> float:
    """``-ln 2 / ln|1 + lambda|`` from the OLS of ``diff(s)`` on ``[s_{t-1}, 1]`` (as ``pairs.coint.half_life``)."""
    n = s.shape[0] - 1
    mean = 0.0
    for t in range(n):
        mean += s[t]
    mean /= n
    sxy = 0.0
    sxx = 0.0
    for t in range(n):
        c = s[t] - mean
        sxy += c * (s[t + 1] - s[t])
        sxx += c * c
    if sxx == 0.0:
        return np.nan
    # The exact AR(1) half-life of pairs.coint.half_life: -ln 2 / ln|1 + lambda|.
    phi = abs(1.0 + sxy / sxx)
    if phi >= 1.0:
        return np.inf
    if phi == 0.0:
        return 0.0
    return -_LN2 / math.log(phi)


@njit(cache=True)
def eg_pairs(
    panel: np.ndarray,
    rows: np.ndarray,
    yi: np.ndarray,
    xi: np.ndarray,
    ntrend: int,
    max_lag: int,
    autolag: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Engle-Granger of ``panel[yi[k], rows]`` on ``panel[xi[k], rows]``; NaN when a leg is constant."""
    m = yi.shape[0]
    n = rows.shape[0]
    stat = np.full(m, np.nan)
    lags = np.zeros(m, dtype=np.int64)
    beta = np.full(m, np.nan)
    alpha = np.full(m, np.nan)
    hl = np.full(m, np.nan)
    # The leg as a (1, n) matrix, filled element by element per pair: x.reshape((1, n)) or a
    # slice assignment would compile numba's shape-error path (seconds on a cold cache).
    legs = np.empty((1, n))
    x = legs[0]
    for k in range(m):
        y = panel[yi[k]][rows]
        row = panel[xi[k]]
        for t in range(n):
            x[t] = row[rows[t]]
        # A constant leg makes the regression singular or its R^2 undefined (statsmodels reports
        # -inf, i.e. "cointegrated"): flag it instead of testing it.
        if _is_constant(y) or _is_constant(x):
            continue
        out = _eg_core(y, legs, ntrend, max_lag, autolag)
        stat[k] = out[0]
        lags[k] = out[1]
        beta[k] = out[4][0]
        alpha[k] = out[5]
        hl[k] = _half_life(out[6])
    return stat, lags, beta, alpha, hl
