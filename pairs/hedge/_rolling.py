"""Causal moving hedge ratios: rolling window, expanding window and exponential weighting.

Each bar ``t`` gets the least-squares fit of the sample that *ends at* ``t`` (the current
bar included), as statsmodels' ``RollingOLS`` stores it at ``t``; nothing after ``t`` is
used, so ``f(data[:t])`` equals ``f(data)[:t]``. ``spread_t = y'_t - beta_t . x'_t - alpha_t``
uses that same fit (an in-sample residual); for an out-of-sample hedge of the next bar
use ``beta.shift(1)``, as :func:`pairs.hedge._effectiveness.hedge_effectiveness` does.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from pairs._typing import ArrayLike1D, ArrayLike2D
from pairs._validation import check_flag, check_halflife, check_int, check_window
from pairs.exceptions import InsufficientDataError
from pairs.hedge._kernels import moving_ols
from pairs.hedge._result import HedgeResult
from pairs.hedge._transform import On, PreparedPair, prepare_pair

__all__ = ["ewm_hedge", "expanding_hedge", "rolling_hedge"]


def _n_params(prep: PreparedPair, intercept: bool) -> int:
    return prep.xt.shape[1] + int(intercept)


def _min_periods(value: Any, prep: PreparedPair, intercept: bool, *, window: int | None = None) -> int:
    """Validate ``min_periods``: at least the parameter count, at most ``window`` (or the sample)."""
    n_params = _n_params(prep, intercept)
    if value is None:
        if window is not None:
            return window
        if prep.n_obs <= n_params:
            raise InsufficientDataError(
                f"y must have more than {n_params} observations to fit {n_params} parameter(s); "
                f"got {prep.n_obs}."
            )
        return n_params + 1
    if window is not None:
        return check_int("min_periods", value, minimum=n_params, maximum=window)
    return check_window("min_periods", value, prep.n_obs, minimum=n_params)


def _fit(
    method: str,
    prep: PreparedPair,
    on: str,
    *,
    window: int,
    decay: float,
    min_periods: int,
    intercept: bool,
    params: dict[str, Any],
) -> HedgeResult:
    # Refinement costs O(window) per bar: affordable for a rolling window, not a growing one.
    refine = method == "rolling"
    beta, alpha, r_squared, spread = moving_ols(
        prep.yt, np.ascontiguousarray(prep.xt), prep.offset, window, decay, min_periods, intercept, refine
    )
    index = prep.index
    legs = prep.legs
    return HedgeResult(
        method=method,
        on=on,
        beta=pd.Series(beta[:, 0], index=index, name="beta")
        if legs is None
        else pd.DataFrame(beta, index=index, columns=legs),
        alpha=pd.Series(alpha, index=index, name="alpha"),
        spread=pd.Series(spread, index=index, name="spread"),
        r_squared=pd.Series(r_squared, index=index, name="r_squared"),
        n_obs=prep.n_obs,
        params={"intercept": intercept, **params, "min_periods": min_periods},
    )


def rolling_hedge(
    y: ArrayLike1D,
    x: ArrayLike1D | ArrayLike2D,
    *,
    window: int,
    intercept: bool = True,
    min_periods: int | None = None,
    on: On = "levels",
) -> HedgeResult:
    """Rolling-window OLS hedge ratio; the window ending at ``t`` includes bar ``t``.

    Parameters
    ----------
    y, x
        Prices of the asset hedged and of the hedge (a Series, or a DataFrame of legs).
    window
        Number of observations of the representation ``on`` per fit (>= 2 and >= the number
        of parameters; at most the number of observations).
    intercept
        Fit ``alpha`` in each window (default) or not.
    min_periods
        Fit the first windows as soon as they hold this many observations (partial windows,
        like statsmodels' ``min_nobs`` with ``expanding=True``); default ``window``.
    on
        ``"levels"``, ``"diff"``, ``"returns"`` or ``"log_returns"`` (see
        :mod:`pairs.hedge._transform`); changes lose the first bar, which stays NaN.

    Returns
    -------
    HedgeResult
        ``beta`` (Series, or DataFrame by leg), ``alpha``, ``spread`` and ``r_squared`` Series
        aligned to the input index, NaN during warm-up and where the window's ``x`` is constant.

    Examples
    --------
    >>> from pairs import load_sample
    >>> prices = load_sample("binance_1d")[["BTC", "ETH"]].dropna()
    >>> res = rolling_hedge(prices["BTC"], prices["ETH"], window=60, on="returns")
    >>> int(res.beta.isna().sum()), round(float(res.beta.iloc[-1]), 4)
    (60, 0.5862)
    """
    intercept = check_flag("intercept", intercept)
    prep = prepare_pair(y, x, on)
    window = check_window("window", window, prep.n_obs, minimum=max(2, _n_params(prep, intercept)))
    min_periods = _min_periods(min_periods, prep, intercept, window=window)
    return _fit(
        "rolling",
        prep,
        on,
        window=window,
        decay=1.0,
        min_periods=min_periods,
        intercept=intercept,
        params={"window": window},
    )


def expanding_hedge(
    y: ArrayLike1D,
    x: ArrayLike1D | ArrayLike2D,
    *,
    min_periods: int | None = None,
    intercept: bool = True,
    on: On = "levels",
) -> HedgeResult:
    """Expanding-window OLS hedge ratio: the fit at ``t`` uses every bar up to ``t``.

    Parameters
    ----------
    y, x
        Prices of the asset hedged and of the hedge (a Series, or a DataFrame of legs).
    min_periods
        First fit once this many observations of ``on`` are available; default the number of
        parameters plus one (the first sample with a residual degree of freedom).
    intercept
        Fit ``alpha`` (default) or not.
    on
        ``"levels"``, ``"diff"``, ``"returns"`` or ``"log_returns"``.

    Returns
    -------
    HedgeResult
        Same layout as :func:`rolling_hedge`; the last bar equals the full-sample
        :func:`pairs.hedge._ols.ols_hedge`.

    Examples
    --------
    >>> from pairs import load_sample
    >>> prices = load_sample("binance_1d")[["BTC", "ETH"]].dropna()
    >>> res = expanding_hedge(prices["BTC"], prices["ETH"], min_periods=30, on="log_returns")
    >>> round(float(res.beta.iloc[-1]), 4)
    0.6149
    """
    intercept = check_flag("intercept", intercept)
    prep = prepare_pair(y, x, on)
    min_periods = _min_periods(min_periods, prep, intercept)
    return _fit(
        "expanding",
        prep,
        on,
        window=len(prep.yt),
        decay=1.0,
        min_periods=min_periods,
        intercept=intercept,
        params={},
    )


def ewm_hedge(
    y: ArrayLike1D,
    x: ArrayLike1D | ArrayLike2D,
    *,
    halflife: float,
    intercept: bool = True,
    on: On = "levels",
    min_periods: int | None = None,
) -> HedgeResult:
    """Exponentially weighted least-squares hedge ratio over all past bars.

    The fit at ``t`` minimises ``sum_k w_k (y'_{t-k} - alpha - beta . x'_{t-k})^2`` with
    ``w_k = 0.5 ** (k / halflife)``: weighted least squares on the prefix ending at ``t``.

    Parameters
    ----------
    y, x
        Prices of the asset hedged and of the hedge (a Series, or a DataFrame of legs).
    halflife
        Age, in bars, at which an observation's weight halves (> 0, at most 1,000,000).
    intercept
        Fit ``alpha`` (default) or not.
    on
        ``"levels"``, ``"diff"``, ``"returns"`` or ``"log_returns"``.
    min_periods
        First fit once this many observations of ``on`` are available; default the number of
        parameters plus one.

    Returns
    -------
    HedgeResult
        Same layout as :func:`rolling_hedge`; ``r_squared`` is the weighted R-squared.

    Examples
    --------
    >>> from pairs import load_sample
    >>> prices = load_sample("binance_1d")[["BTC", "ETH"]].dropna()
    >>> res = ewm_hedge(prices["BTC"], prices["ETH"], halflife=30, min_periods=30, on="returns")
    >>> round(float(res.beta.iloc[-1]), 4)
    0.5316
    """
    intercept = check_flag("intercept", intercept)
    halflife = check_halflife("halflife", halflife)
    prep = prepare_pair(y, x, on)
    min_periods = _min_periods(min_periods, prep, intercept)
    return _fit(
        "ewm",
        prep,
        on,
        window=len(prep.yt),
        decay=math.pow(0.5, 1.0 / halflife),
        min_periods=min_periods,
        intercept=intercept,
        params={"halflife": halflife},
    )
