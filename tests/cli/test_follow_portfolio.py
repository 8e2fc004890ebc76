"""``pairs signal --follow --portfolio``: the live portfolio's lines equal the API; a restart re-emits, never re-applies."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import pairs
from pairs.cli._main import main

PRICES = pairs.load_sample("binance_1h").iloc[:420, :5]
BOOK = pairs.Portfolio(
    pairs.Strategy(hedge="rolling", window=24), pairs.Selection(top=2), formation=120, trading=60
)


def _csv(frame: pd.DataFrame, header: bool = True) -> str:
    lines = [",".join(["timestamp", *frame.columns])] if header else []
    for ts, row in frame.iterrows():
        cells = ["" if pd.isna(v) else repr(float(v)) for v in row]
        lines.append(",".join([ts.isoformat(), *cells]))
    return "\n".join(lines) + "\n"


def _run(monkeypatch: pytest.MonkeyPatch, capsys: Any, text: str, *argv: str) -> tuple[int, list[str], str]:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode()), encoding="utf-8"))
    code = main(["signal", "--follow", *argv])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_lines_equal_the_api_and_a_restart_resumes(monkeypatch, capsys, tmp_path: Path) -> None:
    spec, state = tmp_path / "book.json", tmp_path / "live.json"
    BOOK.to_json(spec)
    coins = ",".join(PRICES.columns)
    live = BOOK.stream(list(PRICES.columns))
    expected = [live.update(row, ts).to_json() for ts, row in PRICES.iterrows()]
    argv = ("--portfolio", str(spec), "--state", str(state))
    code, first, err = _run(monkeypatch, capsys, _csv(PRICES.iloc[:200]), *argv, "--coins", coins)
    assert code == 0 and err == "" and first == expected[:200]
    # A restart: the last bar is re-sent (its line re-emitted, not re-applied), then the rest.
    code, rest, err = _run(monkeypatch, capsys, _csv(PRICES.iloc[199:]), *argv)
    assert code == 0 and err == "" and rest == expected[199:]
    signal = json.loads(rest[-1])
    result = BOOK.backtest(PRICES)
    assert [signal["units"][c] for c in PRICES.columns] == result.units.iloc[-1].tolist()
    assert any(json.loads(line)["selected"] for line in expected)


def test_errors_are_one_line_exit_2(monkeypatch, capsys, tmp_path: Path) -> None:
    spec, state = tmp_path / "book.json", tmp_path / "live.json"
    BOOK.to_json(spec)
    argv = ("--portfolio", str(spec), "--state", str(state))
    code, _, err = _run(monkeypatch, capsys, _csv(PRICES.iloc[:3]), *argv)
    assert code == 2 and err.count("\n") == 1 and "--coins must be given" in err
    code, _, err = _run(monkeypatch, capsys, _csv(PRICES.iloc[:3]), "--portfolio", str(spec))
    assert code == 2 and "--state must be given" in err
    coins = ",".join(PRICES.columns)
    assert _run(monkeypatch, capsys, _csv(PRICES.iloc[:3]), *argv, "--coins", coins)[0] == 0
    changed = PRICES.iloc[2:3] * 1.01
    code, _, err = _run(monkeypatch, capsys, _csv(changed), *argv)
    assert code == 2 and "bar must repeat the prices" in err
    code, _, err = _run(monkeypatch, capsys, _csv(PRICES.iloc[3:4]), *argv, "--coins", "ADA,ATOM")
    assert code == 2 and "options must match" in err
    # The follow lines carry closes only: a portfolio filled at the next open is refused up front.
    BOOK.replace(strategy=BOOK.strategy.replace(fill="next_open")).to_json(spec)
    code, _, err = _run(monkeypatch, capsys, _csv(PRICES.iloc[:3]), *argv, "--coins", coins)
    assert code == 2 and err.count("\n") == 1 and "next open" in err
