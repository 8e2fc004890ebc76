"""The portfolio's fill models end to end: against vectorbt, the live book bit for bit, the lag rule.

Real hourly closes (the bundled Binance universe); the opens are the previous close moved by a
seeded 0.2% noise (the sample keeps closes only), which is all a fill model needs.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import pairs
from pairs import DataError, PairsError, Portfolio, Selection, Strategy

CAPITAL = 10_000.0
PRICES = pairs.load_sample("binance_1h").iloc[:1500, :6]
OPENS = (PRICES.shift(1) * np.exp(np.random.default_rng(7).normal(0, 0.002, PRICES.shape))).fillna(PRICES)
RULE = {"entry_z": 1.5}


def _book(**strategy) -> Portfolio:
    return Portfolio(
        Strategy(hedge="rolling", window=48, rule=RULE, **strategy),
        Selection(top=3, log=True),
        formation=240,
        trading=168,
        capital=CAPITAL,
    )


def test_next_open_with_maker_fees_and_price_slippage_equals_vectorbt():
    vbt = pytest.importorskip("vectorbt")
    book = _book(
        fill="next_open", fee_bps=10, maker_fee_bps=2, maker_share=0.5, slippage_bps=5, slippage_model="price"
    )
    res = book.backtest(PRICES, opens=OPENS)
    assert res.costs["rebates"].sum() == 0.0 and res.costs["fees"].sum() > 0 and len(res.trades) > 10
    close = PRICES.ffill().fillna(1.0)
    pf = vbt.Portfolio.from_orders(
        close,
        res.orders.where(res.orders != 0),
        size_type="amount",
        direction="both",
        price=OPENS.where(OPENS.notna(), close),
        fees=0.5 * 10e-4 + 0.5 * 2e-4,  # the maker/taker blend, on the price moved by the slippage
        slippage=5e-4,
        init_cash=CAPITAL,
        cash_sharing=True,
        group_by=True,
        freq="1h",
    )
    np.testing.assert_allclose(pf.value().to_numpy(), res.equity.to_numpy(), rtol=0, atol=1e-7 * CAPITAL)
    assert "next_open" in str(res.summary())


def test_orders_decided_at_a_bar_fill_lag_bars_later():
    # With fills a bar later, the live book's targets of bar t are the account's units at t + 1
    # wherever the cap does not bind (scale 1): the orders a bot sends after a close.
    book = _book(fill="next_close", fee_bps=0)
    live = book.stream(list(PRICES.columns))
    signals = [live.update(row, ts) for ts, row in PRICES.iloc[:900].iterrows()]
    checked = 0
    for before, after in itertools.pairwise(signals):
        if after.scale == 1.0:
            assert after.units == before.targets
            checked += any(before.targets.values())
    assert checked > 100
    # And the lag of 3 bars: the units of bar t + 3 are those decided at t.
    res3 = _book(fill=3, fee_bps=0).backtest(PRICES)
    lag0 = _book(fee_bps=0).backtest(PRICES)
    entered = (lag0.positions != 0).any(axis=1).to_numpy()
    first = int(np.flatnonzero(entered)[0])
    assert not res3.units.iloc[: first + 3].to_numpy().any() and res3.units.iloc[first + 3].to_numpy().any()


@pytest.mark.parametrize(
    "options",
    [
        {"portfolio": {}, "strategy": {"fill": "next_open", "slippage_bps": 3, "slippage_model": "price"}},
        {"portfolio": {}, "strategy": {"fill": 2, "maker_fee_bps": -1, "maker_share": 0.4}},
        {"portfolio": {"leverage": 4.0, "margin": "isolated", "min_notional": 150.0}, "strategy": {}},
        {"portfolio": {"market": {"ADA": "spot", "ATOM": "spot"}, "borrow_rate": 0.2}, "strategy": {}},
        {
            "portfolio": {"leverage": 25.0, "maintenance_margin": 0.03, "lot_size": {"ADA": 1.0}},
            "strategy": {},
        },
    ],
    ids=["next-open-price-slippage", "lag-2-rebate", "isolated-min-notional", "spot-borrow", "liquidations"],
)
def test_the_live_book_replays_every_fill_model_bit_for_bit(options, tmp_path):
    book = _book(**options["strategy"]).replace(**options["portfolio"])
    at_open = book.fill_lag[1]
    funding = pd.DataFrame(0.0, index=PRICES.index, columns=list(PRICES.columns[:3]))
    funding.iloc[::8] = 2e-4
    result = book.backtest(PRICES, funding=funding, opens=OPENS if at_open else None)
    live = book.stream(list(PRICES.columns), bar="1h")
    units, equity, events = [], [], []
    for t, (ts, row) in enumerate(PRICES.iterrows()):
        if t == 777:
            live.save(tmp_path / "book.json")
            live = pairs.PortfolioStream.load(tmp_path / "book.json")
        opens = OPENS.loc[ts].to_dict() if at_open else None
        signal = live.update(row, ts, funding=funding.loc[ts].to_dict(), opens=opens)
        units.append([signal.units[c] for c in PRICES.columns])
        equity.append(signal.equity)
        events.extend((ts, *e) for e in signal.events)
    np.testing.assert_array_equal(np.array(units), result.units.to_numpy())
    np.testing.assert_array_equal(np.array(equity), result.equity.to_numpy())
    expected = [(r.time, r.kind, r.coin, r.asked, r.filled) for r in result.events.itertuples(index=False)]
    assert events == expected
    assert result.contributions.sum() == pytest.approx(result.equity.iloc[-1] - CAPITAL, abs=1e-9 * CAPITAL)


def test_liquidations_and_skipped_orders_show_in_the_result():
    book = _book().replace(leverage=25.0, maintenance_margin=0.03, min_notional=400.0)
    res = book.backtest(PRICES)
    kinds = set(res.events["kind"])
    assert {"liquidation", "below_min_notional"} <= kinds
    assert dict(res._summary_rows())["liquidations"] == int((res.events["kind"] == "liquidation").sum())
    # The account's own units beyond its pairs' (liquidated, not sent) are attributed apart.
    assert "(unallocated)" in res.contributions.index
    assert res.contributions.sum() == pytest.approx(res.equity.iloc[-1] - CAPITAL, abs=1e-9 * CAPITAL)
    # The report page counts them by kind and coin.
    from pairs.report import portfolio_report

    tables = [obj for kind, obj in portfolio_report(res) if kind == "table" and isinstance(obj, pd.DataFrame)]
    counts = next(t for t in tables if "kind" in t.columns)
    assert counts["bars"].sum() == len(res.events)
    assert set(counts["kind"]) == kinds


def test_bad_execution_settings_are_refused_naming_the_argument():
    with pytest.raises(PairsError, match="opens must be given"):
        _book(fill="next_open").backtest(PRICES)
    with pytest.raises(PairsError, match="opens must be None"):
        _book().backtest(PRICES, opens=OPENS)
    with pytest.raises(DataError, match="opens must have the prices' index"):
        _book(fill="next_open").backtest(PRICES, opens=OPENS.iloc[:, :4])
    with pytest.raises(PairsError, match="strategy must keep"):
        Portfolio(Strategy(min_notional=(5.0, 5.0)))
    with pytest.raises(PairsError, match="strategy must keep"):
        Portfolio(Strategy(leverage=2.0))
    for name, value in [
        ("margin", "both"),
        ("market", "futures"),
        ("market", {"BTC": "swap"}),
        ("min_notional", -1.0),
        ("maintenance_margin", 2.0),
        ("borrow_rate", {"ETH": -0.1}),
    ]:
        with pytest.raises(PairsError, match=name):
            Portfolio(**{name: value})
    live = _book().stream(list(PRICES.columns))
    with pytest.raises(PairsError, match="opens must be None"):
        live.update(PRICES.iloc[0], PRICES.index[0], opens=OPENS.iloc[0])
    with pytest.raises(PairsError, match="bar must be given"):
        _book().replace(borrow_rate=0.1).stream(list(PRICES.columns))
    spec = _book(fill="next_open").replace(market={"ADA": "spot"}, min_notional={"ADA": 5.0})
    assert Portfolio.from_dict(spec.to_dict()) == spec


def test_the_live_orders_respect_the_minimum_notional_except_a_close():
    book = _book().replace(min_notional=300.0)
    live = book.stream(list(PRICES.columns))
    sent = 0
    for ts, row in PRICES.iloc[:700].iterrows():
        signal = live.update(row, ts)
        for order in signal.order_list:  # filled at once, at the close
            quantity = order.quantity if order.side == "buy" else -order.quantity
            held = live.holdings[order.symbol]
            assert order.quantity * row[order.symbol] >= 300.0 or held + quantity == 0.0
            live.fill(order.symbol, quantity, float(row[order.symbol]))
            sent += 1
    assert sent > 20


def test_a_live_book_filled_at_the_next_open_needs_every_bars_opens():
    live = _book(fill="next_open").stream(list(PRICES.columns))
    with pytest.raises(PairsError, match="opens must be given"):
        live.update(PRICES.iloc[0], PRICES.index[0])
    with pytest.raises(DataError, match="opens"):
        live.update(PRICES.iloc[0], PRICES.index[0], opens={"BTC": 1.0})
