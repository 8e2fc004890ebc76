"""The on-disk cache of downloaded closes, shared by ``load_yfinance`` and ``load_ccxt``.

One JSON file per source, symbol and bar interval. Files are written atomically
(:func:`pairs._io.write_text_atomic`), carry a SHA-256 of their payload and the source,
symbol and interval they hold, and are read as untrusted input: a file that is too big,
too deeply nested, holds numbers out of range, fails its checksum, belongs to another
symbol or holds closes that fresh data would fail (unsorted, duplicate, non-positive) is
ignored and fetched again, never used. Spans that run up to "now" expire after ``max_age``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pairs._io import read_regular_file, write_text_atomic
from pairs._validation import as_positive_duration
from pairs.exceptions import DataError

__all__ = [
    "CACHE_VERSION",
    "MAX_CACHE_BYTES",
    "MAX_JSON_DEPTH",
    "cache_path",
    "check_folder",
    "check_max_age",
    "default_cache_dir",
    "loads_untrusted",
    "read_cache",
    "stamp",
    "usable",
    "validate_closes",
    "write_cache",
]

CACHE_VERSION = 2
MAX_CACHE_BYTES = 128 * 2**20
MAX_JSON_DEPTH = 16
_MAX_INT_DIGITS = 20
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_EPOCH_MS = (
    pd.Timestamp("1990-01-01", tz="UTC").value // 10**6,
    pd.Timestamp("2100-01-01", tz="UTC").value // 10**6,
)


def default_cache_dir() -> Path:
    """``$PAIRS_CACHE_DIR``, else ``$XDG_CACHE_HOME/pairs``, else ``~/.cache/pairs``.

    Examples
    --------
    >>> isinstance(default_cache_dir(), Path)
    True
    """
    env = os.environ.get("PAIRS_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pairs"


def check_folder(folder: Path | None) -> Path | None:
    """``folder``, refused when it exists as something other than a folder (a file, say)."""
    if folder is not None and os.path.lexists(folder) and not folder.is_dir():
        raise DataError(f"cache_dir must be a folder; got {str(folder)!r}, which is not one.")
    return folder


def stamp(value: Any, name: str) -> pd.Timestamp | None:
    """``value`` as a UTC timestamp (naive values are taken as UTC), or ``None``."""
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        raise DataError(f"{name} must be a date or timestamp; got {value!r}.") from None
    if ts is pd.NaT:
        raise DataError(f"{name} must be a date or timestamp; got {value!r}.")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def check_max_age(value: Any, bar: pd.Timedelta) -> pd.Timedelta:
    """``max_age`` as a positive Timedelta; ``None`` gives one bar, at most one day."""
    if value is None:
        return min(bar, pd.Timedelta(days=1))
    if isinstance(value, (str, timedelta, pd.Timedelta)):
        age = as_positive_duration(value)
        if age is not None:
            return age
    raise DataError(
        f"max_age must be a positive duration such as '6h' or a timedelta, or None; got {value!r}."
    )


def cache_path(folder: Path, source: str, symbol: str, interval: str) -> Path:
    """The cache file of one series; distinct (source, symbol, interval) give distinct names.

    The readable part is lossy (``BTC/USDT`` and ``BTC_USDT`` share it), so a hash of the
    exact key follows it; the key is also stored in the file and checked on read.
    """
    key = json.dumps([source, symbol, interval])
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    slug = re.sub(r"[^A-Za-z0-9.^=-]+", "_", f"{source}__{symbol}")[:80]
    return folder / f"{slug}__{interval}__{digest}.json"


def _checksum(payload: dict[str, Any]) -> str:
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()


def _int(text: str) -> int:
    digits = text.lstrip("-")
    if len(digits) > _MAX_INT_DIGITS:
        raise ValueError(f"an integer of {len(digits)} digits")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"a number outside float range ({text[:40]})")
    return value


def _constant(text: str) -> Any:
    raise ValueError(f"the non-standard constant {text}")


def loads_untrusted(
    text: str | bytes, *, what: str, max_bytes: int = MAX_CACHE_BYTES, max_depth: int = MAX_JSON_DEPTH
) -> Any:
    """Parse JSON from an untrusted source, within size, nesting and number limits.

    Integers may have at most 20 digits, floats must be finite (no ``NaN``, ``Infinity``
    or ``1e999``), the text at most ``max_bytes`` long and nested at most ``max_depth``
    deep. Any violation, and any syntax error, raises :class:`~pairs.exceptions.DataError`
    whose message starts with ``what``.

    Examples
    --------
    >>> loads_untrusted('{"a": [1, 2.5]}', what="state")
    {'a': [1, 2.5]}
    >>> loads_untrusted("[" * 100 + "]" * 100, what="state")
    Traceback (most recent call last):
    pairs.exceptions.DataError: state must be JSON nested at most 16 deep; got 100 levels.
    """
    if len(text) > max_bytes:
        raise DataError(f"{what} must be JSON of at most {max_bytes} bytes; got {len(text)}.")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(f"{what} must be UTF-8 JSON; got undecodable bytes ({exc.reason}).") from None
    depth = _depth(text)
    if depth > max_depth:
        raise DataError(f"{what} must be JSON nested at most {max_depth} deep; got {depth} levels.")
    try:
        return json.loads(
            text, parse_int=_int, parse_float=_float, parse_constant=_constant, object_pairs_hook=_unique_keys
        )
    except (ValueError, RecursionError) as exc:
        raise DataError(f"{what} must be valid JSON with numbers in range; {str(exc)[:200]}.") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are distinct (json.loads would keep the last of a repeated key)."""
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise ValueError(f"an object must name each key once; got {dup!r} twice")
    return out


