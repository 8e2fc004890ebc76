"""Causal monitoring of a cointegrating relationship: rolling tests and breakdown events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from pairs._results import ResultMixin
from pairs._typing import ArrayLike1D
from pairs._validation import (
    align_pair,
    check_choice,
    check_float,
    check_int,
    check_not_constant,
    check_window,
    renamed_attribute,
    renamed_option,
)
from pairs.coint._kernels import (
    AUTOLAG_CODES,
    TREND_TERMS,
    _pvalues,
    _rolling_adf_spread,
    _rolling_eg,
    _spread_cusum,
)
from pairs.coint._stationarity import Autolag, Trend, resolve_lag_options

__all__ = ["BreakdownResult", "breakdown", "rolling_coint"]

RollingTest = Literal["engle_granger", "adf_spread"]
_EVENT_COLUMNS = ["timestamp", "kind", "reason", "value"]
_LABELS = {"engle_granger": "EG", "adf_spread": "spread ADF"}
# Fewer observations than this make the lag search and the finite-sample surfaces unreliable.
_MIN_WINDOW = 20


def rolling_coint(
    y: ArrayLike1D,
    x: ArrayLike1D,
    *,
    window: int,
    step: int = 1,
    test: RollingTest = "engle_granger",
    trend: Trend = "c",
    max_lag: int | None = None,
    autolag: Autolag | None = "bic",
) -> pd.DataFrame:
    """Cointegration test on a rolling window, reported at each window end (causal).

    Parameters
    ----------
    y, x
        Log prices of the asset hedged and of the hedge, on one index.
    window
        Bars per test window (at least 20).
    step
        Test every ``step``-th window end, counted from the first full window (the grid depends
        only on the start of the data, so truncating the data never moves it).
    test
        ``"engle_granger"``: :func:`pairs.coint._engle_granger` on the window (``trend`` is the
        cointegrating regression's). ``"adf_spread"``: the hedge ratio is fitted (OLS with a
        constant) on the *previous* window only, and :func:`pairs.coint.adf` (``trend`` is the
        ADF regression's, N=1 finite-sample p-values, valid because the ratio is not estimated on
        the tested sample) runs on ``y - beta * x`` over the window; the first result is at bar
        ``2 * window - 1``.
    trend, max_lag, autolag
        As in :func:`pairs.coint.engle_granger`; ``max_lag`` defaults to
        :func:`~pairs.coint._kernels.default_max_lag` of ``window`` observations. P-values are
        finite-sample for each window's ADF regression size.

    Returns
    -------
    pandas.DataFrame
        Columns ``stat``, ``pvalue``, ``beta``, ``alpha``, ``lags`` on the input index; NaN
        during warm-up and between steps. The row at bar ``t`` uses bars ``<= t`` only.

    Examples
    --------
    >>> import numpy as np, pairs
    >>> prices = np.log(pairs.load_sample("binance_1d")[["BTC", "ETH"]].dropna())
    >>> roll = rolling_coint(prices["ETH"], prices["BTC"], window=365, step=30)
    >>> int(roll["pvalue"].notna().sum()), bool(roll["pvalue"].iloc[:364].isna().all())
    (91, True)
    """
    ys, xs = _validated_pair(y, x)
    check_choice("test", test, ("engle_granger", "adf_spread"))
    check_choice("trend", trend, TREND_TERMS)
    n = len(ys)
    span = 2 if test == "adf_spread" else 1
    win = check_window("window", window, n // span, minimum=_MIN_WINDOW)
    stride = check_int("step", step, minimum=1)
    adf_trend = 0 if test == "engle_granger" else TREND_TERMS[trend]
    lag = resolve_lag_options(max_lag, autolag, win, adf_trend)
    code = AUTOLAG_CODES[autolag]
    yv, xv = ys.to_numpy(), xs.to_numpy()
    if test == "engle_granger":
        stat, lags, beta, alpha = _rolling_eg(yv, xv, win, stride, TREND_TERMS[trend], lag, code)
        pvalue = _pvalues(stat, trend, 2, win - 1 - lags)
    else:
        stat, lags, beta, alpha = _rolling_adf_spread(yv, xv, win, stride, adf_trend, lag, code)
        pvalue = _pvalues(stat, trend, 1, win - 1 - lags)
    return pd.DataFrame(
        {"stat": stat, "pvalue": pvalue, "beta": beta, "alpha": alpha, "lags": lags}, index=ys.index
    )


def _validated_pair(y: Any, x: Any) -> tuple[pd.Series, pd.Series]:
    ys, xs = align_pair(y, x, min_length=_MIN_WINDOW)
    check_not_constant("y", ys)
    check_not_constant("x", xs)
    return ys, xs  # type: ignore[return-value]


@dataclass(frozen=True, repr=False)
class BreakdownResult(ResultMixin):
    """Breakdown events of a cointegrating relationship, with the series that produced them.

    ``events`` has columns ``timestamp``, ``kind`` (``"coint_lost"`` or ``"cusum"``),
    ``reason`` and ``value`` (the p-value, or the CUSUM that crossed the threshold).
    ``rolling`` is :func:`rolling_coint` output plus ``cointegrated`` (the monitor's state);
    ``cusum`` has ``innovation``, ``cusum_pos``, ``cusum_neg``.
    """

    events: pd.DataFrame
    rolling: pd.DataFrame
    cusum: pd.DataFrame
    window: int
    size: float
    k: int
    confirm: int
    lost_above: float
    cusum_drift: float
    cusum_threshold: float
    _title = "Cointegration breakdown monitor"
    alpha = renamed_attribute("size", "alpha")

    def _summary_rows(self) -> list[tuple[str, Any]]:
        counts = self.events["kind"].value_counts()
        return [
            *super()._summary_rows(),
            ("coint_lost events", int(counts.get("coint_lost", 0))),
            ("cusum events", int(counts.get("cusum", 0))),
        ]


def breakdown(
    y: ArrayLike1D,
    x: ArrayLike1D,
    *,
    window: int,
    size: float = 0.05,
    k: int = 3,
    step: int = 1,
    trend: Trend = "c",
    max_lag: int | None = None,
    autolag: Autolag | None = "bic",
    cusum_drift: float = 0.5,
    cusum_threshold: float = 8.0,
    confirm: int | None = None,
    test: RollingTest = "engle_granger",
    lost_above: float | None = None,
    alpha: float | None = None,
) -> BreakdownResult:
    """Flag when a pair that was cointegrated stops being so. Causal: an event at ``t`` uses bars ``<= t``.

    Two signals:

    * ``"coint_lost"``: the rolling Engle-Granger p-value (:func:`rolling_coint`) is above
      ``lost_above`` for ``k`` consecutive tested windows after the monitor was armed. It arms
      (the relationship counts as cointegrated) after ``confirm`` consecutive tested windows
      with p-value at or below ``size``, and is disarmed by the event until it arms again.
      Requiring persistence matters: with overlapping windows a pair of independent random
      walks has short runs of spurious rejections; with ``confirm=1`` every one of them arms
      the monitor. The gap between ``size`` and ``lost_above`` (hysteresis) matters too: a
      cointegrated pair tested on a short window often has p-values a little above ``size``,
      which with ``lost_above=size`` (the former rule) were false ``coint_lost`` events; after
      a break to a random-walk spread the p-values are mostly large. Simulated false alarms and
      power by window are in docs/statistics.md.
    * ``"cusum"``: at each bar the hedge ratio and an AR(1) of the spread are fitted on the
      previous ``window`` bars only; the standardised one-step innovation of the spread feeds a
      two-sided Page CUSUM (allowance ``cusum_drift``, alarm above ``cusum_threshold``, reset
      after an alarm). For iid normal innovations with a known reference the default 0.5 / 8.0
      would give about 9,500 bars between false alarms (Siegmund's approximation), but the
      reference here is re-estimated on ``window`` bars, which inflates the standardised
      innovations: on a simulated stable cointegrated pair (Gaussian AR(1) spread) the average
      run length is far shorter and depends on ``window`` (table in docs/statistics.md,
      tested in tests/coint/test_statistics.py). Reported only while the monitor is armed.

    Parameters
    ----------
    y, x
        Log prices of the asset hedged and of the hedge, on one index.
    window
        Bars per rolling test window and per CUSUM reference window.
    size
        Size of the rolling Engle-Granger test, in (0, 1).
    k
        Consecutive windows with p-value above ``lost_above`` that make a ``"coint_lost"`` event.
    lost_above
        P-value above which an armed window counts against the relationship, in
        ``[size, 1)``; default ``max(0.5, size)``. ``size`` gives the former rule.
    confirm
        Consecutive cointegrated windows (p-value <= ``size``) that arm the monitor; default
        ``max(1, window // (2 * step))``: half a window of bars of persistent rejection.
    step, trend, max_lag, autolag
        Passed to :func:`rolling_coint` (Engle-Granger test).
    cusum_drift, cusum_threshold
        Page CUSUM allowance and alarm threshold, in innovation standard deviations.
    alpha
        Deprecated: the former name of ``size``, accepted with a ``FutureWarning`` until the
        next release.

    Returns
    -------
    BreakdownResult

    Examples
    --------
    >>> import numpy as np, pairs
    >>> prices = np.log(pairs.load_sample("binance_1d")[["BTC", "ETH"]].dropna())
    >>> res = breakdown(prices["ETH"], prices["BTC"], window=180, step=5)
    >>> list(res.events.columns), res.confirm
    (['timestamp', 'kind', 'reason', 'value'], 18)
    >>> flicker = breakdown(prices["ETH"], prices["BTC"], window=180, step=5, confirm=1)
    >>> int((flicker.events["kind"] == "coint_lost").sum()) > int((res.events["kind"] == "coint_lost").sum())
    True
    """
    size = renamed_option("size", size, "alpha", alpha, 0.05)
    size = check_float("size", size, minimum=0.0, maximum=1.0, strict_min=True, strict_max=True)
    release = (
        max(0.5, size)
        if lost_above is None
        else check_float("lost_above", lost_above, minimum=size, maximum=1.0, strict_max=True)
    )
    runs = check_int("k", k, minimum=1)
    arm_runs = None if confirm is None else check_int("confirm", confirm, minimum=1)
    drift = check_float("cusum_drift", cusum_drift, minimum=0.0)
    threshold = check_float("cusum_threshold", cusum_threshold, minimum=0.0, strict_min=True)
    roll = rolling_coint(
        y, x, window=window, step=step, test=test, trend=trend, max_lag=max_lag, autolag=autolag
    )
    ys, xs = _validated_pair(y, x)
    win = int(window)
    if arm_runs is None:
        arm_runs = max(1, win // (2 * int(step)))
    innov, upper, lower, alarm = _spread_cusum(ys.to_numpy(), xs.to_numpy(), win, drift, threshold)
    pvalues = roll["pvalue"].to_numpy()
    state = np.zeros(len(ys), dtype=bool)
    events: list[tuple[int, str, str, float]] = []
    armed = False
    above = 0
    below = 0
    for t in range(len(ys)):
        p = pvalues[t]
        if not np.isnan(p):
            if p <= size:
                below += 1
                above = 0
                armed = armed or below >= arm_runs
            elif armed:
                below = 0
                above = above + 1 if p > release else 0
                if above == runs:
                    events.append(
                        (
                            t,
                            "coint_lost",
                            f"{_LABELS[test]} p-value > {release:g} for {runs} consecutive windows after being "
                            f"<= {size:g}",
                            p,
                        )
                    )
                    armed, above = False, 0
            else:
                below = 0
        state[t] = armed
        if armed and alarm[t] != 0:
            side, value = ("upper", upper[t]) if alarm[t] > 0 else ("lower", lower[t])
            events.append(
                (
                    t,
                    "cusum",
                    f"{side} CUSUM of standardised spread innovations > {threshold:g}",
                    float(value),
                )
            )
    rows = pd.DataFrame(events, columns=_EVENT_COLUMNS)
    table = rows.astype({"kind": str, "reason": str, "value": float}).assign(
        timestamp=ys.index.take(rows["timestamp"].to_numpy(dtype=np.int64))
    )
    return BreakdownResult(
        events=table,
        rolling=roll.assign(cointegrated=state),
        cusum=pd.DataFrame({"innovation": innov, "cusum_pos": upper, "cusum_neg": lower}, index=ys.index),
        window=win,
        size=size,
        k=runs,
        confirm=arm_runs,
        lost_above=release,
        cusum_drift=drift,
        cusum_threshold=threshold,
    )
