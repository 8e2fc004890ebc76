"""Fills on ``pairs signal --follow``: ``{"fill": ...}`` lines on stdin, exactly once with ``--state``.

* In-process: a fill is acknowledged with the holdings, P&L and orders after it; the next
  signal's orders are computed from those holdings; a re-sent last fill re-emits its line, an
  older re-sent fill is acknowledged with ``"applied": false``; a fill without ``fill_id`` under
  ``--state`` and a fill of an unknown symbol stop with exit code 2.
* kill -9 soak (slow): a script of bars and the fills of a simulated exchange (partial fills,
  rejections, re-sent fills) is fed to follow processes that are SIGKILLed at random phases
  (before a bar or a fill is applied, inside the atomic save, after the save, after the line is
  written, or from outside). After each kill the client re-sends the first record whose line it
  did not read. The lines received equal the uninterrupted run's, the final state equals the
  uninterrupted state, and the holdings and P&L equal a hand ledger: no fill applied twice or lost.
"""

from __future__ import annotations

import functools
import io
import json
import os
import random
import sys
from pathlib import Path
from typing import Any

import pytest

import pairs.cli._follow as follow_module
from pairs import Strategy, StreamEngine, load_sample
from pairs.cli._main import main

OPTIONS = [
    "--log",
    "--hedge",
    "rolling",
    "--window",
    "30",
    "--zscore-window",
    "20",
    "--entry-z",
    "1.0",
    "--capital",
    "10000",
    "--lot-size",
    "0.01",
    "0.001",
    "--symbols",
    "ETH",
    "BTC",
]
STRATEGY = Strategy(
    hedge="rolling",
    window=30,
    zscore_window=20,
    log_prices=True,
    rule={"entry_z": 1.0},
    capital=10_000.0,
    lot_size=(0.01, 0.001),
)
LOTS = {"ETH": 0.01, "BTC": 0.001}


def _run(
    lines: list[str], argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> tuple[int, list[str]]:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("".join(lines).encode()), encoding="utf-8"))
    code = main(["signal", "--follow", *argv])
    return code, capsys.readouterr().out.splitlines()


def _fill_line(symbol: str, quantity: float, price: float, fee: float, fill_id: str) -> str:
    body = {"symbol": symbol, "quantity": quantity, "price": price, "fee": fee, "fill_id": fill_id}
    return json.dumps({"fill": body}) + "\n"


