"""Every command of the parser takes ``--format table|json|csv`` (README, docs/cli.md).

Each command runs in-process on small CSV files: ``--format json`` must print one JSON document
on stdout, ``--format csv`` a rectangular CSV; where the CSV is a record (``field,value`` rows)
its values are those of the JSON, field by field. The list of commands comes from the parser
itself, so a new command without an entry here fails the test.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import pairs
from pairs.cli import _warmup
from pairs.cli._main import _build_parser, main


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = _build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Closes of ETH, BTC and LTC over 300 days, as 'Date,Close' CSV files."""
    folder = tmp_path_factory.mktemp("formats")
    prices = pairs.load_sample("binance_1d")[["ETH", "BTC", "LTC"]].dropna().iloc[-300:]
    for coin in prices:
        frame = pd.DataFrame({"Close": prices[coin].to_numpy()}, index=prices.index.strftime("%Y-%m-%d"))
        frame.to_csv(folder / f"{coin}.csv", index_label="Date")
    return folder


def _argv(command: str, folder: Path) -> list[str]:
    pair = [str(folder / "ETH.csv"), str(folder / "BTC.csv")]
    return {
        "demo": [],
        "fit": pair,
        "test": pair,
        "scan": [str(folder)],
        "portfolio": [str(folder), "--formation", "60", "--trading", "30", "--top", "1"],
        "signal": pair,
        "backtest": pair,
        "sweep": [*pair, "--hedge", "rolling", "--grid", "window=20,40", "--grid", "rule.entry_z=1.5,2"],
        "report": [*pair, "-o", str(folder / "report.html"), "--coint-window", "100", "--coint-step", "25"],
        "strategy": ["--log", "--entry-z", "2.5"],
        "warmup": [],
        "check": [*pair, "--hedge", "rolling", "--window", "30", "--cuts", "3"],
    }[command]


def _run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: str, folder: Path, fmt: str
) -> str:
    # Warmup's output is the list of kernels; compiling them all is test_cold_start's (slow) job.
    monkeypatch.setattr(_warmup, "exercises", lambda: iter([("nothing", lambda: None)]))
    code = main([command, *_argv(command, folder), "--format", fmt])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def _leaves(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        items: Any = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        return {prefix: data}
    out: dict[str, Any] = {}
    for key, value in items:
        out |= _leaves(value, f"{prefix}.{key}" if prefix else str(key))
    return out


def test_every_command_takes_every_format() -> None:
    for name, parser in _commands().items():
        assert parser._option_string_actions["--format"].choices == ("table", "json", "csv"), name


@pytest.mark.parametrize("command", sorted(_commands()))
def test_json_is_one_document_and_csv_agrees(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, folder: Path, command: str
) -> None:
    data = json.loads(_run(capsys, monkeypatch, command, folder, "json"))
    assert data
    rows = list(csv.reader(io.StringIO(_run(capsys, monkeypatch, command, folder, "csv"))))
    assert len(rows) >= 2 and all(len(row) == len(rows[0]) for row in rows)
    if rows[0] == ["field", "value"]:
        expected = {k: "" if v is None else str(v) for k, v in _leaves(data).items()}
        assert dict(rows[1:]) == expected and len(rows) == len(expected) + 1
    if command == "strategy":
        assert pairs.Strategy.from_dict(data) == pairs.Strategy(
            log_prices=True, rule=pairs.SignalRule(entry_z=2.5)
        )
    if command == "report":
        path = Path(data["output"])
        assert path == folder / "report.html" and data["bytes"] == path.stat().st_size
        assert data["verdict"] in data["headline"] and data["metrics"]["n_bars"] == 300
    if command == "portfolio":
        assert rows[0][:3] == ["timestamp", "equity", "cash"] and len(rows) == 301
        assert float(rows[-1][1]) == pytest.approx(data["summary"]["final equity"], rel=1e-12)
        assert pairs.Portfolio.from_dict(data["portfolio"]).formation == 60
    if command == "sweep":
        assert data["n_points"] == 4 and [row[:3] for row in rows[1:]] == [
            [str(r["point"]), str(r["window"]), str(r["rule.entry_z"])] for r in data["table"]
        ]
    if command == "warmup":
        assert sorted(data["compiled"] + data["uncompiled"]) == sorted(_warmup.kernels())
        assert rows[0] == ["kernel", "compiled"]
