"""Numba kernels of the boundary checks' fast paths (see :mod:`pairs._validation`), and the exact
rescaling of data whose squares would under- or overflow."""

from __future__ import annotations

import math

import numpy as np

from pairs._numba_cache import njit

__all__ = ["any_constant", "inf_nan_min", "pow2_scale"]


def pow2_scale(values: np.ndarray) -> float:
    """The power of two just above ``max|values|`` (1 for zeros).

    Dividing by it is exact, so a scale-free statistic computed on the scaled data equals the
    one on the data, and prices near 1e-303 or 1e300 no longer under- or overflow their sums of
    squares.
    """
    top = float(np.max(np.abs(values)))
    return math.ldexp(1.0, math.frexp(top)[1]) if top > 0.0 else 1.0


@njit(cache=True)
def inf_nan_min(values: np.ndarray) -> tuple[bool, bool, float]:
    """``(any inf, any NaN, min of the finite values)`` of a 1-d array, in one pass."""
    has_inf = has_nan = False
    lo = math.inf
    for v in values:
        if math.isnan(v):
            has_nan = True
        elif math.isinf(v):
            has_inf = True
        elif v < lo:
            # Not min(): it compiles one more function on a first run.
            lo = v
    return has_inf, has_nan, lo


@njit(cache=True)
def any_constant(values: np.ndarray) -> bool:
    """Whether a column of 2-d ``values`` has two or more finite values, all equal.

    The condition of :func:`~pairs._validation.check_not_constant` (a single observed value is
    too little data, not a constant).
    """
    for j in range(values.shape[1]):
        first = math.nan
        count = 0
        varies = False
        for i in range(values.shape[0]):
            v = values[i, j]
            if not math.isfinite(v):
                continue
            if count == 0:
                first = v
            elif v != first:
                varies = True
                break
            count += 1
        if not varies and count > 1:
            return True
    return False