def test_fills_move_holdings_and_the_next_orders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "engine.json"
    argv = ["--capital", "1000", "--hedge", "ols", "--beta", "1", "--zscore-window", "3", "--entry-z", "1"]
    argv += ["--symbols", "ETH", "BTC", "--state", str(state)]
    fill = _fill_line("ETH", 2.0, 99.0, 0.1, "e1")
    lines = ["1,100,100\n", "2,100.5,100\n", "3,99,100\n", fill, fill, "4,98.8,100\n"]
    code, out = _run(lines, argv, monkeypatch, capsys)
    assert code == 0 and len(out) == 6
    entry = json.loads(out[2])
    units = 1000.0 / 199.0
    assert entry["action"] == "enter_long"
    assert [(o["symbol"], o["side"], o["quantity"]) for o in entry["orders"]] == [
        ("ETH", "buy", pytest.approx(units)),
        ("BTC", "sell", pytest.approx(units)),
    ]
    ack = json.loads(out[3])
    assert ack["fill"] == {"fill_id": "e1", "symbol": "ETH", "applied": True}
    assert ack["holdings"] == {"ETH": 2.0, "BTC": 0.0} and ack["pnl"] == pytest.approx(-0.1)
    assert out[4] == out[3]  # the last record re-sent: its line again, not applied again
    after = json.loads(out[5])
    assert [(o["symbol"], o["side"], o["quantity"]) for o in after["orders"]] == [
        ("ETH", "buy", pytest.approx(units - 2.0)),
        ("BTC", "sell", pytest.approx(units)),
    ]
    # A later run on the same state: an older fill re-sent is acknowledged, not applied.
    code, out = _run([fill], argv, monkeypatch, capsys)
    assert code == 0 and json.loads(out[0])["fill"]["applied"] is False
    assert StreamEngine.load(state).holdings == {"ETH": 2.0, "BTC": 0.0}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"fill": {"symbol": "ETH", "quantity": 1, "price": 10}}\n', "fill_id must be given with --state"),
        ('{"fill": {"symbol": "SOL", "quantity": 1, "price": 10, "fill_id": 1}}\n', "symbol must be one of"),
        ('{"fill": {"symbol": "ETH", "quantity": "1", "price": 10}}\n', "quantity must be a number"),
        ('{"fill": {"symbol": "ETH", "price": 10}}\n', "fill must be a JSON object"),
    ],
)
def test_bad_fills_stop_with_one_line(
    line: str,
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--capital", "1000", "--symbols", "ETH", "BTC", "--state", str(tmp_path / "s.json")]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(line.encode()), encoding="utf-8"))
    assert main(["signal", "--follow", *argv]) == 2
    err = capsys.readouterr().err
    assert "stdin line 1" in err and message in err


# ----------------------------------------------------------------- the kill -9 soak
N_BARS = 160
MIN_KILLS = 60
PHASES = ("before_update", "before_fill", "in_save", "after_save", "after_emit", "outside")
# The functions killed before their call in the phases of their own (forking.install).
KILL_HOOKS = {"before_update": (StreamEngine, "update"), "before_fill": (StreamEngine, "fill")}


def _script() -> tuple[list[str], dict[str, float], float]:
    """Bars and the fills a simulated exchange gives their orders; the hand ledger's holdings and P&L.

    Of each bar's orders some are rejected, some filled in part, and some filled only after the
    next bar has been sent (a delay: that bar's orders still ask for them).
    """
    prices = load_sample("binance_1d")[["ETH", "BTC"]].dropna().iloc[-N_BARS:]
    engine = StreamEngine(STRATEGY, symbols=("ETH", "BTC"))
    rng = random.Random(5)
    lines: list[str] = []
    units = {"ETH": 0.0, "BTC": 0.0}
    cash, count, delayed = 0.0, 0, 0
    sent: list[str] = []
    late: list[tuple[str, float, float, float, str]] = []

    def apply(symbol: str, signed: float, price: float, fee: float, fill_id: str) -> None:
        nonlocal cash
        assert engine.fill(symbol, signed, price, fee=fee, fill_id=fill_id)
        units[symbol] += signed
        cash -= signed * price + fee
        lines.append(_fill_line(symbol, signed, price, fee, fill_id))
        sent.append(lines[-1])

    for t, (ts, row) in enumerate(prices.iterrows()):
        bar = {"ETH": float(row["ETH"]), "BTC": float(row["BTC"])}
        lines.append(f"{ts.isoformat()},{bar['ETH']!r},{bar['BTC']!r}\n")
        orders = engine.update(bar["ETH"], bar["BTC"], ts).orders
        for fill in late:  # the previous bar's delayed fills, after this bar
            apply(*fill)
        late = []
        for order in orders:
            luck = rng.random()
            if luck < 0.2:
                continue  # rejected
            quantity = order.quantity
            if luck < 0.5:
                quantity = round(max(1, int(quantity / LOTS[order.symbol] * 0.5)) * LOTS[order.symbol], 8)
            signed = quantity if order.side == "buy" else -quantity
            count += 1
            fill = (
                order.symbol,
                signed,
                bar[order.symbol],
                round(quantity * bar[order.symbol] * 0.001, 8),
                f"x{count}",
            )
            if luck > 0.85:
                late.append(fill)
                delayed += 1
            else:
                apply(*fill)
        if sent and t % 15 == 0:
            lines.append(rng.choice(sent))  # a fill re-sent by the router: acknowledged, not applied
    for fill in late:
        apply(*fill)
    pnl = cash + sum(u * float(prices[s].iloc[-1]) for s, u in units.items())
    assert count >= 20 and delayed >= 3
    return lines, units, pnl


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_kill_9_soak_applies_every_fill_exactly_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], forking: Any
) -> None:
    lines, units, pnl = _script()
    code, reference = _run(
        lines, [*OPTIONS, "--state", str(tmp_path / "reference.json")], monkeypatch, capsys
    )
    assert code == 0 and len(reference) == len(lines)
    acks = [json.loads(r) for r in reference if r.startswith('{"fill"')]
    assert sum(not a["fill"]["applied"] for a in acks) >= 5
    assert acks[-1]["holdings"] == pytest.approx(units, abs=1e-9)
    assert acks[-1]["pnl"] == pytest.approx(pnl, abs=1e-6)
    reference = [r + "\n" for r in reference]
    folder = tmp_path / "live"
    folder.mkdir()
    state = folder / "engine.json"
    argv = ["signal", "--follow", *OPTIONS, "--state", str(state)]

    def loads() -> None:
        if state.exists():
            StreamEngine.load(state)

    delivered, _ = forking.soak(
        argv,
        functools.partial(forking.install, follow=follow_module, hooks=KILL_HOOKS),
        lines,
        phases=PHASES,
        min_kills=MIN_KILLS,
        seed=17,
        k_max=4,
        after_life=loads,
    )
    assert delivered == reference
    final = StreamEngine.load(state)
    assert final.state_dict() == StreamEngine.load(tmp_path / "reference.json").state_dict()
    assert final.holdings == pytest.approx(units, abs=1e-9)


