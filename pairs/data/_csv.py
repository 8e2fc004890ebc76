"""Read one price history from a CSV file in a known exchange or vendor layout.

Supported layouts (detected from the header with ``layout="auto"``):

``"yfinance"``
    ``Date,Open,High,Low,Close,Adj Close,Volume[,Ticker]`` as written by
    ``DataFrame.to_csv`` on a yfinance download (columns in any order), including the
    three-row header of yfinance >= 0.2.51 (``Price``/``Ticker``/``Date`` rows).
``"binance"``
    ``timestamp,open,high,low,close,volume`` (or ``open_time``); the timestamp is the
    bar OPEN time in UTC, as a date string or as epoch milliseconds/seconds.
``"cryptodatadownload"``
    ``Unix,Date,Symbol,Open,High,Low,Close,Volume <COIN>,Volume <QUOTE>``, newest row
    first, optionally preceded by the vendor's URL line.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pandas as pd

from pairs._io import read_regular_file
from pairs._typing import Field, Layout, layouts
from pairs._validation import check_choice
from pairs.exceptions import DataError, InsufficientDataError

__all__ = ["LAYOUTS", "read_prices"]

LAYOUTS: tuple[str, ...] = layouts()
FIELDS: tuple[str, ...] = ("close", "open", "high", "low", "adj_close", "volume")
_PRICE_FIELDS = ("open", "high", "low", "close", "adj_close")


def _norm(col: str) -> str:
    return col.strip().lower().replace(" ", "_")


def _detect_layout(columns: list[str], path: Path) -> str:
    cols = {_norm(c) for c in columns}
    if "unix" in cols and "close" in cols:
        return "cryptodatadownload"
    if cols & {"timestamp", "open_time", "open time"} and "close" in cols:
        return "binance"
    if ("date" in cols or "datetime" in cols or "price" in cols) and ("close" in cols or "adj_close" in cols):
        return "yfinance"
    raise DataError(
        f"path {str(path)!r} must be a CSV in one of the layouts {', '.join(LAYOUTS)}; "
        f"got header {columns!r}."
    )


MAX_CSV_BYTES = 2**31
"""Largest price file :func:`read_prices` reads (2 GiB: 20 years of one-minute candles)."""


def _read_text(path: Path) -> str:
    raw = read_regular_file(path, MAX_CSV_BYTES, what="CSV file")
    try:
        return raw.decode("utf-8-sig")  # utf-8-sig drops a byte-order mark
    except UnicodeDecodeError as exc:
        raise DataError(f"path must be a UTF-8 text CSV; got {str(path)!r} ({exc}).") from None


# Epoch timestamps must fall in this span: a value outside it is a unit mix-up (seconds
# read as milliseconds land in January 1970) or a corrupt field, never a real bar.
EPOCH_MIN = pd.Timestamp("1990-01-01", tz="UTC")
EPOCH_MAX = pd.Timestamp("2100-01-01", tz="UTC")
_UNITS = (("s", 1e11), ("ms", 1e14), ("us", 1e17))


def _epoch_unit(value: float) -> str | None:
    """The epoch unit implied by the magnitude of ``value`` (Binance: ms, CryptoDataDownload: s or ms)."""
    return next((unit for unit, top in _UNITS if abs(value) < top), None)


def _parse_times(raw: pd.Series, path: Path) -> pd.DatetimeIndex:
    """Bar times of the rows of ``raw`` (indexed by file line number), validated row by row."""
    numeric = pd.to_numeric(raw.str.strip(), errors="coerce")
    if numeric.notna().all():
        values = numeric.to_numpy(dtype=float)
        units = [_epoch_unit(v) for v in values]
        first = units[0]
        for line, unit, value, text in zip(raw.index, units, values, raw, strict=True):
            if unit is None or unit != first or value != np.floor(value):
                raise DataError(
                    f"path {str(path)!r} line {line} must have an epoch timestamp in the unit of the "
                    f"first row ({first or 'unknown'}), a whole number; got {text.strip()!r}."
                )
        index = pd.DatetimeIndex(pd.to_datetime(values.astype("int64"), unit=first, utc=True))
        outside = (index < EPOCH_MIN) | (index >= EPOCH_MAX)
        if outside.any():
            pos = int(np.flatnonzero(outside)[0])
            raise DataError(
                f"path {str(path)!r} line {raw.index[pos]} must have an epoch timestamp between "
                f"{EPOCH_MIN.date()} and {EPOCH_MAX.date()}; got {raw.iloc[pos].strip()!r} ({index[pos]})."
            )
        return index
    try:
        index = pd.DatetimeIndex(pd.to_datetime(raw.str.strip(), format="ISO8601", utc=True))
    except (ValueError, TypeError, OverflowError) as exc:
        raise DataError(
            f"path {str(path)!r} must have ISO-8601 timestamps (YYYY-MM-DD[ HH:MM:SS]); "
            f"could not parse them ({exc})."
        ) from None
    if index.hasnans:
        pos = int(np.flatnonzero(index.isna())[0])
        raise DataError(
            f"path {str(path)!r} line {raw.index[pos]} must have a timestamp; got {raw.iloc[pos].strip()!r}."
        )
    return index


def _frame(text: str, path: Path) -> pd.DataFrame:
    """The data rows as strings, indexed by their line number in the file.

    Every row must have as many fields as the header: pandas would otherwise read a row
    with one extra field (a trailing comma) with its columns shifted by one.
    """
    lines = text.splitlines()
    offset = 1  # line number of lines[0]
    # CryptoDataDownload files start with the vendor URL on its own line.
    if lines and "cryptodatadownload" in lines[0].lower() and "," not in lines[0]:
        lines, offset = lines[1:], 2
    if not lines or not lines[0].strip():
        raise InsufficientDataError(
            f"path {str(path)!r} must contain a header and data rows; got an empty file."
        )
    header = [c.strip() for c in lines[0].split(",")]
    # yfinance >= 0.2.51 writes a three-row header: Price,..., then Ticker,..., then Date,,,
    ticker: str | None = None
    if header and header[0].lower() == "price" and len(lines) >= 3:
        second = [c.strip() for c in lines[1].split(",")]
        third = [c.strip() for c in lines[2].split(",")]
        if second and second[0].lower() == "ticker" and third and third[0].lower() in ("date", "datetime"):
            tickers = {t for t in second[1:] if t}
            if len(tickers) > 1:
                raise DataError(f"path {str(path)!r} must hold one ticker; got {sorted(tickers)!r}.")
            ticker = next(iter(tickers), None)
            header = [third[0], *header[1:]]
            lines, offset = [lines[0], *lines[3:]], offset + 2
    header = [c or f"unnamed_{i}" for i, c in enumerate(header)]
    names = [_norm(c) for c in header]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise DataError(f"path {str(path)!r} must have unique column names; got {dup!r} twice in {header!r}.")
    rows: list[list[str]] = []
    numbers: list[int] = []
    try:
        for k, fields in enumerate(csv.reader(lines[1:])):
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # blank line
            line = offset + 1 + k
            if len(fields) != len(header):
                raise DataError(
                    f"path {str(path)!r} line {line} must have {len(header)} fields like the header "
                    f"{header!r}; got {len(fields)} ({'extra field or trailing comma' if len(fields) > len(header) else 'truncated row?'})."
                )
            rows.append(fields)
            numbers.append(line)
    except csv.Error as exc:
        raise DataError(f"path {str(path)!r} must be a well-formed CSV; {exc}.") from None
    if not rows:
        raise InsufficientDataError(f"path {str(path)!r} must contain data rows; got a header only.")
    frame = pd.DataFrame(rows, columns=header, index=pd.Index(numbers, name="line"), dtype=str)
    if ticker is not None:
        frame["Ticker"] = ticker
    return frame


def read_prices(
    path: str | os.PathLike[str],
    *,
    layout: Layout = "auto",
    field: Field = "close",
    drop_incomplete: bool | str | pd.Timestamp = False,
) -> pd.Series:
    """Read one price series from a CSV file.

    Parameters
    ----------
    path
        CSV file in one of the supported layouts (see module docstring): a regular file of at
        most 2 GiB (a FIFO or a device such as ``/dev/zero`` is refused before it is opened).
    layout
        ``"auto"`` detects the layout from the header; an unknown header raises
        :class:`~pairs.exceptions.DataError` listing the supported layouts.
    field
        Which column to return: ``"close"`` (default), ``"open"``, ``"high"``,
        ``"low"``, ``"adj_close"`` (yfinance only) or ``"volume"`` (base-coin volume).
    drop_incomplete
        ``True`` drops the last bar (files written while the last bar was still open,
        such as a yfinance download taken intraday); a timestamp ``as_of`` drops every
        bar that had not closed by ``as_of`` (bar end = open time + bar length).

    Returns
    -------
    pandas.Series
        Float values named after the symbol, on a sorted, unique, tz-aware UTC
        ``DatetimeIndex`` named ``"timestamp"`` (bar open time). Rows that are empty
        placeholders (every price blank) are dropped; their count is in
        ``series.attrs["dropped_empty_rows"]``.

    Examples
    --------
    >>> from pairs.data._sample import sample_path
    >>> s = read_prices(sample_path("BTCUSDT_1d.csv"))
    >>> s.name, str(s.index.tz), s.index.is_monotonic_increasing
    ('BTCUSDT', 'UTC', True)
    """
    if not isinstance(path, (str, os.PathLike)):
        raise DataError(f"path must be a file path (str or os.PathLike); got {type(path).__name__}.")
    path = Path(path)
    check_choice("layout", layout, ("auto", *LAYOUTS))
    check_choice("field", field, FIELDS)
    frame = _frame(_read_text(path), path)
    columns = list(frame.columns)
    kind = _detect_layout(columns, path) if layout == "auto" else layout
    frame.columns = [_norm(c) for c in columns]
    if kind == "cryptodatadownload":
        time_col = "unix" if "unix" in frame.columns else "date"
        sym_col = next((c for c in ("symbol", "oymbol") if c in frame.columns), None)
        symbol = frame[sym_col].iloc[0].replace("/", "-") if sym_col else path.stem
        if field == "volume":
            vol = [c for c in frame.columns if c.startswith("volume_")]
            field_col = vol[0] if vol else "volume"
        else:
            field_col = field
    elif kind == "binance":
        time_col = next(c for c in ("timestamp", "open_time") if c in frame.columns)
        symbol = path.stem.split("_")[0]
        field_col = field
    else:
        time_col = "date" if "date" in frame.columns else "datetime"
        symbol = frame["ticker"].iloc[0] if "ticker" in frame.columns else path.stem
        field_col = field
    for col in (time_col, field_col):
        if col not in frame.columns:
            raise DataError(
                f"field must be a column of {str(path)!r} ({kind} layout); "
                f"column {col!r} is missing from header {columns!r}."
            )
    prices = [c for c in _PRICE_FIELDS if c in frame.columns]
    blank = (frame[prices].apply(lambda c: c.str.strip()) == "").all(axis=1)
    frame = frame.loc[~blank]
    if frame.empty:
        raise InsufficientDataError(f"path {str(path)!r} must contain data rows; got only empty rows.")
    values = pd.to_numeric(frame[field_col].str.strip(), errors="coerce")
    bad = values.isna() | ~np.isfinite(values)
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"path {str(path)!r} column {field_col!r} must hold numbers; got "
            f"{frame[field_col].iloc[pos]!r} on line {frame.index[pos]} (truncated or malformed row?)."
        )
    index = _parse_times(frame[time_col], path)
    series = pd.Series(values.to_numpy(dtype=np.float64), index=index, name=str(symbol))
    series.index.name = "timestamp"
    series = series.sort_index(kind="stable")
    if series.index.has_duplicates:
        dup = series.index[series.index.duplicated()][0]
        raise DataError(f"path {str(path)!r} must have unique timestamps; got duplicate {dup}.")
    if field in _PRICE_FIELDS and (series <= 0).any():
        raise DataError(
            f"path {str(path)!r} prices must be strictly positive; "
            f"got {float(series.min())!r} at {series.idxmin()}."
        )
    series = _drop_incomplete(series, drop_incomplete)
    series.attrs["dropped_empty_rows"] = int(blank.sum())
    series.attrs["layout"] = kind
    return series


def _drop_incomplete(series: pd.Series, drop: bool | str | pd.Timestamp) -> pd.Series:
    if drop is False or drop is None:
        return series
    if drop is True:
        return series.iloc[:-1]
    try:
        as_of = pd.Timestamp(drop)
    except (ValueError, TypeError):
        raise DataError(f"drop_incomplete must be a bool or a timestamp; got {drop!r}.") from None
    as_of = as_of.tz_localize("UTC") if as_of.tzinfo is None else as_of.tz_convert("UTC")
    if len(series) < 2:
        return series
    bar = pd.Series(series.index).diff().median()
    return series.loc[series.index + bar <= as_of]
