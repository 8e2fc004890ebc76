"""Extreme but well-typed options, prices and files: exit code 2 and one short stderr line, never 3.

Issue 22 item 3: out-of-range options (a half-life of 1e19 bars, a window of 1e16, a 4,000-digit
window in a strategy file), prices a saved state could not load again, a lot of 1e-320, and
files that are not regular files (``/dev/zero``, a FIFO: refused before they are opened, so the
tests cannot hang).
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest

from pairs.cli._main import main


@pytest.fixture(scope="module")
def odd_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("odd")
    os.mkfifo(folder / "bars.fifo")
    (folder / "huge_window.json").write_text('{"window": ' + "9" * 4000 + "}\n", encoding="utf-8")
    return folder


PAIR = ["sample:ETH", "sample:BTC"]
CASES = [
    (["signal", *PAIR, "--zscore", "ewm", "--zscore-halflife", "1e19"], "zscore_halflife"),
    (["signal", *PAIR, "--window", "10000000000000000"], "window"),
    (["signal", *PAIR, "--zscore-window", "10000000000000000"], "zscore_window"),
    (["signal", *PAIR, "--max-holding", "100000000000000000000"], "max_holding"),
    (["signal", *PAIR, "--cooldown", "100000000000000000000"], "cooldown"),
    (["signal", *PAIR, "--strategy", "{d}/huge_window.json"], "window"),
    (["backtest", *PAIR, "--capital", "1e4", "--lot-size", "1e-320", "0"], "lot_size[0]"),
    (["fit", *PAIR, "--method", "ewm", "--halflife", "1e300"], "halflife"),
    (["signal", "/dev/zero", "sample:BTC"], "character device"),
    (["signal", "{d}/bars.fifo", "sample:BTC"], "FIFO"),
    (["signal", *PAIR, "--strategy", "/dev/zero"], "character device"),
    (["signal", *PAIR, "--strategy", "{d}/bars.fifo"], "FIFO"),
    (["strategy", "--window", "9" * 4000], "window"),
]


@pytest.mark.parametrize(("argv", "needle"), CASES, ids=[" ".join(a)[:60] for a, _ in CASES])
def test_extreme_options_exit_2_with_one_short_line(
    capsys: pytest.CaptureFixture[str], odd_files: Path, argv: list[str], needle: str
) -> None:
    code = main([a.replace("{d}", str(odd_files)) for a in argv])
    out, err = capsys.readouterr()
    assert code == 2 and out == "", err
    assert err.startswith("pairs: error: ") and err.count("\n") == 1, err
    # A 4,000-digit number is not echoed back: the line stays readable.
    assert needle in err and len(err) < 400, err


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("2024-01-02,1e160,40000", "y_price must be within [1e-30, 1e+30]"),
        ("2024-01-02,2300,1e-303", "x_price must be within [1e-30, 1e+30]"),
        ("2024-01-02,2300," + "9" * 400, "x must be"),
    ],
)
def test_follow_refuses_prices_a_state_could_not_reload(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    line: str,
    needle: str,
) -> None:
    state = tmp_path / "engine.json"
    feed = f"2024-01-01,2300,42000\n{line}\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(feed.encode()), encoding="utf-8"))
    code = main(["signal", "--follow", "--state", str(state)])
    out, err = capsys.readouterr()
    assert code == 2 and out.count("\n") == 1, err
    assert err.startswith("pairs: error: stdin line 2: ") and err.count("\n") == 1, err
    assert needle in err
    # The state of the last good bar loads again.
    monkeypatch.setattr(
        sys, "stdin", io.TextIOWrapper(io.BytesIO(b"2024-01-02,2350,43000\n"), encoding="utf-8")
    )
    assert main(["signal", "--follow", "--state", str(state)]) == 0