def test_book_fills_are_per_pair_and_delivered_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    book = tmp_path / "book.state"
    argv = ["--book", str(book), "--pairs", "ETH/BTC,SOL/BTC", "--hedge", "ols", "--beta", "1"]
    argv += ["--zscore-window", "3", "--entry-z", "1", "--capital", "1000", "--all"]
    fill = '{"fill": {"pair": "ETH/BTC", "symbol": "ETH", "quantity": 2.0, "price": 99.0, "fill_id": "e1"}}\n'
    lines = ["timestamp,ETH,BTC,SOL\n", "1,100,100,50\n", "2,100.5,100,51\n", "3,99,100,52\n", fill]
    code, out = _run(lines, argv, monkeypatch, capsys)
    assert code == 0 and len(out) == 4
    ack = json.loads(out[3])
    assert ack["fill"] == {"fill_id": "e1", "pair": "ETH/BTC", "symbol": "ETH", "applied": True}
    assert ack["holdings"] == {"ETH": 2.0, "BTC": 0.0}
    units = 1000.0 / 199.0
    assert [(o["symbol"], o["quantity"]) for o in ack["orders"]] == [
        ("ETH", pytest.approx(units - 2.0)),
        ("BTC", pytest.approx(units)),
    ]
    # Restart: the last fill re-sent (without its pair: ETH is traded by one pair) re-emits its
    # line; then the next bar's orders are computed from the holdings.
    same = '{"fill": {"symbol": "ETH", "quantity": 2.0, "price": 99.0, "fill_id": "e1"}}\n'
    code, again = _run(
        ["timestamp,ETH,BTC,SOL\n", same, "4,98.8,100,53\n"], [*argv[:2], "--all"], monkeypatch, capsys
    )
    assert code == 0 and again[0] == out[3]
    orders = json.loads(again[1])["signals"]["ETH/BTC"]["orders"]
    assert [(o["symbol"], o["quantity"]) for o in orders] == [
        ("ETH", pytest.approx(units - 2.0)),
        ("BTC", pytest.approx(units)),
    ]
    # BTC is traded by both pairs: a fill of it must name its pair.
    btc = '{"fill": {"symbol": "BTC", "quantity": -1.0, "price": 100.0, "fill_id": "b1"}}\n'
    code, _ = _run([btc], argv[:2], monkeypatch, capsys)
    assert code == 2
