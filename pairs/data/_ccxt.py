"""Closes from crypto exchanges through ccxt (the optional extra ``pairs[ccxt]``).

:func:`from_ccxt` turns the OHLCV list of ``exchange.fetch_ohlcv`` into the usual close
Series; :func:`load_ccxt` pages ``fetch_ohlcv`` over a span (:mod:`pairs.data._ccxt_pages`:
politely, checking every page), keeps the candles closed by the exchange's clock and caches
the closes like :func:`pairs.load_yfinance` does.
"""

from __future__ import annotations

import difflib
import os
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from pairs._typing import OnEmptyPage, PriceField
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
from pairs.data._ccxt_pages import (
    PRICE_COLUMNS,
    Session,
    Timeframe,
    fetch_candles,
    iso,
    ohlcv_rows,
    page_limit,
)
from pairs.exceptions import DataError, MissingDependencyError, PairsWarning

__all__ = [
    "DEFAULT_CACHE",
    "cache_folder",
    "check_symbols",
    "from_ccxt",
    "load_ccxt",
    "load_columns",
    "open_session",
    "span",
]

# Stored in every cache file and checked on read: files written before the page checks (which
# could hold a span cut short by an empty page, or a candle still open by the exchange's clock)
# are fetched again.
_CACHE_RULES = "2"


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


def _drop_open(series: pd.Series, drop: Any, tf: Timeframe | None) -> pd.Series:
    if drop is False or drop is None or series.empty:
        return series
    if drop is True:
        return series.iloc[:-1]
    if isinstance(drop, (bool, np.bool_)):
        return series.iloc[:-1] if drop else series
    as_of = stamp(drop, "drop_incomplete")
    if tf is None:
        if len(series) < 2:
            return series
        bar = pd.Series(series.index).diff().median()
        return series.loc[series.index + bar <= as_of]
    return series.loc[tf.closes(series.index) <= as_of]


