"""Funding rates of perpetual futures through ccxt (``fetch_funding_rate_history``), cached on disk.

Paged, rate-limited, retried and cached by the code of :func:`pairs.load_ccxt`
(:mod:`pairs.data._ccxt`, :class:`pairs.data._ccxt_pages.Session`); only what a page holds differs:
settlements at the exchange's own times (every 8 h on most perpetuals, 4 h or 1 h on some, and the
interval of a market may change), so the next settlement is expected one last spacing after the last
one received, and an empty page while it is due before ``until`` is an error, never the end.
"""

from __future__ import annotations

import functools
import numbers
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd

from pairs._validation import check_int
from pairs.data._cache import check_max_age
from pairs.data._ccxt import (
    DEFAULT_CACHE,
    cache_folder,
    check_symbols,
    load_columns,
    open_session,
    span,
)
from pairs.data._ccxt_pages import EPOCH_MS, Session, iso
from pairs.exceptions import DataError

__all__ = ["load_funding"]

# Stored in every cache file and checked on read (as load_ccxt's rules are).
_CACHE_RULES = "1"
_INTERVAL = "funding"  # the cache's interval field: rates are per settlement, not per bar
_HOUR_MS = 3_600_000
# The spacing assumed after a single settlement: the 8 h of most perpetuals (Binance, Bybit, OKX).
_FIRST_SPACING_MS = 8 * _HOUR_MS


def _rate_row(row: Any, where: str, symbol: str) -> tuple[int, float]:
    """Settlement time (epoch ms) and rate of one ccxt funding-rate structure, checked."""
    if not isinstance(row, Mapping):
        raise DataError(f"{where} must be a ccxt funding-rate structure (a dict); got {type(row).__name__}.")
    ts: Any = row.get("timestamp")
    rate: Any = row.get("fundingRate")
    name = row.get("symbol")
    ok_ts = isinstance(ts, numbers.Integral) and not isinstance(ts, (bool, np.bool_))
    if not (ok_ts and EPOCH_MS[0] <= int(ts) < EPOCH_MS[1]):
        raise DataError(
            f"{where} must have a timestamp in epoch milliseconds between 1990 and 2100; got {ts!r}."
        )
    ok_rate = isinstance(rate, numbers.Real) and not isinstance(rate, (bool, np.bool_))
    if not (ok_rate and np.isfinite(rate)):
        raise DataError(f"{where} must have a finite fundingRate; got {rate!r}.")
    if name is not None and name != symbol:
        raise DataError(f"{where} must be a rate of {symbol!r}; got one of {name!r}.")
    return int(ts), float(rate)


@dataclass
class Rates:
    """The settlements of one symbol received so far, keyed by time, checked as they arrive."""

    exchange: str
    symbol: str
    rows: dict[int, tuple[float, str]] = field(default_factory=dict)  # ms -> (rate, call)
    received: int = 0
    short: int | None = None  # the settlement due when paging stopped at an empty page

    @property
    def last(self) -> int:
        return max(self.rows)

    def due(self) -> int:
        """When the next settlement is expected: one last spacing after the last one."""
        times = sorted(self.rows)[-2:]
        return times[-1] + (times[-1] - times[0] if len(times) == 2 else _FIRST_SPACING_MS)

    def add(self, page: Any, cursor: int, what: str) -> bool:
        """Check and keep a page asked from ``cursor``; whether it held a settlement at or after it."""
        page = [] if page is None else page
        if isinstance(page, (str, bytes, Mapping)) or not isinstance(page, Sequence):
            raise DataError(
                f"{what} must answer a list of funding-rate structures; got {type(page).__name__}."
            )
        rows = [_rate_row(r, f"funding rate {self.received + i}", self.symbol) for i, r in enumerate(page)]
        self.received += len(rows)
        stale = [t for t, _ in rows if t < cursor]
        if stale:
            raise DataError(
                f"exchange {self.exchange} must honour since in fetch_funding_rate_history; asked for "
                f"{self.symbol!r} rates from {iso(cursor)} ({what}), it answered one of {iso(min(stale))}."
            )
        for ts, rate in rows:
            kept = self.rows.get(ts)
            if kept is not None and kept[0] != rate:
                raise DataError(
                    f"exchange {self.exchange} must serve one funding rate per settlement; got "
                    f"{kept[0]!r} ({kept[1]}) and {rate!r} ({what}) for {self.symbol!r} at {iso(ts)}."
                )
            self.rows.setdefault(ts, (rate, what))
        return bool(rows)


def fetch_rates(session: Session, symbol: str, lo: int, hi: int, now: int, limit: int | None) -> Rates:
    """Page ``fetch_funding_rate_history`` forward from ``lo`` until every settlement due before ``hi``."""
    exchange = session.exchange
    book = Rates(exchange.id, symbol)

    def ask(cursor: int, retry: bool) -> bool:
        what = f"fetch_funding_rate_history({symbol!r}, since={cursor})"
        fetch = functools.partial(exchange.fetch_funding_rate_history, symbol, cursor, limit)
        return session.page(what, fetch, lambda page: book.add(page, cursor, what), symbol, retry=retry)

    if not (lo < hi and lo <= now) or not ask(lo, retry=False):
        return book
    while True:
        due = book.due()
        if not (due < hi and due <= now):
            return book
        # From just after the last settlement: a settlement off the usual hours is never skipped.
        if not ask(book.last + 1, retry=True):
            book.short = due
            return book


