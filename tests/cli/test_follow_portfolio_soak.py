"""kill -9 soak of ``pairs signal --follow --portfolio``: every line exactly once across >= 60 kills.

As tests/cli/test_follow_soak.py for one pair: a bot feeds wide bars in lockstep to a follow process
that is SIGKILLed at random phases (before the update, inside the atomic save, after the save
before the line is written, after it is written, or from outside); after each kill a new process
resumes the same state file and the bot re-sends the first bar whose line it did not read. The
lines received equal the uninterrupted run's, the final state equals its state, and every state a
kill leaves behind loads. Processes are forked (no timeout, no wall-clock assertion).

The second soak sends, after each bar, the exchange's fills of its orders (``{"fill": ...}`` lines,
some partial, some never sent): no fill is applied twice, so the final holdings are the sum of the
fills sent, and the lines and state equal the uninterrupted run's.
"""

from __future__ import annotations

import functools
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

import pairs
import pairs._io
import pairs.cli._portfolio_follow as follow_module
from pairs.cli._main import main
from pairs.stream import _state
from pairs.stream._portfolio import PortfolioStream

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")]

PRICES = pairs.load_sample("binance_1h").iloc[:240, :5]
BOOK = pairs.Portfolio(
    pairs.Strategy(hedge="rolling", window=24), pairs.Selection(top=2), formation=120, trading=40
)
MIN_KILLS = 60
PHASES = ("before_update", "in_save", "after_save", "after_emit", "outside")
# The functions killed before their call in the phases of their own (forking.install).
KILL_HOOKS = {"before_update": (PortfolioStream, "update")}
HEADER = ",".join(["timestamp", *PRICES.columns]) + "\n"
LINES = [",".join([ts.isoformat(), *(repr(float(v)) for v in row)]) + "\n" for ts, row in PRICES.iterrows()]


def _with_fills() -> list[str]:
    """The bars, each followed by fills of its orders (every third half filled, every fifth never)."""
    live = BOOK.stream(list(PRICES.columns))
    out, k = [], 0
    for line, (ts, row) in zip(LINES, PRICES.iterrows(), strict=True):
        out.append(line)
        for order in live.update(row, ts).order_list:
            k += 1
            if k % 5 == 0:
                continue
            q = (order.quantity if k % 3 else order.quantity / 2) * (1 if order.side == "buy" else -1)
            body = {"symbol": order.symbol, "quantity": q, "price": float(row[order.symbol]), "fill_id": k}
            live.fill(order.symbol, q, body["price"], fill_id=k)
            out.append(json.dumps({"fill": body}) + "\n")
    return out


def _argv(spec: Path, state: Path) -> list[str]:
    coins = ",".join(PRICES.columns)
    return ["signal", "--follow", "--portfolio", str(spec), "--state", str(state), "--coins", coins]


def _load(state: Path) -> PortfolioStream:
    return PortfolioStream.from_state(
        _state.read_state_file(state, body="portfolio", what="state")["portfolio"]
    )


def _soak(
    lines: list[str],
    min_kills: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    forking: Any,
) -> tuple[list[str], PortfolioStream]:
    """Feed ``lines`` to follow processes killed at random; the lines delivered and the final book."""
    spec = tmp_path / "book.json"
    BOOK.to_json(spec)
    reference_state = tmp_path / "reference.json"
    monkeypatch.setattr(
        sys, "stdin", io.TextIOWrapper(io.BytesIO((HEADER + "".join(lines)).encode()), encoding="utf-8")
    )
    assert main(_argv(spec, reference_state)) == 0
    reference = capsys.readouterr().out.splitlines(keepends=True)
    assert len(reference) == len(lines)
    folder = tmp_path / "live"
    folder.mkdir()
    state = folder / "live.json"

    def loads() -> None:
        if state.exists():
            _load(state)  # every state a kill leaves behind loads

    delivered, _ = forking.soak(
        _argv(spec, state),
        functools.partial(forking.install, follow=follow_module, hooks=KILL_HOOKS),
        lines,
        phases=PHASES,
        min_kills=min_kills,
        seed=7,
        header=HEADER,
        after_life=loads,
    )
    assert delivered == reference
    assert _load(state).state_dict() == _load(reference_state).state_dict()
    assert sorted(p.name for p in folder.iterdir()) == ["live.json", "live.json.lock"]
    return delivered, _load(state)


def test_kill_9_soak_delivers_every_line_exactly_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], forking: Any
) -> None:
    delivered, _ = _soak(LINES, MIN_KILLS, tmp_path, monkeypatch, capsys, forking)
    assert sum(json.loads(r)["orders"] != {} for r in delivered) >= 10


def test_kill_9_soak_with_fills_applies_each_fill_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], forking: Any
) -> None:
    lines = _with_fills()
    fills = [json.loads(line)["fill"] for line in lines if line.startswith('{"fill"')]
    assert len(fills) >= 20
    delivered, book = _soak(lines, MIN_KILLS // 2, tmp_path, monkeypatch, capsys, forking)
    assert sum('"applied":true' in line for line in delivered) == len(fills)
    held = dict.fromkeys(PRICES.columns, 0.0)
    for body in fills:
        held[body["symbol"]] += body["quantity"]
    assert book.holdings == pytest.approx(held, rel=1e-12, abs=1e-9)
