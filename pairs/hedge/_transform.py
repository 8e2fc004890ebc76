"""The representation a hedge ratio is estimated on: price levels or one-bar changes.

On ``"levels"`` the regression ``y_t = alpha + beta x_t + e_t`` gives the cointegrating
ratio and the spread is the price spread. On changes (``"diff"``, ``"returns"``,
``"log_returns"``) it gives the minimum-variance hedge ratio ``Cov(dy, dx) / Var(dx)``, and
the "spread" is the hedged one-bar change ``dy_t - beta dx_t - alpha``:

* ``"diff"``: ``dy_t = y_t - y_{t-1}`` in price units, so ``beta`` is in units of ``x`` per
  unit of ``y`` and the spread is the P&L of long 1 ``y``, short ``beta`` ``x`` over the bar;
* ``"returns"``: ``dy_t = y_t / y_{t-1} - 1``, so ``beta`` is a notional ratio and the spread is
  the return of $1 long ``y``, ``$beta`` short ``x`` (rebalanced every bar);
* ``"log_returns"``: ``dy_t = log(y_t) - log(y_{t-1})``, the same in log terms.

Changes do not exist at the first bar: transformed arrays keep the input length with NaN
there, so every output stays aligned to the input index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
from numba import njit

from pairs._validation import align_pair, check_choice, check_not_constant
from pairs.exceptions import PairsError

__all__ = [
    "CHANGES",
    "ON_CHOICES",
    "On",
    "PreparedPair",
    "check_flag",
    "clean_pair_values",
    "prepare_pair",
    "raise_if_constant",
    "transform",
]

On = Literal["levels", "diff", "returns", "log_returns"]
ON_CHOICES: tuple[str, ...] = get_args(On)
CHANGES: tuple[str, ...] = ("diff", "returns", "log_returns")
_FLOAT64 = np.dtype(np.float64)


@njit(cache=True)
def _inf_nan_min(values: np.ndarray) -> tuple[bool, bool, float]:
    """``(any inf, any NaN, min of the finite values)`` of a 1-d array, in one pass."""
    has_inf = has_nan = False
    lo = math.inf
    for v in values:
        if math.isnan(v):
            has_nan = True
        elif math.isinf(v):
            has_inf = True
        else:
            lo = min(lo, v)
    return has_inf, has_nan, lo


@njit(cache=True)
def _any_constant(values: np.ndarray) -> bool:
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


def raise_if_constant(name: str, values: np.ndarray) -> None:
    """:func:`~pairs._validation.check_not_constant` for a float64 array, compiled.

    Only a constant input reaches the general check, which then raises its usual error.
    """
    if _any_constant(values.reshape(len(values), -1)):
        check_not_constant(name, values)


def clean_pair_values(
    y: Any, x: Any, *, allow_nan: bool = False, positive: bool = False, min_length: int = 2
) -> tuple[np.ndarray, np.ndarray] | None:
    """The values of ``y`` and ``x`` when :func:`~pairs._validation.align_pair` would accept them
    as they are, else None.

    A shortcut for the common case, two float64 Series on one index: ``align_pair`` copies each
    into a new Series, which costs about as much as a Kalman filter over 3,000 bars. It proves
    the same conditions (same index, without NaT, sorted and unique, length, no inf, NaN only
    if allowed, positive if asked) without copying and returns None on anything else, so the caller runs
    ``align_pair``, which raises the precise error or converts the input.
    """
    if not (isinstance(y, pd.Series) and isinstance(x, pd.Series)):
        return None
    if y.dtype != _FLOAT64 or x.dtype != _FLOAT64:
        return None
    index = y.index
    if len(index) < min_length or len(x) != len(index):
        return None
    # Equal indexes of different dtypes (time units, timezone names) are left to align_pair.
    if index is not x.index and not (index.dtype == x.index.dtype and index.equals(x.index)):
        return None
    if index.hasnans or not (index.is_unique and index.is_monotonic_increasing):
        return None
    yv, xv = y.to_numpy(), x.to_numpy()
    for values in (yv, xv):
        has_inf, has_nan, lo = _inf_nan_min(values)
        if has_inf or (has_nan and not allow_nan) or (positive and not lo > 0.0):
            return None
    return yv, xv


def check_flag(name: str, value: Any) -> bool:
    """Return ``value`` if it is a ``bool`` (NumPy's included), else raise naming ``name``."""
    if not isinstance(value, (bool, np.bool_)):
        raise PairsError(f"{name} must be True or False; got {value!r}.")
    return bool(value)


def transform(values: np.ndarray, on: str) -> np.ndarray:
    """Return a new array: ``values`` (1-d or 2-d, time on axis 0) on ``on``, NaN at row 0 for changes."""
    if on == "levels":
        # A private C-ordered copy: pandas may hand out read-only views, and numba compiles a
        # separate (slow to build) kernel for every array flavour it meets.
        return values.copy()
    out = np.empty_like(values)
    out[0] = np.nan
    if on == "diff":
        np.subtract(values[1:], values[:-1], out=out[1:])
    elif on == "returns":
        np.divide(values[1:], values[:-1], out=out[1:])
        out[1:] -= 1.0
    else:
        logs = np.log(values)
        np.subtract(logs[1:], logs[:-1], out=out[1:])
    return out


@dataclass(frozen=True)
class PreparedPair:
    """The index of validated inputs, their transformed values (``xt`` is 2-d: one column per
    leg) and ``legs``: the leg names of a DataFrame ``x``, ``None`` for a single hedge."""

    index: pd.Index
    legs: list[Any] | None
    yt: np.ndarray
    xt: np.ndarray
    offset: int

    @property
    def n_obs(self) -> int:
        return len(self.yt) - self.offset


def prepare_pair(
    y: Any,
    x: Any,
    on: Any,
    *,
    choices: tuple[str, ...] = ON_CHOICES,
    allow_frame_x: bool = True,
    min_obs: int = 2,
) -> PreparedPair:
    """Validate ``on``, ``y`` and ``x`` (positive prices for returns, neither constant) and transform.

    ``min_obs`` counts observations of the representation, so changes need one more bar.
    """
    check_choice("on", on, choices)
    offset = 0 if on == "levels" else 1
    positive = on in ("returns", "log_returns")
    values = clean_pair_values(y, x, positive=positive, min_length=min_obs + offset)
    if values is None:
        ys, xs = align_pair(y, x, positive=positive, min_length=min_obs + offset, allow_frame_x=allow_frame_x)
        index = ys.index
        legs = list(xs.columns) if isinstance(xs, pd.DataFrame) else None
        yv, xv = ys.to_numpy(), xs.to_numpy()
    else:
        index, legs = y.index, None
        yv, xv = values
    xt = transform(xv.reshape(len(xv), -1), on)
    yt = transform(yv, on)
    raise_if_constant("y", yt)
    raise_if_constant("x", xt)
    return PreparedPair(index, legs, yt, xt, offset)