def _download(
    session: Session,
    symbol: str,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    now: int,
    limit: int | None,
) -> tuple[pd.Series, pd.Timestamp | None]:
    lo = 0 if start is None else int(start.value // 10**6)
    end_ms = None if end is None else int(end.value // 10**6)
    hi = 2**62 if end_ms is None else end_ms
    book = fetch_rates(session, symbol, lo, hi, now, limit)
    name = session.exchange.id
    if book.short is not None:
        upto = "now" if end_ms is None or end_ms > now else f"until={iso(end_ms)}"
        raise DataError(
            f"symbols must have every funding settlement on {name} in the span asked; got none for {symbol!r} "
            f"from {iso(book.short)} up to {upto} ({iso(now)} by the exchange's clock): "
            f"fetch_funding_rate_history(since={book.last + 1}) answered no new rate in "
            f"{session.retries + 1} attempt(s) (a delisting, a failing endpoint?)."
        )
    times = [t for t in sorted(book.rows) if lo <= t < hi]
    if not times:
        raise DataError(
            f"symbols must have funding rates on {name} in the span asked; "
            f"got none for {symbol!r} (since={iso(lo if start is not None else None)}, until={iso(end_ms)})."
        )
    index = pd.DatetimeIndex(pd.to_datetime(times, unit="ms", utc=True), name="timestamp")
    return pd.Series([book.rows[t][0] for t in times], index=index, name=symbol, dtype=np.float64), end


def load_funding(
    exchange: Any,
    symbols: str | Sequence[str],
    *,
    since: Any = None,
    until: Any = None,
    cache_dir: str | os.PathLike[str] | Literal[False] | None = DEFAULT_CACHE,
    refresh: bool = False,
    max_age: str | timedelta | None = None,
    limit: int | None = None,
    retries: int = 3,
    backoff: float = 1.0,
) -> pd.DataFrame:
    """Download the funding rates of perpetual futures through ccxt, cached on disk.

    Parameters
    ----------
    exchange
        A ccxt exchange instance (``ccxt.binanceusdm()``) or its id (``"binanceusdm"``); it must
        offer ``fetch_funding_rate_history``.
    symbols
        One ccxt unified symbol of a perpetual swap (``"BTC/USDT:USDT"``) or a list of them; each
        must be a swap market of ``exchange``.
    since, until
        Span of settlement times, ``[since, until)``; naive values are UTC. ``since=None`` asks
        from epoch 0 (exchanges that page forward answer with the first settlement);
        ``until=None`` runs up to now, the exchange's now (``fetch_time``) where it tells it.
    cache_dir, refresh, retries, backoff
        As for :func:`pairs.load_ccxt` (one checksummed cache file per exchange and symbol,
        the same retries of network errors, the exchange's ``rateLimit`` between calls).
    max_age
        Maximum age of a cached span running up to now; default one hour (the shortest
        funding interval in use).
    limit
        Rates asked per call; default the exchange's own page size.

    Returns
    -------
    pandas.DataFrame
        The rate of each settlement as a fraction of the position's notional (``0.0001`` is
        0.01 %), positive when longs pay shorts, negative when shorts pay longs (ccxt's
        ``fundingRate``), indexed by the settlement times exactly as the exchange reports them
        (tz-aware UTC, named ``"timestamp"``), one column per symbol, outer-joined: a symbol
        settling at other times (another interval) is NaN at the others' settlements.

    Raises
    ------
    DataError
        Unknown exchange or symbol, a symbol that is not a perpetual swap, an exchange without
        funding history, no settlement in the span, an exchange error or still offline after
        the retries, a malformed rate, an exchange ignoring ``since``, two different rates for
        one settlement, or an empty page while a settlement is due before ``until``: the next
        settlement is expected one spacing (the last two settlements' distance, 8 h after the
        first) after the last one received, and an empty page before it is retried, then
        refused, never taken for the end of the history.
    MissingDependencyError
        ccxt is not installed (``pip install 'pairs[ccxt]'``).

    Examples
    --------
    >>> load_funding("binanceusdm", "BTC/USDT:USDT", since="2024-02-01", until="2024-01-01")
    Traceback (most recent call last):
    pairs.exceptions.DataError: until must be after since; got since=2024-02-01 00:00:00+00:00, until=2024-01-01 00:00:00+00:00.
    """
    names = check_symbols(symbols)
    folder = cache_folder(cache_dir, refresh, "load_funding")
    age = check_max_age(max_age, pd.Timedelta(hours=1))
    page = None if limit is None else check_int("limit", limit, minimum=1)
    start, end = span(since, until)
    ex, session = open_session(exchange, retries, backoff)
    has = getattr(ex, "has", None)
    if not (isinstance(has, Mapping) and has.get("fetchFundingRateHistory")):
        raise DataError(
            f"exchange must offer fetch_funding_rate_history in ccxt (e.g. 'binanceusdm', 'bybit'); got {ex.id!r}."
        )

    def perpetual(symbol: str) -> None:
        market = (ex.markets or {}).get(symbol) or {}
        if not market.get("swap"):
            raise DataError(
                f"symbols must be perpetual swaps of {ex.id} such as 'BTC/USDT:USDT'; got {symbol!r} "
                f"(a {market.get('type', 'non-swap')} market)."
            )

    def download(symbol: str, now: int) -> tuple[pd.Series, pd.Timestamp | None]:
        return _download(session, symbol, start, end, now, page)

    columns = load_columns(
        session,
        names,
        folder=folder,
        refresh=refresh,
        interval=_INTERVAL,
        rules=_CACHE_RULES,
        start=start,
        end=end,
        max_age=age,
        download=download,
        what="funding rates",
        positive=False,
        check=perpetual,
    )
    frame = pd.concat({s: columns[s] for s in names}, axis=1, join="outer", sort=True)
    frame.index.name = "timestamp"
    return frame
