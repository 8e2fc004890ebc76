"""``pairs signal --follow``: streamed JSON lines against the batch functions; kill and resume.

The streamed signals must equal ``kalman_hedge`` + ``signals`` + ``step_rule`` on the same
bars to 1e-10 (absolute on z-scores and spreads, relative on betas: the engine's contract,
which covers ``math.log`` vs ``np.log``), positions and actions exactly. A run killed with
SIGKILL after k answered bars and resumed from its ``--state`` file must continue with output
identical (``==`` on the parsed JSON) to an uninterrupted run.
"""

from __future__ import annotations

import hashlib
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

from pairs import StreamEngine
from pairs.cli._main import INTERNAL_ERROR, main
from pairs.strategy import Strategy
from pairs.trading import SignalRule

OPTIONS = ["--log", "--delta", "1e-5", "--entry-z", "1.5", "--exit-z", "0.25"]
RULE = SignalRule(entry_z=1.5, exit_z=0.25)
N_BARS = 300
KILL_AFTER = 137


@pytest.fixture(scope="module")
def prices(btc_eth_daily: pd.DataFrame) -> pd.DataFrame:
    return btc_eth_daily[["ETH", "BTC"]].iloc[-N_BARS:]


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
    """The whole feed through one in-process run of the command, with a header line first."""
    feed = "timestamp,eth,btc\n" + "".join(lines)
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(feed.encode()), encoding="utf-8"))
        patch.setattr(sys, "stdout", out)
        assert main(["signal", "--follow", *OPTIONS]) == 0
        out.flush()
    return [json.loads(line) for line in out.buffer.getvalue().decode().splitlines()]  # type: ignore[attr-defined]


def test_stream_equals_batch_functions(
    uninterrupted: list[dict[str, Any]], lines: list[str], prices: pd.DataFrame
) -> None:
    # The installed command in its own process prints what the in-process run prints.
    proc = subprocess.run(
        command(), input="timestamp,eth,btc\n" + "".join(lines), capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(line) for line in proc.stdout.splitlines()] == uninterrupted
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
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], text: str | bytes, *extra: str
) -> tuple[int, list[dict[str, Any]], str]:
    """``main(["signal", "--follow", ...])`` in-process with ``text`` as stdin."""
    data = text.encode() if isinstance(text, str) else text
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
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
    ("{ts},abc,1.0", "y must be a decimal number"),
    ("{ts},1.0,2.0,", "got 4 field(s)"),
    ("{ts},1_000,2.0", "y must be a decimal number"),
    ("{ts},nan,2.0", "y must be a decimal number"),
    ("{ts},1.0," + "9" * 400, "x must be a decimal number"),
    ('{{"timestamp": "{ts}", "y": 1{big}, "x": 2.0}}', "numbers in range"),
    ('{{"timestamp": "{ts}", "y": 1e999, "x": 2.0}}', "numbers in range"),
    ('{{"timestamp": "{ts}", "y": 1.0, "x": 2.0, "volume": 3}}', "keys"),
    ('{{"timestamp": "{ts}", "y": true, "x": 2.0}}', "y must be a number"),
    ('{{"timestamp": "{ts}", "y": [[[1]]], "x": 2.0}}', "nested"),
    ("now,1.0,2.0", "ISO 8601"),
    ("1" * 400 + ",1.0,2.0", "timestamp"),
    ("{ts},-5.0,100.0", "y_price"),
    ("{ts},5.0", "'timestamp,y,x'"),
    ('{{"timestamp": "{ts}", "y": 1.0', "valid JSON"),
    ('{{"timestamp": "{ts}", "y": 1.0}}', "keys 'y' and 'x'"),
    ("[" * 5000 + "]" * 5000, "bar must be a CSV line"),
    ("{" * 5000 + "}" * 5000, "nested"),
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
    text = "".join(lines[:5]) + bad.format(ts=prices.index[5].isoformat(), big="0" * 400) + "\n" + lines[5]
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


