"""``pairs signal --follow``: streamed JSON lines against the batch functions; kill and resume.

The streamed signals must equal ``kalman_hedge`` + ``signals`` + ``step_rule`` on the same
bars to 1e-10 (absolute on z-scores and spreads, relative on betas: the engine's contract,
which covers ``math.log`` vs ``np.log``), positions and actions exactly. A run killed with
SIGKILL after k answered bars and resumed from its ``--state`` file must continue with output
identical (``==`` on the parsed JSON) to an uninterrupted run.
"""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pairs import load_sample
from pairs.cli._main import main
from pairs.strategy import Strategy
from pairs.stream._engine import StreamEngine
from pairs.trading import SignalRule

OPTIONS = ["--log", "--delta", "1e-5", "--entry-z", "1.5", "--exit-z", "0.25"]
RULE = SignalRule(entry_z=1.5, exit_z=0.25)
N_BARS = 300
KILL_AFTER = 137


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return load_sample("binance_1d")[["ETH", "BTC"]].dropna().iloc[-N_BARS:]


@pytest.fixture(scope="module")
def lines(prices: pd.DataFrame) -> list[str]:
    """One CSV bar per line, as a feed would send them: ``timestamp,y,x``."""
    return [
        f"{t.isoformat()},{y!r},{x!r}\n"
        for t, y, x in zip(prices.index, prices["ETH"], prices["BTC"], strict=True)
    ]


def command(*extra: str) -> list[str]:
    return [sys.executable, "-m", "pairs", "signal", "--follow", *OPTIONS, *extra]


@pytest.fixture(scope="module")
def uninterrupted(lines: list[str]) -> list[dict[str, Any]]:
    """The whole feed through one process, with a header line first."""
    proc = subprocess.run(
        command(), input="timestamp,eth,btc\n" + "".join(lines), capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def test_stream_equals_batch_functions(uninterrupted: list[dict[str, Any]], prices: pd.DataFrame) -> None:
    # The same strategy as the flags, run in batch (the engine == Strategy.run is tested bit for bit
    # in tests/stream; here the command line must add nothing and lose nothing).
    run = Strategy(log_prices=True, delta=1e-5, rule=RULE).run(prices["ETH"], prices["BTC"]).frame
    assert len(uninterrupted) == N_BARS
    assert [s["timestamp"] for s in uninterrupted] == [t.isoformat() for t in prices.index]
    np.testing.assert_allclose([s["beta"] for s in uninterrupted], run["beta"], rtol=1e-12, atol=0)
    for name in ("alpha", "spread", "zscore"):
        got = [np.nan if s[name] is None else s[name] for s in uninterrupted]  # NaN is null in JSON
        np.testing.assert_allclose(got, run[name], rtol=0, atol=1e-12)
    assert [s["position"] for s in uninterrupted] == run["position"].tolist()
    assert [s["action"] for s in uninterrupted] == run["action"].tolist()
    assert sum(a != "hold" for a in run["action"]) >= 4


def test_sigkill_then_resume_continues_identically(
    lines: list[str], uninterrupted: list[dict[str, Any]], tmp_path: Path
) -> None:
    state = tmp_path / "engine.json"
    proc = subprocess.Popen(
        command("--state", str(state)), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
    )
    first: list[dict[str, Any]] = []
    try:
        assert proc.stdin is not None and proc.stdout is not None
        # Lockstep: one bar in, its signal out, so exactly KILL_AFTER bars were answered.
        for line in lines[:KILL_AFTER]:
            proc.stdin.write(line)
            proc.stdin.flush()
            answer = proc.stdout.readline()
            assert answer, "the follow process stopped early"
            first.append(json.loads(answer))
        proc.send_signal(signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL
    finally:
        proc.kill()
        proc.wait()
    assert StreamEngine.load(state).n_updates == KILL_AFTER
    resumed = subprocess.run(
        command("--state", str(state)),
        input="".join(lines[KILL_AFTER:]),
        capture_output=True,
        text=True,
    )
    assert resumed.returncode == 0, resumed.stderr
    second = [json.loads(line) for line in resumed.stdout.splitlines()]
    assert first + second == uninterrupted
    assert StreamEngine.load(state).n_updates == N_BARS


def follow(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], text: str, *extra: str
) -> tuple[int, list[dict[str, Any]], str]:
    """``main(["signal", "--follow", ...])`` in-process with ``text`` as stdin."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    code = main(["signal", "--follow", *extra])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def test_json_lines_blank_lines_and_resume_without_options(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    lines: list[str],
    uninterrupted: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    state = str(tmp_path / "s.json")
    as_json = []
    for line in lines[:60]:
        ts, y, x = line.strip().split(",")
        as_json.append(json.dumps({"timestamp": ts, "y": float(y), "x": float(x)}) + "\n\n")
    code, out, err = follow(monkeypatch, capsys, "".join(as_json), *OPTIONS, "--state", state)
    assert code == 0, err
    assert out == uninterrupted[:60]
    # Resuming with --state alone takes every option from the state file.
    code, out, err = follow(monkeypatch, capsys, "".join(lines[60:90]), "--state", state)
    assert code == 0, err
    assert out == uninterrupted[60:90]


BAD_LINES = [
    ("{ts},abc,1.0", "numeric y and x"),
    ("{ts},-5.0,100.0", "y_price"),
    ("{ts},5.0", "'timestamp,y,x'"),
    ('{{"timestamp": "{ts}", "y": 1.0', "valid JSON"),
    ('{{"timestamp": "{ts}", "y": 1.0}}', "keys 'y' and 'x'"),
    ("2000-01-01T00:00:00+00:00,1.0,2.0", "after the previous update"),
    ("not-a-date,1.0,2.0", "timestamp"),
]


@pytest.mark.parametrize(("bad", "needle"), BAD_LINES)
def test_bad_line_exits_2_and_keeps_last_good_state(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    lines: list[str],
    uninterrupted: list[dict[str, Any]],
    prices: pd.DataFrame,
    tmp_path: Path,
    bad: str,
    needle: str,
) -> None:
    state = tmp_path / "s.json"
    text = "".join(lines[:5]) + bad.format(ts=prices.index[5].isoformat()) + "\n" + lines[5]
    code, out, err = follow(monkeypatch, capsys, text, *OPTIONS, "--state", str(state))
    assert code == 2 and out == uninterrupted[:5]
    assert err.startswith("pairs: error: stdin line 6: ") and err.count("\n") == 1, err
    assert needle in err and "Traceback" not in err
    assert StreamEngine.load(state).n_updates == 5


def test_resume_with_different_options_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], lines: list[str], tmp_path: Path
) -> None:
    state = str(tmp_path / "s.json")
    assert follow(monkeypatch, capsys, "".join(lines[:3]), *OPTIONS, "--state", state)[0] == 0
    code, out, err = follow(monkeypatch, capsys, lines[3], "--hedge", "rolling", "--state", state)
    assert code == 2 and out == []
    assert "options must match the state file" in err and "hedge" in err
    assert StreamEngine.load(state).n_updates == 3


def test_corrupt_state_file_is_an_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], lines: list[str], tmp_path: Path
) -> None:
    state = tmp_path / "s.json"
    state.write_text('{"sha256": "00", "engine": {}}')
    code, out, err = follow(monkeypatch, capsys, lines[0], "--state", str(state))
    assert code == 2 and out == [] and "checksum" in err


def test_follow_rejects_price_sources(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["signal", "sample:ETH", "sample:BTC", "--follow"]) == 2
    assert "--follow reads bars from stdin" in capsys.readouterr().err
