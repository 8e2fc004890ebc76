"""Units of the Kalman hedge's noise settings: the data as given, or relative to a first bar.

A Kalman filter's ``delta``, ``obs_var`` and prior are in the units of the data it runs on: an
observation variance of 1e-3 suits log prices and means nothing for BTC in dollars. So the
filter of :func:`pairs.kalman_hedge` and of a :class:`~pairs.Strategy` can run on values
*relative to the first bar* (``y_0``, ``x_0``: the first bar where both are observed), one
convention per kind of input (``noise_units``):

* ``"ratio"`` (prices): ``y~ = y / y_0`` and ``x~ = x / x_0`` (both start at 1);
* ``"log"`` (log prices): ``y~ = y - y_0`` and ``x~ = x - x_0`` (both start at 0);
* ``"raw"``: ``y~ = y``, ``x~ = x``, the data's own units.

With ``"ratio"`` and ``"log"`` a move of ``y~`` is about the relative move of the price, so one
setting means the same thing for any price level and quote currency, raw or log. The filtered
``(beta~, alpha~)`` and the paths map back to the input's units exactly:

* ratio: ``beta = beta~ y_0 / x_0``, ``alpha = alpha~ y_0``; spread and innovation times ``y_0``,
  the innovation variance times ``y_0**2``;
* log: ``beta = beta~``, ``alpha = alpha~ + y_0 - beta~ x_0``; spread and innovation unchanged.

Only the reference bar is used, so the transformation is causal; before it (no bar observed in
both yet) there is no reference and ``beta``/``alpha`` are NaN. The streaming engine applies
the same formulas to scalars, bar by bar (tested equal to the batch run bit for bit).
"""

from __future__ import annotations

import math

import numpy as np

from pairs.exceptions import PairsError
from pairs.hedge._kernels import from_relative, to_relative

__all__ = ["NOISE_UNITS", "from_relative", "paths_to_input_units", "relative_inputs", "to_relative"]

NOISE_UNITS: tuple[str, ...] = ("ratio", "log", "raw")


def relative_inputs(
    y: np.ndarray, x: np.ndarray, noise_units: str
) -> tuple[np.ndarray, np.ndarray, int, float, float]:
    """``(y~, x~, first, y_0, x_0)``: the filter's inputs and their reference bar ``first``.

    Inputs are trusted (validated by the caller) and hold at least one bar observed in both.
    """
    if noise_units == "raw":
        return y, x, 0, 1.0, 1.0
    first = int(np.flatnonzero(~(np.isnan(y) | np.isnan(x)))[0])
    ref_y, ref_x = float(y[first]), float(x[first])
    log = noise_units == "log"
    if not log:
        for name, ref in (("y", ref_y), ("x", ref_x)):
            if ref == 0.0:
                raise PairsError(
                    f"{name} must not be 0 at the first bar observed in both with noise_units='ratio' "
                    "(it sets the units); got 0: pass noise_units='raw'."
                )
    return to_relative(y, ref_y, log), to_relative(x, ref_x, log), first, ref_y, ref_x


def paths_to_input_units(
    paths: np.ndarray, first: int, ref_y: float, ref_x: float, noise_units: str
) -> float:
    """Map the filter's ``(6, n)`` paths to the input's units in place.

    Returns the log-likelihood offset per observed bar: the log-Jacobian ``-log |y_0|`` of
    ``y -> y / y_0`` (0 for ``"log"`` and ``"raw"``), so that the log-likelihood is that of the
    data as given.
    """
    if noise_units == "raw":
        return 0.0
    log = noise_units == "log"
    beta, alpha, spread = from_relative(paths[0], paths[1], paths[2], ref_y, ref_x, log)
    paths[1] = alpha
    paths[0] = beta
    paths[2] = spread
    paths[:2, :first] = math.nan
    if log:
        return 0.0
    paths[3] *= ref_y
    paths[4] *= ref_y * ref_y
    return -math.log(abs(ref_y))
