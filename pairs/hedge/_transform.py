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

from dataclasses import dataclass
from typing import Any, get_args

import numpy as np
import pandas as pd

from pairs._typing import On
from pairs._validation import align_pair, check_choice, clean_pair_values, raise_if_constant

__all__ = ["CHANGES", "ON_CHOICES", "On", "PreparedPair", "prepare_pair", "transform"]

ON_CHOICES: tuple[str, ...] = get_args(On)
CHANGES: tuple[str, ...] = ("diff", "returns", "log_returns")


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
