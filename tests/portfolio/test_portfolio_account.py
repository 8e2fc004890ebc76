"""The portfolio's account, bar by bar, against hand computations with the exchange's formulas.

Each example runs the compiled account (:class:`pairs.evaluation._book_account.Account`, the one
the backtest and the live book share) on a few bars of hand-made prices and target units, with
the settings of a :class:`pairs.Portfolio`, and checks its cash, units, costs and events against
the arithmetic written out here: Binance USDⓈ-M formulas at the first tier (maintenance margin
``r |u| p``; cross: liquidated when the equity falls below the book's maintenance margin;
isolated: when a coin's margin ``|u| EP / leverage`` plus its P&L falls below its own).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pairs import Portfolio, Strategy
from pairs.evaluation._book_account import FLOWS, Account, account_settings

COINS = ["A", "B"]
CASH, EQUITY, SCALE = FLOWS.index("cash"), FLOWS.index("equity"), FLOWS.index("scale")


def _run(book: Portfolio, close, target, *, fill=None, rates=None, coins=COINS, ppy=365.0):
    close = np.asarray(close, dtype=float)
    target = np.asarray(target, dtype=float)
    account = Account(book.capital, len(coins), account_settings(book, coins, ppy))
    out = account.run(
        close,
        close if fill is None else np.asarray(fill, dtype=float),
        target,
        np.zeros_like(close) if rates is None else np.asarray(rates, dtype=float),
        close[0],
        np.zeros(len(coins)),
    )
    return out.units, out.costs, out.flows, out.events


def test_cross_liquidation_at_the_exchange_formula():
    book = Portfolio(capital=1000.0, leverage=10.0, fee_bps=10)
    close = [[1000.0, 50.0], [900.0, 50.0], [810.0, 50.0], [800.0, 50.0], [790.0, 50.0]]
    target = [[5.0, 0.0]] * 5
    units, costs, flows, events = _run(book, close, target)
    fee0 = 0.001 * 5 * 1000  # taker fee of the opening order
    # equity_t = 1000 - fee0 + 5 (p_t - 1000); maintenance 0.004 * 5 * p_t.
    for t, p in enumerate([1000.0, 900.0, 810.0]):
        assert flows[t, EQUITY] == pytest.approx(1000 - fee0 + 5 * (p - 1000), rel=1e-12)
        assert flows[t, EQUITY] >= 0.004 * 5 * p and units[t, 0] == 5.0
    # At 800: equity 1000 - 5 - 1000 = -5 < 0.004 * 5 * 800 = 16: closed at the close, as a taker.
    assert units[3, 0] == 0.0
    assert costs[3, 0] == pytest.approx(0.001 * 5 * 800, rel=1e-12)
    assert flows[3, CASH] == pytest.approx(1000 - 5 * 1000 - fee0 + 5 * 800 - 0.001 * 5 * 800, rel=1e-12)
    assert ("liquidation", 0) in {(e[1], e[2]) for e in events if e[0] == 3}
    # Blocked: the unchanged target is not traded again.
    assert units[4, 0] == 0.0 and costs[4].sum() == 0.0


def test_isolated_liquidates_one_coin_where_cross_keeps_both():
    close = [[1000.0, 100.0], [900.0, 100.0], [900.0, 100.0]]
    target = [[5.0, -20.0]] * 3
    iso = Portfolio(Strategy(fee_bps=0), capital=2000.0, leverage=10.0, margin="isolated")
    cross = iso.replace(margin="cross")
    units, _, flows, events = _run(iso, close, target)
    # A's isolated margin: |u| EP / leverage = 5 * 1000 / 10 = 500; at 900 its margin plus P&L
    # 500 + 5 (900 - 1000) = 0 < 0.004 * 5 * 900 = 18: liquidated. B (margin 200, no P&L) is not.
    assert units[1].tolist() == [0.0, -20.0]
    assert [(e[0], e[1], e[2]) for e in events if e[1] == "liquidation"] == [(1, "liquidation", 0)]
    assert flows[1, EQUITY] == pytest.approx(2000 + 5 * (900 - 1000), rel=1e-12)
    # Cross: the whole equity 2000 - 500 = 1500 backs maintenance 0.004 (5*900 + 20*100) = 26.
    units_c, _, flows_c, events_c = _run(cross, close, target)
    assert units_c[1].tolist() == [5.0, -20.0] and not [e for e in events_c if e[1] == "liquidation"]
    assert flows_c[1, EQUITY] == pytest.approx(1500.0, rel=1e-12)


def test_an_order_below_the_minimum_notional_is_not_sent_but_a_close_is():
    book = Portfolio(capital=10_000.0, min_notional={"A": 5.0}, fee_bps=0)
    close = [[100.0, 10.0]] * 4
    target = [[10.0, 0.0], [10.04, 0.0], [10.1, 0.0], [0.0, 0.0]]
    units, _, _, events = _run(book, close, target)
    # 0.04 units * 100 = 4 < 5: not sent (kept at 10); 0.1 * 100 = 10 >= 5: sent; closing: sent.
    assert units[:, 0].tolist() == [10.0, 10.0, 10.1, 0.0]
    assert [(e[0], e[1], e[2]) for e in events] == [(1, "below_min_notional", 0)]
    assert events[0][3] == pytest.approx(0.04, rel=1e-9) and events[0][4] == 0.0


def test_spot_longs_are_paid_in_cash_and_a_spot_short_pays_interest():
    book = Portfolio(
        Strategy(fee_bps=10),
        capital=1000.0,
        leverage=3.0,
        market={"A": "spot", "B": "spot"},
        borrow_rate={"B": 0.365},
    )
    close = [[100.0, 10.0], [100.0, 10.0], [100.0, 11.0]]
    target = [[20.0, 0.0], [20.0, -50.0], [20.0, -50.0]]
    units, _, flows, events = _run(book, close, target, ppy=365.0)
    # A long of 2,000 on 1,000 of equity: cut so that the coins bought are worth the equity
    # after the fee: s * 2000 = 1000 - 0.001 * s * 2000 -> s = 1000 / 2002.
    s = 1000.0 / (2000.0 * (1 + 0.001))
    assert flows[0, SCALE] == pytest.approx(s, rel=1e-12)
    assert units[0, 0] == pytest.approx(20 * s, rel=1e-12)
    assert units[0, 0] * 100 <= flows[0, EQUITY] * (1 + 1e-12)
    assert [e[1] for e in events if e[0] == 0] == ["scaled"]
    # Bar 1 cuts the whole book again (A's long still needs the cash); B's short, held into bar
    # 2 at 10, pays 0.365 / 365 a bar of its value.
    assert units[1, 1] < 0
    assert flows[2, FLOWS.index("borrow")] == pytest.approx(-units[1, 1] * 10 * 0.365 / 365, rel=1e-12)
    assert flows[2, FLOWS.index("funding")] == 0.0  # spot coins pay no funding


def test_a_maker_rebate_is_received_and_a_short_receives_positive_funding():
    book = Portfolio(Strategy(fee_bps=5, maker_fee_bps=-1, maker_share=1.0), capital=1000.0)
    close = [[100.0, 10.0], [100.0, 10.0]]
    target = [[0.0, -50.0], [0.0, -50.0]]
    rates = [[0.0, 0.0], [0.0, 1e-4]]
    _, costs, flows, _ = _run(book, close, target, rates=rates)
    rebate = 1e-4 * 50 * 10
    assert flows[0, FLOWS.index("rebates")] == pytest.approx(rebate, rel=1e-12)
    assert flows[0, FLOWS.index("fees")] == 0.0 and costs[0, 1] == pytest.approx(-rebate, rel=1e-12)
    assert flows[0, CASH] == pytest.approx(1000 + 500 + rebate, rel=1e-12)
    # The short pays -50 * 10 * 1e-4 = -0.05: it receives 0.05.
    assert flows[1, FLOWS.index("funding")] == pytest.approx(-0.05, rel=1e-12)
    assert flows[1, CASH] == pytest.approx(1000 + 500 + rebate + 0.05, rel=1e-12)


def test_a_margin_call_is_recorded_once_when_a_loss_leaves_the_book_above_its_cap():
    book = Portfolio(Strategy(fee_bps=0), capital=1000.0, leverage=1.0)
    close = [[100.0, 10.0], [95.0, 10.0], [90.0, 10.0], [100.0, 10.0]]
    target = [[10.0, 0.0]] * 4
    _, _, flows, events = _run(book, close, target)
    # 10 units at 100 = the cap; at 95: gross 950 > equity 950? equal; at 90: gross 900 > 900? no.
    # A long on its own equity never exceeds leverage 1: no call. With a short against it, it does.
    assert not [e for e in events if e[1] == "margin_call"]
    close = [[100.0, 100.0], [100.0, 110.0], [100.0, 120.0], [100.0, 100.0]]
    target = [[5.0, -5.0]] * 4
    _, _, flows, events = _run(book, close, target)
    # Bar 1: gross 500 + 550 = 1050, equity 1000 - 50 = 950 < 1050: a call; bar 2 still (no new
    # event); bar 3 back under the cap.
    assert [(e[0], e[1]) for e in events if e[1] == "margin_call"] == [(1, "margin_call")]
    assert flows[1, EQUITY] == pytest.approx(950.0, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0.5, 2.0), min_size=8, max_size=8),
    st.lists(st.floats(0.5, 2.0), min_size=8, max_size=8),
    st.lists(st.sampled_from([-30.0, -10.0, 0.0, 5.0, 12.0, 40.0]), min_size=16, max_size=16),
    st.floats(0.2, 5.0),
    st.sampled_from([0.0, 10.0, 100.0]),
    st.booleans(),
)
def test_gross_exposure_never_exceeds_the_cap_after_an_order(move_a, move_b, sizes, leverage, fee, spot):
    book = Portfolio(
        Strategy(fee_bps=fee, slippage_bps=5),
        capital=1000.0,
        leverage=leverage,
        market="spot" if spot else "perp",
    )
    close = np.column_stack([100 * np.cumprod(move_a), 10 * np.cumprod(move_b)])
    target = np.array(sizes, dtype=float).reshape(8, 2) * np.array([1.0, 10.0])
    units, _, flows, events = _run(book, close, target)
    prev = np.zeros(2)
    for t in range(8):
        moved = (target[t] != (target[t - 1] if t else 0.0)).any()
        liquidated = any(e[0] == t and e[1] == "liquidation" for e in events)
        if moved and not liquidated and flows[t, EQUITY] > 0:
            gross = float(np.abs(units[t]) @ close[t])
            assert gross <= leverage * flows[t, EQUITY] * (1 + 1e-9) + 1e-9
            if spot:
                assert float(np.maximum(units[t], 0) @ close[t]) <= flows[t, EQUITY] * (1 + 1e-9) + 1e-9
        prev = units[t]
    assert prev.shape == (2,)


def test_liquidation_prices_are_where_the_margin_runs_out():
    # Cross: leg i's price P solves E + u_i (P - p_i) = M_-i + r |u_i| P (the other prices fixed);
    # at that price the account is exactly at maintenance. Isolated: m_i + u_i (P - EP_i) = r |u_i| P.
    close = np.array([[1000.0, 100.0], [950.0, 104.0]])
    target = np.array([[5.0, -20.0]] * 2)
    for margin in ("cross", "isolated"):
        book = Portfolio(Strategy(fee_bps=10), capital=2000.0, leverage=5.0, margin=margin)
        account = Account(book.capital, 2, account_settings(book, COINS, 365.0))
        out = account.run(close, close, target, np.zeros_like(close), close[0], np.zeros(2))
        u, c = out.units[1], close[1]
        equity = out.flows[1, EQUITY]
        for i in range(2):
            price = out.liquidation[1, i]
            assert np.isfinite(price) and price > 0
            moved = c.copy()
            moved[i] = price
            if margin == "cross":
                at = equity + u[i] * (price - c[i])
                maintenance = 0.004 * float(np.abs(u) @ moved)
            else:
                entry = close[0, i]  # filled at the close of bar 0, its isolated margin |u| EP / 5
                at = abs(u[i]) * entry / 5.0 + u[i] * (price - entry)
                maintenance = 0.004 * abs(u[i]) * price
            assert at == pytest.approx(maintenance, rel=1e-9, abs=1e-9)
