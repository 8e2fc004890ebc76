"""portfolio_sweep: every point equals its own Portfolio.backtest; selections are computed once."""

from __future__ import annotations

import numpy as np
import pytest

import pairs
import pairs.evaluation._portfolio_sweep as sweep_module
from pairs import PairsError, Portfolio, Selection, Strategy
from pairs.evaluation._portfolio import paid_costs

PRICES = pairs.load_sample("binance_1h").iloc[:1600, :7]
BOOK = Portfolio(Strategy(hedge="rolling", window=48), Selection(top=2, log=True), formation=240, trading=168)
GRID = {
    "strategy.rule.entry_z": [1.5, 2.5],
    "strategy.window": [24, 48],
    "selection.top": [1, 2],
    "leverage": [1.0, 2.0],
}


@pytest.fixture(scope="module")
def result():
    return pairs.portfolio_sweep(BOOK, GRID, PRICES)


def test_points_equal_their_own_backtest(result):
    assert result.table.shape[0] == 16 and result.returns.shape == (1600, 16)
    for k in (0, 5, 10, 15):
        point = result.point(k)
        spec = result.strategy_at(k)
        assert spec == BOOK.replace(
            strategy=BOOK.strategy.replace(
                window=point["strategy.window"], rule={"entry_z": point["strategy.rule.entry_z"]}
            ),
            selection=BOOK.selection.replace(top=point["selection.top"]),
            leverage=point["leverage"],
        )
        bt = spec.backtest(PRICES)
        row = result.table.loc[k]
        assert row["sharpe"] == bt.sharpe and row["total_return"] == bt.total_return
        assert row["n_trades"] == len(bt.trades) and row["max_drawdown"] == bt.max_drawdown
        np.testing.assert_array_equal(result.returns[k].to_numpy(), bt.returns.to_numpy())
    assert 0.0 <= result.probability_of_overfitting().pbo <= 1.0
    assert "Sharpe" in result.deflated_sharpe().verdict


def test_selections_are_shared(monkeypatch):
    calls = []
    real = sweep_module.select_windows

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(sweep_module, "select_windows", counted)
    pairs.portfolio_sweep(BOOK, GRID, PRICES)
    assert len(calls) == 2  # one per distinct selection (top 1 or 2), for 16 points


def test_bad_grids():
    for grid, name in [
        ({"window": [1]}, "grid keys"),
        ({"strategy.rule.nope": [1]}, "grid keys"),
        ({"selection.top": []}, "selection.top"),
        ({"selection.top": [0]}, "valid portfolio settings"),
        ({}, "grid"),
    ]:
        with pytest.raises(PairsError, match=name):
            pairs.portfolio_sweep(BOOK, grid, PRICES)
    with pytest.raises(PairsError, match="portfolio"):
        pairs.portfolio_sweep(Strategy(), {"window": [2]}, PRICES)


def test_execution_settings_are_grid_keys():
    rng = np.random.default_rng(5)
    opens = (PRICES.shift(1) * np.exp(rng.normal(0, 0.002, PRICES.shape))).fillna(PRICES)
    grid = {
        "strategy.fill": ["close", "next_open", 2],
        "margin": ["cross", "isolated"],
        "strategy.maker_share": [0.0, 0.5],
    }
    book = BOOK.replace(strategy=BOOK.strategy.replace(maker_fee_bps=-1.0), leverage=3.0)
    result = pairs.portfolio_sweep(book, grid, PRICES, opens=opens)
    assert result.table.shape[0] == 12
    for k in range(12):
        spec = result.strategy_at(k)
        bt = spec.backtest(PRICES, opens=opens if spec.strategy.fill == "next_open" else None)
        np.testing.assert_array_equal(result.returns[k].to_numpy(), bt.returns.to_numpy())
        costs = float(paid_costs(bt.costs).sum()) / spec.capital
        assert result.table.loc[k, "costs"] == pytest.approx(costs, rel=1e-12)
    assert len(set(result.table["sharpe"])) > 6  # the settings change the result