# ----------------------------------------------------------------- framing
def test_partial_final_line_is_reported_and_not_applied(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    lines: list[str],
    uninterrupted: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    state = tmp_path / "s.json"
    cut = lines[3].rstrip("\n")[:-3]  # '...,2360,4' with the rest of the line never written
    code, out, err = follow(monkeypatch, capsys, "".join(lines[:3]) + cut, *OPTIONS, "--state", str(state))
    assert code == 2 and out == uninterrupted[:3]
    assert err.startswith("pairs: error: stdin line 4 must end with a newline") and err.count("\n") == 1
    assert StreamEngine.load(state).n_updates == 3


@pytest.mark.parametrize(
    ("first", "flag", "code", "n_out"),
    [
        ("timestamp,eth,btc\n", None, 0, 3),  # the rule: 3 fields, each begins with a letter
        ("Date , ETH-USD , BTC-USD\n", None, 0, 3),
        ("2024-01-01,23OO,42000\n", None, 2, 0),  # a typo in the first bar is an error, not a header
        (",2300,42000\n", None, 0, 4),  # an empty timestamp: a bar (timestamps are optional)
        ("time,eth\n", None, 2, 0),
        ("timestamp,eth,btc\n", "--no-header", 2, 0),
        ("anything,at,all\n", "--header", 0, 3),
        ('{"y": 1.0, "x": 2.0}\n', "--header", 2, 0),
    ],
)
def test_header_rule_and_flags(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    lines: list[str],
    first: str,
    flag: str | None,
    code: int,
    n_out: int,
) -> None:
    got, out, err = follow(
        monkeypatch, capsys, first + "".join(lines[:3]), *OPTIONS, *([flag] if flag else [])
    )
    assert (got, len(out)) == (code, n_out), err
    if code:
        assert err.startswith("pairs: error: stdin line 1") and err.count("\n") == 1


@pytest.mark.parametrize(
    "data",
    [b"2024-01-01,\xff\xfe,1.0\n", "2024-01-01,1.0,2.0".encode("utf-16"), b"\x00" * 70_000 + b"\n"],
)
def test_binary_or_huge_input_is_one_line_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], data: bytes
) -> None:
    code, out, err = follow(monkeypatch, capsys, data, *OPTIONS)
    assert code == 2 and out == [] and err.startswith("pairs: error: stdin line 1") and err.count("\n") == 1


