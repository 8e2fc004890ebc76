"""Download closes with yfinance, with a checksummed on-disk cache.

The cache holds one JSON file per ticker and interval. It is written atomically
(temporary file + ``os.replace``), carries a SHA-256 of its payload, and a file
that fails to parse or to verify is discarded and fetched again, never used.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pairs._io import write_text_atomic
from pairs._validation import check_float, check_int
from pairs.exceptions import DataError

__all__ = ["CACHE_VERSION", "default_cache_dir", "load_yfinance"]

CACHE_VERSION = 1
_INTERVALS = ("1m", "2m", "5m", "15m", "30m", "60m", "90m", "1h", "4h", "1d", "5d", "1wk", "1mo", "3mo")


def default_cache_dir() -> Path:
    """``$PAIRS_CACHE_DIR``, else ``$XDG_CACHE_HOME/pairs``, else ``~/.cache/pairs``."""
    env = os.environ.get("PAIRS_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pairs"


def _stamp(value: Any, name: str) -> str | None:
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise DataError(f"{name} must be a date or timestamp; got {value!r}.") from None
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.isoformat()


def _cache_file(cache_dir: Path, ticker: str, interval: str) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "-._^=" else "_" for ch in ticker)
    return cache_dir / f"{safe}__{interval}.json"


def _checksum(payload: dict[str, Any]) -> str:
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()


def _read_cache(path: Path) -> dict[str, Any] | None:
    """Return the verified payload of a cache file, or ``None`` if absent or corrupt."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        payload = doc["payload"]
        if doc.get("version") != CACHE_VERSION or doc.get("sha256") != _checksum(payload):
            return None
        if len(payload["index"]) != len(payload["close"]) or not payload["index"]:
            return None
        return payload
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _covers(payload: dict[str, Any], start: str | None, end: str | None) -> bool:
    def ok(have: str | None, want: str | None, earlier: bool) -> bool:
        if want is None:
            return have is None
        if have is None:
            return True
        return have <= want if earlier else have >= want

    return ok(payload["start"], start, True) and ok(payload["end"], end, False)


def _close_column(frame: pd.DataFrame, ticker: str) -> pd.Series:
    columns = frame.columns
    if isinstance(columns, pd.MultiIndex):
        for level in range(columns.nlevels):
            if "Close" in columns.get_level_values(level):
                sub = frame.xs("Close", axis=1, level=level)
                if isinstance(sub, pd.DataFrame):
                    if ticker in sub.columns:
                        return sub[ticker]
                    if sub.shape[1] == 1:
                        return sub.iloc[:, 0]
                    raise DataError(
                        f"yfinance answer for {ticker!r} must have one Close column; got {list(sub.columns)!r}."
                    )
                return sub
        raise DataError(f"yfinance answer for {ticker!r} must have a 'Close' column; got {list(columns)!r}.")
    if "Close" in columns:
        return frame["Close"]
    raise DataError(f"yfinance answer for {ticker!r} must have a 'Close' column; got {list(columns)!r}.")


