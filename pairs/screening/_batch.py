"""Batch kernel of :func:`pairs.screening._scan.scan`: Engle-Granger tests for many pairs of one price panel.

A :class:`ScanState` (the panel, once) and many small :class:`Batch` es (pair indices) are what
travel to workers: the state is sent once per worker (process-pool initializer, or one dask
``scatter``), the batches are a few integer arrays each. Every pair of a batch shares the same
common-history rows, stored packed as a bit mask per group so that universes with many distinct
listing dates still fit in memory. :func:`run_batch` is a pure function of ``(state, batch)``,
so every backend returns identical numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit
from statsmodels.tsa.adfvalues import mackinnonp

from pairs.coint._kernels import AUTOLAG_CODES, TREND_TERMS, _eg_core

__all__ = ["Batch", "BatchOut", "ScanState", "init_worker", "run_batch", "worker_batch"]

_LN2 = math.log(2.0)


@dataclass(frozen=True)
class ScanState:
    """Everything a worker needs besides the batch: read-only, sent once."""

    panel: np.ndarray  # (n_series, n_bars) float64, C-contiguous, NaN where missing
    masks: np.ndarray  # (n_groups, ceil(n_bars / 8)) uint8: packed common-history rows per group
    max_lags: np.ndarray  # (n_groups,) ADF maximum lag of each group
    trend: str
    autolag: str | None
    both: bool


class Batch(NamedTuple):
    """Pairs ``(yi[k], xi[k])`` (row numbers of ``ScanState.panel``) sharing history group ``group``."""

    group: int
    yi: np.ndarray
    xi: np.ndarray


class BatchOut(NamedTuple):
    """Per-pair results of a batch; ``reverse`` flags a headline from the ``x~y`` regression."""

    stat: np.ndarray
    pvalue: np.ndarray
    lags: np.ndarray
    beta: np.ndarray
    alpha: np.ndarray
    half_life: np.ndarray
    reverse: np.ndarray
    pvalue_forward: np.ndarray
    pvalue_reverse: np.ndarray


@njit(cache=True)
def _is_constant(v: np.ndarray) -> bool:
    for t in range(1, v.shape[0]):
        if v[t] != v[0]:
            return False
    return True


@njit(cache=True)
def _half_life(s: np.ndarray) -> float:
    """``-ln 2 / lambda`` from the OLS of ``diff(s)`` on ``[s_{t-1}, 1]`` (as ``pairs.coint.half_life``)."""
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
    lam = sxy / sxx
    return -_LN2 / lam if lam < 0.0 else np.inf


@njit(cache=True)
def _eg_pairs(
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
    for k in range(m):
        y = panel[yi[k]][rows]
        x = panel[xi[k]][rows]
        # A constant leg makes the regression singular or its R^2 undefined (statsmodels reports
        # -inf, i.e. "cointegrated"): flag it instead of testing it.
        if _is_constant(y) or _is_constant(x):
            continue
        out = _eg_core(y, x.reshape((1, n)), ntrend, max_lag, autolag)
        stat[k] = out[0]
        lags[k] = out[1]
        beta[k] = out[4][0]
        alpha[k] = out[5]
        hl[k] = _half_life(out[6])
    return stat, lags, beta, alpha, hl


def _pvalues(stat: np.ndarray, trend: str) -> np.ndarray:
    return np.array([np.nan if math.isnan(s) else mackinnonp(s, regression=trend, N=2) for s in stat])


def run_batch(state: ScanState, batch: Batch) -> BatchOut:
    """Test every pair of ``batch``; with ``state.both`` keep the direction with the larger p-value."""
    n_bars = state.panel.shape[1]
    rows = np.flatnonzero(np.unpackbits(state.masks[batch.group], count=n_bars))
    args = (TREND_TERMS[state.trend], int(state.max_lags[batch.group]), AUTOLAG_CODES[state.autolag])
    yi = np.asarray(batch.yi, dtype=np.int64)
    xi = np.asarray(batch.xi, dtype=np.int64)
    fwd = _eg_pairs(state.panel, rows, yi, xi, *args)
    p_fwd = _pvalues(fwd[0], state.trend)
    if not state.both:
        stat, lags, beta, alpha, hl = fwd
        return BatchOut(
            stat, p_fwd, lags, beta, alpha, hl, np.zeros(len(yi), dtype=bool), p_fwd, np.full(len(yi), np.nan)
        )
    rev = _eg_pairs(state.panel, rows, xi, yi, *args)
    p_rev = _pvalues(rev[0], state.trend)
    # Same rule as engle_granger(direction="both"): larger p-value, then larger statistic.
    reverse = (p_rev > p_fwd) | ((p_rev == p_fwd) & (rev[0] > fwd[0]))
    stat, lags, beta, alpha, hl = (np.where(reverse, r, f) for r, f in zip(rev, fwd, strict=True))
    pvalue = np.where(reverse, p_rev, p_fwd)
    bad = np.isnan(p_fwd) | np.isnan(p_rev)
    stat[bad] = np.nan
    pvalue[bad] = np.nan
    return BatchOut(stat, pvalue, lags, beta, alpha, hl, reverse, p_fwd, p_rev)


_WORKER_STATE: ScanState | None = None


def init_worker(state: ScanState) -> None:
    """Process-pool initializer: keep the state received once per worker process."""
    global _WORKER_STATE
    _WORKER_STATE = state


def worker_batch(batch: Batch) -> BatchOut:
    """Process-pool task: run ``batch`` against the state installed by :func:`init_worker`."""
    assert _WORKER_STATE is not None, "init_worker must run first"
    return run_batch(_WORKER_STATE, batch)
