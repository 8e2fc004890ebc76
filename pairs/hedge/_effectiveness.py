"""Hedge effectiveness: how much of the variance of ``y``'s changes a hedge ratio removes."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from pairs._results import ResultMixin
from pairs._typing import ArrayLike1D, ArrayLike2D
from pairs._validation import as_frame, as_series, check_float
from pairs.exceptions import DataError, InsufficientDataError
from pairs.hedge._transform import CHANGES, PreparedPair, prepare_pair

__all__ = ["HedgeEffectiveness", "hedge_effectiveness"]


@dataclass(frozen=True, repr=False)
class HedgeEffectiveness(ResultMixin):
    """Variance reduction of a hedge: ``1 - var_hedged / var_unhedged``.

    Attributes
    ----------
    effectiveness
        ``1 - var_hedged / var_unhedged``: 1 is a perfect hedge, 0 no better than none,
        negative worse than none.
    var_hedged, var_unhedged
        Sample variances (``ddof=1``) of the hedged and of the unhedged changes, over the
        same ``n_obs`` bars.
    n_obs
        Bars where the hedged change is defined (a change exists and the beta used is known).
    on
        The changes hedged: ``"diff"``, ``"returns"`` or ``"log_returns"``.
    hedged
        ``dy_t - beta_{t-1} . dx_t`` (a static beta for every bar), aligned to the input index.
    """

    effectiveness: float
    var_hedged: float
    var_unhedged: float
    n_obs: int
    on: str
    hedged: pd.Series

    _title = "Hedge effectiveness"


def _beta_path(beta: Any, prep: PreparedPair) -> np.ndarray:
    """Return the beta applied to each bar's change, shape (n, k): static, or lagged one bar."""
    n, k = prep.xt.shape
    legs = prep.legs
    if isinstance(beta, numbers.Real) and not isinstance(beta, bool):
        if legs is not None:
            raise DataError(f"beta must be a Series indexed by the legs of x {legs!r}; got a float.")
        return np.full((n, 1), check_float("beta", beta))
    if legs is not None and isinstance(beta, pd.Series) and not beta.index.equals(prep.index):
        if set(beta.index) != set(legs) or len(beta) != k:
            raise DataError(f"beta must be indexed by the legs of x {legs!r}; got {list(beta.index)!r}.")
        if not pd.api.types.is_numeric_dtype(beta.dtype) or not np.isfinite(beta.to_numpy(float)).all():
            raise DataError(f"beta must hold finite numbers per leg; got {beta.to_dict()!r}.")
        return np.broadcast_to(beta.reindex(legs).to_numpy(float), (n, k))
    if isinstance(beta, pd.DataFrame) and legs is not None:
        frame = as_frame(beta, "beta", allow_nan=True, min_length=1)
        if list(frame.columns) != legs:
            raise DataError(f"beta columns must be the legs of x {legs!r}; got {list(frame.columns)!r}.")
        path, index = frame.to_numpy(), frame.index
    elif isinstance(beta, pd.Series) and legs is None:
        series = as_series(beta, "beta", allow_nan=True, min_length=1)
        path, index = series.to_numpy().reshape(-1, 1), series.index
    else:
        expected = "a Series or DataFrame (legs as columns)" if legs is not None else "a float or a Series"
        raise DataError(f"beta must be {expected}; got {type(beta).__name__}.")
    if not index.equals(prep.index):
        raise DataError("beta index must equal y index; got misaligned indexes.")
    lagged = np.full_like(path, np.nan)
    lagged[1:] = path[:-1]
    return lagged


def hedge_effectiveness(
    y: ArrayLike1D,
    x: ArrayLike1D | ArrayLike2D,
    beta: Any,
    *,
    on: Literal["diff", "returns", "log_returns"] = "returns",
) -> HedgeEffectiveness:
    """Share of the variance of ``y``'s changes removed by hedging with ``beta`` units of ``x``.

    Parameters
    ----------
    y, x
        Prices of the asset hedged and of the hedge (a Series, or a DataFrame of legs).
    beta
        A float (one hedge) or a Series indexed by leg: a static ratio applied to every bar.
        A Series on ``y``'s index (a DataFrame of legs for several hedges), e.g. a rolling
        ``HedgeResult.beta``: a time-varying ratio, where the beta known at ``t - 1`` hedges the
        change from ``t - 1`` to ``t`` (out of sample, no look-ahead); NaN betas skip the bar.
    on
        Changes to hedge: ``"returns"`` (default: ``beta`` is a notional ratio), ``"log_returns"``,
        or ``"diff"`` (``beta`` in units of ``x`` per unit of ``y``, e.g. a ratio fitted on levels).

    Returns
    -------
    HedgeEffectiveness
        ``effectiveness``, ``var_hedged``, ``var_unhedged``, ``n_obs`` and the ``hedged`` Series.

    Notes
    -----
    With the full-sample OLS beta on the same changes (with intercept), the effectiveness
    equals that regression's R-squared: no static beta does better in sample. Compare
    estimators out of sample, e.g. a beta fitted on a training half, or a moving beta.

    Examples
    --------
    >>> from pairs import load_sample
    >>> prices = load_sample("binance_1d")[["BTC", "ETH"]].dropna()
    >>> res = hedge_effectiveness(prices["BTC"], prices["ETH"], 0.6, on="returns")
    >>> round(res.effectiveness, 3), res.n_obs
    (0.605, 3064)
    """
    prep = prepare_pair(y, x, on, choices=CHANGES)
    betas = _beta_path(beta, prep)
    hedged = prep.yt - np.einsum("ij,ij->i", betas, prep.xt)
    valid = np.isfinite(hedged)
    n_obs = int(valid.sum())
    if n_obs < 2:
        raise InsufficientDataError(f"beta must be known on at least 2 bars with a change; got {n_obs}.")
    var_hedged = float(np.var(hedged[valid], ddof=1))
    var_unhedged = float(np.var(prep.yt[valid], ddof=1))
    if var_unhedged == 0.0:
        raise DataError("y must vary over the bars where beta is known; got constant changes.")
    return HedgeEffectiveness(
        effectiveness=1.0 - var_hedged / var_unhedged,
        var_hedged=var_hedged,
        var_unhedged=var_unhedged,
        n_obs=n_obs,
        on=on,
        hedged=pd.Series(hedged, index=prep.index, name="hedged"),
    )
