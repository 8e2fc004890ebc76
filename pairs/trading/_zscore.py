"""Causal z-score of a spread: rolling, exponentially weighted or expanding.

Every method standardises the value at bar ``t`` with a mean and a standard deviation
that use bars up to and including ``t`` only (the current bar is part of its own window, as
in pandas and Chan's examples; so a rolling z-score is bounded: ``|z| <= (w - 1) / sqrt(w)``
for a window of ``w`` bars, e.g. 3.75 for 16 bars, and a ``stop_z`` above that bound can never
fire: :class:`pairs.Strategy` warns about it). The kernels work on deviations from a recent
value, so a spread of size 1e9 whose moves are of size 1 keeps full precision, and every
method is O(n): one step function per method in :mod:`pairs.trading._kernels`, shared with the
streaming engine.
"""

from __future__ import annotations

import pandas as pd

from pairs._typing import ArrayLike1D
from pairs._typing import ZScoreWindowMethod as Method
from pairs._validation import as_series, check_choice, check_halflife, check_int, check_window
from pairs.exceptions import PairsError
from pairs.trading._kernels import Z_EWM, Z_EXPANDING, Z_ROLLING, ewm_alpha, zscore_kernel

__all__ = ["zscore"]


def zscore(
    spread: ArrayLike1D,
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
        ``method="ewm"`` only (required there): half-life of the weights, in bars, > 0 and at
        most 1,000,000 (``pairs._validation.MAX_WINDOW``).
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
        out = zscore_kernel(values, Z_ROLLING, win, 0.0, minp)
    else:
        minp = 2 if min_periods is None else check_int("min_periods", min_periods, minimum=1)
        if method == "ewm":
            if halflife is None:
                raise PairsError("halflife must be a number > 0 with method='ewm'; got None.")
            hl = check_halflife("halflife", halflife)
            out = zscore_kernel(values, Z_EWM, 1, ewm_alpha(hl), minp)
        else:
            out = zscore_kernel(values, Z_EXPANDING, 1, 0.0, minp)
    return pd.Series(out, index=series.index, name="zscore")
