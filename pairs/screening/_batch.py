"""Batch kernel of :func:`pairs.screening._scan.scan`: Engle-Granger tests for many pairs of one price panel.

A :class:`ScanState` (the panel, once) and many small :class:`Batch` es (pair indices) are what
travel to workers: the state is sent once per worker (process-pool initializer, or one dask
``scatter``), the batches are a few integer arrays each. Every pair of a batch shares the same
common-history rows, stored packed as a bit mask per group so that universes with many distinct
listing dates still fit in memory. :func:`run_batch` is a pure function of ``(state, batch)``,
so every backend returns identical numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from pairs.coint._critical import df_pvalue
from pairs.coint._kernels import AUTOLAG_CODES, TREND_TERMS
from pairs.screening._kernels import eg_pairs

__all__ = ["Batch", "BatchOut", "ScanState", "init_worker", "run_batch", "worker_batch"]


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


def _pvalues(stat: np.ndarray, trend: str, n_obs: np.ndarray) -> np.ndarray:
    """Finite-sample Engle-Granger p-values; ``n_obs`` is each ADF regression's sample size."""
    return df_pvalue(stat, trend, 2, n_obs)


def run_batch(state: ScanState, batch: Batch) -> BatchOut:
    """Test every pair of ``batch``; with ``state.both`` keep the direction with the larger p-value."""
    n_bars = state.panel.shape[1]
    rows = np.flatnonzero(np.unpackbits(state.masks[batch.group], count=n_bars))
    args = (TREND_TERMS[state.trend], int(state.max_lags[batch.group]), AUTOLAG_CODES[state.autolag])
    yi = np.asarray(batch.yi, dtype=np.int64)
    xi = np.asarray(batch.xi, dtype=np.int64)
    fwd = eg_pairs(state.panel, rows, yi, xi, *args)
    p_fwd = _pvalues(fwd[0], state.trend, len(rows) - 1 - fwd[1])
    if not state.both:
        stat, lags, beta, alpha, hl = fwd
        return BatchOut(
            stat, p_fwd, lags, beta, alpha, hl, np.zeros(len(yi), dtype=bool), p_fwd, np.full(len(yi), np.nan)
        )
    rev = eg_pairs(state.panel, rows, xi, yi, *args)
    p_rev = _pvalues(rev[0], state.trend, len(rows) - 1 - rev[1])
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
