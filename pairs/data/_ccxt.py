"""Closes from crypto exchanges through ccxt (the optional extra ``pairs[ccxt]``).

:func:`from_ccxt` turns the OHLCV list of ``exchange.fetch_ohlcv`` into the usual close
Series; :func:`load_ccxt` pages ``fetch_ohlcv`` over a span, politely (the exchange's
``rateLimit`` between calls, retries with exponential backoff on network errors), and
caches the closes like :func:`pairs.load_yfinance` does.
"""

from __future__ import annotations

import difflib
import functools
import math
import numbers
import os
import re
import reprlib
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
import pandas as pd

from pairs._validation import check_float, check_int
from pairs.data._cache import (
    cache_path,
    check_max_age,
    default_cache_dir,
    read_cache,
    stamp,
    usable,
    write_cache,
)
from pairs.exceptions import DataError, MissingDependencyError

__all__ = ["DEFAULT_CACHE", "from_ccxt", "load_ccxt"]

T = TypeVar("T")
_EPOCH_MS = (
    pd.Timestamp("1990-01-01", tz="UTC").value // 10**6,
    pd.Timestamp("2100-01-01", tz="UTC").value // 10**6,
)
_TIMEFRAME = re.compile(r"^([1-9][0-9]*)([smhdwMy])$")
_UNIT_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_UNIT_MS |= {"M": 30 * _UNIT_MS["d"], "y": 365 * _UNIT_MS["d"]}
_short = reprlib.Repr()
_short.maxlist = 8
_short.maxother = 40
_short.maxstring = 60


class _DefaultCache:
    """The default of ``cache_dir``: :func:`pairs.data.default_cache_dir` at call time."""

    def __repr__(self) -> str:
        return "<default_cache_dir()>"


DEFAULT_CACHE: Any = _DefaultCache()


def _sleep(seconds: float) -> None:
    """Wait between calls; tests replace this module attribute to run without waiting."""
    time.sleep(seconds)


def _ccxt() -> Any:
    try:
        import ccxt
    except ImportError as exc:
        raise MissingDependencyError(
            "ccxt is required to load exchange data; install with pip install 'pairs[ccxt]'"
        ) from exc
    return ccxt


def _timeframe_ms(timeframe: Any) -> int:
    match = _TIMEFRAME.match(timeframe) if isinstance(timeframe, str) else None
    if match is None:
        raise DataError(
            f"timeframe must be a ccxt timeframe such as '1m', '4h', '1d' or '1w'; got {timeframe!r}."
        )
    return int(match.group(1)) * _UNIT_MS[match.group(2)]


