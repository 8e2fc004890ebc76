"""Bar timestamps of the streaming engine and book: parsing, the strictly-increasing rule, JSON form."""

from __future__ import annotations

import datetime as dt
import math
import numbers
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from pairs.exceptions import DataError, StateError
from pairs.stream._state import check_keys

__all__ = ["Stamp", "instant_id", "instant_ids", "next_timestamp"]

Stamp: TypeAlias = "pd.Timestamp | int | float | None"
_INT_LIMIT = 2**63


_CLOCK_WORDS = frozenset({"now", "today"})


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"


def _as_timestamp(value: Any) -> pd.Timestamp | int | float:
    if isinstance(value, bool):
        raise DataError(f"timestamp must be a datetime, an ISO string or a number; got {value!r}.")
    if isinstance(value, numbers.Integral):
        value = int(value)
        if not -_INT_LIMIT <= value < _INT_LIMIT:
            raise DataError(f"timestamp must be an integer within 64 bits; got {_short(value)}.")
        return value
    if isinstance(value, numbers.Real):
        if not math.isfinite(value):
            raise DataError(f"timestamp must be finite; got {value!r}.")
        return float(value)
    if isinstance(value, (str, dt.date, np.datetime64)):
        if isinstance(value, str) and value.strip().lower() in _CLOCK_WORDS:
            # pandas reads these as the wall clock, which is not the time of a bar.
            raise DataError(f"timestamp must be the bar's own time, not the clock; got {value!r}.")
        try:
            ts = pd.Timestamp(value)
        except (TypeError, ValueError) as exc:
            raise DataError(f"timestamp must be a parseable date or time; got {value!r} ({exc}).") from None
        if pd.isna(ts):
            raise DataError(f"timestamp must not be NaT; got {value!r}.")
        return ts
    raise DataError(f"timestamp must be a datetime, an ISO string or a number; got {value!r}.")


def next_timestamp(value: Any, last: Stamp, what: str) -> Stamp:
    """``value`` as a bar timestamp after ``last``: optional, but once given always given, strictly
    increasing (the rule of :class:`StreamEngine` and :class:`~pairs.StreamBook`); ``what`` names a bar
    in messages ("update", "bar")."""
    if value is None:
        if last is not None:
            raise StateError(
                f"timestamp must be given after {what}s with timestamps (last {last!r}); got None."
            )
        return None
    ts = value if type(value) is pd.Timestamp else _as_timestamp(value)
    if last is not None:
        try:
            later = ts > last
        except TypeError:
            raise DataError(
                f"timestamp must be comparable with the previous one ({last!r}); got {value!r}."
            ) from None
        if not later:
            kind = "a duplicate of" if ts == last else "earlier than"
            raise StateError(
                f"timestamp must be after the previous {what} ({last!r}); got {kind} it: {value!r}."
            )
    return ts


def _encode_timestamp(ts: Stamp) -> Any:
    return {"timestamp": ts.isoformat()} if isinstance(ts, pd.Timestamp) else ts


def _decode_timestamp(value: Any) -> Stamp:
    where = "state['state']['last_timestamp']"
    if value is None:
        return None
    if isinstance(value, dict):
        check_keys(value, ("timestamp",), where)
        value = value["timestamp"]
        if not isinstance(value, str):
            raise StateError(f"{where} must hold an ISO timestamp string; got {value!r}.")
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        raise StateError(f"{where} must be null, a number or a dict; got {value!r}.")
    try:
        return _as_timestamp(value)
    except DataError as exc:
        raise StateError(f"{where} must be a valid timestamp; got: {exc}") from None


def instant_id(value: Any) -> Any:
    """The JSON identity of a bar's time: one value per instant, whatever UTC offset it is written with.

    A tz-aware timestamp is converted to UTC (``2024-01-01T01:00:00+01:00`` and
    ``2024-01-01T00:00:00Z`` are one instant); naive ones and numbers are taken as they are.
    """
    ts = value if value is None else _as_timestamp(value)
    if isinstance(ts, pd.Timestamp) and ts.tzinfo is not None:
        ts = ts.tz_convert("UTC")
    return _encode_timestamp(ts)


def instant_ids(value: Any) -> tuple[Any, Any]:
    """The identities a delivery record of this bar may hold: :func:`instant_id`, and the time as
    written (the form of state files written before identities were taken in UTC)."""
    return instant_id(value), _encode_timestamp(value)
