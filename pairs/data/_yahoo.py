"""Download closes (or opens, highs, lows) with yfinance, cached on disk by :mod:`pairs.data._cache`."""

from __future__ import annotations

import contextlib
import logging
import os
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from pairs._typing import PriceField
from pairs._validation import check_choice, check_float, check_int
from pairs.data._cache import (
    cache_path,
    check_folder,
    check_max_age,
    default_cache_dir,
    read_cache,
    stamp,
    usable,
    write_cache,
)
from pairs.exceptions import DataError

__all__ = ["default_cache_dir", "load_yfinance"]

_INTERVALS = ("1m", "2m", "5m", "15m", "30m", "60m", "90m", "1h", "4h", "1d", "5d", "1wk", "1mo", "3mo")
_MINUTES = {"1m": 1, "2m": 2, "5m": 5, "15m": 15, "30m": 30, "60m": 60, "90m": 90, "1h": 60, "4h": 240}
_DAYS = {"1d": 1, "5d": 5, "1wk": 7, "1mo": 30, "3mo": 91}
_BAR = {
    **{k: pd.Timedelta(minutes=v) for k, v in _MINUTES.items()},
    **{k: pd.Timedelta(days=v) for k, v in _DAYS.items()},
}
_SOURCE = "yfinance"


def _now() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC")


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            text = " ".join(record.getMessage().split())
            if text and record.levelno >= logging.WARNING:
                self.messages.append(text)


@contextlib.contextmanager
def _quiet_yfinance() -> Iterator[_Capture]:
    """Keep yfinance's own log lines and warnings off stderr; collect the lines for our one-line error."""
    logger = logging.getLogger("yfinance")
    capture = _Capture()
    saved = logger.propagate, logger.handlers[:]
    logger.handlers[:] = [capture]
    logger.propagate = False
    try:
        with warnings.catch_warnings():
            # Warnings raised in yfinance's own code are not the caller's to act on: with pandas 3,
            # its inplace calls cost six lines of deprecation warnings per download (offline too,
            # around the one-line error).
            warnings.filterwarnings("ignore", module=r"yfinance(\.|$)")
            yield capture
    finally:
        logger.propagate, logger.handlers[:] = saved[0], saved[1]


def _price_column(frame: pd.DataFrame, ticker: str, column: str) -> pd.Series:
    """The ``column`` (``"Close"``, ``"Open"``...) of a yfinance answer, flat or multi-level."""
    columns = frame.columns
    if isinstance(columns, pd.MultiIndex):
        for level in range(columns.nlevels):
            if column in columns.get_level_values(level):
                sub = frame.xs(column, axis=1, level=level)
                if isinstance(sub, pd.DataFrame):
                    if ticker in sub.columns:
                        return sub[ticker]
                    if sub.shape[1] == 1:
                        return sub.iloc[:, 0]
                    raise DataError(
                        f"yfinance answer for {ticker!r} must have one {column} column; "
                        f"got {list(sub.columns)!r}."
                    )
                return sub
        raise DataError(
            f"yfinance answer for {ticker!r} must have a column {column!r}; got {list(columns)!r}."
        )
    if column in columns:
        return frame[column]
    raise DataError(f"yfinance answer for {ticker!r} must have a column {column!r}; got {list(columns)!r}.")


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _download(
    ticker: str,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    interval: str,
    retries: int,
    backoff: float,
    sleep: Callable[[float], None],
    field: str,
) -> pd.Series:
    try:
        import yfinance as yf
    except ImportError as exc:  # pragma: no cover - yfinance is a hard dependency
        raise DataError(f"yfinance must be installed to download prices; {exc}.") from None
    last_error = "no attempt made"
    for attempt in range(retries + 1):
        failure: str | None = None
        with _quiet_yfinance() as log:
            try:
                frame = yf.download(
                    ticker,
                    start=None if start is None else start.to_pydatetime(),
                    end=None if end is None else end.to_pydatetime(),
                    interval=interval,
                    auto_adjust=False,
                    progress=False,
                    threads=False,
                    **({"period": "max"} if start is None else {}),
                )
            except Exception as exc:
                failure = f"{type(exc).__name__}: {exc}"
        if failure is not None:
            last_error = failure
            if attempt < retries:
                sleep(backoff * 2**attempt)
            continue
        if frame is None or not isinstance(frame, pd.DataFrame) or frame.empty:
            said = f" yfinance said: {_one_line(log.messages[-1], 200)}" if log.messages else ""
            raise DataError(
                f"tickers must be symbols Yahoo Finance knows; got no data for {ticker!r} "
                f"(interval={interval!r}, start={_iso(start)}, end={_iso(end)}): unknown ticker, "
                f"no history in that span, or offline.{said}"
            )
        column = field.capitalize()
        price = pd.to_numeric(_price_column(frame, ticker, column), errors="coerce").dropna()
        if price.empty:
            raise DataError(f"yfinance answer for {ticker!r} must contain {column} prices; got only NaN.")
        index = pd.DatetimeIndex(price.index)
        index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
        out = pd.Series(price.to_numpy(dtype=np.float64), index=index, name=ticker)
        out = out[~out.index.duplicated(keep="last")].sort_index()
        if (out <= 0).any() or not np.isfinite(out.to_numpy()).all():
            raise DataError(f"yfinance answer for {ticker!r} must have positive finite {column} prices.")
        return out
    raise DataError(
        f"yfinance download of {ticker!r} failed after {retries + 1} attempt(s) "
        f"(offline or rate limited?); last error: {_one_line(last_error)}."
    )


