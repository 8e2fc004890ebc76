"""How the pair report writes numbers, times and durations."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def _last(value: float | pd.Series) -> float:
    if isinstance(value, pd.Series):
        valid = value.dropna()
        return float(valid.iloc[-1]) if len(valid) else np.nan
    return float(value)


def _bar(index: pd.Index) -> pd.Timedelta | None:
    """The most common spacing of a DatetimeIndex (None otherwise)."""
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 2:
        return None
    return pd.Timedelta(pd.Series(index[1:] - index[:-1]).mode().iloc[0])


def _time_format(index: pd.Index) -> str:
    """Dates for daily (or longer) bars, date and time for intraday bars."""
    bar = _bar(index)
    if bar is None or bar >= pd.Timedelta(days=1):
        return "%Y-%m-%d"
    return "%Y-%m-%d %H:%M" if bar >= pd.Timedelta(minutes=1) else "%Y-%m-%d %H:%M:%S"


def _when(value: Any, fmt: str) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "open"
    if isinstance(value, pd.Timestamp | np.datetime64):
        stamp = pd.Timestamp(value)
        text = stamp.strftime(fmt)
        return text + (" UTC" if fmt != "%Y-%m-%d" and stamp.tz is not None else "")
    return str(value)


def _bar_name(bar: pd.Timedelta | None) -> str:
    if bar is None:
        return ""
    names = {pd.Timedelta(days=1): "daily", pd.Timedelta(hours=1): "hourly", pd.Timedelta(weeks=1): "weekly"}
    if bar in names:
        return names[bar] + " "
    minutes = bar / pd.Timedelta(minutes=1)
    if minutes < 60:
        return f"{minutes:g}-minute "
    return f"{minutes / 60:g}-hour " if minutes < 1440 else f"{minutes / 1440:g}-day "


def _duration(bars: float, bar: pd.Timedelta | None) -> str:
    if not np.isfinite(bars):
        return "n/a"
    if bar is None:
        return f"{bars:.3g} bars"
    hours = bars * bar / pd.Timedelta(hours=1)
    value, unit = (hours / 24, "day") if hours >= 24 else (hours, "hour")
    return f"{value:.3g} {unit}" + ("" if value == 1 else "s")


def _pct(value: float, sign: bool = True) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{value:+.1%}" if sign else f"{value:.1%}"


def _num(value: float, spec: str = ".2f") -> str:
    return "n/a" if value is None or not np.isfinite(value) else format(value, spec)


def _rows(rows: list[tuple[str, str]]) -> dict[str, str]:
    return dict(rows)
