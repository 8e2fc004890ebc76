"""The live portfolio: a replay of history equals the backtest, bit for bit, across a save and restore."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import pairs
from pairs import PairsError, Portfolio, Selection, Strategy

PRICES = pairs.load_sample("binance_1h").iloc[:2400, :8]


def _replay(book: Portfolio, prices: pd.DataFrame, restore_at: int | None = None, tmp_path=None):
    live = book.stream(list(prices.columns), bar="1h")
    units, positions, equity = [], [], []
    for t, (ts, row) in enumerate(prices.iterrows()):
        if restore_at is not None and t == restore_at:
            path = tmp_path / "book.json"
            live.save(path)
            live = pairs.PortfolioStream.load(path)
        signal = live.update(row, ts)
        units.append([signal.units[c] for c in prices.columns])
        positions.append({k: v["position"] for k, v in signal.pairs.items()})
        equity.append(signal.equity)
    return np.array(units), positions, np.array(equity)


@pytest.mark.parametrize(
    "book",
    [
        Portfolio(
            Strategy(hedge="rolling", window=48, rule={"entry_z": 1.5}),
            Selection(top=3, log=True),
            formation=240,
            trading=168,
        ),
        Portfolio(
            Strategy(log_prices=True),
            Selection(top=2, log=True, max_pairs_per_coin=1),
            formation="10D",
            trading="5D",
            on_deselect="hold_to_exit",
            leverage=0.5,
        ),
        Portfolio(
            Strategy(hedge="ols", log_prices=True),
            Selection(method="distance", top=2, log=True),
            formation=200,
            trading=100,
        ),
    ],
    ids=["rolling-close", "kalman-hold", "ols-distance"],
)
def test_replay_equals_the_backtest_bit_for_bit(book, tmp_path):
    result = book.backtest(PRICES)
    units, positions, equity = _replay(book, PRICES, restore_at=1234, tmp_path=tmp_path)
    np.testing.assert_array_equal(units, result.units.to_numpy())
    for t, held in enumerate(positions):
        row = result.positions.iloc[t]
        assert {k: int(row[k]) for k in held} == held
        assert (row.drop(list(held)) == 0).all()
    np.testing.assert_allclose(equity, result.equity.to_numpy(), rtol=0, atol=1e-9 * book.capital)


def test_data_ending_at_a_window_boundary():
    """With exactly whole windows, the last selection (at the last bar) still closes dropped pairs."""
    book = Portfolio(Strategy(hedge="rolling", window=48), Selection(top=3), formation=240, trading=168)
    prices = PRICES.iloc[: 240 + 168 * 10]
    result = book.backtest(prices)
    units, _, _ = _replay(book, prices)
    np.testing.assert_array_equal(units, result.units.to_numpy())
    assert result.n_windows == 10 and (result.selections["trading_start"].isna()).any()


def test_delisting_and_funding_in_the_stream():
    idx = pd.date_range("2024-01-01", periods=400, freq="h", tz="UTC")
    rng = np.random.default_rng(5)
    base = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 400)))
    frame = pd.DataFrame({c: base * np.exp(rng.normal(0, 0.004, 400)) for c in "ABCD"}, index=idx)
    frame.loc[idx[250] :, "B"] = np.nan
    rates = pd.DataFrame(0.0, index=idx, columns=["A", "C"])
    rates.iloc[::8] = 2e-4
    book = Portfolio(
        Strategy(hedge="rolling", window=20, rule={"entry_z": 0.5}),
        Selection(top=2, log=True),
        formation=100,
        trading=50,
    )
    result = book.backtest(frame, funding=rates)
    live = book.stream(list(frame.columns))
    for ts, row in frame.iterrows():
        signal = live.update(row.dropna(), ts, funding=rates.loc[ts].to_dict())
        assert [signal.units[c] for c in frame.columns] == result.units.loc[ts].tolist()
    assert result.costs["funding"].abs().sum() > 0 and (result.units["B"].iloc[250:] == 0).all()


def test_signal_and_errors(tmp_path):
    book = Portfolio(Strategy(hedge="rolling", window=48), Selection(top=2), formation=240, trading=168)
    live = book.stream(list(PRICES.columns))
    signals = [live.update(row, ts) for ts, row in PRICES.iloc[:300].iterrows()]
    chosen = [s for s in signals if s.selected is not None]
    assert len(chosen) == 1 and chosen[0].bar == 239 and len(chosen[0].selected) == 2
    json.loads(signals[-1].to_json())
    assert "equity" in signals[-1].summary()
    with pytest.raises(pairs.DataError, match="timestamp"):
        live.update(PRICES.iloc[0], PRICES.index[0])
    with pytest.raises(pairs.DataError, match="prices"):
        live.update({"BTC": 1.0}, PRICES.index[-1])
    with pytest.raises(pairs.DataError, match="prices"):
        live.update({"ADA": -1.0}, PRICES.index[-1])
    with pytest.raises(PairsError, match="bar"):
        Portfolio().stream(list(PRICES.columns))
    with pytest.raises(PairsError, match="coins"):
        book.stream(["ADA"])
    with pytest.raises(pairs.StateError, match="state"):
        pairs.PortfolioStream.from_state({"format": "other"})
