"""Framing of bar streams on stdin: complete lines only, explicit header rule, strict fields.

Reusable by every command that reads records from a pipe (``pairs signal --follow``, the
book's follow command). The rules, documented in docs/cli.md:

* A record is a line ending with ``\\n`` (``\\r\\n`` too), UTF-8, at most
  :data:`MAX_LINE_BYTES` bytes. A final line without its newline is a partial write: it is
  never applied; it is reported (:class:`~pairs.exceptions.DataError`, exit code 2).
* Blank lines are skipped.
* CSV ``timestamp,y,x``: exactly three fields. The timestamp is empty, an integer (a
  sequence number or an epoch; at most 64 bits), a decimal number, or an ISO 8601 date or
  time; prices are decimal numbers (``1e-3`` allowed; no ``nan``, ``inf``, ``_``).
* JSON object ``{"timestamp": ..., "y": ..., "x": ...}``: only those keys (``timestamp``
  optional), parsed as untrusted input (size, nesting and number-range limits).
* Fill ``{"fill": {"symbol": ..., "quantity": ..., "price": ..., "fee": ..., "timestamp":
  ..., "fill_id": ...}}`` (``fee``, ``timestamp``, ``fill_id`` optional): a fill of one leg
  (the fills channel of ``pairs signal --follow``), in the same stream as the bars.
* Header: with ``header="auto"`` the first non-blank line is a header if and only if it is
  a CSV line of three fields that each begin with a letter (``timestamp,eth,btc``); any other
  first line is data, so a first bar with a typo is an error, never dropped as a header.
  ``header=True`` (``--header``) skips the first non-blank line (three CSV fields required);
  ``header=False`` (``--no-header``) treats it as data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from pairs.data._cache import loads_untrusted
from pairs.exceptions import DataError

__all__ = [
    "MAX_LINE_BYTES",
    "Bar",
    "Fill",
    "bars",
    "is_fill",
    "is_header",
    "parse_bar",
    "parse_fill",
    "records",
]

MAX_LINE_BYTES = 65_536
# ASCII digits only (re.ASCII): without it \d, like float(), also takes the digits of other scripts.
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_INTEGER = re.compile(r"[+-]?\d{1,19}", re.ASCII)
_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?", re.ASCII
)
_KEYS = ("timestamp", "y", "x")
_FILL = re.compile(r'\{\s*"fill"\s*:')
_FILL_KEYS = ("symbol", "quantity", "price", "fee", "timestamp", "fill_id", "pair")


@dataclass(frozen=True)
class Bar:
    """One input record: ``timestamp`` (None, int, float or ISO string), prices ``y`` and ``x``."""

    timestamp: Any
    y: Any
    x: Any


@dataclass(frozen=True)
class Fill:
    """A fill record ``{"fill": {...}}`` of the fills channel (see :meth:`pairs.StreamEngine.fill`)."""

    symbol: str
    quantity: float
    price: float
    fee: float
    timestamp: Any
    fill_id: Any
    pair: str | None = None

    def values(self) -> list[Any]:
        """The fill's fields as JSON data: what a re-sent fill must repeat."""
        return [self.symbol, self.quantity, self.price, self.fee, self.timestamp, self.fill_id, self.pair]


def is_fill(text: str) -> bool:
    """True for a record of the fills channel: a JSON object whose first key is ``"fill"``."""
    return _FILL.match(text) is not None


