"""backtest and walk_forward: hand computation, exact costs, funding, annualisation, no look-ahead."""

from __future__ import annotations

import json
import math
import statistics
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from pairs import DataError, InsufficientDataError, PairsError, backtest, load_sample, walk_forward
from pairs.trading import SignalRule, signals, zscore

PRICES = load_sample("binance_1d")[["BTC", "ETH"]].dropna()
BTC, ETH = PRICES["BTC"], PRICES["ETH"]

# --- hand-computed example --------------------------------------------------------------------
# y = [100, 110, 99, 105], x = [50, 52, 50, 49], beta = 2, position = [1, 1, -1, 0], costs 10 + 5 bps.
# Units y = [1, 1, -1, 0], x = -2 * position = [-2, -2, 2, 0].
# Gross G = [100 + 100, 110 + 104, 99 + 100, 0] = [200, 214, 199, 0].
# Traded T = [200, 0, 2*99 + 4*50, 1*105 + 2*49] = [200, 0, 398, 203].
# P&L = [0, 1*10 - 2*2, 1*(-11) - 2*(-2), -1*6 + 2*(-1)] = [0, 6, -7, -8].
# Base B = [G0 (opening from flat), G0, G1, G2] = [200, 200, 214, 199].
C = 0.0015
HAND_Y = pd.Series(
    [100.0, 110.0, 99.0, 105.0], index=pd.date_range("2024-01-01", periods=4, freq="D", tz="UTC")
)
HAND_X = pd.Series([50.0, 52.0, 50.0, 49.0], index=HAND_Y.index)
HAND_POS = pd.Series([1.0, 1.0, -1.0, 0.0], index=HAND_Y.index)
HAND_R = np.array(
    [
        -C * 200 / 200,  # -0.0015
        6 / 200,  # 0.03
        (-7 - C * 398) / 214,  # -0.0355000...
        (-8 - C * 203) / 199,  # -0.0417311...
    ]
)


def test_hand_computed_example() -> None:
    res = backtest(HAND_Y, HAND_X, beta=2.0, position=HAND_POS, fee_bps=10, slippage_bps=5)
    np.testing.assert_allclose(res.returns, HAND_R, rtol=1e-14)
    np.testing.assert_allclose(res.returns, [-0.0015, 0.03, -0.0355, -0.04173115577889447], rtol=1e-12)
    np.testing.assert_allclose(res.turnover, [1.0, 0.0, 398 / 214, 203 / 199], rtol=1e-14)
    equity = np.cumprod(1 + HAND_R)
    np.testing.assert_allclose(res.equity, equity, rtol=1e-14)
    assert res.returns.index.equals(HAND_Y.index)
    # Metrics with the formulas written out (statistics.stdev is the ddof=1 reference).
    assert res.periods_per_year == 365.0
    assert res.apr == pytest.approx(equity[-1] ** (365 / 4) - 1, rel=1e-12)
    assert res.sharpe == pytest.approx(math.sqrt(365) * HAND_R.mean() / statistics.stdev(HAND_R), rel=1e-12)
    downside = math.sqrt(sum(min(r, 0.0) ** 2 for r in HAND_R) / 4)
    assert res.sortino == pytest.approx(math.sqrt(365) * HAND_R.mean() / downside, rel=1e-12)
    assert res.max_drawdown == pytest.approx(1 - equity[3] / equity[1], rel=1e-12)
    # Two trades: long 0 -> 2 (flipped), short 2 -> 3. At the flip, the closed notional
    # (99 + 100) and the opened one (199) split the 398 traded half and half.
    trades = res.trades
    assert res.n_trades == 2 and trades["side"].tolist() == [1, -1] and trades["bars"].tolist() == [2, 1]
    assert trades["entry_time"].tolist() == [HAND_Y.index[0], HAND_Y.index[2]]
    assert trades["exit_time"].tolist() == [HAND_Y.index[2], HAND_Y.index[3]]
    long_ret = (1 - C) * (1 + 6 / 200) * (1 + (-7 - C * 199) / 214) - 1
    short_ret = (1 - C * 199 / 199) * (1 + (-8 - C * 203) / 199) - 1
    np.testing.assert_allclose(trades["return"], [long_ret, short_ret], rtol=1e-13)


