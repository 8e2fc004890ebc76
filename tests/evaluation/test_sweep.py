"""sweep: every row equals Strategy.backtest of its point; hedges and z-scores computed once per group."""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

import pairs
from pairs import PairsError, Strategy, load_sample
from pairs.evaluation import _sweep
from pairs.evaluation._sweep import sweep

PRICES = load_sample("binance_1d")[["BTC", "ETH"]].dropna().iloc[-700:]
BTC, ETH = PRICES["BTC"], PRICES["ETH"]
METRICS = ("total_return", "apr", "sharpe", "sortino", "max_drawdown", "annual_turnover")

GRIDS: dict[str, tuple[Strategy, dict[str, list[Any]]]] = {
    "rolling hedge, window and thresholds": (
        Strategy(hedge="rolling"),
        {"window": [20, 45, 90], "rule.entry_z": [1.0, 1.75, 2.5], "rule.exit_z": [-0.5, 0.0, 0.5]},
    ),
    "kalman hedge, log prices, z-score methods": (
        Strategy(hedge="kalman", log_prices=True, zscore_method="ewm", zscore_halflife=10.0),
        {
            "delta": [1e-5, 1e-4],
            "zscore_halflife": [5.0, 20.0],
            "rule.stop_z": [None, 3.0],
            "rule.max_holding": [None, 7],
            "rule.cooldown": [0, 3],
        },
    ),
    "kalman innovation and ols hedges": (
        Strategy(hedge="kalman", zscore_method="innovation"),
        {
            "obs_var": [1e-3, 1e-2],
            "rule.entry_z": [1.0, 2.0],
            "fee_bps": [0.0, 25.0],
            "slippage_bps": [0.0, 5.0],
        },
    ),
    "fixed ols hedge, expanding z-score": (
        Strategy(hedge="ols", beta=20.0, alpha=100.0, zscore_method="expanding"),
        {"beta": [15.0, 20.0, None], "rule.entry_z": [0.5, 1.5], "rule.exit_z": [0.0, -0.5]},
    ),
    "hedge kinds and log prices": (
        Strategy(),
        {"hedge": ["kalman", "rolling", "ols"], "log_prices": [False, True], "window": [25, 50]},
    ),
    "gross convention: fill lags and maker fees": (
        Strategy(hedge="rolling", window=40),
        {
            "fill": ["close", "next_close", 3],
            "maker_fee_bps": [None, -2.0, 4.0],
            "maker_share": [0.0, 0.6],
            "slippage_bps": [0.0, 5.0],
            "rule.entry_z": [1.5, 2.0],
            # account-only settings: ignored without capital, as Strategy.backtest ignores them
            "leverage": [None, 2.0],
        },
    ),
    "account fills, fees and leverage": (
        Strategy(hedge="rolling", window=40, capital=100_000.0, lot_size=(0.001, 0.01)),
        {
            "fill": ["close", "next_close", 2],
            "leverage": [None, 0.8, 1.5],
            "maker_fee_bps": [None, -1.0],
            "maker_share": [0.0, 0.5],
            "slippage_model": ["cost", "price"],
            "slippage_bps": [0.0, 5.0],
            "rule.entry_z": [1.5, 2.5],
        },
    ),
    "account margin, markets and minimum notional": (
        Strategy(hedge="rolling", window=40, capital=10_000.0, leverage=2.0, zscore_window=20),
        {
            "margin": ["cross", "isolated"],
            "maintenance_margin": [(0.004, 0.004), (0.3, 0.3)],
            "market": [("perp", "perp"), ("spot", "perp"), ("perp", "spot")],
            "borrow_rate": [(0.0, 0.0), (0.05, 0.2)],
            "min_notional": [(0.0, 0.0), (2_000.0, 2_000.0)],
            "rebalance_band": [0.0, 0.05],
        },
    ),
    "account sizing": (
        Strategy(hedge="rolling", window=40, capital=100_000.0),
        {
            "sizing_mode": ["beta_neutral", "dollar_neutral"],
            "lot_size": [(0.0, 0.0), (0.001, 0.01)],
            "rebalance_band": [0.0, 0.1],
            "zscore_window": [20, 60],
            "rule.entry_z": [1.5, 2.0],
        },
    ),
}


