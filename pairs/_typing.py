"""Type aliases shared across the package: array-likes and every option ``Literal``, defined once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, get_args

if TYPE_CHECKING:  # the aliases below are strings: importing pairs._typing stays cheap
    import numpy as np
    import pandas as pd

__all__ = [
    "ArrayLike1D",
    "ArrayLike2D",
    "Autolag",
    "Convention",
    "Correction",
    "Direction",
    "Field",
    "FillModel",
    "FitMethod",
    "Hedge",
    "ImbalanceAction",
    "Layout",
    "LegOrder",
    "MarginMode",
    "NoiseUnits",
    "On",
    "OnEmptyPage",
    "OverfitMetric",
    "PriceBar",
    "PriceField",
    "RollingTest",
    "SizingMode",
    "SlippageModel",
    "Trend",
    "ZScoreMethod",
    "ZScoreWindowMethod",
    "layouts",
]

ArrayLike1D: TypeAlias = "pd.Series | np.ndarray | list[float] | tuple[float, ...]"
"""One series of values: a Series (its index is kept), a 1-d array or a sequence."""
ArrayLike2D: TypeAlias = "pd.DataFrame | np.ndarray | dict[str, Any]"
PriceBar: TypeAlias = "Mapping[str, float | None] | pd.Series"
"""One bar of a universe's prices: ``{coin: price}`` (None or NaN: no price) or a Series by coin."""
"""Several aligned series: a DataFrame, a 2-d array (columns are series) or a mapping."""

Hedge = Literal["kalman", "rolling", "ols"]
"""Hedge of a :class:`~pairs.Strategy`."""
ZScoreMethod = Literal["rolling", "ewm", "expanding", "innovation"]
"""Z-score of a :class:`~pairs.Strategy` (``"innovation"``: Kalman only)."""
ZScoreWindowMethod = Literal["rolling", "ewm", "expanding"]
"""Methods of :func:`pairs.zscore`."""
SizingMode = Literal["beta_neutral", "dollar_neutral"]
"""Leg sizing of :func:`pairs.size_legs` and :class:`~pairs.Strategy`."""
On = Literal["levels", "diff", "returns", "log_returns"]
"""What a hedge ratio is estimated on."""
FitMethod = Literal["em", "mle"]
"""Noise estimation of :func:`pairs.kalman_hedge`."""
NoiseUnits = Literal["ratio", "log", "raw"]
"""Units of the Kalman noise and prior (:func:`pairs.kalman_hedge`): prices over their first value,
log prices minus their first value, or the data as given."""
Trend = Literal["n", "c", "ct", "ctt"]
"""Deterministic terms of ADF / Engle-Granger regressions."""
Autolag = Literal["aic", "bic", "t-stat"]
"""Lag selection of ADF / Engle-Granger."""
Direction = Literal["y~x", "x~y", "both"]
"""Regression direction(s) of Engle-Granger."""
RollingTest = Literal["engle_granger", "adf_spread"]
"""Test of :func:`pairs.rolling_coint`."""
Correction = Literal["fdr_bh", "bonferroni", "none"]
"""Multiple-testing correction of :func:`pairs.scan`."""
Convention = Literal["gross_exposure", "account"]
"""Return convention of :func:`pairs.backtest`."""
OverfitMetric = Literal["sharpe", "mean"]
"""Performance a trial is ranked by in :func:`pairs.probability_of_overfitting`."""
Layout = Literal["auto", "yfinance", "binance", "cryptodatadownload"]
"""CSV layouts of :func:`pairs.read_prices`."""
Field = Literal["close", "open", "high", "low", "adj_close", "volume"]
"""Price fields of :func:`pairs.read_prices`."""
OnEmptyPage = Literal["raise", "warn"]
"""What :func:`pairs.load_ccxt` does with an empty page before its span is complete."""
HalfLifeMethod = Literal["ols", "median_unbiased"]
"""Estimator of :func:`pairs.half_life`: OLS, or Andrews' median-unbiased AR(1) coefficient."""

LegOrder = Literal["together", "y_first", "x_first"]
"""The order in which the legs of a pair are entered or closed (:class:`pairs.ExecutionRule`)."""
ImbalanceAction = Literal["flatten", "close_other"]
"""What the leg-imbalance guard of :class:`pairs.ExecutionRule` does when it fires."""
FillModel = Literal["close", "next_open", "next_close"]
"""When an account's orders fill (:func:`pairs.backtest`, :class:`~pairs.Strategy`); an int is a lag in bars."""
SlippageModel = Literal["cost", "price"]
"""Slippage as a separate cost line, or as a moved fill price (vectorbt's model)."""
PriceField = Literal["open", "high", "low", "close"]
"""Candle prices :func:`pairs.load_ccxt` and :func:`pairs.from_ccxt` return."""
MarginMode = Literal["cross", "isolated"]
"""Margin of an account's perpetual legs: one pool for both, or each leg its own."""


def layouts() -> tuple[str, ...]:
    """The CSV layouts :func:`pairs.read_prices` detects (``Layout`` without ``"auto"``)."""
    return tuple(name for name in get_args(Layout) if name != "auto")