def test_funding_hand_computed() -> None:
    funding = pd.DataFrame(
        {"y": [0.0, 0.001, 0.001, 0.001], "x": [0.0, 0.002, 0.0, 0.001]}, index=HAND_Y.index
    )
    free = backtest(HAND_Y, HAND_X, beta=2.0, position=HAND_POS)
    paid = backtest(HAND_Y, HAND_X, beta=2.0, position=HAND_POS, funding=funding)
    # Paid at bar t on the dollars held into it, D_{t-1}: y = [100, 110, -99], x = [-100, -104, 100].
    # F1 = 100*0.001 - 100*0.002 = -0.1 (the short x receives), F2 = 0.11, F3 = -0.099 + 0.1 = 0.001.
    expected = np.array([0.0, 0.1 / 200, -0.11 / 214, -0.001 / 199])
    np.testing.assert_allclose(paid.returns - free.returns, expected, rtol=1e-9, atol=1e-17)
    only_y = backtest(HAND_Y, HAND_X, beta=2.0, position=HAND_POS, funding=funding[["y"]])
    np.testing.assert_allclose(
        only_y.returns - free.returns, [0, -0.1 / 200, -0.11 / 214, 0.099 / 199], atol=1e-15
    )


def _real_case(fee: float = 0.0, slip: float = 0.0, rule: SignalRule | None = None):
    from pairs.hedge._rolling import rolling_hedge

    hedge = rolling_hedge(BTC, ETH, window=90)
    pos = signals(zscore(hedge.spread, window=30), rule=rule or SignalRule(stop_z=3.5))
    return hedge.beta, pos, backtest(BTC, ETH, beta=hedge.beta, position=pos, fee_bps=fee, slippage_bps=slip)


@settings(max_examples=8, deadline=None)
@given(fee=st.floats(0.0, 50.0), slip=st.floats(0.0, 50.0))
def test_costs_reduce_returns_by_exactly_turnover_times_bps(fee: float, slip: float) -> None:
    beta, pos, free = _real_case()
    costly = backtest(BTC, ETH, beta=beta, position=pos, fee_bps=fee, slippage_bps=slip)
    diff = (free.returns - costly.returns).to_numpy()
    np.testing.assert_allclose(diff, free.turnover.to_numpy() * (fee + slip) / 1e4, rtol=1e-9, atol=1e-15)
    pd.testing.assert_series_equal(free.turnover, costly.turnover)


def test_turnover_is_traded_notional_over_base() -> None:
    beta, pos, res = _real_case()
    # Independent recomputation, bar by bar, with plain Python floats.
    b = beta.fillna(0.0).to_numpy()
    p, y, x = pos.to_numpy(), BTC.to_numpy(), ETH.to_numpy()
    uy_prev = ux_prev = gross_prev = 0.0
    expected = []
    for t in range(len(p)):
        uy, ux = p[t], -p[t] * b[t]
        gross = abs(uy) * y[t] + abs(ux) * x[t]
        traded = abs(uy - uy_prev) * y[t] + abs(ux - ux_prev) * x[t]
        base = gross_prev if gross_prev > 0 else gross
        expected.append(traded / base if base > 0 else 0.0)
        uy_prev, ux_prev, gross_prev = uy, ux, gross
    np.testing.assert_allclose(res.turnover, expected, rtol=1e-12, atol=1e-15)
    assert res.n_trades > 20 and res.turnover.gt(0).sum() > res.n_trades  # beta changes trade x daily


def test_trade_returns_compound_to_equity_without_flips() -> None:
    _, pos, res = _real_case(fee=10, slip=5, rule=SignalRule(stop_z=3.5, cooldown=1))  # cooldown 1: no flips
    assert (pos.shift(fill_value=0) * pos >= 0).all()
    assert np.prod(1 + res.trades["return"]) == pytest.approx(res.equity.iloc[-1], rel=1e-10)
    assert res.trades["exit_time"].iloc[:-1].notna().all()


