"""The live portfolio's holdings, orders and cash from fills, against a simulated exchange and a hand ledger.

A seeded exchange fills the orders of each signal: some in full, some partly, some never
(rejected), some a bar late, some reported twice; the book is saved and reloaded between an
order and its fill. The test keeps its own ledger (net units, average entry price, realized P&L
per coin, fees, funding paid on the units held, cash) and checks the book's holdings, orders and
ledger against it at every bar, and the target units against the backtest, bit for bit.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pairs
from pairs import PairsError, Portfolio, Selection, StateError, Strategy
from pairs.stream import Order, PortfolioStream

PRICES = pairs.load_sample("binance_1h").iloc[:600, :5]
LOTS = {"ADA": 1.0, "BNB": 0.01}
BOOK = Portfolio(
    Strategy(hedge="rolling", window=24, rule={"entry_z": 1.0}),
    Selection(top=2),
    formation=120,
    trading=60,
    lot_size=LOTS,
)
FUNDING = pd.DataFrame(0.0, index=PRICES.index, columns=["ADA", "AVAX"])
FUNDING.iloc[::8] = 1e-4


class HandLedger:
    """Net units, average entry price and realized P&L per coin, fees, funding and cash, by hand."""

    def __init__(self, capital: float, coins: list[str]) -> None:
        self.units = dict.fromkeys(coins, 0.0)
        self.entry = dict.fromkeys(coins, math.nan)
        self.realized = dict.fromkeys(coins, 0.0)
        self.cash = capital
        self.fees = 0.0
        self.funding = 0.0

    def fill(self, coin: str, q: float, p: float, fee: float) -> None:
        u, e = self.units[coin], self.entry[coin]
        if u == 0 or (u > 0) == (q > 0):  # opening or adding: the average of the entry prices
            self.entry[coin] = p if u == 0 else (abs(u) * e + abs(q) * p) / (abs(u) + abs(q))
        else:  # reducing: realize the closed part; a flip opens the rest at p
            closed = min(abs(q), abs(u))
            self.realized[coin] += closed * (p - e) * np.sign(u)
            if abs(q) > abs(u):
                self.entry[coin] = p
            elif abs(u + q) <= 1e-9 * abs(u):
                self.entry[coin] = math.nan
        self.units[coin] = 0.0 if abs(u + q) <= 1e-9 * max(abs(u), abs(q)) else u + q
        self.cash -= q * p + fee
        self.fees += fee

    def pay_funding(self, last: dict[str, float], rates: dict[str, float]) -> None:
        paid = sum(self.units[c] * last[c] * r for c, r in rates.items())
        self.funding += paid
        self.cash -= paid


def _lot_round(units: float, lot: float) -> float:
    return units if lot == 0 else round(units / lot) * lot


def _check_orders(orders: tuple[Order, ...], targets: dict[str, float], held: dict[str, float]) -> None:
    """Per coin: the orders net to target - holding (to the lot); a reducing order is reduce-only;
    a flip is a reduce-only close of the whole holding and an opening order; closes come first."""
    net = dict.fromkeys(targets, 0.0)
    for o in orders:
        assert o.symbol == o.leg and o.quantity > 0
        h = held[o.symbol]
        if o.reduce_only:
            assert h != 0 and (o.side == "sell") == (h > 0) and o.quantity <= abs(h) * (1 + 1e-12)
        elif h != 0 and (o.side == "buy") != (h > 0):  # a flip: the whole holding was closed first
            assert net[o.symbol] == -h
        net[o.symbol] += o.quantity if o.side == "buy" else -o.quantity
    for coin, target in targets.items():
        want = _lot_round(target - held[coin], LOTS.get(coin, 0.0))
        assert net[coin] == pytest.approx(want, rel=1e-9, abs=1e-9 * max(abs(target), 1.0))
    flags = [o.reduce_only for o in orders]
    assert flags == sorted(flags, reverse=True)  # closes first
    assert [o.step for o in orders] == [0 if r else int(any(flags)) for r in flags]


def _exchange_fills(orders, prices, rng, t):
    """The exchange's answer to one bar's orders: (coin, signed quantity, price, fee, fill_id, late)."""
    out = []
    for k, o in enumerate(orders):
        draw = rng.random()
        if draw < 0.15:
            continue  # rejected: never filled
        lot = LOTS.get(o.symbol, 0.0)
        q = o.quantity if draw < 0.6 else o.quantity * rng.uniform(0.2, 0.9)
        q = math.floor(q / lot) * lot if lot else q
        if q <= 0:
            continue
        price = prices[o.symbol] * (1 + rng.uniform(-5e-4, 5e-4))
        signed = q if o.side == "buy" else -q
        out.append((o.symbol, signed, price, 4e-4 * q * price, f"{t}-{k}", draw > 0.85))
    return out


def test_a_simulated_exchange_drives_holdings_orders_and_cash_like_a_hand_ledger(tmp_path: Path) -> None:
    rng = random.Random(11)
    live = BOOK.stream(list(PRICES.columns))
    hand = HandLedger(BOOK.capital, list(PRICES.columns))
    result = BOOK.backtest(PRICES, funding=FUNDING)
    late: list[tuple] = []
    last: dict[str, float] = {}
    n_fills = n_resent = n_restarts = n_partial = 0
    for t, (ts, row) in enumerate(PRICES.iterrows()):
        rates = FUNDING.loc[ts].to_dict()
        if last:
            hand.pay_funding(last, rates)
        signal = live.update(row, ts, funding=rates)
        last = row.to_dict()
        # The target units are the backtest's, whatever was filled.
        assert [signal.units[c] for c in PRICES.columns] == result.units.iloc[t].tolist()
        assert signal.holdings == hand.units
        _check_orders(signal.order_list, signal.units, hand.units)
        if t % 50 == 7 and signal.order_list:  # a restart between the orders and their fills
            live.save(tmp_path / "live.json")
            live = PortfolioStream.load(tmp_path / "live.json")
            n_restarts += 1
        for coin, q, p, fee, fid, _ in late:  # last bar's delayed fills arrive now
            assert live.fill(coin, q, p, fee=fee, fill_id=fid)
            hand.fill(coin, q, p, fee)
        late = []
        for fill in _exchange_fills(signal.order_list, last, rng, t):
            coin, q, p, fee, fid, delayed = fill
            n_partial += abs(q) < next(o.quantity for o in signal.order_list if o.symbol == coin)
            if delayed:
                late.append(fill)
                continue
            assert live.fill(coin, q, p, fee=fee, fill_id=fid, timestamp=ts)
            hand.fill(coin, q, p, fee)
            n_fills += 1
            if n_fills % 5 == 0:  # the router re-sends a fill it is unsure of: not applied again
                assert not live.fill(coin, q, p, fee=fee, fill_id=fid)
                n_resent += 1
        assert live.holdings == pytest.approx(hand.units, rel=1e-12, abs=1e-9)
        _check_orders(live.orders(), signal.units, live.holdings)
        book = live.ledger()
        assert book["cash"] == pytest.approx(hand.cash, rel=1e-12)
        assert book["fees"] == pytest.approx(hand.fees, rel=1e-12)
        assert book["funding"] == pytest.approx(hand.funding, rel=1e-12, abs=1e-12)
        for c in PRICES.columns:
            assert book["realized"][c] == pytest.approx(hand.realized[c], rel=1e-9, abs=1e-6)
            e = book["entry_price"][c]
            assert (e is None) == math.isnan(hand.entry[c]) and (
                e is None or e == pytest.approx(hand.entry[c])
            )
        # The accounting identity: equity = capital + realized + unrealized - fees - funding.
        unrealized = sum(hand.units[c] * (last[c] - hand.entry[c]) for c in PRICES.columns if hand.units[c])
        identity = BOOK.capital + sum(hand.realized.values()) + unrealized - hand.fees - hand.funding
        assert book["equity"] == pytest.approx(identity, rel=1e-9)
    assert n_fills > 50 and n_resent > 5 and n_restarts >= 2 and n_partial > 10
    assert hand.funding != 0 and all(hand.realized.values())


def test_without_fills_the_orders_ask_for_the_whole_target() -> None:
    live = BOOK.stream(list(PRICES.columns))
    held = 0
    for ts, row in PRICES.iloc[:300].iterrows():
        signal = live.update(row, ts)
        held += any(signal.units.values())
        assert signal.holdings == dict.fromkeys(PRICES.columns, 0.0)
        expected = [(c, u) for c, u in signal.units.items() if _lot_round(u, LOTS.get(c, 0.0)) != 0]
        assert [(o.symbol, o.quantity if o.side == "buy" else -o.quantity) for o in signal.order_list] == [
            (c, pytest.approx(_lot_round(u, LOTS.get(c, 0.0)), rel=1e-12)) for c, u in expected
        ]
        assert all(not o.reduce_only and o.step == 0 for o in signal.order_list)
    assert held > 20


STATES = Path(__file__).parent.parent / "fixtures" / "state"


def test_a_version_1_state_loads_holding_its_targets() -> None:
    # A version-2 file of the previous code (tests/fixtures/state/record.py) without its fills:
    # what a version-1 file held. Its holdings are its targets.
    doc = json.loads((STATES / "portfolio.json").read_text())
    old = json.loads((STATES / doc["file"]).read_text())
    del old["fills"]
    old["version"] = 1
    loaded = PortfolioStream.from_state(old)
    held = dict(zip(old["coins"], old["account"]["held"], strict=True))
    assert loaded.holdings == held and loaded.orders() == ()
    ledger = loaded.ledger()
    # Its cash: the cash after the last order less the funding paid since (running sums).
    since = np.subtract(old["fund_now"], old["account"]["fund_last"])
    assert ledger["cash"] == pytest.approx(
        old["account"]["cash"] - np.dot(old["account"]["held"], since), rel=1e-12
    )
    assert set(ledger["entry_price"].values()) == {None}  # unknown until the next bar
    ts, row, rate = doc["bars"][0]
    assert loaded.update(row, ts, funding=rate).units == pytest.approx(doc["expected"][0]["units"], rel=1e-12)
    assert {c: loaded.ledger()["entry_price"][c] for c, u in held.items() if u} == {
        c: row[c] for c, u in held.items() if u
    }


def test_a_version_2_state_of_the_previous_code_goes_on_as_it_did() -> None:
    # Recorded by the code before the fill models (commit ea73f17): the loaded book's next 170
    # bars (a window boundary and a new selection among them) against what that code returned.
    # Its cash was kept as running sums of funding; now it is paid bar by bar: equal to rounding.
    doc = json.loads((STATES / "portfolio.json").read_text())
    live = PortfolioStream.load(STATES / doc["file"])
    for (ts, row, rate), want in zip(doc["bars"], doc["expected"], strict=True):
        signal = live.update(row, ts, funding=rate)
        assert signal.units == pytest.approx(want["units"], rel=1e-12, abs=1e-12)
        assert signal.equity == pytest.approx(want["equity"], rel=1e-12)
        assert signal.cash == pytest.approx(want["cash"], rel=1e-12)
    assert sum(any(e["units"].values()) for e in doc["expected"]) > 50  # it traded


def test_bad_fills_are_refused_naming_the_argument() -> None:
    live = BOOK.stream(list(PRICES.columns))
    cases = [
        (("BTC", 1.0, 10.0), {}, "coin"),
        ((3, 1.0, 10.0), {}, "coin"),
        (("ADA", 1.0, 0.0), {}, "price"),
        (("ADA", 1.0, -2.0), {}, "price"),
        (("ADA", 0.0, 1.0), {}, "quantity"),
        (("ADA", 1.0, 1.0), {"fee": -1.0}, "fee"),
        (("ADA", 1.0, 1.0), {"fill_id": 1.5}, "fill_id"),
    ]
    for args, kwargs, name in cases:
        with pytest.raises(PairsError, match=f"^{name} must"):
            live.fill(*args, **kwargs)
    assert live.holdings == dict.fromkeys(PRICES.columns, 0.0) and live.ledger()["cash"] == BOOK.capital
    state = live.state_dict()
    state["fills"]["legs"]["units"] = [0.0, 1.0]
    with pytest.raises(StateError, match="units"):
        PortfolioStream.from_state(state)


def test_fill_ids_are_remembered_up_to_1024_across_a_restart(tmp_path: Path) -> None:
    live = BOOK.stream(list(PRICES.columns))
    for i in range(1030):
        assert live.fill("ATOM", 1.0 if i % 2 else -1.0, 10.0, fill_id=i)
    live.save(tmp_path / "live.json")
    live = PortfolioStream.load(tmp_path / "live.json")
    assert not live.fill("ATOM", 1.0, 10.0, fill_id=1029) and not live.fill("ATOM", 1.0, 10.0, fill_id=6)
    assert live.fill("ATOM", -1.0, 10.0, fill_id=5)  # the 1025th newest: forgotten, applied again
    assert live.holdings["ATOM"] == -1.0 and len(live.state_dict()["fills"]["legs"]["fill_ids"]) == 1024