# ----------------------------------------------------------------- exactly once
def test_state_requires_timestamps(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = follow(
        monkeypatch, capsys, ",2300,42000\n", "--no-header", "--state", str(tmp_path / "s")
    )
    assert code == 2 and "timestamp must be given with --state" in err
    code, out, err = follow(
        monkeypatch, capsys, "1,2300,42000\n2,2310,42100\n", "--state", str(tmp_path / "q")
    )
    assert code == 0 and [s["timestamp"] for s in out] == [1, 2]  # sequence numbers are timestamps


def test_resent_last_bar_re_emits_its_signal(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    lines: list[str],
    uninterrupted: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    state = tmp_path / "s.json"
    assert follow(monkeypatch, capsys, "".join(lines[:10]), *OPTIONS, "--state", str(state))[0] == 0
    before = state.read_bytes()
    # A bot that did not read signal 10 re-sends bar 10 (same timestamp and prices, any spelling).
    ts, y, x = lines[9].strip().split(",")
    again = json.dumps({"timestamp": ts, "y": float(y), "x": float(x)}) + "\n"
    code, out, err = follow(monkeypatch, capsys, again + again + "".join(lines[10:12]), "--state", str(state))
    assert code == 0, err
    assert out == [uninterrupted[9], uninterrupted[9], *uninterrupted[10:12]]
    assert before != state.read_bytes() and StreamEngine.load(state).n_updates == 12


def test_resent_bar_with_other_prices_is_refused_naming_both(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], lines: list[str], tmp_path: Path
) -> None:
    state = tmp_path / "s.json"
    assert follow(monkeypatch, capsys, "".join(lines[:4]), *OPTIONS, "--state", str(state))[0] == 0
    before = state.read_bytes()
    ts, y, x = lines[3].strip().split(",")
    code, out, err = follow(monkeypatch, capsys, f"{ts},{float(y) + 1},{x}\n", "--state", str(state))
    assert code == 2 and out == []
    assert "re-sent" in err and str(float(y) + 1) in err and y in err and err.count("\n") == 1
    assert state.read_bytes() == before
    # An older bar is still refused as out of order.
    code, out, err = follow(monkeypatch, capsys, lines[1], "--state", str(state))
    assert code == 2 and "after the previous update" in err and state.read_bytes() == before


def test_second_writer_is_refused_naming_the_holder(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], lines: list[str], tmp_path: Path
) -> None:
    state = tmp_path / "s.json"
    holder = subprocess.Popen(
        command("--state", str(state)), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
    )
    try:
        assert holder.stdin is not None and holder.stdout is not None
        holder.stdin.write(lines[0])
        holder.stdin.flush()
        assert holder.stdout.readline()  # the holder has the lock and answered its first bar
        code, out, err = follow(monkeypatch, capsys, lines[1], *OPTIONS, "--state", str(state))
        assert code == 2 and out == []
        assert f"in use by another writer (pid {holder.pid})" in err and err.count("\n") == 1
        holder.stdin.write(lines[1])
        holder.stdin.close()
        assert holder.wait() == 0
    finally:
        holder.kill()
        holder.wait()
    assert StreamEngine.load(state).n_updates == 2
    code, out, err = follow(monkeypatch, capsys, lines[2], "--state", str(state))
    assert code == 0, err  # the lock died with its holder


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda d: d["engine"]["state"].update(n_updates=int("9" * 400)), "numbers in range"),
        (lambda d: d["engine"]["state"]["hedge"].update(p00=-5.0), "non-negative variance"),
        (lambda d: d["engine"]["state"].update(n_updates=d["engine"]["state"]["n_updates"] + 1), "n_updates"),
        (lambda d: d["engine"]["state"]["rule"].update(position=1), "sizing"),
        (lambda d: d.update(delivery={"input": {"id": 1, "values": [1, 2]}, "output": "{}"}), "delivery"),
        (lambda d: d.update(extra=[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]), "nested"),
    ],
)
def test_impossible_or_hostile_state_files_exit_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    lines: list[str],
    tmp_path: Path,
    edit: Any,
    needle: str,
) -> None:
    state = tmp_path / "s.json"
    assert (
        follow(monkeypatch, capsys, "".join(lines[:70]), *OPTIONS, "--capital", "1e4", "--state", str(state))[
            0
        ]
        == 0
    )
    doc = json.loads(state.read_text())
    edit(doc)
    payload = {k: v for k, v in doc.items() if k != "sha256"}
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    doc["sha256"] = hashlib.sha256(canonical.encode()).hexdigest()
    state.write_text(json.dumps(doc))
    code, out, err = follow(monkeypatch, capsys, lines[70], "--state", str(state))
    assert code == 2 and out == [] and needle in err and err.count("\n") == 1, err


# ----------------------------------------------------------------- command line
def test_unexpected_exception_exits_3_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], lines: list[str]
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(StreamEngine, "update", broken)
    code, out, err = follow(monkeypatch, capsys, lines[0], *OPTIONS)
    assert code == INTERNAL_ERROR == 3 and out == []
    assert (
        err
        == "pairs: internal error: RuntimeError: boom second line (a bug in pairs; set PAIRS_TRACEBACK=1 for the traceback and please report it).\n"
    )


@pytest.mark.parametrize(
    "argv",
    [["scan", "sample:binance_1d", "--top", "-1"], ["signal", "sample:ETH", "sample:BTC", "--tail", "-1"]],
)
def test_negative_counts_are_refused(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "must be an integer >= 0; got '-1'" in err and err.count("\n") == 1


def test_max_gap_flag(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    state = str(tmp_path / "s.json")
    text = "1,10,5\n2,10.5,5.1\n9,11,5.2\n"
    code, out, err = follow(monkeypatch, capsys, text, "--max-gap", "3", "--state", state)
    assert code == 2 and len(out) == 2 and "max_gap=3" in err
    code, out, err = follow(
        monkeypatch, capsys, "9,11,5.2\n", "--max-gap", "3", "--on-gap", "reset", "--state", state
    )
    assert code == 2 and "on_gap" in err  # a resumed state keeps its options
    code, out, err = follow(monkeypatch, capsys, text, "--max-gap", "3", "--on-gap", "reset")
    assert code == 0 and len(out) == 3
    assert follow(monkeypatch, capsys, text, "--max-gap", "soon")[0] == 2