def _depth(text: str) -> int:
    """Deepest nesting of ``[``/``{`` outside strings, without recursing."""
    bare = np.frombuffer(_STRING.sub("", text).encode(), dtype=np.uint8)
    opens = (bare == ord("[")) | (bare == ord("{"))
    closes = (bare == ord("]")) | (bare == ord("}"))
    where = np.flatnonzero(opens | closes)
    if where.size == 0:
        return 0
    steps = np.where(opens[where], 1, -1)
    return int(np.cumsum(steps).max())


def validate_closes(index_ms: Any, close: Any, *, what: str, positive: bool = True) -> pd.Series:
    """Closes on epoch-millisecond bar times, checked as fresh data is; DataError naming ``what``.

    ``positive=False`` accepts any finite value (funding rates are signed).
    """
    times = np.asarray(index_ms)
    values = np.asarray(close)
    if times.ndim != 1 or values.ndim != 1 or len(times) != len(values) or len(times) == 0:
        raise DataError(
            f"{what} must hold as many times as closes, at least one; got {len(times)} and {len(values)}."
        )
    if times.dtype.kind not in "iu" or not ((times >= _EPOCH_MS[0]) & (times < _EPOCH_MS[1])).all():
        raise DataError(f"{what} must have epoch-millisecond times between 1990 and 2100.")
    if values.dtype.kind not in "fiu" or not (np.isfinite(values) & ((values > 0) | (not positive))).all():
        raise DataError(f"{what} must have finite {'positive closes' if positive else 'values'}.")
    if not (np.diff(times) > 0).all():
        raise DataError(f"{what} must have strictly increasing times.")
    index = pd.DatetimeIndex(pd.to_datetime(times.astype(np.int64), unit="ms", utc=True), name="timestamp")
    return pd.Series(values.astype(np.float64), index=index)


def read_cache(
    path: Path, key: dict[str, str], *, positive: bool = True
) -> tuple[dict[str, Any], pd.Series] | None:
    """The metadata and closes (signed values with ``positive=False``) of a verified cache file, or ``None``.

    ``None`` when the file is absent, unreadable, over the limits, fails its checksum,
    was written for another source/symbol/interval or holds invalid closes.
    """
    try:
        doc = loads_untrusted(read_regular_file(path, MAX_CACHE_BYTES), what="cache file")
        payload = doc["payload"]
        if doc.get("version") != CACHE_VERSION or doc.get("sha256") != _checksum(payload):
            return None
        if any(payload.get(k) != v for k, v in key.items()):
            return None
        series = validate_closes(payload["index"], payload["close"], what="cache file", positive=positive)
        meta = {k: payload[k] for k in ("start", "end", "fetched_at")}
        if not isinstance(meta["fetched_at"], int) or not all(
            v is None or isinstance(v, int) for v in meta.values()
        ):
            return None
    except (OSError, DataError, KeyError, TypeError, AttributeError, OverflowError):
        return None
    return meta, series


def _ms(ts: pd.Timestamp | None) -> int | None:
    return None if ts is None else int(ts.value // 10**6)


def write_cache(
    path: Path,
    key: dict[str, str],
    series: pd.Series,
    *,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    fetched_at: pd.Timestamp,
) -> None:
    """Store ``series`` for ``key`` with the span it was fetched for, atomically."""
    body = {
        **key,
        "start": _ms(start),
        "end": _ms(end),
        "fetched_at": _ms(fetched_at),
        "index": series.index.as_unit("ms").asi8.tolist(),
        "close": series.to_numpy(dtype=np.float64).tolist(),
    }
    doc = {"version": CACHE_VERSION, "sha256": _checksum(body), "payload": body}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, json.dumps(doc))
    except OSError as exc:  # a read-only folder, a file where a folder must be, a full disk
        raise DataError(
            f"cache_dir must be a writable folder; got {str(path.parent)!r} ({exc.strerror or exc})."
        ) from exc


def usable(
    meta: dict[str, Any],
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    *,
    now: pd.Timestamp,
    max_age: pd.Timedelta,
) -> bool:
    """Whether a cached span answers a request for ``[start, end)`` at time ``now``.

    A request ending at or before the cached fetch time is answered by any cached span
    covering it. A request ending after the fetch time but before ``now`` is not: bars that
    closed after the fetch are missing from the cache. A request running up to now
    (``end=None``, or in the future) needs a span that ran up to its fetch time and was
    fetched at most ``max_age`` ago.
    """
    have_start, have_end, fetched = meta["start"], meta["end"], meta["fetched_at"]
    want_start, want_end = _ms(start), _ms(end)
    if want_start is None:
        if have_start is not None:
            return False
    elif have_start is not None and have_start > want_start:
        return False
    if want_end is not None and want_end <= fetched:
        return have_end is None or have_end >= want_end
    if want_end is not None and want_end <= now.value // 10**6:
        return False
    if have_end is not None and have_end < fetched:
        return False
    return _ms(now) - fetched <= max_age.value // 10**6
