"""kill -9 soak of ``pairs signal --follow --state``: exactly-once signals across >= 200 kills.

A bot feeds bars in lockstep to a follow process that is SIGKILLed again and again: at a
random bar of each life and at a random phase (before the update, inside the atomic save
between the temporary file and the rename, after the save before the signal is written,
after the signal is written) or from outside at a random moment. After each kill the bot
starts a new process on the same state file and re-sends the first bar whose signal it did
not read, as docs/cli.md tells it to. The signals it receives must equal the uninterrupted
run's line for line (no signal lost, none doubled, none changed), the final state must equal
the uninterrupted state (no bar lost or applied twice), every state file left by a kill must
load, and no temporary file of a killed save may remain.

Processes are forked from the test process (everything already imported and compiled), so a
life costs milliseconds; there is no timeout and no wall-clock assertion.
"""

from __future__ import annotations

import functools
import io
import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import pairs.cli._follow as follow_module
from pairs import StreamEngine, load_sample
from pairs.cli._main import main

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")]

OPTIONS = [
    "--log",
    "--entry-z",
    "1.0",
    "--exit-z",
    "0.25",
    "--capital",
    "10000",
    "--lot-size",
    "0.01",
    "0.001",
]
N_BARS = 300
MIN_KILLS = 200
PHASES = ("before_update", "in_save", "after_save", "after_emit", "outside")
# The functions killed before their call in the phases of their own (forking.install).
KILL_HOOKS = {"before_update": (StreamEngine, "update")}


@pytest.fixture(scope="module")
def lines() -> list[str]:
    prices = load_sample("binance_4h")[["ETH", "BTC"]].dropna().iloc[-N_BARS:]
    return [
        f"{t.isoformat()},{y!r},{x!r}\n"
        for t, y, x in zip(prices.index, prices["ETH"], prices["BTC"], strict=True)
    ]


def _uninterrupted(
    lines: list[str], state: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> list[str]:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("".join(lines).encode()), encoding="utf-8"))
    assert main(["signal", "--follow", *OPTIONS, "--state", str(state)]) == 0
    return capsys.readouterr().out.splitlines(keepends=True)


def test_kill_9_soak_delivers_every_signal_exactly_once(
    lines: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    forking: Any,
) -> None:
    reference = _uninterrupted(lines, tmp_path / "reference.json", monkeypatch, capsys)
    assert len(reference) == N_BARS and sum('"action": "hold"' not in r for r in reference) >= 10
    folder = tmp_path / "live"
    folder.mkdir()
    state = folder / "engine.json"
    argv = ["signal", "--follow", *OPTIONS, "--state", str(state)]

    def loads() -> None:
        if state.exists():
            StreamEngine.load(state)  # every state a kill leaves behind loads

    delivered, _ = forking.soak(
        argv,
        functools.partial(forking.install, follow=follow_module, hooks=KILL_HOOKS),
        lines,
        phases=PHASES,
        min_kills=MIN_KILLS,
        seed=13,
        after_life=loads,
    )
    assert delivered == reference
    final, expected = StreamEngine.load(state), StreamEngine.load(tmp_path / "reference.json")
    assert final.n_updates == N_BARS and final.state_dict() == expected.state_dict()
    assert sorted(p.name for p in folder.iterdir()) == ["engine.json", "engine.json.lock"]
    assert pd.Timestamp(final.last_timestamp) == pd.Timestamp(lines[-1].split(",")[0])