def test_open_trade_at_the_end_and_entry_on_first_bar() -> None:
    res = backtest(HAND_Y, HAND_X, beta=2.0, position=[1.0, 1.0, 1.0, 1.0], fee_bps=20)
    assert res.returns.iloc[0] == pytest.approx(-0.002, rel=1e-14)
    assert res.n_trades == 1 and pd.isna(res.trades["exit_time"].iloc[0]) and res.trades["bars"].iloc[0] == 3
    assert res.trades["return"].iloc[0] == pytest.approx(res.equity.iloc[-1] - 1, rel=1e-12)


def test_flat_position() -> None:
    res = backtest(BTC, ETH, beta=20.0, position=np.zeros(len(BTC)), fee_bps=10)
    assert (res.returns == 0).all() and (res.equity == 1).all()
    assert res.apr == 0.0 and res.max_drawdown == 0.0 and res.n_trades == 0
    assert math.isnan(res.sharpe) and math.isnan(res.sortino)
    assert list(res.trades.columns) == ["entry_time", "exit_time", "side", "bars", "return"]


def test_fraction_and_beta_series_conventions() -> None:
    # Returns are per unit of gross exposure: a constant fraction of the position leaves them unchanged,
    # and a constant beta Series equals the float.
    _, pos, _ = _real_case()
    full = backtest(BTC, ETH, beta=20.0, position=pos, fee_bps=10)
    half = backtest(BTC, ETH, beta=pd.Series(20.0, index=BTC.index), position=0.5 * pos, fee_bps=10)
    np.testing.assert_allclose(half.returns, full.returns, rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize(("freq", "ppy"), [("1D", 365.0), ("4h", 2190.0), ("1h", 8760.0)])
@pytest.mark.parametrize("unit", ["s", "ns"])
def test_annualisation_24_7(freq: str, ppy: float, unit: str) -> None:
    n = 500
    index = pd.date_range("2023-01-01", periods=n, freq=freq, tz="UTC", unit=unit)
    index = index.delete([100, 101, 300])  # exchange outages: the bar length is the most common spacing
    y = pd.Series(BTC.to_numpy()[: len(index)], index=index)
    x = pd.Series(ETH.to_numpy()[: len(index)], index=index)
    pos = pd.Series(np.sign(np.sin(np.arange(len(index)) / 15.0)), index=index)
    res = backtest(y, x, beta=15.0, position=pos, fee_bps=5)
    assert res.periods_per_year == ppy
    r = res.returns.to_numpy()
    assert res.apr == pytest.approx(np.prod(1 + r) ** (ppy / len(r)) - 1, rel=1e-12)
    assert res.sharpe == pytest.approx(math.sqrt(ppy) * r.mean() / r.std(ddof=1), rel=1e-12)
    explicit = backtest(y, x, beta=15.0, position=pos, fee_bps=5, periods_per_year=ppy)
    assert explicit.sharpe == res.sharpe


def test_annualisation_of_a_known_growth() -> None:
    # One bar per day, y doubles every 365 bars with x flat, fully long: apr must be ~1.
    index = pd.date_range("2021-01-01", periods=731, freq="D", tz="UTC")
    y = pd.Series(2.0 ** (np.arange(731) / 365.0), index=index)
    x = pd.Series(1.0, index=index)
    res = backtest(y, x, beta=0.0, position=np.ones(731), fee_bps=0)
    # 731 values span 730 daily moves: (2^2)^(365/731) - 1.
    assert res.apr == pytest.approx(4.0 ** (365 / 731) - 1, rel=1e-12)


@settings(max_examples=15, deadline=None)
@given(t=st.integers(2, 600), start=st.integers(0, 2400))
def test_backtest_is_causal(t: int, start: int) -> None:
    y, x = BTC.iloc[start : start + 600], ETH.iloc[start : start + 600]
    pos = signals(zscore(y - 20 * x, window=20), stop_z=3.0)
    full = backtest(y, x, beta=20.0, position=pos, fee_bps=7)
    part = backtest(y.iloc[:t], x.iloc[:t], beta=20.0, position=pos.iloc[:t], fee_bps=7)
    pd.testing.assert_series_equal(part.returns, full.returns.iloc[:t], check_exact=True)
    pd.testing.assert_series_equal(part.turnover, full.turnover.iloc[:t], check_exact=True)


def test_result_serialises() -> None:
    _, _, res = _real_case(fee=10)
    data = json.loads(json.dumps(res.to_dict()))
    assert data["n_trades"] == res.n_trades
    text = res.summary()
    assert "sharpe" in text and "max_drawdown" in text and "annual_turnover" in text


@pytest.mark.parametrize(
    ("kwargs", "match", "exc"),
    [
        ({"beta": pd.Series([2.0, np.nan, 2.0, 2.0], index=HAND_Y.index)}, "beta", DataError),
        ({"beta": "2"}, "beta", PairsError),
        ({"beta": np.inf}, "beta", PairsError),
        ({"position": pd.Series([1.0, np.nan, 0.0, 0.0], index=HAND_Y.index)}, "position", DataError),
        ({"position": pd.Series([1.0, 1.0, 0.0, 0.0])}, "position", DataError),
        ({"position": [1.0, 0.0]}, "position", DataError),
        ({"fee_bps": -1.0}, "fee_bps", PairsError),
        ({"slippage_bps": np.nan}, "slippage_bps", PairsError),
        ({"funding": pd.DataFrame({"z": [0.0] * 4}, index=HAND_Y.index)}, "funding", PairsError),
        ({"funding": pd.DataFrame({"y": [0.0] * 4})}, "funding", DataError),
        ({"funding": pd.DataFrame({"y": [0.0, np.nan, 0.0, 0.0]}, index=HAND_Y.index)}, "funding", DataError),
        ({"funding": pd.Series([0.0] * 4, index=HAND_Y.index)}, "funding", PairsError),
        ({"periods_per_year": 0}, "periods_per_year", PairsError),
        ({"y": HAND_Y.where(HAND_Y.index != HAND_Y.index[1], 0.0)}, "y", DataError),
        ({"y": HAND_Y.where(HAND_Y.index != HAND_Y.index[1], np.nan)}, "y", DataError),
        ({"x": HAND_X.iloc[::-1]}, "x", DataError),
        ({"x": HAND_X.iloc[:3]}, "x", DataError),
    ],
)
def test_bad_inputs(kwargs: dict, match: str, exc: type) -> None:
    args = {"y": HAND_Y, "x": HAND_X, "beta": 2.0, "position": HAND_POS}
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        backtest(args.pop("y"), args.pop("x"), **args)


def test_periods_per_year_needed_without_datetime_index() -> None:
    with pytest.raises(PairsError, match="periods_per_year"):
        backtest(HAND_Y.to_numpy(), HAND_X.to_numpy(), beta=2.0, position=HAND_POS.to_numpy())
    res = backtest(
        HAND_Y.to_numpy(), HAND_X.to_numpy(), beta=2.0, position=HAND_POS.to_numpy(), periods_per_year=365
    )
    expected = backtest(HAND_Y, HAND_X, beta=2.0, position=HAND_POS).returns.to_numpy()
    np.testing.assert_array_equal(res.returns.to_numpy(), expected)
    assert isinstance(res.returns.index, pd.RangeIndex)


# --- walk-forward -----------------------------------------------------------------------------
WF_Y, WF_X = BTC.iloc[-400:], ETH.iloc[-400:]


def test_walk_forward_folds_and_ols_reference() -> None:
    wf = walk_forward(WF_Y, WF_X, train=150, test=60, zscore_window=30, rule=SignalRule(1.5), fee_bps=10)
    folds = wf.folds
    # Test windows [150, 210), [210, 270), [270, 330), [330, 390), [390, 400).
    assert len(folds) == 5
    idx = WF_Y.index
    assert folds["test_start"].tolist() == [idx[i] for i in (150, 210, 270, 330, 390)]
    assert folds["test_end"].tolist() == [idx[i] for i in (209, 269, 329, 389, 399)]
    assert folds["train_start"].tolist() == [idx[i] for i in (0, 60, 120, 180, 240)]
    assert folds["train_end"].tolist() == [idx[i] for i in (149, 209, 269, 329, 389)]
    for k, row in folds.iterrows():
        lo = 60 * k
        ref = sm.OLS(
            WF_Y.iloc[lo : lo + 150].to_numpy(), sm.add_constant(WF_X.iloc[lo : lo + 150].to_numpy())
        ).fit()
        assert row["beta"] == pytest.approx(ref.params[1], rel=1e-9)
        assert row["alpha"] == pytest.approx(ref.params[0], rel=1e-9, abs=1e-6)
        window = (wf.beta.index >= row["test_start"]) & (wf.beta.index <= row["test_end"])
        assert (wf.beta[window] == row["beta"]).all()
        assert wf.position[row["test_end"]] == 0.0  # closed on the last bar of the fold
    # Out-of-sample z-score = the fold's frozen spread standardised by a causal 30-bar window.
    first = folds.iloc[1]
    spread = WF_Y.iloc[60:270] - first["alpha"] - first["beta"] * WF_X.iloc[60:270]
    expected = (spread - spread.rolling(30).mean()) / spread.rolling(30).std()
    np.testing.assert_allclose(wf.zscore.iloc[60:120], expected.iloc[150:], rtol=1e-8)
    assert wf.position.abs().sum() > 0
    stitched = backtest(WF_Y.iloc[150:], WF_X.iloc[150:], beta=wf.beta, position=wf.position, fee_bps=10)
    pd.testing.assert_series_equal(wf.backtest.returns, stitched.returns)
    assert np.prod(1 + folds["return"]) == pytest.approx(wf.backtest.equity.iloc[-1], rel=1e-12)
    assert folds["n_trades"].sum() == wf.backtest.n_trades
    json.dumps(wf.to_dict())
    assert "n_folds" in wf.summary()


@settings(max_examples=10, deadline=None)
@given(
    fold=st.integers(0, 3),
    hedge=st.sampled_from(["ols", "rolling", "kalman"]),
    factor=st.floats(0.5, 2.0),
)
def test_walk_forward_has_no_look_ahead(fold: int, hedge: str, factor: float) -> None:
    options = {
        "rolling": {"window": 50},
        "kalman": {"noise_units": "raw", "delta": 1e-3, "obs_var": 1e4},
        "ols": {},
    }[hedge]
    kw = {
        "train": 150,
        "test": 60,
        "zscore_window": 30,
        "hedge": hedge,
        "hedge_options": options,
        "fee_bps": 10,
    }
    base = walk_forward(WF_Y, WF_X, **kw)
    end = base.folds["test_end"].iloc[fold]
    after = WF_Y.index > end
    changed = walk_forward(WF_Y.where(~after, WF_Y * factor), WF_X.where(~after, WF_X / factor), **kw)
    pd.testing.assert_frame_equal(changed.folds.iloc[: fold + 1], base.folds.iloc[: fold + 1])
    for name in ("position", "beta", "zscore"):
        pd.testing.assert_series_equal(getattr(changed, name).loc[:end], getattr(base, name).loc[:end])
    pd.testing.assert_series_equal(changed.backtest.returns.loc[:end], base.backtest.returns.loc[:end])


def test_costs_default_to_the_strategy_defaults() -> None:
    # One default, defined once (10 bps, a spot taker fee): backtest, walk_forward and Strategy.
    import inspect

    import pairs

    strategy = pairs.Strategy(hedge="rolling", window=90, zscore_window=30)
    for function in (backtest, walk_forward):
        params = inspect.signature(function).parameters
        assert params["fee_bps"].default == strategy.fee_bps == 10.0
        assert params["slippage_bps"].default == strategy.slippage_bps == 0.0
    # A strategy's backtest is pairs.backtest of its positions with the default costs.
    run = strategy.run(BTC, ETH)
    via = run.backtest()
    default = backtest(BTC, ETH, beta=run.units_beta, position=run.position)
    pd.testing.assert_series_equal(default.equity, via.equity, check_exact=True)
    free = backtest(BTC, ETH, beta=run.units_beta, position=run.position, fee_bps=0)
    assert default.equity.iloc[-1] < free.equity.iloc[-1]
    # Passing the default explicitly with a strategy is no clash: it changes nothing.
    kw = {"train": 365, "test": 90}
    same = walk_forward(BTC, ETH, strategy=strategy, fee_bps=10.0, slippage_bps=0.0, **kw)
    pd.testing.assert_series_equal(
        same.backtest.equity, walk_forward(BTC, ETH, strategy=strategy, **kw).backtest.equity
    )
    with pytest.raises(PairsError, match="fee_bps"):
        walk_forward(BTC, ETH, strategy=strategy, fee_bps=0, **kw)


def test_walk_forward_callable_hedge() -> None:
    calls = []

    def fixed(y: pd.Series, x: pd.Series, *, scale: float) -> SimpleNamespace:
        calls.append((y.index[0], y.index[-1], len(x)))
        return SimpleNamespace(beta=pd.Series([np.nan, scale]), alpha=0.0)

    wf = walk_forward(WF_Y, WF_X, train=150, test=125, hedge=fixed, hedge_options={"scale": 25.0})
    assert calls == [(WF_Y.index[0], WF_Y.index[149], 150), (WF_Y.index[125], WF_Y.index[274], 150)]
    assert (wf.beta == 25.0).all() and wf.hedge == "fixed"


@pytest.mark.parametrize(
    ("kwargs", "match", "exc"),
    [
        ({"train": 400}, "train", InsufficientDataError),
        ({"train": 2}, "train", PairsError),
        ({"test": 0}, "test", PairsError),
        ({"hedge": "tls"}, "hedge", PairsError),
        ({"hedge": "rolling"}, "hedge_options", PairsError),
        ({"hedge_options": {"on": "log_returns"}}, "hedge_options", PairsError),
        ({"hedge_options": ["on"]}, "hedge_options", PairsError),
        ({"zscore_window": 151}, "zscore_window", PairsError),
        ({"rule": {"entry_z": 2.0}}, "rule", PairsError),
        (
            {"hedge": lambda y, x: SimpleNamespace(beta=pd.DataFrame({"a": [1.0]}), alpha=0.0)},
            "beta",
            PairsError,
        ),
        (
            {"hedge": lambda y, x: SimpleNamespace(beta=pd.Series([np.nan]), alpha=0.0)},
            "beta",
            InsufficientDataError,
        ),
        ({"fee_bps": -1}, "fee_bps", PairsError),
        ({"funding": pd.DataFrame({"y": [0.0] * 400})}, "funding", DataError),
        ({"capital": -1.0}, "capital", PairsError),
        ({"capital": "lots"}, "capital", PairsError),
    ],
)
def test_walk_forward_bad_inputs(kwargs: dict, match: str, exc: type) -> None:
    args = {"train": 150, "test": 60}
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        walk_forward(WF_Y, WF_X, **args)


def test_walk_forward_of_a_strategy_equals_the_explicit_options() -> None:
    import pairs

    prices = pairs.load_sample("binance_1d")[["BNB", "ETH"]].dropna()
    rule = pairs.SignalRule(entry_z=1.5, exit_z=0.0, stop_z=4.0)
    explicit = walk_forward(
        prices["BNB"], prices["ETH"], train=365, test=90, hedge="ols", rule=rule, zscore_window=60, fee_bps=10
    )
    strategy = pairs.Strategy(hedge="ols", zscore_window=60, rule=rule, fee_bps=10.0)
    via = walk_forward(prices["BNB"], prices["ETH"], train=365, test=90, strategy=strategy)
    np.testing.assert_array_equal(via.position.to_numpy(), explicit.position.to_numpy())
    np.testing.assert_allclose(via.folds["beta"], explicit.folds["beta"], rtol=1e-10)
    np.testing.assert_allclose(via.backtest.equity, explicit.backtest.equity, rtol=1e-10)
    assert via.backtest.n_trades > 10
    with pytest.raises(PairsError, match="strategy"):
        walk_forward(prices["BNB"], prices["ETH"], train=365, test=90, strategy=strategy, fee_bps=5)
    # A causal hedge warms up on the training bars; log prices trade beta * y / x units.
    kalman = walk_forward(
        prices["BNB"], prices["ETH"], train=365, test=90, strategy=pairs.Strategy(log_prices=True)
    )
    assert kalman.backtest.n_trades > 10 and kalman.hedge == "kalman"


@pytest.mark.parametrize("via_strategy", [False, True])
def test_walk_forward_on_an_account_in_currency(via_strategy: bool) -> None:
    import pairs

    # LTC/BTC: an account that survives (BNB/ETH or ETH/BTC lose more than the capital).
    prices = pairs.load_sample("binance_1d")[["LTC", "BTC"]].dropna()
    y, x = prices["LTC"], prices["BTC"]
    rule = pairs.SignalRule(entry_z=1.5, exit_z=0.0, stop_z=4.0)

    def run(fee: float, capital: float = 10_000.0, yy: pd.Series = y, xx: pd.Series = x) -> Any:
        if via_strategy:
            strategy = pairs.Strategy(
                hedge="ols", zscore_window=60, rule=rule, fee_bps=fee, slippage_bps=fee / 2, capital=capital
            )
            return walk_forward(yy, xx, train=365, test=90, strategy=strategy)
        return walk_forward(
            yy,
            xx,
            train=365,
            test=90,
            rule=rule,
            zscore_window=60,
            fee_bps=fee,
            slippage_bps=fee / 2,
            capital=capital,
        )

    free, paid = run(0.0), run(10.0)
    bt = free.backtest
    assert bt.convention == "account" and bt.capital == 10_000.0 and bt.n_trades > 10
    # The same positions as the gross-exposure walk-forward; legs held only in a position,
    # y's sign that of the position.
    gross = walk_forward(y, x, train=365, test=90, rule=rule, zscore_window=60)
    np.testing.assert_array_equal(free.position.to_numpy(), gross.position.to_numpy())
    uy, ux = bt.units["y_units"].to_numpy(), bt.units["x_units"].to_numpy()
    pos = free.position.to_numpy()
    assert np.all((uy == 0) == (pos == 0)) and np.all(np.sign(uy) == np.sign(pos))
    # Closed form without costs: equity = capital + the P&L of the units held into each bar.
    py, px = y.iloc[365:].to_numpy(), x.iloc[365:].to_numpy()
    pnl = np.concatenate(([0.0], uy[:-1] * np.diff(py) + ux[:-1] * np.diff(px)))
    np.testing.assert_allclose(bt.equity.to_numpy(), 10_000.0 + np.cumsum(pnl), rtol=1e-12)
    # Costs: the same units (sized on the capital), equity lower by exactly the fees and
    # slippage paid.
    np.testing.assert_array_equal(paid.backtest.units.to_numpy(), bt.units.to_numpy())
    np.testing.assert_allclose(
        paid.backtest.equity.to_numpy(),
        bt.equity.to_numpy() - np.cumsum(paid.backtest.costs[["fees", "slippage"]].to_numpy().sum(axis=1)),
        rtol=1e-12,
    )
    assert paid.backtest.fees_paid > 0 and paid.backtest.slippage_paid > 0
    # Fold returns compound to the whole account's; a fold depends on no later bar.
    growth = np.prod(1.0 + paid.folds["return"].to_numpy()) - 1.0
    assert growth == pytest.approx(paid.backtest.total_return, rel=1e-9)
    cut = 365 + 5 * 90
    early = run(10.0, yy=y.iloc[:cut], xx=x.iloc[:cut])
    np.testing.assert_allclose(
        early.backtest.equity.to_numpy(), paid.backtest.equity.to_numpy()[: cut - 365], rtol=1e-12
    )
    # An account that loses more than its capital is refused (there is no liquidation model).
    bnb_eth = pairs.load_sample("binance_1d")[["BNB", "ETH"]].dropna()
    with pytest.raises(PairsError, match=r"^capital must keep the account equity positive"):
        run(10.0, yy=bnb_eth["BNB"], xx=bnb_eth["ETH"])
    if via_strategy:
        strategy = pairs.Strategy(hedge="ols", capital=10_000.0)
        with pytest.raises(PairsError, match="capital"):
            walk_forward(y, x, train=365, test=90, strategy=strategy, capital=5_000.0)
