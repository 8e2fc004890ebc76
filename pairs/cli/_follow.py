"""``pairs signal --follow``: bars on stdin, one JSON signal per line on stdout, state in ``--state``.

Fills come back on the same stdin as ``{"fill": {...}}`` lines (:mod:`pairs.cli._framing`): each
is applied with :meth:`pairs.StreamEngine.fill` and acknowledged by one line ``{"fill": {"fill_id",
"symbol", "applied"}, "holdings", "pnl", "orders"}``; with ``--state`` a fill needs its
``fill_id`` and is delivered exactly once like a bar (a re-sent last fill re-emits its line, an
older one is acknowledged with ``"applied": false``).

Framing (complete lines, header rule, strict fields) is :mod:`pairs.cli._framing`; the state
file's single writer and exactly-once delivery are :class:`pairs.stream._delivery.Outbox`.
With ``--state`` every signal is saved, with the state that produced it, before it is
written; a re-sent last bar re-emits the stored signal. The contract is in docs/cli.md.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import IO, Any

import pandas as pd

from pairs.cli._framing import Bar, Fill, bars
from pairs.cli._options import explicit_flags, strategy_from_args
from pairs.exceptions import DataError, PairsError, StateError
from pairs.stream import StreamEngine
from pairs.stream._delivery import Outbox
from pairs.stream._time import instant_id
from pairs.stream._time import instant_ids as _ids

__all__ = ["follow", "parse_max_gap"]

WHAT = "StreamEngine state"


def parse_max_gap(text: str) -> Any:
    """``--max-gap``: a number (numeric timestamps) or a duration such as ``2D`` or ``36h``."""
    try:
        value = float(text)
    except ValueError:
        try:
            return pd.Timedelta(text)
        except (ValueError, TypeError, OverflowError):
            raise argparse.ArgumentTypeError(
                f"must be a duration such as 2D or 36h, or a number; got {text!r}"
            ) from None
    return int(value) if value.is_integer() and abs(value) < 2**63 else value


def _engine(args: argparse.Namespace, outbox: Outbox | None) -> StreamEngine:
    """A fresh engine, or the one saved in ``--state`` (resume); explicit options must match it."""
    symbols = getattr(args, "symbols", None)
    gap: dict[str, Any] = {
        "max_gap": getattr(args, "max_gap", None),
        "on_gap": getattr(args, "on_gap", None) or "raise",
        "symbols": tuple(symbols) if symbols else None,
    }
    saved = None if outbox is None else outbox.read()
    if saved is None:
        return StreamEngine(strategy_from_args(args), **gap)
    engine = StreamEngine.from_state(saved)
    if outbox is not None and outbox.delivery is not None:
        last = outbox.delivery["input"]["id"]
        if isinstance(last, dict) and set(last) == {"fill"}:
            if last["fill"] not in engine._legs.seen:
                raise StateError(
                    f"state file {str(outbox.path)!r} must hold the fill of its delivery record; got fill "
                    f"{last['fill']!r}, which the state has not applied."
                )
        elif last not in _ids(engine.last_timestamp):
            raise StateError(
                f"state file {str(outbox.path)!r} must hold the delivery of its last bar; got one for "
                f"{outbox.delivery['input']['id']!r} after bar {engine.last_timestamp!r}."
            )
    differ = []
    if getattr(args, "strategy", None) or explicit_flags(args):
        had = engine.strategy.to_dict()
        wanted = strategy_from_args(args).to_dict()
        differ = sorted(k for k in had if had[k] != wanted[k])
    if getattr(args, "max_gap", None) is not None and args.max_gap != engine.max_gap:
        differ.append("max_gap")
    if getattr(args, "on_gap", None) is not None and args.on_gap != engine.on_gap:
        differ.append("on_gap")
    if symbols and tuple(symbols) != engine.symbols:
        differ.append("symbols")
    if differ:
        raise StateError(
            f"options must match the state file {str(outbox.path)!r} being resumed; got different {differ} "  # type: ignore[union-attr]
            "(pass the same options as the first run, or none)."
        )
    return engine


def _emit(out: IO[str], line: str) -> None:
    out.write(line + "\n")
    out.flush()


def _answer(engine: StreamEngine, bar: Bar, outbox: Outbox | None, out: IO[str]) -> None:
    """Apply one bar and write its signal; with a state file, commit first (or replay)."""
    if outbox is None:
        signal = engine.update(bar.y, bar.x, bar.timestamp)
        _emit(out, signal.to_json())
        return
    if bar.timestamp is None:
        raise DataError(
            "timestamp must be given with --state (an ISO 8601 time, an epoch or a sequence number), "
            "so that a re-sent bar is recognised; got a bar without one."
        )
    ident = instant_id(bar.timestamp)
    values = [bar.y, bar.x]
    stored = outbox.replayed(ident, values)
    if stored is not None:
        _emit(out, stored)
        return
    signal = engine.update(bar.y, bar.x, bar.timestamp)
    line = signal.to_json()
    # Durable before it is written: a crash in between re-emits it when the bar is re-sent.
    outbox.commit(engine.state_dict(), ident, values, line)
    _emit(out, line)


def _fill(engine: StreamEngine, fill: Fill, outbox: Outbox | None, out: IO[str]) -> None:
    """Apply one fill and write its acknowledgement; with a state file, exactly once as a bar."""
    if fill.pair is not None:
        raise DataError(f"pair must only be given with --book; got {fill.pair!r} for one pair.")
    if outbox is not None:
        if fill.fill_id is None:
            raise DataError(
                "fill_id must be given with --state (the exchange's id of the fill), so that a re-sent "
                "fill is not applied twice; got a fill without one."
            )
        stored = outbox.replayed({"fill": fill.fill_id}, fill.values())
        if stored is not None:
            _emit(out, stored)
            return
    applied = engine.fill(
        fill.symbol, fill.quantity, fill.price, fee=fill.fee, timestamp=fill.timestamp, fill_id=fill.fill_id
    )
    pnl = engine.pnl
    line = json.dumps(
        {
            "fill": {"fill_id": fill.fill_id, "symbol": fill.symbol, "applied": applied},
            "holdings": engine.holdings,
            "pnl": pnl if math.isfinite(pnl) else None,
            "orders": [o.to_dict() for o in engine.orders()] if engine.strategy.capital is not None else None,
        }
    )
    if outbox is not None:
        outbox.commit(engine.state_dict(), {"fill": fill.fill_id}, fill.values(), line)
    _emit(out, line)


def follow(args: argparse.Namespace) -> int:
    """Read bars from stdin, write one JSON signal per line, flushed; save ``--state`` before each."""
    if args.y is not None or args.output:
        raise PairsError("--follow reads bars from stdin; got price sources or --output as well.")
    outbox = Outbox(args.state, what=WHAT) if args.state else None
    try:
        engine = _engine(args, outbox)
        for number, record in bars(sys.stdin, header=getattr(args, "header", None)):
            try:
                if isinstance(record, Fill):
                    _fill(engine, record, outbox, sys.stdout)
                else:
                    _answer(engine, record, outbox, sys.stdout)
            except PairsError as exc:
                raise type(exc)(f"stdin line {number}: {exc}") from None
    finally:
        if outbox is not None:
            outbox.close()
    return 0
