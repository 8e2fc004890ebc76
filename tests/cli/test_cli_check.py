"""``pairs check``: look-ahead (exit code 1) and warm-up of a strategy on a history."""

from __future__ import annotations

import json

import pytest

from pairs.cli import main


def test_check_json_reports_the_rolling_warmup(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["check", "sample:ETH", "sample:BTC", "--log", "--hedge", "rolling", "--window", "30"]
    assert main([*argv, "--zscore-window", "20", "--cuts", "5", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["causal"] is True and out["lookahead"] == []
    assert out["warmup_bars"] == 48  # window + zscore_window - 2 (tests/evaluation/test_check.py)
    assert len(out["warmup"]) == 3


def test_check_exits_1_on_look_ahead(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.json"
    assert main(["strategy", "--hedge", "ols", "-o", str(path)]) == 0
    capsys.readouterr()
    assert main(["check", "sample:ETH", "sample:BTC", "--strategy", str(path), "--cuts", "3"]) == 1
    text = capsys.readouterr().out
    assert "causal                      False" in text
    assert "Bars whose output changed when later bars were added" in text


def test_check_bad_option_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "sample:ETH", "sample:BTC", "--cuts", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pairs: error: cuts must be") and err.count("\n") == 1
