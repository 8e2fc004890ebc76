"""Causal z-score of a spread: rolling, exponentially weighted or expanding.

Every method standardises the value at bar ``t`` with a mean and a standard deviation
that use bars up to and including ``t`` only. The kernels work on deviations from a
reference value (the current value for rolling windows, the first observation otherwise),
so a spread of size 1e9 whose moves are of size 1 keeps full precision.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import pandas as pd
from numba import njit

from pairs._validation import as_series, check_choice, check_float, check_int, check_window
from pairs.exceptions import PairsError

__all__ = ["EWM_START", "ewm_alpha", "ewm_z_step", "zscore"]

Method = Literal["rolling", "ewm", "expanding"]


@njit(cache=True)
def _rolling_kernel(x: np.ndarray, window: int, min_periods: int) -> np.ndarray:
    # Two passes per window on deviations from the current value: O(n * window), but exact
    # zero-variance detection and no cancellation, whatever the level of the spread.
    n = x.shape[0]
    out = np.full(n, np.nan)
    for t in range(n):
        xt = x[t]
        if np.isnan(xt):
            continue
        lo = max(0, t - window + 1)
        count = 0
        total = 0.0
        for i in range(lo, t + 1):
            if not np.isnan(x[i]):
                count += 1
                total += x[i] - xt
        if count < min_periods or count < 2:
            continue
        mean = total / count
        ss = 0.0
        same = True
        for i in range(lo, t + 1):
            if not np.isnan(x[i]):
                d = x[i] - xt
                same = same and d == 0.0
                ss += (d - mean) * (d - mean)
        if not same:
            out[t] = -mean / math.sqrt(ss / (count - 1))
    return out


@njit(cache=True)
def _expanding_kernel(x: np.ndarray, min_periods: int) -> np.ndarray:
    # Welford's update on deviations from the first observation.
    n = x.shape[0]
    out = np.full(n, np.nan)
    ref = np.nan
    count = 0
    mean = 0.0
    m2 = 0.0
    same = True
    for t in range(n):
        xt = x[t]
        if np.isnan(xt):
            continue
        if count == 0:
            ref = xt
        d = xt - ref
        same = same and d == 0.0
        count += 1
        delta = d - mean
        mean += delta / count
        m2 += delta * (d - mean)
        if count >= min_periods and count >= 2 and not same and m2 > 0.0:
            out[t] = (d - mean) / math.sqrt(m2 / (count - 1))
    return out


# State of :func:`ewm_z_step` before the first bar:
# reference value, mean and variance of deviations from it, sum_wt, sum_wt2, old_wt, nobs.
EWM_START: tuple[float, ...] = (math.nan, math.nan, 0.0, 1.0, 1.0, 1.0, 0.0)


@njit(cache=True)
def ewm_z_step(stats: np.ndarray, v: float, alpha: float, min_periods: int) -> float:
    """One bar of the EWM z-score; updates ``stats`` (see :data:`EWM_START`) in place.

    pandas' ewm mean/var recursion (adjust=True, bias=False, ignore_na=False), including its
    guard that keeps the mean of a constant stretch exact, on deviations from the first value.
    The batch kernel and the streaming engine both run this function.
    """
    ref, mean, var = stats[0], stats[1], stats[2]
    sum_wt, sum_wt2, old_wt, nobs = stats[3], stats[4], stats[5], stats[6]
    observed = not np.isnan(v)
    nobs += observed
    out = math.nan
    if np.isnan(mean):
        if observed:
            ref = v
            mean = 0.0
    else:
        decay = 1.0 - alpha
        sum_wt *= decay
        sum_wt2 *= decay * decay
        old_wt *= decay
        if observed:
            d = v - ref
            old_mean = mean
            if mean != d:
                mean = (old_wt * old_mean + d) / (old_wt + 1.0)
            var = (old_wt * (var + (old_mean - mean) * (old_mean - mean)) + (d - mean) * (d - mean)) / (
                old_wt + 1.0
            )
            sum_wt += 1.0
            sum_wt2 += 1.0
            old_wt += 1.0
            if nobs >= min_periods and var > 0.0:
                denom = sum_wt * sum_wt - sum_wt2
                if denom > 0.0:
                    out = (d - mean) / math.sqrt(sum_wt * sum_wt / denom * var)
    stats[0], stats[1], stats[2] = ref, mean, var
    stats[3], stats[4], stats[5], stats[6] = sum_wt, sum_wt2, old_wt, nobs
    return out


@njit(cache=True)
def _ewm_kernel(x: np.ndarray, alpha: float, min_periods: int) -> np.ndarray:
    out = np.empty(x.shape[0])
    stats = np.array(EWM_START)
    for t in range(x.shape[0]):
        out[t] = ewm_z_step(stats, x[t], alpha, min_periods)
    return out


def ewm_alpha(halflife: float) -> float:
    # The same arithmetic as pandas (halflife -> centre of mass -> alpha), bit for bit.
    com = 1.0 / (1.0 - math.exp(math.log(0.5) / halflife)) - 1.0
    return 1.0 / (1.0 + com)


def zscore(
    spread: Any,
    *,
    window: int | None = None,
    method: Method = "rolling",
    halflife: float | None = None,
    min_periods: int | None = None,
) -> pd.Series:
    """Causal z-score ``(s_t - mean_t) / std_t`` of a spread.

    Parameters
    ----------
    spread
        Spread values (Series or 1-d array); NaN allowed (e.g. the warm-up of a moving hedge).
    window
        ``method="rolling"`` only (required there): number of bars in the window, the current
        bar included.
    method
        ``"rolling"``: mean and sample standard deviation (``ddof=1``) of the last ``window``
        bars, as ``spread.rolling(window).std()``. ``"ewm"``: exponentially weighted mean and
        standard deviation with ``halflife`` in bars, as pandas'
        ``spread.ewm(halflife=...).std()`` (``adjust=True``, ``bias=False``). ``"expanding"``:
        mean and sample standard deviation of every bar so far.
    halflife
        ``method="ewm"`` only (required there): half-life of the weights, in bars, > 0.
    min_periods
        Minimum number of non-NaN values needed for a value; default ``window`` for
        ``"rolling"``, 2 otherwise. Fewer give NaN.

    Returns
    -------
    pandas.Series
        Named ``"zscore"``, aligned to ``spread``: NaN during warm-up, where the spread is NaN,
        and where the standard deviation is zero (every value in the window equal).

    Examples
    --------
    >>> from pairs import load_sample
    >>> prices = load_sample("binance_1d")[["BTC", "ETH"]].dropna()
    >>> z = zscore(prices["BTC"] - 20 * prices["ETH"], window=30)
    >>> int(z.isna().sum()), round(float(z.iloc[-1]), 4)
    (29, 0.8121)
    """
    check_choice("method", method, ("rolling", "ewm", "expanding"))
    series = as_series(spread, "spread", allow_nan=True, min_length=1)
    values = series.to_numpy()
    if method != "rolling" and window is not None:
        raise PairsError(f"window must be None with method={method!r}; got {window!r}.")
    if method != "ewm" and halflife is not None:
        raise PairsError(f"halflife must be None with method={method!r}; got {halflife!r}.")
    if method == "rolling":
        if window is None:
            raise PairsError("window must be an integer >= 2 with method='rolling'; got None.")
        win = check_window("window", window, len(values))
        minp = win if min_periods is None else check_int("min_periods", min_periods, minimum=1, maximum=win)
        out = _rolling_kernel(values, win, minp)
    else:
        minp = 2 if min_periods is None else check_int("min_periods", min_periods, minimum=1)
        if method == "ewm":
            if halflife is None:
                raise PairsError("halflife must be a number > 0 with method='ewm'; got None.")
            hl = check_float("halflife", halflife, minimum=0.0, strict_min=True)
            out = _ewm_kernel(values, ewm_alpha(hl), minp)
        else:
            out = _expanding_kernel(values, minp)
    return pd.Series(out, index=series.index, name="zscore")
