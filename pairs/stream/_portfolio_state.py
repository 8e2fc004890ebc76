"""The live portfolio's state as JSON-safe data: written by :meth:`PortfolioStream.state_dict`, read back
exactly by :meth:`PortfolioStream.from_state` (versions 1 and 2 of earlier code included)."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pairs.evaluation._book_account import dot
from pairs.exceptions import StateError
from pairs.stream._engine import StreamEngine
from pairs.stream._legs import Legs

__all__ = ["FORMAT", "VERSION", "Pair", "check_state", "encode_state", "restore_state"]

FORMAT = "pairs.PortfolioStream"
# 2: holdings from fills ("fills"); a version-1 state loads holding its targets.
# 3: the account of the fill model (margin, pending orders of a fill lag); 1 and 2 still load.
VERSION = 3


@dataclass
class Pair:
    """One pair in the book: its engine, its sizing state and its capital."""

    y: str
    x: str
    yi: int
    xi: int
    engine: StreamEngine
    size: tuple[float, float, float, float] = (0.0, 0.0, 0.0, math.nan)
    capital: float = 0.0
    held_over: bool = False  # not selected for the current window, kept until its own exit


def _floats(values: Sequence[Any], name: str) -> np.ndarray:
    try:
        out = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    except (TypeError, ValueError):
        raise StateError(f"state['{name}'] must be a list of numbers; got {values!r}.") from None
    return out


def _listed(values: np.ndarray) -> list[float | None]:
    return [None if math.isnan(v) else float(v) for v in values.tolist()]


def check_state(state: Any) -> None:
    """Refuse anything but a state of a known version."""
    if (
        not isinstance(state, dict)
        or state.get("format") != FORMAT
        or state.get("version") not in (1, 2, VERSION)
    ):
        raise StateError(f"state must be a {FORMAT} state of version 1 to {VERSION}.")


def encode_state(book: Any) -> dict[str, Any]:
    """Everything ``book`` (a PortfolioStream) needs to go on exactly, as JSON-safe data."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "portfolio": book.portfolio.to_dict(),
        "coins": list(book.coins),
        "formation": book.formation,
        "trading": book.trading,
        "bar": book.bar,
        "last_timestamp": None if book.last_timestamp is None else book.last_timestamp.isoformat(),
        "buffer": [[s.isoformat(), _listed(row)] for s, row in book._buffer],
        "last_price": _listed(book._last_price),
        "valuation": _listed(book._valuation),
        "periods_per_year": book.periods_per_year,
        "account": book._account.state(),
        "flows": book._flows.tolist(),
        "due": _listed(book._due),
        "pending": [_listed(row) for row in book._pending],
        "decided": _listed(book._decided),
        "fills": {"legs": book._held.encode(), "cash": book._fill_cash, "funding": book._funding_paid},
        "starting": list(book._starting),
        "pairs": {
            name: {
                "y": p.y,
                "x": p.x,
                "engine": p.engine.state_dict(),
                "size": [None if math.isnan(v) else v for v in p.size],
                "capital": p.capital,
                "held_over": p.held_over,
            }
            for name, p in book._pairs.items()
        },
    }


def restore_state(book: Any, state: dict[str, Any]) -> None:
    """Set ``book`` (set up with the state's portfolio, coins and windows) from ``state``."""
    try:
        book._buffer = deque(
            ((pd.Timestamp(s), _floats(row, "buffer")) for s, row in state["buffer"]),
            maxlen=book.formation,
        )
        book.bar = int(state["bar"])
        stamp = state["last_timestamp"]
        book.last_timestamp = None if stamp is None else pd.Timestamp(stamp)
        book._last_price = _floats(state["last_price"], "last_price")
        book._valuation = _floats(state["valuation"], "valuation")
        if state["version"] < 3:
            _restore_v2(book, state)
        else:
            book._account.restore(state["account"])
            book._flows = _floats(state["flows"], "flows")
            book._due = _floats(state["due"], "due")
            book._pending = deque(_floats(row, "pending") for row in state["pending"])
            book._decided = _floats(state["decided"], "decided")
            if len(book._pending) != book._lag:
                raise ValueError("pending must hold one row per bar of the fill lag")
        book._starting = [str(s) for s in state["starting"]]
        if state["version"] == 1:  # before fills: the bot traded what it was told
            book._held = Legs.from_targets(*book._account.held.tolist(), per_leg=True)
            book._fill_cash = book._account.cash
        else:
            fills = state["fills"]
            book._held = Legs.decode(fills["legs"], "state['fills']['legs']", len(book.coins))
            if book._held.by_leg is None:
                raise StateError("state['fills']['legs'] must hold 'realized_by'; got none.")
            book._fill_cash = float(fills["cash"])
            book._funding_paid = float(fills["funding"])
        for name, p in state["pairs"].items():
            size = tuple(math.nan if v is None else float(v) for v in p["size"])
            book._pairs[name] = Pair(
                p["y"],
                p["x"],
                book._col[p["y"]],
                book._col[p["x"]],
                StreamEngine.from_state(p["engine"]),
                size,  # type: ignore[arg-type]
                float(p["capital"]),
                bool(p["held_over"]),
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise StateError(f"state must be a complete {FORMAT} state; got an invalid one ({exc!r}).") from None


def _restore_v2(book: Any, state: dict[str, Any]) -> None:
    """The account of a version 1 or 2 state (fills at the close, no margin state): its cash
    after the last order bar less the funding paid since (running sums of ``price * rate``)."""
    acc = state["account"]
    held = _floats(acc["held"], "account.held")
    since = _floats(state["fund_now"], "fund_now") - _floats(acc["fund_last"], "account.fund_last")
    cash = float(acc["cash"]) - dot(held, since)
    scale = float(acc["scale"])
    target = _floats(state["target"], "target")
    k = len(book.coins)
    book._account.restore(
        {
            "held": held.tolist(),
            "entry": [0.0] * k,
            "margin": [0.0] * k,
            "blocked": [None] * k,
            "cscale": [scale] * k,
            "cash": cash,
            "scale": scale,
            "in_call": False,
        }
    )
    book._due = book._decided = target
    book._flows[:3] = cash, cash + dot(held, book._valuation), scale
