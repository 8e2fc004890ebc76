"""Units of each leg to hold for a spread position, with lot rounding and a rebalancing band."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pairs._typing import ArrayLike1D
from pairs._typing import SizingMode as Mode
from pairs._validation import align_pair, as_series, check_choice, check_float, check_lot_size
from pairs.exceptions import DataError, PairsError
from pairs.trading._kernels import size_kernel, size_step

__all__ = ["size_legs", "size_step"]


def aligned_series(obj: Any, name: str, index: pd.Index, *, allow_nan: bool = False) -> pd.Series:
    """Validate a series that must share ``index`` (an array adopts it)."""
    series = as_series(obj, name, allow_nan=allow_nan, min_length=1)
    if len(series) != len(index):
        raise DataError(f"{name} must have the same length as the prices ({len(index)}); got {len(series)}.")
    if isinstance(obj, (pd.Series, pd.DataFrame)):
        if not series.index.equals(index):
            raise DataError(f"{name} index must equal the prices' index; got a misaligned index.")
    else:
        series.index = index
    return series


def beta_array(beta: Any, index: pd.Index) -> np.ndarray:
    """``beta`` (a finite float, or a Series aligned to ``index`` with NaN allowed) as an array."""
    if isinstance(beta, (pd.Series, pd.DataFrame, np.ndarray, list, tuple)):
        return aligned_series(beta, "beta", index, allow_nan=True).to_numpy()
    return np.full(len(index), check_float("beta", beta))


def size_legs(
    position: ArrayLike1D,
    beta: float | pd.Series | None,
    y_price: ArrayLike1D,
    x_price: ArrayLike1D,
    *,
    capital: float,
    mode: Mode = "beta_neutral",
    lot_size: tuple[float, float] = (0.0, 0.0),
    rebalance_band: float = 0.0,
) -> pd.DataFrame:
    """Units of ``y`` and ``x`` to hold for a spread position.

    Parameters
    ----------
    position
        Spread position per bar (+1 long the spread, -1 short, fractions allowed), e.g. from
        :func:`pairs.trading.signals`.
    beta
        Hedge ratio in units of ``x`` per unit of ``y`` (a price-level hedge): a float, or a
        Series aligned to the prices (NaN allowed where the position is 0). Ignored (may be
        ``None``) with ``mode="dollar_neutral"``.
    y_price, x_price
        Prices of both legs (positive, aligned).
    capital
        Gross notional of a position of size 1, in quote currency (> 0).
    mode
        ``"beta_neutral"``: ``x_units = -beta * y_units`` with ``y_units`` chosen so that
        ``|y_units| * y_price + |x_units| * x_price = capital * |position|``.
        ``"dollar_neutral"``: equal and opposite dollar legs,
        ``y_units * y_price = capital * position / 2 = -x_units * x_price``.
    lot_size
        ``(y_lot, x_lot)``: units are rounded toward zero to a multiple of the lot (0: no
        rounding). With ``beta_neutral``, ``x_units`` is computed from the rounded ``y_units``.
    rebalance_band
        Legs are re-sized (at the current prices) only when the position changes or, with
        ``beta_neutral``, when ``|beta_t - beta_ref| > rebalance_band * |beta_ref|`` where
        ``beta_ref`` is the beta of the last re-size; otherwise the units are held.

    Returns
    -------
    pandas.DataFrame
        Columns ``"y_units"``, ``"x_units"``, aligned to the prices; 0 where flat.

    Examples
    --------
    >>> from pairs import load_sample
    >>> prices = load_sample("binance_1d")[["BTC", "ETH"]].dropna().iloc[-3:]
    >>> units = size_legs([1, 1, 0], 20.0, prices["BTC"], prices["ETH"], capital=10_000,
    ...                   lot_size=(0.001, 0.01))
    >>> units.round(3).to_numpy().tolist()
    [[0.064, -1.28], [0.064, -1.28], [0.0, 0.0]]
    """
    check_choice("mode", mode, ("beta_neutral", "dollar_neutral"))
    ys, xs = align_pair(y_price, x_price, positive=True, min_length=1, y_name="y_price", x_name="x_price")
    index = ys.index
    pos = aligned_series(position, "position", index).to_numpy()
    cap = check_float("capital", capital, minimum=0.0, strict_min=True)
    band = check_float("rebalance_band", rebalance_band, minimum=0.0)
    lot_y, lot_x = check_lot_size(lot_size)
    beta_neutral = mode == "beta_neutral"
    if beta_neutral:
        if beta is None:
            raise PairsError("beta must be a float or a Series with mode='beta_neutral'; got None.")
        betas = beta_array(beta, index)
        missing = np.isnan(betas) & (pos != 0)
        if missing.any():
            raise DataError(
                f"beta must be finite where position is non-zero; got NaN at {index[missing][0]!r}."
            )
    else:
        betas = np.zeros(len(index))
    yu, xu = size_kernel(pos, betas, ys.to_numpy(), xs.to_numpy(), cap, beta_neutral, lot_y, lot_x, band)
    return pd.DataFrame({"y_units": yu, "x_units": xu}, index=index)