def _assert_row_equals_backtest(res: pairs.SweepResult, point: int, **options: Any) -> pairs.BacktestResult:
    strategy = res.strategy_at(point)
    if strategy.fill != "next_open":
        options = {k: v for k, v in options.items() if k not in ("open_y", "open_x")}
    bt = strategy.backtest(BTC, ETH, **options)
    row = res.table.loc[point]
    for name in METRICS:
        assert row[name] == pytest.approx(getattr(bt, name), rel=1e-12, abs=1e-300, nan_ok=True), name
    assert row["n_trades"] == bt.n_trades
    if bt.convention == "account":
        # Fees net of rebates, and slippage, over the equity before each bar, summed.
        paid = bt.costs["fees"] - bt.costs["rebates"] + bt.costs["slippage"]
        before = np.concatenate(([bt.capital], bt.equity.to_numpy()[:-1]))
        costs = float((paid / before).sum())
    else:
        # The blended fee (a share maker_share at the maker fee, the rest at fee_bps) plus slippage.
        maker = strategy.fee_bps if strategy.maker_fee_bps is None else strategy.maker_fee_bps
        share = strategy.maker_share
        rate = ((1 - share) * strategy.fee_bps + share * maker + strategy.slippage_bps) / 1e4
        costs = rate * bt.turnover.sum()
    assert row["costs"] == pytest.approx(costs, rel=1e-12, abs=1e-300)
    np.testing.assert_allclose(res.returns[point], bt.returns, rtol=1e-12, atol=1e-15)
    return bt


@pytest.mark.parametrize("name", list(GRIDS))
def test_random_points_equal_strategy_backtest(name: str) -> None:
    strategy, grid = GRIDS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pairs.PairsWarning)  # stop_z above a short window's bound
        res = sweep(strategy, grid, BTC, ETH)
        assert len(res.table) == np.prod([len(v) for v in grid.values()])
        rng = np.random.default_rng(sum(map(ord, name)))
        for point in rng.choice(len(res.table), size=5, replace=False):
            _assert_row_equals_backtest(res, int(point))
    # Points follow the product of the grid's lists, the last key fastest.
    assert res.point(0) == {k: v[0] for k, v in grid.items()}
    assert res.point(1) == {k: v[1 if k == list(grid)[-1] else 0] for k, v in grid.items()}


def test_funding_and_periods_per_year_reach_every_point() -> None:
    funding = pd.DataFrame({"y": 1e-4, "x": -5e-5}, index=PRICES.index)
    res = sweep(
        Strategy(hedge="rolling", window=30),
        {"rule.entry_z": [1.0, 2.0], "capital": [None, 10_000.0]},
        BTC,
        ETH,
        funding=funding,
        periods_per_year=300,
    )
    assert res.periods_per_year == 300
    for point in range(4):
        _assert_row_equals_backtest(res, point, funding=funding, periods_per_year=300)
    # Rates at their settlement times, one column per symbol named like the prices.
    settled = pd.DataFrame({"BTC": 3e-4, "ETH": -1e-4}, index=PRICES.index[::3] + pd.Timedelta(hours=8))
    res = sweep(
        Strategy(hedge="rolling", window=30), {"capital": [None, 10_000.0]}, BTC, ETH, funding=settled
    )
    for point in range(2):
        _assert_row_equals_backtest(res, point, funding=settled)
    assert (
        res.table.loc[1, "total_return"]
        != sweep(
            Strategy(hedge="rolling", window=30, capital=10_000.0), {"rule.entry_z": [2.0]}, BTC, ETH
        ).table.loc[0, "total_return"]
    )


def _opens(close: pd.Series, seed: int) -> pd.Series:
    """Open prices near the previous close (a gap of about 0.5%)."""
    rng = np.random.default_rng(seed)
    previous = close.shift(1).fillna(close.iloc[0])
    return previous * np.exp(rng.normal(0.0, 0.005, size=len(close)))


