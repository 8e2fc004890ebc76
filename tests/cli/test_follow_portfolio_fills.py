"""``pairs signal --follow --portfolio`` with fills on stdin: lines equal the API, fills apply exactly once."""

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

PRICES = pairs.load_sample("binance_1h").iloc[:300, :5]
BOOK = pairs.Portfolio(
    pairs.Strategy(hedge="rolling", window=24, rule={"entry_z": 1.0}),
    pairs.Selection(top=2),
    formation=120,
    trading=60,
    lot_size={"ADA": 1.0},
)


def _bar(ts: pd.Timestamp, row: pd.Series) -> str:
    return ",".join([ts.isoformat(), *(repr(float(v)) for v in row)]) + "\n"


def _fill(coin: str, q: float, p: float, fid: Any, **extra: Any) -> str:
    body = {"symbol": coin, "quantity": q, "price": p, "fee": 0.0004 * abs(q) * p, "fill_id": fid, **extra}
    return json.dumps({"fill": body}) + "\n"


def _script() -> tuple[list[str], list[Any]]:
    """Input lines (bars, and after each bar the exchange's fills of its orders: every third one
    half filled, every seventh never) and the answers the API gives for them."""
    live = BOOK.stream(list(PRICES.columns))
    lines, answers = [",".join(["timestamp", *PRICES.columns]) + "\n"], []
    k = 0
    for t, (ts, row) in enumerate(PRICES.iterrows()):
        signal = live.update(row, ts)
        lines.append(_bar(ts, row))
        answers.append(signal.to_json())
        for o in signal.order_list:
            k += 1
            if k % 7 == 0:
                continue
            q = o.quantity if k % 3 else max(o.quantity // 2, 1.0) if o.symbol == "ADA" else o.quantity / 2
            q = q if o.side == "buy" else -q
            price = float(row[o.symbol])
            lines.append(_fill(o.symbol, q, price, f"{t}-{k}"))
            assert live.fill(o.symbol, q, price, fee=0.0004 * abs(q) * price, fill_id=f"{t}-{k}")
            answers.append(
                {
                    "fill": {"fill_id": f"{t}-{k}", "symbol": o.symbol, "applied": True},
                    "holdings": live.holdings,
                    "cash": live.ledger()["cash"],
                    "orders": [o.to_dict() for o in live.orders()],
                }
            )
    return lines, answers


LINES, ANSWERS = _script()


def _run(monkeypatch: pytest.MonkeyPatch, capsys: Any, text: str, *argv: str) -> tuple[int, list[str], str]:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode()), encoding="utf-8"))
    code = main(["signal", "--follow", *argv])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def _same(got: list[str], expected: list[Any]) -> None:
    assert len(got) == len(expected)
    for line, want in zip(got, expected, strict=True):
        assert line == want if isinstance(want, str) else json.loads(line) == want


def test_fill_lines_equal_the_api_and_a_resent_fill_is_not_applied_twice(
    monkeypatch: pytest.MonkeyPatch, capsys: Any, tmp_path: Path
) -> None:
    fills = [i for i, line in enumerate(LINES) if line.startswith('{"fill"')]
    assert len(fills) > 30
    spec, state = tmp_path / "book.json", tmp_path / "live.json"
    BOOK.to_json(spec)
    argv = ("--portfolio", str(spec), "--state", str(state))
    cut = fills[len(fills) // 2]  # stop right after a fill's answer
    code, first, err = _run(
        monkeypatch, capsys, "".join(LINES[: cut + 1]), *argv, "--coins", ",".join(PRICES.columns)
    )
    assert code == 0 and err == ""
    _same(first, ANSWERS[:cut])
    # A restart: the last fill is re-sent (its line re-emitted, not re-applied), then the rest.
    code, rest, err = _run(monkeypatch, capsys, LINES[0] + "".join(LINES[cut:]), *argv)
    assert code == 0 and err == "" and rest[0] == first[-1]
    _same(rest, ANSWERS[cut - 1 :])
    final = next(json.loads(line) for line in reversed(rest) if line.startswith('{"fill"'))
    # An older fill sent again is answered "applied": false and changes nothing.
    code, again, err = _run(monkeypatch, capsys, LINES[0] + LINES[fills[0]], *argv)
    answer = json.loads(again[0])
    assert code == 0 and answer["fill"]["applied"] is False and answer["holdings"] == final["holdings"]
    # The holdings are the sum of the fills sent (each once).
    held = dict.fromkeys(PRICES.columns, 0.0)
    for line in LINES:
        if line.startswith('{"fill"'):
            body = json.loads(line)["fill"]
            held[body["symbol"]] += body["quantity"]
    assert answer["holdings"] == pytest.approx(held, rel=1e-12, abs=1e-9)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"fill": {"symbol": "ADA", "quantity": 1, "price": 0.5}}\n', "fill_id must be given"),
        (_fill("BTC", 1.0, 10.0, "x"), "coin must be one of"),
        (_fill("ADA", 1.0, -0.5, "x"), "price must be"),
        (_fill("ADA", 0.0, 0.5, "x"), "quantity must be"),
        (_fill("ADA", 1.0, 0.5, "x", pair="ADA/ATOM"), "pair must not be given"),
    ],
)
def test_bad_fills_are_one_line_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: Any, tmp_path: Path, line: str, message: str
) -> None:
    spec, state = tmp_path / "book.json", tmp_path / "live.json"
    BOOK.to_json(spec)
    argv = ("--portfolio", str(spec), "--state", str(state), "--coins", ",".join(PRICES.columns))
    code, out, err = _run(monkeypatch, capsys, LINES[0] + LINES[1] + line, *argv)
    assert code == 2 and len(out) == 1 and err.count("\n") == 1 and message in err and "line 3" in err
