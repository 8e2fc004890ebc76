"""``pairs signal --follow``: bars on stdin, one JSON signal per line on stdout, state in ``--state``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pairs.cli._options import explicit_flags, strategy_from_args
from pairs.exceptions import DataError, PairsError, StateError
from pairs.stream import Signal, StreamEngine

__all__ = ["follow"]


def _parse_bar(text: str, first: bool) -> tuple[Any, float, float] | None:
    """``(timestamp, y, x)`` of one input line; None for a CSV header on the first line."""
    if text.startswith("{"):
        try:
            bar = json.loads(text)
        except ValueError as exc:
            raise DataError(f"bar must be valid JSON; got {text[:60]!r} ({exc}).") from None
        if not isinstance(bar, dict) or "y" not in bar or "x" not in bar:
            raise DataError(f"bar must be a JSON object with keys 'y' and 'x'; got {text[:60]!r}.")
        return bar.get("timestamp"), bar["y"], bar["x"]
    fields = [f.strip() for f in text.split(",")]
    if len(fields) != 3:
        raise DataError(
            f"bar must be a CSV line 'timestamp,y,x'; got {len(fields)} field(s) in {text[:60]!r}."
        )
    try:
        y, x = float(fields[1]), float(fields[2])
    except ValueError:
        if first:
            return None
        raise DataError(f"bar must have numeric y and x; got {text[:60]!r}.") from None
    return _timestamp(fields[0]), y, x


def _timestamp(field: str) -> Any:
    if not field:
        return None
    for kind in (int, float):
        try:
            return kind(field)
        except ValueError:
            pass
    return field


def _engine(args: argparse.Namespace) -> StreamEngine:
    """A fresh engine, or the one saved in ``--state`` (resume); explicit options must match it."""
    state = Path(args.state) if args.state else None
    if state is None or not state.exists():
        return strategy_from_args(args).stream()
    engine = StreamEngine.load(state)
    if getattr(args, "strategy", None) or explicit_flags(args):
        saved = engine.strategy.to_dict()
        wanted = strategy_from_args(args).to_dict()
        differ = sorted(k for k in saved if saved[k] != wanted[k])
        if differ:
            raise StateError(
                f"options must match the state file {str(state)!r} being resumed; got different {differ} "
                "(pass the same options as the first run, or none)."
            )
    return engine


def follow(args: argparse.Namespace) -> int:
    """Read bars from stdin, write one JSON signal per line, flushed; save ``--state`` after each."""
    if args.y is not None or args.output:
        raise PairsError("--follow reads bars from stdin; got price sources or --output as well.")
    engine = _engine(args)
    state = Path(args.state) if args.state else None
    out = sys.stdout
    first = True
    for number, line in enumerate(sys.stdin, start=1):
        text = line.strip()
        if not text:
            continue
        try:
            bar = _parse_bar(text, first)
            first = False
            if bar is None:
                continue
            signal: Signal = engine.update(bar[1], bar[2], bar[0])
        except PairsError as exc:
            raise type(exc)(f"stdin line {number}: {exc}") from None
        # Saved before the signal is written: a reader never acts on a bar the state lacks.
        if state is not None:
            engine.save(state)
        out.write(json.dumps(signal.to_dict()) + "\n")
        out.flush()
    return 0
