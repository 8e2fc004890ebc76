"""A signal says which bar its orders are for (issue #25 item 1): the strategy's fill, as the backtest fills them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import pairs
from pairs import PairsError, Strategy, load_sample

PRICES = load_sample("binance_1d")[["ETH", "BTC"]].dropna().iloc[:300]


@pytest.mark.parametrize("fill", ["close", 0, "next_open", "next_close", 3])
def test_the_signal_names_the_bar_its_orders_fill_at(fill):
    strategy = Strategy(log_prices=True, capital=10_000.0, fill=fill)
    engine = strategy.stream()
    warm = engine.warmup(PRICES["ETH"].iloc[:200], PRICES["BTC"].iloc[:200])
    live = [engine.update(y, x, ts) for ts, y, x in PRICES.iloc[200:].itertuples()]
    expected = None if fill in ("close", 0) else fill
    for signal in [warm, *live]:
        assert signal.fill == expected
        line = json.loads(signal.to_json())
        assert line == signal.to_dict() and line.get("fill", None) == expected
        assert ("fill" in line) == (expected is not None)  # lines of fills at the close are unchanged
    # The orders are those of the signal bar: the backtest holds them from the fill bar on.
    lag = {"close": 0, 0: 0, "next_open": 1, "next_close": 1, 3: 3}[fill]
    units = np.array([[s.y_units, s.x_units] for s in [warm, *live]])
    opens = PRICES.shift(1).fillna(PRICES) if fill == "next_open" else None
    bt = pairs.backtest(
        PRICES["ETH"].iloc[199:],
        PRICES["BTC"].iloc[199:],
        units=pd.DataFrame(units, index=PRICES.index[199:], columns=["y_units", "x_units"]),
        capital=strategy.capital,
        fee_bps=0.0,
        fill=fill,
        **(
            {"open_y": opens["ETH"].iloc[199:], "open_x": opens["BTC"].iloc[199:]}
            if opens is not None
            else {}
        ),
    )
    held = bt.units.to_numpy()
    np.testing.assert_array_equal(held[lag:], units[: len(units) - lag])


def test_a_strategys_backtest_refuses_positions_or_units_of_its_own():
    # The run gives them: passed in options they were silently replaced by the run's.
    strategy = Strategy(log_prices=True, capital=10_000.0)
    units = pd.DataFrame(1.0, index=PRICES.index, columns=["y_units", "x_units"])
    for name, value in (("units", units), ("position", units["y_units"]), ("beta", units["x_units"])):
        with pytest.raises(PairsError, match=name):
            strategy.backtest(PRICES["ETH"], PRICES["BTC"], **{name: value})


def test_a_books_signals_name_their_pairs_fill():
    frame = load_sample("binance_1d")[["ETH", "BTC", "LTC"]].dropna().iloc[:120]
    book = pairs.StreamBook(
        {
            ("ETH", "BTC"): Strategy(log_prices=True, capital=1e4, fill="next_open"),
            ("LTC", "BTC"): Strategy(log_prices=True, capital=1e4),
        }
    )
    for ts, row in frame.iterrows():
        signals = book.update(row.to_dict(), ts)
    assert signals["ETH/BTC"].fill == "next_open" and signals["LTC/BTC"].fill is None
    assert json.loads(signals["ETH/BTC"].to_json())["fill"] == "next_open"
