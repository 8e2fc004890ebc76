"""Paging ``fetch_ohlcv`` over a span for :func:`pairs.load_ccxt`, and the checks on every page.

The rules (docs/data.md, "ccxt"): each page must honour ``since``; candles repeated across pages must be
identical; every candle must sit on one grid of whole bars; paging goes on from one millisecond after the
last candle received (so a candle is never skipped), and an empty page while a closed candle is still due
is retried, then reported (never taken for the end of the data). Closed means closed by the exchange's
clock (``fetch_time``) when it has one.
"""

from __future__ import annotations

import difflib
import functools
import math
import numbers
import re
import reprlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from pairs.exceptions import DataError

__all__ = ["Candles", "Session", "Timeframe", "fetch_candles", "iso", "ohlcv_rows", "page_limit"]

T = TypeVar("T")
EPOCH_MS = (
    pd.Timestamp("1990-01-01", tz="UTC").value // 10**6,
    pd.Timestamp("2100-01-01", tz="UTC").value // 10**6,
)
_TIMEFRAME = re.compile(r"^([1-9][0-9]*)([smhdwMy])$")
_UNIT_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_short = reprlib.Repr()
_short.maxlist = 8
_short.maxother = 40
_short.maxstring = 60


def iso(ms: int | None) -> str | None:
    return None if ms is None else pd.Timestamp(ms, unit="ms", tz="UTC").isoformat()