def _rows(ohlcv: Any, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Epoch-ms times and closes of ccxt OHLCV rows, each row checked."""
    if isinstance(ohlcv, (str, bytes, Mapping)) or not isinstance(ohlcv, (Sequence, np.ndarray)):
        raise DataError(
            f"ohlcv must be a list of [ms, open, high, low, close, volume] rows; got {type(ohlcv).__name__}."
        )
    times = np.empty(len(ohlcv), dtype=np.int64)
    closes = np.empty(len(ohlcv), dtype=np.float64)
    for i, row in enumerate(ohlcv):
        where = f"ohlcv row {i + offset}"
        if (
            isinstance(row, (str, bytes, Mapping))
            or not isinstance(row, (Sequence, np.ndarray))
            or len(row) != 6
        ):
            raise DataError(f"{where} must be [ms, open, high, low, close, volume]; got {_short.repr(row)}.")
        ts, close = row[0], row[4]
        ok_ts = isinstance(ts, numbers.Real) and not isinstance(ts, (bool, np.bool_))
        ok_ts = ok_ts and np.isfinite(ts) and float(ts) == int(ts) and _EPOCH_MS[0] <= int(ts) < _EPOCH_MS[1]
        if not ok_ts:
            raise DataError(
                f"{where} must start with an epoch time in milliseconds between 1990 and 2100; got {_short.repr(ts)}."
            )
        ok_close = isinstance(close, numbers.Real) and not isinstance(close, (bool, np.bool_))
        if not (ok_close and np.isfinite(close) and close > 0):
            raise DataError(f"{where} must have a finite positive close; got {_short.repr(close)}.")
        times[i], closes[i] = int(ts), float(close)
    return times, closes


def _drop_open(series: pd.Series, drop: Any, bar_ms: int | None) -> pd.Series:
    if drop is False or drop is None or series.empty:
        return series
    if drop is True:
        return series.iloc[:-1]
    if isinstance(drop, (bool, np.bool_)):
        return series.iloc[:-1] if drop else series
    as_of = stamp(drop, "drop_incomplete")
    if bar_ms is None:
        if len(series) < 2:
            return series
        bar = pd.Series(series.index).diff().median()
    else:
        bar = pd.Timedelta(milliseconds=bar_ms)
    return series.loc[series.index + bar <= as_of]


def from_ccxt(
    ohlcv: Sequence[Sequence[Any]],
    *,
    name: str | None = None,
    drop_incomplete: bool | str | pd.Timestamp = False,
    timeframe: str | None = None,
) -> pd.Series:
    """Closes from a ccxt OHLCV list ``[[ms, open, high, low, close, volume], ...]``.

    Parameters
    ----------
    ohlcv
        The answer of ``exchange.fetch_ohlcv`` (rows in any order). Each row must have
        six fields, an epoch time in whole milliseconds between 1990 and 2100 and a
        finite positive close; a bad row raises :class:`~pairs.exceptions.DataError`
        naming its position (``"ohlcv row 3 must ..."``). Other fields are not used.
    name
        Name of the Series, usually the symbol (``"BTC/USDT"``).
    drop_incomplete
        ``True`` drops the last candle (exchanges return the still-open candle last);
        a timestamp ``as_of`` drops every candle not closed by ``as_of`` (open time +
        one bar, the bar taken from ``timeframe`` or else the median spacing).
    timeframe
        The ccxt timeframe of the candles (``"1d"``, ``"4h"``...), used by ``drop_incomplete``.

    Returns
    -------
    pandas.Series
        Float closes on a sorted, unique, tz-aware UTC ``DatetimeIndex`` named
        ``"timestamp"`` (candle open time).

    Examples
    --------
    >>> rows = [[1609459200000, 28923.6, 29600.0, 28624.6, 29331.7, 54182.9],
    ...         [1609545600000, 29331.7, 33300.0, 28946.5, 32178.3, 129993.9]]
    >>> s = from_ccxt(rows, name="BTC/USDT")
    >>> s
    timestamp
    2021-01-01 00:00:00+00:00    29331.7
    2021-01-02 00:00:00+00:00    32178.3
    Name: BTC/USDT, dtype: float64
    >>> len(from_ccxt(rows, drop_incomplete="2021-01-02 12:00", timeframe="1d"))
    1
    """
    if name is not None and not isinstance(name, str):
        raise DataError(f"name must be a string or None; got {name!r}.")
    bar_ms = None if timeframe is None else _timeframe_ms(timeframe)
    if drop_incomplete is not None and not isinstance(drop_incomplete, (bool, np.bool_)):
        stamp(drop_incomplete, "drop_incomplete")
    times, closes = _rows(ohlcv)
    if times.size == 0:
        raise DataError("ohlcv must hold at least one candle; got an empty list.")
    order = np.argsort(times, kind="stable")
    times, closes = times[order], closes[order]
    dup = np.flatnonzero(np.diff(times) == 0)
    if dup.size:
        row = int(order[dup[0] + 1])
        raise DataError(f"ohlcv row {row} must have a unique time; got {int(times[dup[0]])} twice.")
    index = pd.DatetimeIndex(pd.to_datetime(times, unit="ms", utc=True), name="timestamp")
    series = pd.Series(closes, index=index, name=name)
    return _drop_open(series, drop_incomplete, bar_ms)


# --- download ------------------------------------------------------------------------------------------


def _one_line(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Session:
    """One exchange, its politeness rules and the retry loop around every call."""

    def __init__(self, ccxt: Any, exchange: Any, retries: int, backoff: float) -> None:
        self.ccxt, self.exchange, self.retries, self.backoff = ccxt, exchange, retries, backoff
        rate = getattr(exchange, "rateLimit", 0) or 0
        ok = isinstance(rate, numbers.Real) and math.isfinite(float(rate)) and float(rate) > 0
        self.pause = float(rate) / 1000.0 if ok else 0.0
        self.calls = 0
        self.rested = False

    def call(self, what: str, fn: Callable[[], T], symbol: str | None = None) -> T:
        ccxt, name = self.ccxt, self.exchange.id
        last: BaseException | None = None
        for attempt in range(self.retries + 1):
            # Honour the exchange's rate limit between any two calls of ours (a backoff
            # wait at least as long already does).
            if self.calls and self.pause and not self.rested:
                _sleep(self.pause)
            self.calls += 1
            self.rested = False
            try:
                return fn()
            except ccxt.BadSymbol as exc:
                raise DataError(
                    f"symbols must be markets of {name}; got {symbol!r} ({_one_line(exc)})."
                ) from None
            except ccxt.NetworkError as exc:  # RequestTimeout, DDoSProtection, RateLimitExceeded, ...
                last = exc
                if attempt < self.retries:
                    _sleep(self.backoff * 2**attempt)
                    self.rested = self.backoff * 2**attempt >= self.pause
            except ccxt.BaseError as exc:
                raise DataError(
                    f"exchange {name} must answer {what}; it refused: {_one_line(exc)}."
                ) from None
        raise DataError(
            f"exchange {name} must be reachable for {what}; failed after {self.retries + 1} attempt(s) "
            f"(offline or rate limited?); last error: {_one_line(last) if last else 'none'}."
        )

    def check_symbol(self, symbol: str) -> None:
        if not self.exchange.markets:
            self.call("load_markets()", self.exchange.load_markets)
        markets = self.exchange.markets or {}
        if symbol not in markets:
            near = difflib.get_close_matches(symbol, list(markets), n=3)
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            raise DataError(
                f"symbols must be markets of {self.exchange.id} (ccxt unified symbols such as 'BTC/USDT'); "
                f"got {symbol!r}{hint}"
            )


def _page_limit(exchange: Any) -> int | None:
    """The largest page ``fetch_ohlcv`` serves, from ccxt's ``features`` where it says so."""
    features = getattr(exchange, "features", None)
    try:
        value = features["spot"]["fetchOHLCV"]["limit"]  # type: ignore[index]
    except (KeyError, TypeError, IndexError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _fetch(
    session: _Session,
    symbol: str,
    timeframe: str,
    bar_ms: int,
    since_ms: int | None,
    until_ms: int | None,
    now_ms: int,
    limit: int | None,
) -> pd.Series:
    """Page ``fetch_ohlcv`` forward from ``since`` until ``until`` or now; closed candles only."""
    exchange = session.exchange
    until = 2**62 if until_ms is None else until_ms
    cursor = 0 if since_ms is None else since_ms
    candles: dict[int, Sequence[Any]] = {}
    seen = 0
    # Stop once the next candle would start at `until` or still be open now.
    while cursor < until and cursor + bar_ms <= now_ms:
        what = f"fetch_ohlcv({symbol!r}, {timeframe!r}, since={cursor})"
        page: Any = session.call(
            what, functools.partial(exchange.fetch_ohlcv, symbol, timeframe, cursor, limit), symbol
        )
        if page is None or (isinstance(page, Sequence) and len(page) == 0):
            break
        times, _ = _rows(page, offset=seen)
        seen += len(page)
        for ts, row in zip(times.tolist(), page, strict=True):
            candles[ts] = row  # a later page's copy of a candle is the newer one
        step = int(times.max()) + bar_ms
        if step <= cursor:
            break  # no progress: the exchange ignores `since`
        cursor = step
    lo = -(2**62) if since_ms is None else since_ms
    hi = 2**62 if until_ms is None else until_ms
    rows = [row for ts, row in candles.items() if lo <= ts < hi and ts + bar_ms <= now_ms]
    if not rows:
        raise DataError(
            f"symbols must have closed {timeframe} candles on {exchange.id} in the span asked; "
            f"got none for {symbol!r} (since={_iso(since_ms)}, until={_iso(until_ms)})."
        )
    return from_ccxt(rows, name=symbol)


def _iso(ms: int | None) -> str | None:
    return None if ms is None else pd.Timestamp(ms, unit="ms", tz="UTC").isoformat()


def _exchange(ccxt: Any, exchange: Any) -> Any:
    if isinstance(exchange, str):
        if exchange not in ccxt.exchanges:
            near = difflib.get_close_matches(exchange, ccxt.exchanges, n=3)
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            raise DataError(f"exchange must be a ccxt exchange id such as 'binance'; got {exchange!r}{hint}")
        return getattr(ccxt, exchange)({"enableRateLimit": True})
    if not isinstance(exchange, ccxt.Exchange):
        raise DataError(f"exchange must be a ccxt exchange instance or id; got {type(exchange).__name__}.")
    return exchange


def _ms(ts: pd.Timestamp | None) -> int | None:
    return None if ts is None else int(ts.value // 10**6)


def load_ccxt(
    exchange: Any,
    symbols: str | Sequence[str],
    *,
    timeframe: str = "1d",
    since: Any = None,
    until: Any = None,
    cache_dir: str | os.PathLike[str] | Literal[False] | None = DEFAULT_CACHE,
    refresh: bool = False,
    max_age: str | timedelta | None = None,
    limit: int | None = None,
    retries: int = 3,
    backoff: float = 1.0,
) -> pd.DataFrame:
    """Download closed candles' closes from a crypto exchange through ccxt, cached on disk.

    Parameters
    ----------
    exchange
        A ccxt exchange instance (``ccxt.binance()``) or its id (``"binance"``).
    symbols
        One ccxt unified symbol (``"BTC/USDT"``) or a list of them; each must be in
        ``exchange.markets``.
    timeframe
        ccxt timeframe (``"1m"``, ``"1h"``, ``"1d"``...), one the exchange offers.
    since, until
        Span of candle open times, ``[since, until)``; naive values are UTC. ``since=None``
        asks from epoch 0, which exchanges that page forward (Binance, most others) answer
        with their first candle; ``until=None`` runs up to now.
    cache_dir
        Cache folder (default :func:`pairs.data.default_cache_dir`); ``False`` disables
        caching, as in :func:`pairs.load_yfinance`. ``None`` disables it too but warns
        (``FutureWarning``): in :func:`pairs.load_yfinance` ``None`` means the default folder,
        and it will mean that here too. The cache works as for :func:`pairs.load_yfinance`: checksummed,
        atomic, keyed by exchange, symbol and timeframe, validated on read.
    refresh
        ``True`` ignores the cache and downloads (the new answer is cached).
    max_age
        Maximum age of a cached span running up to now; default one bar, at most a day.
    limit
        Candles asked per call; default the exchange's maximum where ccxt knows it.
    retries, backoff
        A call failing with ``ccxt.NetworkError`` (``RequestTimeout``,
        ``DDoSProtection``, ``RateLimitExceeded``...) is retried ``retries`` times,
        waiting ``backoff * 2**k`` seconds before retry ``k``. Between any two calls
        the exchange's ``rateLimit`` (milliseconds) is waited.

    Returns
    -------
    pandas.DataFrame
        Closes of closed candles only (the still-open candle is never returned or
        cached), one column per symbol, outer-joined on a tz-aware UTC index named
        ``"timestamp"`` (candle open time).

    Raises
    ------
    DataError
        Unknown exchange or symbol, no candles in the span, an exchange error, or
        still offline after the retries (one line each).
    MissingDependencyError
        ccxt is not installed (``pip install 'pairs[ccxt]'``).

    Examples
    --------
    >>> load_ccxt("binance", "BTC/USDT", timeframe="7x")
    Traceback (most recent call last):
    pairs.exceptions.DataError: timeframe must be a ccxt timeframe such as '1m', '4h', '1d' or '1w'; got '7x'.
    """
    ccxt = _ccxt()
    iterable = isinstance(symbols, Iterable) and not isinstance(symbols, (bytes, Mapping))
    names = [symbols] if isinstance(symbols, str) else list(symbols) if iterable else []
    if not names or not all(isinstance(s, str) and s.strip() for s in names):
        raise DataError(f"symbols must be a non-empty string or list of strings; got {symbols!r}.")
    if len(set(names)) != len(names):
        raise DataError(f"symbols must be unique; got {names!r}.")
    bar_ms = _timeframe_ms(timeframe)
    if not isinstance(refresh, (bool, np.bool_)):
        raise DataError(f"refresh must be True or False; got {refresh!r}.")
    folder: Path | None
    if isinstance(cache_dir, _DefaultCache):
        folder = default_cache_dir()
    elif cache_dir is False:
        folder = None
    elif cache_dir is None:
        warnings.warn(
            "cache_dir=None disables load_ccxt's cache, but means the default folder in load_yfinance and "
            "will mean it here too; pass cache_dir=False to download without a cache.",
            FutureWarning,
            stacklevel=2,
        )
        folder = None
    elif isinstance(cache_dir, (str, os.PathLike)):
        folder = Path(cache_dir)
    else:
        raise DataError(
            f"cache_dir must be a folder path (str or os.PathLike) or False (no cache); got {cache_dir!r}."
        )
    age = check_max_age(max_age, pd.Timedelta(milliseconds=bar_ms))
    page = None if limit is None else check_int("limit", limit, minimum=1)
    n_retries = check_int("retries", retries, minimum=0)
    wait = check_float("backoff", backoff, minimum=0.0)
    start, end = stamp(since, "since"), stamp(until, "until")
    if start is not None and end is not None and start >= end:
        raise DataError(f"until must be after since; got since={start}, until={end}.")
    ex = _exchange(ccxt, exchange)
    offered = getattr(ex, "timeframes", None)
    if isinstance(offered, Mapping) and offered and timeframe not in offered:
        raise DataError(f"timeframe must be one {ex.id} offers ({', '.join(offered)}); got {timeframe!r}.")
    session = _Session(ccxt, ex, n_retries, wait)
    page = page if page is not None else _page_limit(ex)
    source = f"ccxt:{ex.id}"
    now_ms = int(ex.milliseconds())
    now = pd.Timestamp(now_ms, unit="ms", tz="UTC")
    columns: dict[str, pd.Series] = {}
    missing: list[tuple[str, dict[str, str], Path | None]] = []
    for symbol in names:
        key = {"source": source, "symbol": symbol, "interval": timeframe}
        path = None if folder is None else cache_path(folder, source, symbol, timeframe)
        cached = None if refresh or path is None else read_cache(path, key)
        if cached is not None and usable(cached[0], start, end, now=now, max_age=age):
            columns[symbol] = cached[1].rename(symbol)
        else:
            missing.append((symbol, key, path))
    # Every symbol to download is checked before the first page is asked for.
    for symbol, _, _ in missing:
        session.check_symbol(symbol)
    for symbol, key, path in missing:
        columns[symbol] = _fetch(session, symbol, timeframe, bar_ms, _ms(start), _ms(end), now_ms, page)
        if path is not None:
            write_cache(path, key, columns[symbol], start=start, end=end, fetched_at=now)
    for symbol in names:
        series = columns[symbol]
        if start is not None:
            series = series[series.index >= start]
        if end is not None:
            series = series[series.index < end]
        if series.empty:
            raise DataError(
                f"symbols must have closed {timeframe} candles on {ex.id} in the span asked; "
                f"got none for {symbol!r} (since={_iso(_ms(start))}, until={_iso(_ms(end))})."
            )
        columns[symbol] = series
    frame = pd.concat({s: columns[s] for s in names}, axis=1, join="outer", sort=True)
    frame.index.name = "timestamp"
    return frame