def test_next_open_fills_take_the_open_prices() -> None:
    opens = {"open_y": _opens(BTC, 1), "open_x": _opens(ETH, 2)}
    grid = {"fill": ["close", "next_open", "next_close"], "leverage": [None, 1.2], "rule.entry_z": [1.0, 2.0]}
    res = sweep(Strategy(hedge="rolling", window=30, capital=50_000.0), grid, BTC, ETH, **opens)
    for point in range(len(res.table)):
        _assert_row_equals_backtest(res, point, **opens)
    by_fill = res.table.groupby("fill")["total_return"].apply(tuple)
    assert by_fill["next_open"] != by_fill["next_close"]  # the open prices are used
    with pytest.raises(PairsError, match="open_y must be given with fill='next_open'"):
        sweep(Strategy(capital=50_000.0), {"fill": ["close", "next_open"]}, BTC, ETH)
    with pytest.raises(PairsError, match="open_y must be None unless fill='next_open'"):
        sweep(Strategy(capital=50_000.0), {"fill": ["close", "next_close"]}, BTC, ETH, **opens)
    # Without capital, as pairs.backtest: the gross-exposure convention has no open fills.
    with pytest.raises(PairsError, match=r"got \{'fill': 'next_open'\}: fill must be 'close', 'next_close'"):
        sweep(Strategy(), {"fill": ["close", "next_open"]}, BTC, ETH, **opens)


def test_liquidated_and_limited_points_equal_backtest_with_their_events() -> None:
    # Isolated 2x legs keep 50% margin: a 0.4% maintenance rate is never met on these bars, a 30%
    # one is; cross margin with a 95% rate is met once the equity falls 5% below the exposure.
    strategy = Strategy(hedge="rolling", window=40, capital=10_000.0, leverage=2.0)
    grid = {"margin": ["isolated", "cross"], "maintenance_margin": [(0.004, 0.004), (0.3, 0.3), (0.95, 0.95)]}
    res = sweep(strategy, grid, BTC, ETH)
    liquidated = []
    for point in range(len(res.table)):
        bt = _assert_row_equals_backtest(res, point)
        liquidated.append("liquidation" in set(bt.events["event"]))
    assert liquidated == [False, True, True, False, False, True]
    # A leverage limit below the sized exposure cuts the orders: the sweep trades the cut orders.
    limited = sweep(Strategy(hedge="rolling", capital=10_000.0), {"leverage": [None, 0.5]}, BTC, ETH)
    bt = _assert_row_equals_backtest(limited, 1)
    assert "scaled" in set(bt.events["event"])
    assert limited.table.loc[0, "total_return"] != limited.table.loc[1, "total_return"]