def from_ccxt(
    ohlcv: Sequence[Sequence[Any]],
    *,
    name: str | None = None,
    drop_incomplete: bool | str | pd.Timestamp = False,
    timeframe: str | None = None,
    field: PriceField = "close",
) -> pd.Series:
    """Closes (or another price ``field``) from a ccxt OHLCV list ``[[ms, open, high, low, close, volume], ...]``.

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
        one bar, the bar taken from ``timeframe``, calendar months for ``"1M"``, or else
        the median spacing).
    timeframe
        The ccxt timeframe of the candles (``"1d"``, ``"4h"``...), used by ``drop_incomplete``.
    field
        ``"close"`` (default), ``"open"``, ``"high"`` or ``"low"``: the price returned (it is
        the one checked finite and positive).

    Returns
    -------
    pandas.Series
        Float prices on a sorted, unique, tz-aware UTC ``DatetimeIndex`` named
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
    tf = None if timeframe is None else Timeframe.parse(timeframe)
    if drop_incomplete is not None and not isinstance(drop_incomplete, (bool, np.bool_)):
        stamp(drop_incomplete, "drop_incomplete")
    times, closes = ohlcv_rows(ohlcv, field=check_choice("field", field, tuple(PRICE_COLUMNS)))
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
    return _drop_open(series, drop_incomplete, tf)


# --- download ------------------------------------------------------------------------------------------


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


def check_symbols(symbols: Any) -> list[str]:
    """``symbols`` as a list of unique non-empty strings."""
    iterable = isinstance(symbols, Iterable) and not isinstance(symbols, (bytes, Mapping))
    names = [symbols] if isinstance(symbols, str) else list(symbols) if iterable else []
    if not names or not all(isinstance(s, str) and s.strip() for s in names):
        raise DataError(f"symbols must be a non-empty string or list of strings; got {symbols!r}.")
    if len(set(names)) != len(names):
        raise DataError(f"symbols must be unique; got {names!r}.")
    return names


def cache_folder(cache_dir: Any, refresh: Any, who: str) -> Path | None:
    """The cache folder of a loader (None: no cache), ``refresh`` checked alongside."""
    if not isinstance(refresh, (bool, np.bool_)):
        raise DataError(f"refresh must be True or False; got {refresh!r}.")
    if isinstance(cache_dir, _DefaultCache):
        return default_cache_dir()
    if cache_dir is False:
        return None
    if cache_dir is None:
        warnings.warn(
            f"cache_dir=None disables {who}'s cache, but means the default folder in load_yfinance and "
            "will mean it here too; pass cache_dir=False to download without a cache.",
            FutureWarning,
            stacklevel=3,
        )
        return None
    if isinstance(cache_dir, (str, os.PathLike)):
        return check_folder(Path(cache_dir))
    raise DataError(
        f"cache_dir must be a folder path (str or os.PathLike) or False (no cache); got {cache_dir!r}."
    )


def span(since: Any, until: Any) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    start, end = stamp(since, "since"), stamp(until, "until")
    if start is not None and end is not None and start >= end:
        raise DataError(f"until must be after since; got since={start}, until={end}.")
    return start, end


def open_session(exchange: Any, retries: Any, backoff: Any) -> tuple[Any, Session]:
    """The exchange (an instance or an id) and its :class:`Session`, retries and backoff checked."""
    ccxt = _ccxt()
    n_retries = check_int("retries", retries, minimum=0)
    wait = check_float("backoff", backoff, minimum=0.0)
    ex = _exchange(ccxt, exchange)
    return ex, Session(ccxt, ex, n_retries, wait, _sleep)


def load_columns(
    session: Session,
    names: list[str],
    *,
    folder: Path | None,
    refresh: bool,
    interval: str,
    rules: str,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    max_age: pd.Timedelta,
    download: Callable[[str, int], tuple[pd.Series, pd.Timestamp | None]],
    what: str,
    positive: bool = True,
    check: Callable[[str], None] | None = None,
) -> dict[str, pd.Series]:
    """Each symbol's series over ``[start, end)``, from the cache where it answers, else downloaded.

    ``download(symbol, now)`` returns the series and the end of the span it is complete for
    (cached as such); ``what`` names the data in the error for an empty span; ``check(symbol)``
    checks a market further once the markets are loaded; ``positive=False`` caches signed values.
    """
    ex = session.exchange
    source = f"ccxt:{ex.id}"
    # The cache is judged by the local clock (a cache hit needs no network); what is closed
    # and the fetch time written to the cache come from the exchange's clock.
    now = pd.Timestamp(session.clock(), unit="ms", tz="UTC")
    columns: dict[str, pd.Series] = {}
    missing: list[tuple[str, dict[str, str], Path | None]] = []
    for symbol in names:
        key = {"source": source, "symbol": symbol, "interval": interval, "rules": rules}
        path = None if folder is None else cache_path(folder, source, symbol, interval)
        cached = None if refresh or path is None else read_cache(path, key, positive=positive)
        if cached is not None and usable(cached[0], start, end, now=now, max_age=max_age):
            columns[symbol] = cached[1].rename(symbol)
        else:
            missing.append((symbol, key, path))
    # Every symbol to download is checked before the first page is asked for.
    for symbol, _, _ in missing:
        session.check_symbol(symbol)
        if check is not None:
            check(symbol)
    server_now = session.now() if missing else 0
    for symbol, key, path in missing:
        columns[symbol], complete = download(symbol, server_now)
        if path is not None:
            fetched = pd.Timestamp(server_now, unit="ms", tz="UTC")
            write_cache(path, key, columns[symbol], start=start, end=complete, fetched_at=fetched)
    for symbol in names:
        series = columns[symbol]
        if start is not None:
            series = series[series.index >= start]
        if end is not None:
            series = series[series.index < end]
        if series.empty:
            raise DataError(
                f"symbols must have {what} on {ex.id} in the span asked; "
                f"got none for {symbol!r} (since={iso(_ms(start))}, until={iso(_ms(end))})."
            )
        columns[symbol] = series
    return columns


def _download(
    session: Session,
    symbol: str,
    tf: Timeframe,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    now: int,
    limit: int | None,
    *,
    raise_short: bool,
    field: PriceField,
) -> tuple[pd.Series, pd.Timestamp | None]:
    """The closed candles of ``[start, end)`` and the end of the span they are complete for."""
    lo, end_ms = _ms(start) or 0, _ms(end)
    hi = 2**62 if end_ms is None else end_ms
    book = fetch_candles(session, symbol, tf, lo, hi, now, limit)
    rows = book.closed(lo, hi)
    where = f"{tf.text} candles on {session.exchange.id}"
    if book.short is not None:
        upto = "now" if end_ms is None or end_ms > now else f"until={iso(end_ms)}"
        missing = f"{symbol!r} from {iso(book.short)} up to {upto} ({iso(now)} by the exchange's clock)"
        if raise_short:
            raise DataError(
                f"symbols must have all closed {where} in the span asked; got none for {missing}: "
                f"fetch_ohlcv(since={book.last + 1}) answered no new candle in {session.retries + 1} "
                "attempt(s) (a halt longer than a page, a delisting, a failing endpoint?). "
                "on_empty_page='warn' keeps the candles before."
            )
        warnings.warn(
            f"load_ccxt stopped at an empty page: no closed {where} for {missing}; the candles "
            "before are returned and cached, the rest will be asked again.",
            PairsWarning,
            stacklevel=3,
        )
    if not rows:
        raise DataError(
            f"symbols must have closed {where} in the span asked; "
            f"got none for {symbol!r} (since={iso(_ms(start))}, until={iso(_ms(end))})."
        )
    complete = end if book.short is None else pd.Timestamp(book.short, unit="ms", tz="UTC")
    return from_ccxt(rows, name=symbol, field=field), complete


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
    on_empty_page: OnEmptyPage = "raise",
    field: PriceField = "close",
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
        with their first candle; ``until=None`` runs up to now, the exchange's now
        (``fetch_time``) where it tells it.
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
        the exchange's ``rateLimit`` (milliseconds) is waited. An empty page while a
        closed candle is still due is retried the same way.
    on_empty_page
        What an empty page still means after its retries, when the span is not complete
        (the exchange served candles, then none although more have closed before ``until``:
        a halt longer than a page, a delisting, a failing endpoint). ``"raise"``: a
        :class:`~pairs.exceptions.DataError` naming the span missing. ``"warn"``: the
        candles received, a :class:`~pairs.exceptions.PairsWarning` naming the span
        missing, and only the span before it cached. Gaps the exchange pages over (no
        candle between two it serves) are its answer and stay as missing bars.
    field
        ``"close"`` (default), ``"open"``, ``"high"`` or ``"low"``: which price of the candles
        (e.g. the opens of ``backtest(..., fill="next_open")``); each field is cached apart.

    Returns
    -------
    pandas.DataFrame
        Closes (or ``field``) of closed candles only, by the exchange's clock where it tells it (the
        still-open candle is dropped: never returned, never cached), one column per
        symbol, outer-joined on a tz-aware UTC index named ``"timestamp"`` (candle open
        time).

    Raises
    ------
    DataError
        Unknown exchange or symbol, no candles in the span, an exchange error (ccxt's or
        any other exception raised inside the exchange's calls), still offline after the
        retries, an empty page before the span is complete (``on_empty_page="raise"``), an
        exchange ignoring ``since``, two different candles with one open time, or a
        candle off the grid of the others (one line each).
    MissingDependencyError
        ccxt is not installed (``pip install 'pairs[ccxt]'``).

    Examples
    --------
    >>> load_ccxt("binance", "BTC/USDT", timeframe="7x")
    Traceback (most recent call last):
    pairs.exceptions.DataError: timeframe must be a ccxt timeframe such as '1m', '4h', '1d' or '1w'; got '7x'.
    """
    names = check_symbols(symbols)
    tf = Timeframe.parse(timeframe)
    folder = cache_folder(cache_dir, refresh, "load_ccxt")
    age = check_max_age(max_age, tf.typical)
    page = None if limit is None else check_int("limit", limit, minimum=1)
    gaps = check_choice("on_empty_page", on_empty_page, ("raise", "warn"))
    price: PriceField = check_choice("field", field, ("open", "high", "low", "close"))
    # The closes keep the cache key they always had; another field is a series of its own.
    interval = timeframe if price == "close" else f"{timeframe}-{price}"
    start, end = span(since, until)
    ex, session = open_session(exchange, retries, backoff)
    offered = getattr(ex, "timeframes", None)
    if isinstance(offered, Mapping) and offered and timeframe not in offered:
        raise DataError(f"timeframe must be one {ex.id} offers ({', '.join(offered)}); got {timeframe!r}.")
    page = page if page is not None else page_limit(ex)

    def download(symbol: str, now: int) -> tuple[pd.Series, pd.Timestamp | None]:
        return _download(session, symbol, tf, start, end, now, page, raise_short=gaps == "raise", field=price)

    columns = load_columns(
        session,
        names,
        folder=folder,
        refresh=refresh,
        interval=interval,
        rules=_CACHE_RULES,
        start=start,
        end=end,
        max_age=age,
        download=download,
        what=f"closed {timeframe} candles",
    )
    frame = pd.concat({s: columns[s] for s in names}, axis=1, join="outer", sort=True)
    frame.index.name = "timestamp"
    return frame
