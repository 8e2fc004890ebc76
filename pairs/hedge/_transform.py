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
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from pairs._validation import align_pair, check_choice, check_not_constant
from pairs.exceptions import PairsError

__all__ = ["CHANGES", "ON_CHOICES", "On", "PreparedPair", "check_flag", "prepare_pair", "transform"]

On = Literal["levels", "diff", "returns", "log_returns"]
ON_CHOICES: tuple[str, ...] = get_args(On)
CHANGES: tuple[str, ...] = ("diff", "returns", "log_returns")


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
    """Validated inputs plus their transformed values (``xt`` is 2-d: one column per leg)."""

    y: pd.Series
    x: pd.Series | pd.DataFrame
    yt: np.ndarray
    xt: np.ndarray
    offset: int

    @property
    def index(self) -> pd.Index:
        return self.y.index

    @property
    def legs(self) -> list[Any] | None:
        """Leg names for a DataFrame ``x``, ``None`` for a single hedge."""
        return list(self.x.columns) if isinstance(self.x, pd.DataFrame) else None

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
    ys, xs = align_pair(
        y,
        x,
        positive=on in ("returns", "log_returns"),
        min_length=min_obs + offset,
        allow_frame_x=allow_frame_x,
    )
    xv = xs.to_numpy()
    xt = transform(xv.reshape(len(xv), -1), on)
    yt = transform(ys.to_numpy(), on)
    check_not_constant("y", yt)
    check_not_constant("x", xt)
    return PreparedPair(ys, xs, yt, xt, offset)