def test_hedge_once_per_hedge_group_and_zscore_once_per_zscore_group(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: dict[str, list[Any]] = {"hedge": [], "zscore": [], "kernel": []}

    def spy(name: str, func: Any) -> Any:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            calls[name].append(args)
            return func(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(_sweep, "hedge_paths", spy("hedge", _sweep.hedge_paths))
    monkeypatch.setattr(_sweep, "zscore_path", spy("zscore", _sweep.zscore_path))
    monkeypatch.setattr(_sweep, "sweep_kernel", spy("kernel", _sweep.sweep_kernel))
    grid = {
        "window": [30, 60],  # the rolling hedge's window: 2 hedges
        "zscore_window": [20, 40, 80],  # 3 z-scores per hedge
        "rule.entry_z": [1.0, 1.5, 2.0, 2.5],
        "rule.exit_z": [0.0, 0.5],
        "fee_bps": [0.0, 10.0],  # thresholds and costs: one compiled pass per z-score
    }
    res = sweep(Strategy(hedge="rolling"), grid, BTC, ETH)
    assert len(res.table) == 2 * 3 * 4 * 2 * 2
    assert len(calls["hedge"]) == 2
    assert len(calls["zscore"]) == 6
    assert len(calls["kernel"]) == 6
    assert sorted(call[0].window for call in calls["hedge"]) == [30, 60]
    # A Kalman hedge does not depend on window: one hedge for both windows, whose z-scores differ.
    calls["hedge"].clear()
    sweep(Strategy(), {"window": [30, 60], "rule.entry_z": [1.0, 2.0]}, BTC, ETH)
    assert len(calls["hedge"]) == 1


def test_chunks_bound_memory_and_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    grid = {"window": [30, 60], "rule.entry_z": list(np.linspace(0.5, 3.0, 11))}
    whole = sweep(Strategy(hedge="rolling"), grid, BTC, ETH)
    monkeypatch.setattr(_sweep, "_CHUNK_BYTES", 8 * len(BTC) * 3)  # 3 points per compiled call
    chunked = sweep(Strategy(hedge="rolling"), grid, BTC, ETH)
    pd.testing.assert_frame_equal(whole.table, chunked.table, check_exact=True)
    pd.testing.assert_frame_equal(whole.returns, chunked.returns, check_exact=True)


def test_dask_backend_equals_local() -> None:
    pytest.importorskip("dask")
    grid = {"window": [30, 60], "rule.entry_z": [1.0, 2.0], "zscore_window": [20, None]}
    local = sweep(Strategy(hedge="rolling"), grid, BTC, ETH)
    dask = sweep(Strategy(hedge="rolling"), grid, BTC, ETH, backend="dask")
    pd.testing.assert_frame_equal(local.table, dask.table, check_exact=True)
    pd.testing.assert_frame_equal(local.returns, dask.returns, check_exact=True)


def test_best_and_selection_statistics() -> None:
    grid = {"window": [20, 40, 80], "rule.entry_z": [1.0, 1.5, 2.0, 2.5]}
    res = sweep(Strategy(hedge="rolling"), grid, BTC, ETH, objective="sortino")
    assert res.best().name == res.table["sortino"].idxmax()
    assert res.best("max_drawdown").name == res.table["max_drawdown"].idxmin()
    best = res.best_strategy("sharpe")
    point = res.table["sharpe"].idxmax()
    assert (best.window, best.rule.entry_z) == (
        res.table.loc[point, "window"],
        res.table.loc[point, "rule.entry_z"],
    )
    dsr = res.deflated_sharpe()
    assert dsr.n_trials == 12 and dsr.trial == point
    assert dsr.deflated_sharpe == pairs.deflated_sharpe(res.returns, periods_per_year=365).deflated_sharpe
    pbo = res.probability_of_overfitting(n_splits=8)
    assert pbo.pbo == pairs.probability_of_overfitting(res.returns, 8).pbo
    text = res.summary()
    assert "best window" in text and "best rule.entry_z" in text and "points" in text


def test_best_ranks_nan_last_and_ties_to_the_first_point() -> None:
    # entry_z = 50 never trades: its returns are all 0 and its Sharpe NaN.
    res = sweep(Strategy(hedge="rolling"), {"rule.entry_z": [50.0, 1.0, 1.0]}, BTC, ETH)
    assert np.isnan(res.table.loc[0, "sharpe"]) and res.table.loc[0, "n_trades"] == 0
    assert res.table.loc[1, "sharpe"] == res.table.loc[2, "sharpe"]
    assert res.best().name == 1
    allnan = sweep(Strategy(hedge="rolling"), {"rule.entry_z": [50.0, 60.0]}, BTC, ETH)
    assert allnan.best().name == 0
    assert allnan.verdicts()["deflated Sharpe"] is None  # the best trial never trades


def test_sensitivity_is_the_best_over_the_other_keys_and_the_heatmap_shows_it() -> None:
    pytest.importorskip("matplotlib")
    grid = {"window": [20, 40], "rule.entry_z": [1.0, 2.0, 3.0], "rule.stop_z": [None, 3.5]}
    res = sweep(Strategy(hedge="rolling"), grid, BTC, ETH)
    table = res.table
    for (window, entry), group in table.groupby(["window", "rule.entry_z"]):
        assert res.sensitivity().loc[entry, window] == group["sharpe"].max()
        assert res.sensitivity(objective="max_drawdown").loc[entry, window] == group["max_drawdown"].min()
    assert table["rule.stop_z"].tolist()[:2] == [None, 3.5]  # None (no stop) stays None, not NaN
    by_stop = res.sensitivity("rule.stop_z", "window")
    assert list(by_stop.columns) == ["None", 3.5] and list(by_stop.index) == [20, 40]
    assert res.sensitivity("window", "rule.entry_z").shape == (3, 2)
    fig = res.plot()
    assert fig.axes[0].images[0].get_array().shape == (3, 2)
    with pytest.raises(PairsError, match="x must be a key of the grid"):
        res.sensitivity("delta")
    with pytest.raises(PairsError, match="y must differ from x"):
        res.sensitivity("window", "window")
    with pytest.raises(PairsError, match=r"result must be a pairs\.SweepResult"):
        pairs.plot.plot_sweep(table)


def test_settings_the_compiled_pass_does_not_model_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every Strategy field is modelled today; one that is not (as a new field would be) must be
    # at its default, never silently ignored.
    monkeypatch.setattr(_sweep, "_MODELLED", _sweep._MODELLED - {"slippage_bps"})
    sweep(Strategy(hedge="rolling"), {"rule.entry_z": [1.0, 2.0]}, BTC, ETH)
    with pytest.raises(PairsError, match=r"strategy must keep \['slippage_bps'\] at their defaults"):
        sweep(Strategy(hedge="rolling"), {"slippage_bps": [0.0, 5.0]}, BTC, ETH)


def test_the_modelled_settings_are_strategy_fields() -> None:
    assert _sweep._MODELLED <= {f.name for f in dataclasses.fields(Strategy)}


def test_a_ruined_account_names_its_point() -> None:
    with pytest.raises(PairsError, match=r"capital must keep the account equity positive.*'fee_bps': 3000"):
        sweep(Strategy(hedge="rolling", capital=1000.0), {"fee_bps": [10.0, 3000.0]}, BTC, ETH)


@pytest.mark.parametrize(
    ("grid", "match"),
    [
        ({}, "grid must be a non-empty dict"),
        ({"windows": [1]}, "grid keys must be Strategy fields .*got 'windows'"),
        ({"rule.entry": [1]}, "got 'rule.entry'"),
        ({"rule": [{}]}, "got 'rule'"),
        ({"window": 30}, r"grid\['window'\] must be a list"),
        ({"window": "30"}, r"grid\['window'\] must be a list"),
        ({"window": []}, r"grid\['window'\] must hold at least one value"),
        ({"window": [30, 1]}, r"got \{'window': 1\}: window must be an integer >= 2"),
        (
            {"rule.entry_z": [2.0], "rule.exit_z": [3.0]},
            r"got \{'rule.entry_z': 2.0, 'rule.exit_z': 3.0\}: exit_z",
        ),
        ({"zscore_method": ["ewm"]}, "zscore_halflife must be a number > 0"),
    ],
)
def test_bad_grids_name_the_field(grid: Any, match: str) -> None:
    with pytest.raises(PairsError, match=match):
        sweep(Strategy(hedge="rolling"), grid, BTC, ETH)


def test_bad_options() -> None:
    grid = {"window": [30]}
    with pytest.raises(PairsError, match=r"strategy must be a pairs\.Strategy"):
        sweep({"hedge": "rolling"}, grid, BTC, ETH)  # type: ignore[arg-type]
    with pytest.raises(PairsError, match="objective must be one of"):
        sweep(Strategy(), grid, BTC, ETH, objective="profit")
    with pytest.raises(PairsError, match="backend must be one of"):
        sweep(Strategy(), grid, BTC, ETH, backend="ray")  # type: ignore[arg-type]
    res = sweep(Strategy(hedge="rolling"), {"window": [30, 60]}, BTC, ETH)
    with pytest.raises(PairsError, match="point must be"):
        res.strategy_at(2)


# --- walk-forward selection -----------------------------------------------------------------------
WF_GRID = {"window": [20, 40], "rule.entry_z": [1.0, 1.5, 2.0]}
WF_STRATEGY = Strategy(hedge="rolling")


def _walk(y: pd.Series, x: pd.Series, **options: Any) -> pairs.WalkForwardResult:
    return pairs.walk_forward(y, x, train=200, test=100, strategy=WF_STRATEGY, grid=WF_GRID, **options)


def test_walk_forward_picks_each_fold_by_the_sweep_of_its_training_window() -> None:
    wf = _walk(BTC, ETH, objective="sortino")
    assert len(wf.folds) == 5 and wf.objective == "sortino" and wf.grid == WF_GRID
    for k, fold in wf.folds.iterrows():
        start = k * 100
        train = sweep(WF_STRATEGY, WF_GRID, BTC.iloc[start : start + 200], ETH.iloc[start : start + 200])
        best = train.best("sortino")
        assert (fold["window"], fold["rule.entry_z"]) == (best["window"], best["rule.entry_z"])
        assert fold["in_sample_sortino"] == best["sortino"]
    text = wf.summary()
    assert "in-sample sortino (mean of folds)" in text and "out-of-sample sortino (stitched)" in text


def test_walk_forward_of_a_one_point_grid_equals_that_strategy() -> None:
    one = pairs.walk_forward(
        BTC, ETH, train=200, test=100, strategy=WF_STRATEGY, grid={"window": [40], "rule.entry_z": [1.5]}
    )
    plain = pairs.walk_forward(
        BTC, ETH, train=200, test=100, strategy=WF_STRATEGY.replace(window=40, rule={"entry_z": 1.5})
    )
    pd.testing.assert_series_equal(one.backtest.returns, plain.backtest.returns, check_exact=True)
    pd.testing.assert_frame_equal(one.folds[plain.folds.columns], plain.folds, check_exact=True)


@pytest.mark.parametrize("fold", [0, 2, 4])
def test_walk_forward_choice_never_sees_its_test_window(fold: int) -> None:
    base = _walk(BTC, ETH)
    rng = np.random.default_rng(fold)
    y = BTC.copy()
    later = slice(fold * 100 + 200, None)  # the test window of `fold` and everything after it
    y.iloc[later] = y.iloc[later].to_numpy() * np.exp(rng.normal(0.0, 0.05, size=len(y.iloc[later])))
    moved = _walk(y, ETH)
    kept = [*WF_GRID, "in_sample_sharpe"]
    pd.testing.assert_frame_equal(moved.folds.loc[:fold, kept], base.folds.loc[:fold, kept], check_exact=True)
    # The change is real: the test window of the fold trades differently.
    assert not moved.backtest.returns.iloc[fold * 100 :].equals(base.backtest.returns.iloc[fold * 100 :])


def test_walk_forward_grid_bad_input() -> None:
    with pytest.raises(PairsError, match="strategy must be given with grid"):
        pairs.walk_forward(BTC, ETH, train=200, test=100, grid=WF_GRID)
    with pytest.raises(PairsError, match=r"grid must not vary \['fee_bps'\]"):
        pairs.walk_forward(BTC, ETH, train=200, test=100, strategy=WF_STRATEGY, grid={"fee_bps": [0.0, 10.0]})
    with pytest.raises(PairsError, match="objective must be one of"):
        _walk(BTC, ETH, objective="profit")
    # The execution settings are the stitched backtest's too: the same for every fold.
    fixed = {"fill": ["close", "next_close"], "leverage": [None, 2.0], "market": [("perp", "perp")]}
    for key, values in fixed.items():
        with pytest.raises(PairsError, match=rf"grid must not vary \['{key}'\]"):
            pairs.walk_forward(BTC, ETH, train=200, test=100, strategy=WF_STRATEGY, grid={key: values})
    with pytest.raises(PairsError, match="strategy must not fill at 'next_open' in a walk-forward"):
        pairs.walk_forward(BTC, ETH, train=200, test=100, strategy=WF_STRATEGY.replace(fill="next_open"))


def test_walk_forward_trades_the_strategys_execution_settings() -> None:
    execution = {"fill": "next_close", "maker_fee_bps": -1.0, "maker_share": 0.5, "leverage": 0.5}
    strategy = WF_STRATEGY.replace(capital=10_000.0, **execution)
    wf = pairs.walk_forward(BTC, ETH, train=200, test=100, strategy=strategy, grid=WF_GRID)
    # The stitched position and beta, backtested by hand with the same settings.
    bt = pairs.backtest(
        BTC.iloc[200:], ETH.iloc[200:], beta=wf.beta, position=wf.position, capital=10_000.0, **execution
    )
    pd.testing.assert_series_equal(wf.backtest.returns, bt.returns, check_exact=True)
    assert wf.backtest.fill == "next_close" and "scaled" in set(wf.backtest.events["event"])
    plain = pairs.walk_forward(
        BTC, ETH, train=200, test=100, strategy=WF_STRATEGY.replace(capital=10_000.0), grid=WF_GRID
    )
    assert not plain.backtest.returns.equals(wf.backtest.returns)
