"""``pairs signal --follow --book BOOK.json``: wide bars of a universe in, one JSON line per bar out.

BOOK.json is a :class:`~pairs.StreamBook` state file. The first run creates it from
``--pairs Y/X,...`` and the strategy options (``--strategy FILE`` and flags); later runs
resume from it (``--pairs`` and strategy options may then be omitted, and must match if
given). Framing reuses :func:`pairs.cli._framing.records` (complete lines only) and its field
rules; the single writer and exactly-once delivery are :class:`pairs.stream._delivery.Outbox`
with the book as the state proper. The contract is in docs/cli.md ("Many pairs: --book").
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from pairs.cli._framing import MAX_LINE_BYTES, Fill, _price, _timestamp, is_fill, parse_fill, records
from pairs.cli._options import explicit_flags, strategy_from_args
from pairs.data._cache import loads_untrusted
from pairs.exceptions import DataError, PairsError, StateError
from pairs.stream import StreamBook
from pairs.stream._book import BookSignals
from pairs.stream._delivery import Outbox
from pairs.stream._signal import _stamp_json, body_json
from pairs.stream._time import instant_id
from pairs.stream._time import instant_ids as _ids

__all__ = ["follow_book", "follow_wide", "parse_pairs", "wide_bars"]

WHAT = "StreamBook state"


def parse_pairs(text: str) -> list[tuple[str, str]]:
    """``--pairs ETH/BTC,LTC/BTC`` as ``[("ETH", "BTC"), ("LTC", "BTC")]`` (split at the last ``/``)."""
    out = []
    for item in text.split(","):
        y, sep, x = item.strip().rpartition("/")
        if not sep or not y or not x:
            raise PairsError(f"--pairs must be a comma-separated list of Y/X pairs; got {item.strip()!r}.")
        out.append((y, x))
    return out


def _json_bar(text: str) -> tuple[Any, dict[str, float | None]]:
    bar = loads_untrusted(text, what="bar", max_bytes=MAX_LINE_BYTES, max_depth=2)
    if not isinstance(bar, dict) or "prices" not in bar or not set(bar) <= {"timestamp", "prices"}:
        got = sorted(bar) if isinstance(bar, dict) else type(bar).__name__
        raise DataError(f"bar must be a JSON object with keys 'prices' (and 'timestamp'); got {got!r}.")
    ts, prices = bar.get("timestamp"), bar["prices"]
    if isinstance(ts, str):
        ts = _timestamp(ts.strip())
    elif ts is not None and (isinstance(ts, bool) or not isinstance(ts, (int, float))):
        raise DataError(f"timestamp must be null, a number or an ISO 8601 string; got {ts!r:.60}.")
    if not isinstance(prices, dict):
        raise DataError(f"prices must be a JSON object symbol -> price; got {type(prices).__name__}.")
    for symbol, value in prices.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise DataError(f"prices[{symbol!r}] must be a number or null; got {value!r:.60}.")
    return ts, {k: None if v is None else float(v) for k, v in prices.items()}


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def wide_bars(
    stream: IO[Any], *, what: str = "stdin", required: Iterable[str] = ()
) -> Iterator[tuple[int, Any, dict[str, float | None] | Fill]]:
    """``(line_number, timestamp, prices)`` of each record: wide CSV with a header, or JSON lines.

    A fill ``{"fill": {..., "pair": "Y/X"}}`` (:func:`pairs.cli._framing.parse_fill`) may come
    between bars in either format: it is yielded as ``(line_number, None, Fill)``.

    CSV: the first line is the header ``timestamp,SYM1,SYM2,...`` (any symbol an exchange lists,
    ``1INCH`` included; a field that reads as a number means the header is missing), which must
    name every symbol of ``required``; each row has as many fields; an empty price field is a
    missing price. JSON: ``{"timestamp": ..., "prices": {"SYM": price or null, ...}}`` per line
    (the format is chosen by the first line).
    """
    symbols: list[str] | None = None
    mode = None
    for number, text in records(stream, what=what):
        if is_fill(text):
            try:
                fill = parse_fill(text)
            except DataError as exc:
                raise DataError(f"{what} line {number}: {exc}") from None
            yield number, None, fill
            continue
        try:
            if mode is None:
                mode = "json" if text.startswith("{") else "csv"
                if mode == "csv":
                    fields = [f.strip() for f in text.split(",")]
                    if len(fields) < 2 or not all(f and not _is_number(f) for f in fields):
                        raise DataError(
                            f"header must be 'timestamp,SYM1,SYM2,...' (names, not numbers); got {text[:60]!r}."
                        )
                    if len(set(fields[1:])) != len(fields) - 1:
                        raise DataError(f"header must name each symbol once; got {text[:60]!r}.")
                    symbols = fields[1:]
                    missing = sorted(set(required) - set(symbols))
                    if missing:
                        raise DataError(
                            f"header must name every symbol of the book's pairs; got no column for {missing} "
                            f"(symbols are case-sensitive and must match exactly; header {text[:60]!r})."
                        )
                    continue
            if mode == "json":
                if not text.startswith("{"):
                    raise DataError(f"bar must be a JSON object like the first line; got {text[:60]!r}.")
                ts, prices = _json_bar(text)
            else:
                assert symbols is not None
                fields = [f.strip() for f in text.split(",")]
                if len(fields) != len(symbols) + 1:
                    raise DataError(
                        f"bar must have {len(symbols) + 1} fields like the header; got {len(fields)}."
                    )
                ts = _timestamp(fields[0])
                prices = {
                    s: (_price(f"prices[{s!r}]", f) if f else None)
                    for s, f in zip(symbols, fields[1:], strict=True)
                }
        except DataError as exc:
            raise DataError(f"{what} line {number}: {exc}") from None
        yield number, ts, prices


def _book(args: argparse.Namespace, outbox: Outbox) -> StreamBook:
    """The book saved in BOOK.json, or a new one from ``--pairs`` and the strategy options."""
    wanted = parse_pairs(args.pairs) if args.pairs else None
    saved = outbox.read()
    if saved is None:
        if wanted is None:
            raise PairsError(
                f"--pairs must be given to create the book {str(outbox.path)!r} (e.g. --pairs ETH/BTC,LTC/BTC)."
            )
        return StreamBook(wanted, strategy=strategy_from_args(args))
    book = StreamBook.from_state(saved)
    differ = []
    if wanted is not None and sorted(wanted) != sorted(book.pairs):
        differ.append("pairs")
    if (getattr(args, "strategy", None) or explicit_flags(args)) and strategy_from_args(
        args
    ) != book.strategy:
        differ.append("strategy")
    if differ:
        raise StateError(
            f"options must match the book {str(outbox.path)!r} being resumed; got different {differ} "
            "(pass the same options as the first run, or none)."
        )
    delivery = outbox.delivery
    last = None if delivery is None else delivery["input"]["id"]
    if isinstance(last, dict) and set(last) == {"fill", "pair"}:
        held = book._holdings.get(last["pair"])
        if held is None or last["fill"] not in held.seen:
            raise StateError(
                f"state file {str(outbox.path)!r} must hold the fill of its delivery record; got fill "
                f"{last['fill']!r} of {last['pair']!r}, which the book has not applied."
            )
    elif delivery is not None and last not in _ids(book.last_timestamp):
        raise StateError(
            f"state file {str(outbox.path)!r} must hold the delivery of its last bar; got one for "
            f"{delivery['input']['id']!r} after bar {book.last_timestamp!r}."
        )
    return book


def bar_line(signals: BookSignals, *, every: bool) -> str:
    """The JSON line of one bar: its timestamp and the signals of the pairs that act (all with ``every``).

    Each pair's object is its :meth:`~pairs.Signal.to_json` without the timestamp; the line is
    the text ``json.dumps`` writes for the same data.
    """
    names = list(signals) if every else signals.active()
    body = ", ".join(f"{json.dumps(name)}: {body_json(signals[name], '{')}" for name in names)
    return f'{{"timestamp": {_stamp_json(signals.timestamp)}, "signals": {{{body}}}}}'


def _fill(book: StreamBook, fill: Fill, outbox: Outbox) -> str:
    """Apply one fill to its pair and return its answer line, exactly once (as a bar)."""
    if fill.fill_id is None:
        raise DataError(
            "fill_id must be given with --book (the exchange's id of the fill), so that a re-sent fill is "
            "not applied twice; got a fill without one."
        )
    pair = fill.pair
    if pair is None:
        owners = [f"{y}/{x}" for y, x in book.pairs if fill.symbol in (y, x)]
        pair = owners[0] if len(owners) == 1 else None
        if pair is None:
            raise DataError(
                f"pair must be given for a fill of {fill.symbol!r}, which {len(owners)} pairs of the book "
                "trade (fills are attributed per pair); got none."
            )
    ident = {"fill": fill.fill_id, "pair": pair}
    values = [*fill.values()[:-1], pair]

    def advance() -> tuple[Any, str]:
        applied = book.fill(
            pair,
            fill.symbol,
            fill.quantity,
            fill.price,
            fee=fill.fee,
            timestamp=fill.timestamp,
            fill_id=fill.fill_id,
        )
        pnl = book.pnl(pair)
        line = json.dumps(
            {
                "fill": {"fill_id": fill.fill_id, "pair": pair, "symbol": fill.symbol, "applied": applied},
                "holdings": book.holdings(pair),
                "pnl": pnl if math.isfinite(pnl) else None,
                "orders": [o.to_dict() for o in book.orders(pair)],
            }
        )
        return book.snapshot(outbox.path), line

    return outbox.deliver(ident, values, advance)


def _emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def follow_wide(
    outbox: Outbox,
    symbols: Iterable[str],
    option: str,
    stamps: str,
    bar: Callable[[dict[str, float | None], Any], tuple[Any, str]],
    fill: Callable[[Fill], str],
    emit: Callable[[str], None] = _emit,
) -> None:
    """The loop of ``--book`` and ``--portfolio``: wide bars (and fill lines) from stdin, each answered
    by one line delivered exactly once through ``outbox``.

    ``bar(prices, ts)`` applies a bar and returns ``(state, line)``; ``fill(fill)`` applies a fill
    line and returns its answer (delivered by itself); ``stamps`` says which timestamps ``option``
    takes, for the error of a bar without one; a ``PairsError`` names the stdin line.
    """
    for number, ts, prices in wide_bars(sys.stdin, required=symbols):
        try:
            if isinstance(prices, Fill):
                emit(fill(prices))
                continue
            if ts is None:
                raise DataError(
                    f"timestamp must be given with {option} ({stamps}), so that a re-sent bar is recognised; "
                    "got a bar without one."
                )
            emit(outbox.deliver(instant_id(ts), prices, lambda prices=prices, ts=ts: bar(prices, ts)))
        except PairsError as exc:
            raise type(exc)(f"stdin line {number}: {exc}") from None


def follow_book(args: argparse.Namespace) -> int:
    """Read wide bars from stdin; for each, save BOOK.json with its line, then write the line."""
    if not args.follow:
        raise PairsError("--book must be used with --follow (it reads bars from stdin).")
    if args.y is not None or args.output or args.state:
        raise PairsError(
            "--book reads bars from stdin and is its own state; got price sources, --output or --state."
        )
    outbox = Outbox(args.book, what=WHAT, body="book")
    try:
        book = _book(args, outbox)

        def bar(prices: dict[str, float | None], ts: Any) -> tuple[Any, str]:
            line = bar_line(book.update(prices, ts), every=args.all)
            return book.snapshot(outbox.path), line

        follow_wide(
            outbox,
            book.symbols,
            "--book",
            "an ISO 8601 time, an epoch or a sequence number",
            bar,
            lambda fill: _fill(book, fill, outbox),
        )
    finally:
        outbox.close()
    return 0