@dataclass(frozen=True)
class Timeframe:
    """A ccxt timeframe; months and years are calendar months (a January candle lasts 31 days)."""

    text: str
    n: int
    unit: str

    @classmethod
    def parse(cls, timeframe: Any) -> Timeframe:
        match = _TIMEFRAME.match(timeframe) if isinstance(timeframe, str) else None
        if match is None:
            raise DataError(
                f"timeframe must be a ccxt timeframe such as '1m', '4h', '1d' or '1w'; got {timeframe!r}."
            )
        return cls(timeframe, int(match.group(1)), match.group(2))

    @property
    def months(self) -> int:
        return self.n * (12 if self.unit == "y" else 1) if self.unit in "My" else 0

    @property
    def typical(self) -> pd.Timedelta:
        """One bar, a calendar month taken as 30 days (for the default ``max_age`` only)."""
        return pd.Timedelta(days=30 * self.months) if self.months else pd.Timedelta(self.ms(), unit="ms")

    def ms(self) -> int:
        return self.n * _UNIT_MS[self.unit]

    def close(self, open_ms: int) -> int:
        """The close time of the candle opening at ``open_ms``, the open of the next one."""
        if not self.months:
            return open_ms + self.ms()
        ts = pd.Timestamp(open_ms, unit="ms", tz="UTC") + pd.DateOffset(months=self.months)
        return int(ts.value // 10**6)

    def closes(self, index: pd.DatetimeIndex) -> pd.DatetimeIndex:
        if not self.months:
            return index + pd.Timedelta(self.ms(), unit="ms")
        return index + pd.DateOffset(months=self.months)

    def on_grid(self, ts: int, anchor: int) -> bool:
        """Whether ``ts`` is a whole number of bars from ``anchor``."""
        if not self.months:
            return (ts - anchor) % self.ms() == 0
        a, b = (pd.Timestamp(t, unit="ms", tz="UTC") for t in (anchor, ts))
        apart = (b.year - a.year) * 12 + b.month - a.month
        return apart % self.months == 0 and a + pd.DateOffset(months=apart) == b


PRICE_COLUMNS = {"open": 1, "high": 2, "low": 3, "close": 4}


def ohlcv_rows(ohlcv: Any, offset: int = 0, field: str = "close") -> tuple[np.ndarray, np.ndarray]:
    """Epoch-ms times and one price ``field`` (``"close"``...) of ccxt OHLCV rows, each row checked."""
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
        ts, close = row[0], row[PRICE_COLUMNS[field]]
        ok_ts = isinstance(ts, numbers.Real) and not isinstance(ts, (bool, np.bool_))
        ok_ts = ok_ts and np.isfinite(ts) and float(ts) == int(ts) and EPOCH_MS[0] <= int(ts) < EPOCH_MS[1]
        if not ok_ts:
            raise DataError(
                f"{where} must start with an epoch time in milliseconds between 1990 and 2100; got {_short.repr(ts)}."
            )
        ok_close = isinstance(close, numbers.Real) and not isinstance(close, (bool, np.bool_))
        if not (ok_close and np.isfinite(close) and close > 0):
            raise DataError(f"{where} must have a finite positive {field}; got {_short.repr(close)}.")
        times[i], closes[i] = int(ts), float(close)
    return times, closes


def _one_line(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Session:
    """One exchange, its politeness rules and the retry loop around every call."""

    def __init__(
        self, ccxt: Any, exchange: Any, retries: int, backoff: float, sleep: Callable[[float], None]
    ) -> None:
        self.ccxt, self.exchange, self.retries, self.backoff = ccxt, exchange, retries, backoff
        self.sleep = sleep
        rate = getattr(exchange, "rateLimit", 0) or 0
        ok = isinstance(rate, numbers.Real) and math.isfinite(float(rate)) and float(rate) > 0
        self.pause = float(rate) / 1000.0 if ok else 0.0
        self.calls = 0
        self.rested = False

    def rest(self, attempt: int) -> None:
        """The backoff before retry ``attempt`` (0 for the first retry)."""
        self.sleep(self.backoff * 2**attempt)
        self.rested = self.backoff * 2**attempt >= self.pause

    def call(self, what: str, fn: Callable[[], T], symbol: str | None = None) -> T:
        ccxt, name = self.ccxt, self.exchange.id
        last: BaseException | None = None
        for attempt in range(self.retries + 1):
            # Honour the exchange's rate limit between any two calls of ours (a backoff
            # wait at least as long already does).
            if self.calls and self.pause and not self.rested:
                self.sleep(self.pause)
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
                    self.rest(attempt)
            except ccxt.BaseError as exc:
                raise DataError(
                    f"exchange {name} must answer {what}; it refused: {_one_line(exc)}."
                ) from None
            except Exception as exc:
                # Not a ccxt error: a bug in ccxt or in the exchange class (a KeyError on a changed
                # answer, say). Still one line for the user; the cause stays chained for a debugger.
                # KeyboardInterrupt and SystemExit are not Exceptions and pass untouched.
                raise DataError(
                    f"exchange {name} must answer {what}; the call failed with {_one_line(exc)} "
                    "(not a ccxt error: a bug in ccxt or in the exchange class?)."
                ) from exc
        raise DataError(
            f"exchange {name} must be reachable for {what}; failed after {self.retries + 1} attempt(s) "
            f"(offline or rate limited?); last error: {_one_line(last) if last else 'none'}."
        )

    def page(
        self, what: str, fetch: Callable[[], Any], keep: Callable[[Any], bool], symbol: str, *, retry: bool
    ) -> bool:
        """Ask one page and ``keep`` it (True: it held new rows); with ``retry``, a page without new
        rows is asked again ``retries`` times with the backoff of network errors."""
        for attempt in range(self.retries + 1 if retry else 1):
            if attempt:
                self.rest(attempt - 1)
            if keep(self.call(what, fetch, symbol)):
                return True
        return False

    def clock(self) -> int:
        """The exchange object's local clock (``milliseconds()``, no network call): whatever it
        raises is a one-line DataError with the cause chained."""
        try:
            return int(self.exchange.milliseconds())
        except Exception as exc:
            raise DataError(
                f"exchange {self.exchange.id} must answer milliseconds(); the call failed with "
                f"{_one_line(exc)} (a bug in ccxt or in the exchange class?)."
            ) from exc

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

    def now(self) -> int:
        """The exchange's time (``fetch_time``) where it tells it, else the local clock.

        A local clock running ahead would otherwise take the still-open candle for closed and
        date the cache after its real fetch time.
        """
        has = getattr(self.exchange, "has", None)
        if not (isinstance(has, Mapping) and has.get("fetchTime")):
            return self.clock()
        value = self.call("fetch_time()", self.exchange.fetch_time)
        ok = isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
        if not (ok and EPOCH_MS[0] <= int(value) < EPOCH_MS[1]):
            raise DataError(
                f"exchange {self.exchange.id} must tell its time (fetch_time()) in epoch milliseconds; "
                f"got {_short.repr(value)}."
            )
        return int(value)


def page_limit(exchange: Any) -> int | None:
    """The largest page ``fetch_ohlcv`` serves, from ccxt's ``features`` where it says so."""
    features = getattr(exchange, "features", None)
    try:
        value = features["spot"]["fetchOHLCV"]["limit"]  # type: ignore[index]
    except (KeyError, TypeError, IndexError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _same(a: Sequence[Any], b: Sequence[Any]) -> bool:
    """Rows equal field by field, numbers compared as floats, NaN equal to NaN."""

    def value(v: Any) -> Any:
        try:
            f = float(v)
        except (TypeError, ValueError):
            return v
        return "nan" if f != f else f

    return len(a) == len(b) and all(value(x) == value(y) for x, y in zip(a, b, strict=True))


@dataclass
class Candles:
    """The candles of one symbol received so far, keyed by open time, checked as they arrive."""

    exchange: str
    symbol: str
    tf: Timeframe
    now: int  # candles closing after it are still open: they may change between pages, are not returned
    rows: dict[int, tuple[list[Any], str]] = field(default_factory=dict)  # open ms -> (row, call)
    anchor: int | None = None  # the first candle received: the grid every other one must be on
    received: int = 0
    short: int | None = None  # open time of the first candle missing, when paging stopped early

    @property
    def last(self) -> int:
        return max(self.rows)

    def add(self, page: Any, cursor: int, what: str) -> bool:
        """Check and keep a page asked from ``cursor``; whether it held a candle opening at or after it."""
        page = [] if page is None else page
        times, _ = ohlcv_rows(page, offset=self.received)
        self.received += len(times)
        # An exchange honouring `since` serves candles opening at or after it, some also the
        # candle that contains it; anything older means `since` was ignored.
        stale = [int(t) for t in times if self.tf.close(int(t)) <= cursor]
        if stale:
            raise DataError(
                f"exchange {self.exchange} must honour since in fetch_ohlcv; asked for {self.symbol!r} "
                f"candles from {iso(cursor)} ({what}), it answered one opening {iso(min(stale))}."
            )
        for ts, row in zip(times.tolist(), page, strict=True):
            self.anchor = ts if self.anchor is None else self.anchor
            if not self.tf.on_grid(ts, self.anchor):
                raise DataError(
                    f"exchange {self.exchange} must serve {self.symbol!r} {self.tf.text} candles on one "
                    f"grid (whole bars apart); got one opening {iso(ts)}, off the grid of the one opening "
                    f"{iso(self.anchor)} ({what}). Mixed timeframes or shifted candles are refused, "
                    "not merged."
                )
            kept = self.rows.get(ts)
            if kept is not None and not _same(kept[0], row) and self.tf.close(ts) <= self.now:
                raise DataError(
                    f"exchange {self.exchange} must serve one candle per open time; got two different "
                    f"{self.symbol!r} candles opening {iso(ts)}: {_short.repr(list(kept[0]))} "
                    f"({kept[1]}) and {_short.repr(list(row))} ({what})."
                )
            if kept is None or not _same(kept[0], row):
                self.rows[ts] = (list(row), what)
        return bool((times >= cursor).any())

    def closed(self, lo: int, hi: int) -> list[list[Any]]:
        """The candles opening in ``[lo, hi)`` and closed by ``now``, oldest first."""
        return [self.rows[t][0] for t in sorted(self.rows) if lo <= t < hi and self.tf.close(t) <= self.now]


def fetch_candles(
    session: Session,
    symbol: str,
    tf: Timeframe,
    lo: int,
    hi: int,
    now: int,
    limit: int | None,
) -> Candles:
    """Page ``fetch_ohlcv`` forward from ``lo`` until every closed candle before ``hi`` is in.

    Stops early only on an empty page (after ``session.retries`` retries), recording in
    ``short`` the open time from which candles are missing.
    """
    exchange = session.exchange
    book = Candles(exchange.id, symbol, tf, now)

    def ask(cursor: int, retry: bool) -> bool:
        what = f"fetch_ohlcv({symbol!r}, {tf.text!r}, since={cursor})"
        ask_page = functools.partial(exchange.fetch_ohlcv, symbol, tf.text, cursor, limit)
        return session.page(what, ask_page, lambda page: book.add(page, cursor, what), symbol, retry=retry)

    # No call when no candle of the span can have closed yet (the first opens at or after `lo`).
    if not (lo < hi and tf.close(lo) <= now) or not ask(lo, retry=False):
        return book
    # A first page opening a bar or more after `since` is the market's first candles, or the
    # latest candles of an exchange ignoring `since`: one more page tells them apart.
    late = min(book.rows) >= tf.close(lo)
    while True:
        due = tf.close(book.last)  # the next candle opens when the last one closes
        if not (due < hi and tf.close(due) <= now):
            if late:
                ask(book.last + 1, retry=False)
            return book
        late = False
        # From just after the last candle, not from its close: a candle off the grid would
        # otherwise hide the one after it (and is reported by `add`).
        if not ask(book.last + 1, retry=True):
            book.short = due
            return book