def _iso(ts: pd.Timestamp | None) -> str | None:
    return None if ts is None else ts.isoformat()


def load_yfinance(
    tickers: str | Sequence[str],
    *,
    start: Any = None,
    end: Any = None,
    interval: str = "1d",
    cache_dir: str | os.PathLike[str] | Literal[False] | None = None,
    refresh: bool = False,
    max_age: str | timedelta | None = None,
    retries: int = 3,
    backoff: float = 1.0,
    field: PriceField = "close",
) -> pd.DataFrame:
    """Download closes (or another price ``field``) from Yahoo Finance via yfinance, cached on disk.

    Parameters
    ----------
    tickers
        One ticker (``"BTC-USD"``) or a list of tickers.
    start, end
        Date range as understood by yfinance (``end`` exclusive); ``None`` for all
        history / up to now. Naive dates are taken as UTC.
    interval
        yfinance interval, e.g. ``"1d"``, ``"1h"``.
    cache_dir
        Folder of the cache (default, ``None``: :func:`default_cache_dir`); ``False``
        downloads without reading or writing any cache (as in :func:`pairs.load_ccxt`). A cached
        file is reused without network when it was fetched for a span covering
        ``[start, end)``; a request running up to now (``end=None`` or in the future)
        is served from the cache only if it was fetched at most ``max_age`` ago. Cache
        files are checksummed, name the ticker and interval they hold (checked on read)
        and are validated like fresh data; a file failing any check is fetched again.
    refresh
        ``True`` ignores the cache and downloads (the new answer is cached).
    max_age
        Maximum age of a cached span that runs up to now, e.g. ``"6h"`` or a
        ``timedelta``; default one bar of ``interval``, at most one day.
    retries, backoff
        A failing download is retried ``retries`` times, waiting ``backoff * 2**k``
        seconds before retry ``k``; then a one-line :class:`~pairs.exceptions.DataError`
        (yfinance's own log lines are kept off stderr).
    field
        ``"close"`` (default), ``"open"``, ``"high"`` or ``"low"``: which price of the bars
        (e.g. the opens of ``backtest(..., fill="next_open")``), as in :func:`pairs.load_ccxt`;
        each field is cached apart.

    Returns
    -------
    pandas.DataFrame
        Closes (not adjusted; for crypto Close equals Adj Close) or ``field``, one column per
        ticker, outer-joined on a tz-aware UTC index (NaN where a ticker has no bar).

    Examples
    --------
    >>> load_yfinance("BTC-USD", interval="7m")
    Traceback (most recent call last):
    pairs.exceptions.DataError: interval must be one of 1m, 2m, 5m, 15m, 30m, 60m, 90m, 1h, 4h, 1d, 5d, 1wk, 1mo, 3mo; got '7m'.
    """
    iterable = isinstance(tickers, Iterable) and not isinstance(tickers, (bytes, Mapping))
    names = [tickers] if isinstance(tickers, str) else list(tickers) if iterable else []
    if not names or not all(isinstance(t, str) and t.strip() for t in names):
        raise DataError(f"tickers must be a non-empty string or list of strings; got {tickers!r}.")
    if len(set(names)) != len(names):
        raise DataError(f"tickers must be unique; got {names!r}.")
    if not isinstance(interval, str) or interval not in _INTERVALS:
        raise DataError(f"interval must be one of {', '.join(_INTERVALS)}; got {interval!r}.")
    if not isinstance(refresh, (bool, np.bool_)):
        raise DataError(f"refresh must be True or False; got {refresh!r}.")
    if cache_dir is not None and cache_dir is not False and not isinstance(cache_dir, (str, os.PathLike)):
        raise DataError(
            f"cache_dir must be a folder path (str or os.PathLike), None (the default folder) or False "
            f"(no cache); got {cache_dir!r}."
        )
    age = check_max_age(max_age, _BAR[interval])
    n_retries = check_int("retries", retries, minimum=0)
    wait = check_float("backoff", backoff, minimum=0.0)
    price: PriceField = check_choice("field", field, ("open", "high", "low", "close"))
    # The closes keep the cache key they always had; another field is a series of its own.
    key_interval = interval if price == "close" else f"{interval}-{price}"
    start_ts, end_ts = stamp(start, "start"), stamp(end, "end")
    folder = None if cache_dir is False else default_cache_dir() if cache_dir is None else Path(cache_dir)
    check_folder(folder)
    columns: dict[str, pd.Series] = {}
    for ticker in names:
        key = {"source": _SOURCE, "symbol": ticker, "interval": key_interval}
        path = None if folder is None else cache_path(folder, _SOURCE, ticker, key_interval)
        cached = None if refresh or path is None else read_cache(path, key)
        now = _now()
        if cached is not None and usable(cached[0], start_ts, end_ts, now=now, max_age=age):
            series = cached[1].rename(ticker)
        else:
            series = _download(ticker, start_ts, end_ts, interval, n_retries, wait, time.sleep, price)
            if path is not None:
                write_cache(path, key, series, start=start_ts, end=end_ts, fetched_at=now)
        if start_ts is not None:
            series = series[series.index >= start_ts]
        if end_ts is not None:
            series = series[series.index < end_ts]
        series.index.name = "timestamp"
        columns[ticker] = series
    frame = pd.concat(columns, axis=1, join="outer", sort=True)
    frame.index.name = "timestamp"
    return frame