def _download(
    ticker: str,
    start: str | None,
    end: str | None,
    interval: str,
    retries: int,
    backoff: float,
    sleep: Callable[[float], None],
) -> pd.Series:
    try:
        import yfinance as yf
    except ImportError as exc:  # pragma: no cover - yfinance is a hard dependency
        raise DataError(f"yfinance must be installed to download prices; {exc}.") from None
    last_error: str = "no attempt made"
    for attempt in range(retries + 1):
        try:
            frame = yf.download(
                ticker,
                start=None if start is None else pd.Timestamp(start).to_pydatetime(),
                end=None if end is None else pd.Timestamp(end).to_pydatetime(),
                interval=interval,
                auto_adjust=False,
                progress=False,
                threads=False,
                **({"period": "max"} if start is None else {}),
            )
        except Exception as exc:
            last_error = f"{type(exc).__name__}: {exc}"
            if attempt < retries:
                sleep(backoff * 2**attempt)
            continue
        if frame is None or not isinstance(frame, pd.DataFrame) or frame.empty:
            raise DataError(
                f"tickers must be symbols Yahoo Finance knows; got no data for {ticker!r} "
                f"(interval={interval!r}, start={start}, end={end}): unknown ticker, "
                "no history in that span, or offline."
            )
        close = pd.to_numeric(_close_column(frame, ticker), errors="coerce").dropna()
        if close.empty:
            raise DataError(f"yfinance answer for {ticker!r} must contain closes; got only NaN.")
        index = pd.DatetimeIndex(close.index)
        index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
        out = pd.Series(close.to_numpy(dtype=np.float64), index=index, name=ticker)
        out = out[~out.index.duplicated(keep="last")].sort_index()
        if (out <= 0).any() or not np.isfinite(out.to_numpy()).all():
            raise DataError(f"yfinance answer for {ticker!r} must have positive finite closes.")
        return out
    raise DataError(
        f"yfinance download of {ticker!r} failed after {retries + 1} attempt(s) "
        f"(offline or rate limited?); last error: {last_error}."
    )


def load_yfinance(
    tickers: str | Sequence[str],
    *,
    start: Any = None,
    end: Any = None,
    interval: str = "1d",
    cache_dir: str | os.PathLike[str] | None = None,
    refresh: bool = False,
    retries: int = 3,
    backoff: float = 1.0,
) -> pd.DataFrame:
    """Download closes from Yahoo Finance via yfinance, cached on disk.

    Parameters
    ----------
    tickers
        One ticker (``"BTC-USD"``) or a list of tickers.
    start, end
        Date range as understood by yfinance (``end`` exclusive); ``None`` for all
        history / up to now.
    interval
        yfinance interval, e.g. ``"1d"``, ``"1h"``.
    cache_dir
        Folder of the cache (default :func:`default_cache_dir`). A cached file is
        reused without network when it was fetched for a span covering
        ``[start, end]``; ``refresh=True`` always downloads.
    retries, backoff
        A failing download is retried ``retries`` times, waiting ``backoff * 2**k``
        seconds before retry ``k``; then a :class:`~pairs.exceptions.DataError`.

    Returns
    -------
    pandas.DataFrame
        Closes (not adjusted; for crypto Close equals Adj Close), one column per
        ticker, outer-joined on a tz-aware UTC index (NaN where a ticker has no bar).
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
    if cache_dir is not None and not isinstance(cache_dir, (str, os.PathLike)):
        raise DataError(f"cache_dir must be a folder path (str or os.PathLike) or None; got {cache_dir!r}.")
    n_retries = check_int("retries", retries, minimum=0)
    wait = check_float("backoff", backoff, minimum=0.0)
    start_s, end_s = _stamp(start, "start"), _stamp(end, "end")
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    columns: dict[str, pd.Series] = {}
    for ticker in names:
        path = _cache_file(folder, ticker, interval)
        payload = None if refresh else _read_cache(path)
        if payload is not None and _covers(payload, start_s, end_s):
            series = pd.Series(
                payload["close"],
                index=pd.DatetimeIndex(payload["index"]).tz_convert("UTC"),
                name=ticker,
                dtype=np.float64,
            )
        else:
            series = _download(ticker, start_s, end_s, interval, n_retries, wait, time.sleep)
            body = {
                "ticker": ticker,
                "interval": interval,
                "start": start_s,
                "end": end_s,
                "index": [ts.isoformat() for ts in series.index],
                "close": series.tolist(),
            }
            doc = {"version": CACHE_VERSION, "sha256": _checksum(body), "payload": body}
            folder.mkdir(parents=True, exist_ok=True)
            write_text_atomic(path, json.dumps(doc))
        if start_s is not None:
            series = series[series.index >= pd.Timestamp(start_s)]
        if end_s is not None:
            series = series[series.index < pd.Timestamp(end_s)]
        columns[ticker] = series
    frame = pd.concat(columns, axis=1, join="outer", sort=True)
    frame.index.name = "timestamp"
    return frame
