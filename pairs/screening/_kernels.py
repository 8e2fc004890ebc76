"""The universe scan's kernel: Engle-Granger and half-life of many pairs of one panel.

It runs :func:`pairs.coint._kernels.eg_panel`, the code path of :func:`pairs.engle_granger`
(one implementation of the test, one compilation of its kernels), on single-leg pairs.
"""

from __future__ import annotations

import numpy as np

from pairs.coint._kernels import eg_panel

__all__ = ["eg_pairs"]


def eg_pairs(
    panel: np.ndarray,
    rows: np.ndarray,
    yi: np.ndarray,
    xi: np.ndarray,
    ntrend: int,
    max_lag: int,
    autolag: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Engle-Granger of ``panel[yi[k], rows]`` on ``panel[xi[k], rows]``: ``(stat, lags, beta, alpha, half_life)``.

    NaN statistic when the test is degenerate (a constant series, a singular design).
    """
    out = eg_panel(panel, rows, yi, xi.reshape(-1, 1), ntrend, max_lag, autolag)
    return out.stat, out.lags, out.beta[:, 0], out.alpha, out.half_life
