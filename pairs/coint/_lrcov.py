"""Kernel (HAC) long-run covariance with Andrews / Newey-West automatic bandwidth.

The definitions are those of ``arch.covariance.kernel`` (uncentred data, inner products divided
by the number of rows), so the Phillips-Ouliaris statistics built on them equal arch's:

* weights ``w_0 = 1, w_1, ...`` of the kernel at ``i / (bandwidth + 1)`` (Bartlett, Parzen) or
  ``i / bandwidth`` (quadratic spectral, never truncated);
* one-sided strict covariance ``sum_{i >= 1} w_i x_{t}' x_{t-i} / n``;
* automatic bandwidth ``c_k (alpha(q) n) ** (1 / (2q + 1))`` (Newey and West 1994), with
  ``alpha(q) = (f_q / f_0) ** 2`` from the first ``ceil(4 (n / 100) ** rate)`` autocovariances
  of the row sums of ``x``, capped at ``n - 1``.
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

import numpy as np

__all__ = ["KERNELS", "Kernel", "LongRun", "long_run_cov"]

Kernel = Literal["bartlett", "parzen", "quadratic-spectral"]
# name: (c_k, q, rate) of the automatic bandwidth (Andrews 1991; Newey and West 1994).
KERNELS: dict[str, tuple[float, float, float]] = {
    "bartlett": (1.1447, 1.0, 2.0 / 9.0),
    "parzen": (2.6614, 2.0, 4.0 / 25.0),
    "quadratic-spectral": (1.3221, 2.0, 2.0 / 25.0),
}


class LongRun(NamedTuple):
    """Short-run covariance ``x'x / n``, one-sided strict covariance and the bandwidth used."""

    short_run: np.ndarray
    one_sided_strict: np.ndarray
    bandwidth: float

    @property
    def long_run(self) -> np.ndarray:
        return self.short_run + self.one_sided_strict + self.one_sided_strict.T


def _auto_bandwidth(x: np.ndarray, kernel: str) -> float:
    c, q, rate = KERNELS[kernel]
    v = x.sum(axis=1)
    n = v.shape[0]
    f0 = fq = 0.0
    for j in range(math.ceil(4.0 * (n / 100.0) ** rate) + 1):
        sig = float(v[j:] @ v[: n - j]) / n
        scale = 2.0 if j else 1.0
        f0 += scale * sig
        fq += scale * j**q * sig
    return min(c * ((fq / f0) ** 2 * n) ** (1.0 / (2.0 * q + 1.0)), n - 1.0)


def _weights(kernel: str, bandwidth: float, n: int) -> np.ndarray:
    if kernel == "quadratic-spectral":
        w = np.zeros(n)
        w[0] = 1.0
        if bandwidth > 0:
            z = 6.0 * np.pi * (np.arange(1, n) / bandwidth) / 5.0
            w[1:] = 3.0 / z**2 * (np.sin(z) / z - np.cos(z))
        return w
    u = np.arange(int(bandwidth + 1), dtype=np.float64) / (bandwidth + 1)
    if kernel == "bartlett":
        return 1.0 - u
    return np.where(u <= 0.5, 1.0 - 6.0 * u**2 * (1.0 - u), 2.0 * (1.0 - u) ** 3)


def long_run_cov(x: np.ndarray, kernel: str, bandwidth: float | None) -> LongRun:
    """Kernel covariances of the rows of ``x`` (``n x k``, not demeaned); automatic bandwidth if None."""
    n, k = x.shape
    bw = _auto_bandwidth(x, kernel) if bandwidth is None else float(bandwidth)
    w = _weights(kernel, bw, n)
    oss = np.zeros((k, k))
    # Lags at or beyond n have no pairs of rows: their terms are zero.
    for i in range(1, min(w.shape[0], n)):
        oss += w[i] * (x[i:].T @ x[:-i]) / n
    return LongRun(x.T @ x / n, oss, bw)