def parse_fill(text: str) -> Fill:
    """``{"fill": {"symbol", "quantity", "price"[, "fee", "timestamp", "fill_id", "pair"]}}`` as a :class:`Fill`.

    ``pair`` (``"Y/X"``) names the pair of a book the fill belongs to (``--book`` only).
    """
    record = loads_untrusted(text, what="fill", max_bytes=MAX_LINE_BYTES, max_depth=2)
    body = record.get("fill") if isinstance(record, dict) and set(record) == {"fill"} else None
    if not isinstance(body, dict) or not {"symbol", "quantity", "price"} <= set(body) <= set(_FILL_KEYS):
        got = sorted(body) if isinstance(body, dict) else type(body).__name__
        raise DataError(
            "fill must be a JSON object {\"fill\": {...}} with keys 'symbol', 'quantity', 'price' (and "
            f"'fee', 'timestamp', 'fill_id'); got {got!r}."
        )
    if not isinstance(body["symbol"], str):
        raise DataError(f"symbol must be a string; got {_short(repr(body['symbol']))}.")
    numbers = {}
    for name in ("quantity", "price", "fee"):
        value = body.get(name, 0.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise DataError(f"{name} must be a number; got {_short(repr(value))}.")
        numbers[name] = float(value)
    ts = body.get("timestamp")
    if ts is not None and (isinstance(ts, bool) or not isinstance(ts, (int, float, str))):
        raise DataError(f"timestamp must be null, a number or an ISO 8601 string; got {_short(repr(ts))}.")
    fill_id = body.get("fill_id")
    if fill_id is not None and type(fill_id) not in (str, int):
        raise DataError(f"fill_id must be a string or an integer; got {_short(repr(fill_id))}.")
    pair = body.get("pair")
    if pair is not None and not isinstance(pair, str):
        raise DataError(f"pair must be a string 'Y/X'; got {_short(repr(pair))}.")
    return Fill(body["symbol"], numbers["quantity"], numbers["price"], numbers["fee"], ts, fill_id, pair)


def _short(text: str | bytes) -> str:
    return repr(text[:60]) + ("..." if len(text) > 60 else "")


def records(stream: IO[Any], *, what: str = "stdin") -> Iterator[tuple[int, str]]:
    """``(line_number, text)`` of each complete, non-blank line of ``stream`` (binary or text).

    Raises :class:`~pairs.exceptions.DataError` naming the line for a final line without a
    newline, a line over :data:`MAX_LINE_BYTES`, or bytes that are not UTF-8. Lines are read
    one at a time, so a record is handled as soon as its newline arrives (lockstep bots).
    """
    source = getattr(stream, "buffer", stream)
    number = 0
    while True:
        raw = source.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        newline = "\n" if isinstance(raw, str) else b"\n"
        if not raw.endswith(newline):
            if len(raw) > MAX_LINE_BYTES:
                raise DataError(
                    f"{what} line {number} must be at most {MAX_LINE_BYTES} bytes; got a longer line."
                )
            raise DataError(
                f"{what} line {number} must end with a newline; got a final partial line {_short(raw)} "
                "(not applied: a record counts only once its newline arrives)."
            )
        if isinstance(raw, bytes):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise DataError(f"{what} line {number} must be UTF-8 text; got {_short(raw)}.") from None
        else:
            text = raw
        text = text.strip()
        if text:
            yield number, text


def is_header(text: str) -> bool:
    """The documented header rule: three CSV fields that each begin with a letter."""
    if text.startswith("{"):
        return False
    fields = [f.strip() for f in text.split(",")]
    return len(fields) == 3 and all(f[:1].isalpha() for f in fields)


def _timestamp(field: str) -> Any:
    if not field:
        return None
    if _INTEGER.fullmatch(field):
        return int(field)
    if _NUMBER.fullmatch(field) and len(field) <= 64:
        return float(field)
    if _ISO.fullmatch(field):
        return field
    raise DataError(
        f"timestamp must be empty, an integer, a number or an ISO 8601 date/time; got {_short(field)}."
    )


def _price(name: str, field: str) -> float:
    if len(field) > 64 or not _NUMBER.fullmatch(field):
        raise DataError(f"{name} must be a decimal number; got {_short(field)}.")
    return float(field)


def parse_bar(text: str) -> Bar | Fill:
    """One record (CSV or JSON, see the module rules) as a :class:`Bar`, or a :class:`Fill`."""
    if _FILL.match(text):
        return parse_fill(text)
    if text.startswith("{"):
        bar = loads_untrusted(text, what="bar", max_bytes=MAX_LINE_BYTES, max_depth=1)
        if not isinstance(bar, dict) or "y" not in bar or "x" not in bar or not set(bar) <= set(_KEYS):
            got = sorted(bar) if isinstance(bar, dict) else type(bar).__name__
            raise DataError(
                f"bar must be a JSON object with keys 'y' and 'x' (and 'timestamp'); got {got!r}."
            )
        ts = bar.get("timestamp")
        if isinstance(ts, str):
            if not _ISO.fullmatch(ts.strip()):
                raise DataError(f"timestamp must be an ISO 8601 date/time; got {_short(ts)}.")
        elif ts is not None and (isinstance(ts, bool) or not isinstance(ts, (int, float))):
            raise DataError(
                f"timestamp must be null, a number or an ISO 8601 string; got {_short(repr(ts))}."
            )
        for name in ("y", "x"):
            if isinstance(bar[name], bool) or not isinstance(bar[name], (int, float)):
                raise DataError(f"{name} must be a number; got {_short(repr(bar[name]))}.")
        return Bar(ts, float(bar["y"]), float(bar["x"]))
    fields = [f.strip() for f in text.split(",")]
    if len(fields) != 3:
        raise DataError(
            f"bar must be a CSV line 'timestamp,y,x'; got {len(fields)} field(s) in {_short(text)}."
        )
    return Bar(_timestamp(fields[0]), _price("y", fields[1]), _price("x", fields[2]))


def bars(
    stream: IO[Any], *, header: bool | None = None, what: str = "stdin"
) -> Iterator[tuple[int, Bar | Fill]]:
    """``(line_number, Bar or Fill)`` for each record; ``header``: None (the rule), True or False.

    A :class:`~pairs.exceptions.DataError` is prefixed with ``"<what> line N: "``.
    """
    first = True
    for number, text in records(stream, what=what):
        try:
            if first:
                first = False
                if header is True:
                    if text.startswith("{") or len(text.split(",")) != 3:
                        raise DataError(
                            f"header must be a CSV line of 3 fields (--header); got {_short(text)}."
                        )
                    continue
                if header is None and is_header(text):
                    continue
            bar = parse_bar(text)
        except DataError as exc:
            raise DataError(f"{what} line {number}: {exc}") from None
        yield number, bar
