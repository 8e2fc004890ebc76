"""Align several price series on a common 24/7 UTC index and report the gaps."""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd

from pairs._validation import as_series, check_choice, check_int
from pairs.exceptions import DataError, InsufficientDataError

__all__ = ["AlignResult", "align", "infer_bar"]


class AlignResult(NamedTuple):
    """Output of :func:`align`: unpack as ``prices, gaps = align(...)``."""

    prices: pd.DataFrame
    """Aligned prices, one column per input series."""
    gaps: pd.DataFrame
    """One row per hole: ``series, start, end, missing_bars, filled``."""


def infer_bar(index: pd.DatetimeIndex) -> pd.Timedelta:
    """Return the bar length of ``index``: the most common spacing between timestamps."""
    if len(index) < 2:
        raise InsufficientDataError(
            f"index must have at least 2 timestamps to infer the bar length; got {len(index)}."
        )
    diffs = pd.Series(index[1:] - index[:-1])
    return pd.Timedelta(diffs.mode().iloc[0])


def _to_utc(series: pd.Series, name: str) -> pd.Series:
    if not isinstance(series.index, pd.DatetimeIndex):
        raise DataError(f"{name} must have a DatetimeIndex; got {type(series.index).__name__}.")
    out = series.copy()
    out.index = series.index.tz_localize("UTC") if series.index.tz is None else series.index.tz_convert("UTC")
    return out


def _flatten(series: tuple[Any, ...]) -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for i, obj in enumerate(series):
        if isinstance(obj, pd.DataFrame):
            items += [(str(c), obj[c]) for c in obj.columns]
        else:
            name = getattr(obj, "name", None)
            items.append((str(name) if name is not None else f"series{i}", obj))
    return items


def _holes(values: pd.Series, bar: pd.Timedelta, name: str) -> list[dict[str, Any]]:
    """Holes in one series: missing grid bars and NaN runs after its first observation."""
    valid = values.dropna()
    if valid.empty:
        return []
    grid = pd.date_range(valid.index[0], valid.index[-1], freq=bar)
    present = grid.isin(valid.index)
    holes: list[dict[str, Any]] = []
    missing = np.flatnonzero(~present)
    if missing.size:
        breaks = np.flatnonzero(np.diff(missing) != 1) + 1
        for run in np.split(missing, breaks):
            holes.append(
                {"series": name, "start": grid[run[0]], "end": grid[run[-1]], "missing_bars": run.size}
            )
    return holes


def align(
    *series: pd.Series | pd.DataFrame,
    how: Literal["inner", "outer"] = "inner",
    max_gap: int | None = None,
) -> AlignResult:
    """Align price series on common UTC timestamps and report their gaps.

    Parameters
    ----------
    *series
        Two or more Series (or DataFrames, one series per column) with a
        ``DatetimeIndex``. Tz-naive indexes are taken as UTC; mixing tz-naive and
        tz-aware inputs is an error. Each index must be sorted and unique.
    how
        ``"inner"`` keeps the timestamps where every series has a value.
        ``"outer"`` keeps the union of timestamps, completed to a regular 24/7 grid
        of the bar length from the first to the last timestamp; a hole of at most ``max_gap``
        consecutive bars is forward-filled, a longer one is left as NaN (never
        filled, not even partly), and rows before a series starts stay NaN.
    max_gap
        Longest hole, in bars, that ``how="outer"`` may forward-fill. ``None`` (the
        default) fills nothing.

    Returns
    -------
    AlignResult
        ``(prices, gaps)``: the aligned frame, and a gap report with one row per hole
        of each input on its own regular bar grid (bar length = most common spacing),
        with ``filled`` telling whether the aligned frame forward-filled it.

    Examples
    --------
    >>> from pairs import load_sample
    >>> px = load_sample("binance_4h")
    >>> prices, gaps = align(px["BTC"], px["ETH"])
    >>> int(gaps["missing_bars"].max())  # Binance outage, 2018-02-08/09
    7
    """
    check_choice("how", how, ("inner", "outer"))
    gap_limit = 0 if max_gap is None else check_int("max_gap", max_gap, minimum=0)
    items = _flatten(series)
    if len(items) < 2:
        raise DataError(f"series must be at least two price series; got {len(items)}.")
    names = [n for n, _ in items]
    if len(set(names)) != len(names):
        raise DataError(f"series must have unique names; got {names!r}.")
    kinds = {
        getattr(getattr(obj, "index", None), "tz", "none") is None
        for _, obj in items
        if isinstance(getattr(obj, "index", None), pd.DatetimeIndex)
    }
    if len(kinds) > 1:
        raise DataError("series must be all tz-aware or all tz-naive; got a mix (localize them to UTC).")
    cleaned = {name: _to_utc(as_series(obj, name, allow_nan=True, min_length=1), name) for name, obj in items}
    frame = pd.concat(cleaned, axis=1, join="outer", sort=True)
    bar = infer_bar(frame.index) if len(frame) >= 2 else pd.Timedelta(0)
    holes: list[dict[str, Any]] = []
    for name, s in cleaned.items():
        holes += _holes(s, bar, name) if len(s.dropna()) >= 2 else []
    if how == "inner":
        out = frame.dropna(how="any")
    else:
        grid = pd.date_range(frame.index[0], frame.index[-1], freq=bar) if len(frame) >= 2 else frame.index
        out = frame.reindex(frame.index.union(grid))
        for name in names:
            out[name] = _fill_short(out[name], gap_limit)
    gaps = pd.DataFrame(holes, columns=["series", "start", "end", "missing_bars"])
    filled = []
    for row in gaps.itertuples():
        inside = out.loc[row.start : row.end, row.series]
        filled.append(bool(len(inside) > 0 and inside.notna().all()))
    gaps["filled"] = filled
    if how == "outer":
        gaps["filled"] = [
            bool(f and m <= gap_limit) for f, m in zip(gaps["filled"], gaps["missing_bars"], strict=True)
        ]
    else:
        gaps["filled"] = False
    gaps["missing_bars"] = gaps["missing_bars"].astype("int64")
    out.index.name = "timestamp"
    return AlignResult(out, gaps.reset_index(drop=True))


def _fill_short(values: pd.Series, limit: int) -> pd.Series:
    """Forward-fill NaN runs of at most ``limit`` rows that follow a valid value."""
    if limit == 0:
        return values
    isna = values.isna().to_numpy()
    if not isna.any():
        return values
    run_id = np.cumsum(~isna)
    run_len = pd.Series(isna).groupby(run_id).transform("sum").to_numpy()
    started = run_id > 0
    fill = isna & started & (run_len <= limit)
    filled = values.ffill()
    return values.where(~fill, filled)
