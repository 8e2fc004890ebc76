"""backtest(capital=...): the account convention, against hand computations and a plain-Python ledger."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pairs import DataError, PairsError, kalman_hedge, load_sample
from pairs.evaluation import BacktestResult, backtest
from pairs.trading import signals, size_legs, zscore

IDX = pd.date_range("2024-01-01", periods=5, freq="D", tz="UTC")

# --- hand-computed example A: sizing from position ---------------------------------------------
# Beta-neutral, capital 1000, lots (0.1 y, 0.5 x), rebalance band 10%, fees 10 bps, slippage 5 bps.
# Bar 0: y units = 1000 / (100 + 2 * 10) = 8.33 -> 8.3 lots of 0.1; x = -2 * 8.3 = -16.6 -> -16.5.
# Bar 1: held. Bar 2: |2.5 - 2| > 0.1 * 2 -> re-sized at (101, 10.2): y = 1000 / 126.5 = 7.905 -> 7.9;
#   x = -2.5 * 7.9 = -19.75 -> -19.5. Bar 3: |2.6 - 2.5| <= 0.25, held. Bar 4: flat.
# Traded T = [8.3*100 + 16.5*10, 0, 0.4*101 + 3*10.2, 0, 7.9*103 + 19.5*10.4] = [995, 0, 71, 0, 1016.5].
# Price P&L = [0, 8.3*2 - 16.5*0.5, 8.3*(-1) - 16.5*(-0.3), 7.9*4 - 19.5*(-0.2), 7.9*(-2) - 19.5*0.4]
#           = [0, 8.35, -3.35, 35.5, -23.6].
# Funding on the notional held into the bar: F1 = 830*0.001 - 165*0.0005 = 0.7475,
#   F2 = 846.6*0.001 - 173.25*0 = 0.8466, F3 = 797.9*(-0.002) - 198.9*0.001 = -1.7947,
#   F4 = 829.5*0.001 - 195*0.002 = 0.4395.
A_Y = pd.Series([100.0, 102.0, 101.0, 105.0, 103.0], index=IDX)
A_X = pd.Series([10.0, 10.5, 10.2, 10.0, 10.4], index=IDX)
A_BETA = pd.Series([2.0, 2.0, 2.5, 2.6, 2.6], index=IDX)
A_POS = pd.Series([1.0, 1.0, 1.0, 1.0, 0.0], index=IDX)
A_FUNDING = pd.DataFrame(
    {"y": [0.0, 0.001, 0.001, -0.002, 0.001], "x": [0.0, 0.0005, 0.0, 0.001, 0.002]}, index=IDX
)
A_KW = {
    "beta": A_BETA,
    "position": A_POS,
    "capital": 1000.0,
    "lot_size": (0.1, 0.5),
    "rebalance_band": 0.1,
    "fee_bps": 10,
    "slippage_bps": 5,
    "funding": A_FUNDING,
}
A_TRADED = np.array([995.0, 0.0, 71.0, 0.0, 1016.5])
A_FUND = np.array([0.0, 0.7475, 0.8466, -1.7947, 0.4395])
A_EQUITY = np.array(
    [
        1000 - 0.0015 * 995,  # 998.5075
        1000 - 0.0015 * 995 + 8.35 - 0.7475,  # 1006.11
        1006.11 - 3.35 - 0.8466 - 0.0015 * 71,  # 1001.8069
        1001.8069 + 35.5 + 1.7947,  # 1039.1016
        1039.1016 - 23.6 - 0.4395 - 0.0015 * 1016.5,  # 1013.53735
    ]
)


def test_hand_computed_sized_account() -> None:
    res = backtest(A_Y, A_X, **A_KW)
    assert res.convention == "account" and res.capital == 1000.0
    np.testing.assert_allclose(
        res.units.to_numpy(), [[8.3, -16.5], [8.3, -16.5], [7.9, -19.5], [7.9, -19.5], [0, 0]], rtol=1e-12
    )
    np.testing.assert_allclose(res.equity, A_EQUITY, rtol=1e-12)
    np.testing.assert_allclose(res.equity, [998.5075, 1006.11, 1001.8069, 1039.1016, 1013.53735], rtol=1e-12)
    # Cash pays for the orders: 1000 - (830 - 165) - 1.4925 on bar 0, then the costs and the re-size.
    assert res.cash.iloc[0] == pytest.approx(333.5075, rel=1e-12)
    np.testing.assert_allclose(
        res.cash + res.units["y_units"] * A_Y + res.units["x_units"] * A_X, A_EQUITY, rtol=1e-12
    )
    np.testing.assert_allclose(res.costs["traded"], A_TRADED, rtol=1e-12)
    np.testing.assert_allclose(res.costs["fees"], 0.001 * A_TRADED, rtol=1e-12)
    np.testing.assert_allclose(res.costs["slippage"], 0.0005 * A_TRADED, rtol=1e-12)
    np.testing.assert_allclose(res.costs["funding"], A_FUND, rtol=1e-12, atol=1e-15)
    assert res.fees_paid == pytest.approx(2.0825, rel=1e-12)
    assert res.slippage_paid == pytest.approx(1.04125, rel=1e-12)
    assert res.funding_paid == pytest.approx(0.2389, rel=1e-12)
    before = np.concatenate(([1000.0], A_EQUITY[:-1]))
    np.testing.assert_allclose(res.returns, A_EQUITY / before - 1, rtol=1e-12)
    np.testing.assert_allclose(res.turnover, A_TRADED / before, rtol=1e-12)
    assert res.total_return == pytest.approx(0.01353735, rel=1e-12)
    assert res.apr == pytest.approx(1.01353735 ** (365 / 5) - 1, rel=1e-12)
    assert res.max_drawdown == pytest.approx(1 - 1013.53735 / 1039.1016, rel=1e-12)
    r = A_EQUITY / before - 1
    assert res.sharpe == pytest.approx(math.sqrt(365) * r.mean() / r.std(ddof=1), rel=1e-12)
    # One round trip; its P&L is the whole account's: 16.9 - 0.2389 - 3.12375.
    t = res.trades
    assert res.n_trades == 1 and t["side"].tolist() == [1] and t["bars"].tolist() == [4]
    assert t["entry_time"].tolist() == [IDX[0]] and t["exit_time"].tolist() == [IDX[4]]
    np.testing.assert_allclose(
        t[["pnl", "fees", "slippage", "funding", "return"]].to_numpy()[0],
        [13.53735, 2.0825, 1.04125, 0.2389, 0.01353735],
        rtol=1e-12,
    )


# --- hand-computed example B: given units, a flip --------------------------------------------------
# Units (1, -2), (1, -2), (-1, 3), (-1, 3), (0, 0); capital 1000, fees 20 bps.
# Orders: (1, -2), 0, (-2, 5), 0, (1, -3): traded T = [200, 0, 2*99 + 5*50, 0, 104 + 3*48] = [200, 0, 448, 0, 248].
# P&L = [0, 1*10 - 2*2, 1*(-11) - 2*(-2), -1*6 + 3*(-1), -1*(-1) + 3*(-1)] = [0, 6, -7, -9, -2].
# At the flip (bar 2) the long closes 1*99 + 2*50 = 199 and the short opens 99 + 3*50 = 249 of the 448
# traded: costs 0.002*199 to the long, 0.002*249 to the short.
B_Y = pd.Series([100.0, 110.0, 99.0, 105.0, 104.0], index=IDX)
B_X = pd.Series([50.0, 52.0, 50.0, 49.0, 48.0], index=IDX)
B_UNITS = pd.DataFrame(
    {"y_units": [1.0, 1.0, -1.0, -1.0, 0.0], "x_units": [-2.0, -2.0, 3.0, 3.0, 0.0]}, index=IDX
)


def test_hand_computed_units_with_a_flip() -> None:
    res = backtest(B_Y, B_X, units=B_UNITS, capital=1000.0, fee_bps=20)
    np.testing.assert_allclose(res.equity, [999.6, 1005.6, 997.704, 988.704, 986.208], rtol=1e-12)
    pd.testing.assert_frame_equal(res.units, B_UNITS)
    t = res.trades
    assert t["side"].tolist() == [1, -1] and t["bars"].tolist() == [2, 2]
    assert t["exit_time"].tolist() == [IDX[2], IDX[4]]
    long_pnl = -0.4 + 6 - 7 - 0.002 * 199  # -1.798
    short_pnl = -0.002 * 249 - 9 - 2 - 0.496  # -11.994
    np.testing.assert_allclose(t["pnl"], [long_pnl, short_pnl], rtol=1e-12)
    np.testing.assert_allclose(t["fees"], [0.4 + 0.398, 0.498 + 0.496], rtol=1e-12)
    assert t["pnl"].sum() == pytest.approx(res.equity.iloc[-1] - 1000.0, rel=1e-12)


def test_dollar_neutral_sizing_and_units_route_agree() -> None:
    # Dollar-neutral: 250 of each leg per unit of position; beta unused.
    pos = pd.Series([0.0, 1.0, 1.0, -1.0, 0.0], index=IDX)
    res = backtest(B_Y, B_X, position=pos, capital=500.0, sizing_mode="dollar_neutral", fee_bps=5)
    expected = [[0, 0], [250 / 110, -250 / 52], [250 / 110, -250 / 52], [-250 / 105, 250 / 49], [0, 0]]
    np.testing.assert_allclose(res.units.to_numpy(), expected, rtol=1e-15)
    same = backtest(B_Y, B_X, units=res.units, capital=500.0, fee_bps=5)
    pd.testing.assert_series_equal(same.equity, res.equity, check_exact=True)


# --- real data: the equity identity, against a plain-Python ledger ----------------------------------
PRICES = load_sample("binance_1d")[["ETH", "BTC"]].dropna()
ETH, BTC = PRICES["ETH"], PRICES["BTC"]


def _real_inputs() -> tuple[pd.Series, pd.Series, pd.DataFrame]:
    kalman = kalman_hedge(np.log(ETH), np.log(BTC), noise_units="raw", delta=1e-5, obs_var=1e-3)
    position = signals(zscore(kalman.spread, window=60), entry_z=2.0, exit_z=0.5, stop_z=4.0)
    k = np.arange(len(ETH))
    funding = pd.DataFrame({"y": 1e-4 * np.sin(k / 9.0), "x": 5e-5 * np.cos(k / 13.0)}, index=ETH.index)
    return kalman.beta * ETH / BTC, position, funding


def _ledger(
    y: list[float],
    x: list[float],
    uy: list[float],
    ux: list[float],
    fund: pd.DataFrame,
    capital: float,
    c_fee: float,
    c_slip: float,
) -> list[float]:
    """equity_t = capital + sum of u_{s-1} (p_s - p_{s-1}) - fees - slippage - funding, bar by bar."""
    equity, held_y, held_x, out = capital, 0.0, 0.0, []
    fy, fx = fund["y"].tolist(), fund["x"].tolist()
    for t in range(len(y)):
        if t > 0:
            equity += held_y * (y[t] - y[t - 1]) + held_x * (x[t] - x[t - 1])
            equity -= held_y * y[t - 1] * fy[t] + held_x * x[t - 1] * fx[t]
        traded = abs(uy[t] - held_y) * y[t] + abs(ux[t] - held_x) * x[t]
        equity -= (c_fee + c_slip) * traded
        held_y, held_x = uy[t], ux[t]
        out.append(equity)
    return out


def test_equity_identity_on_eth_btc() -> None:
    beta, position, funding = _real_inputs()
    kw = {"fee_bps": 10, "slippage_bps": 3, "funding": funding, "capital": 10_000.0}
    res = backtest(ETH, BTC, beta=beta, position=position, lot_size=(0.01, 0.0001), rebalance_band=0.05, **kw)
    assert res.n_trades > 20 and (res.units.diff().abs().sum(axis=1) > 0).sum() > 2 * res.n_trades
    ref = _ledger(
        ETH.tolist(),
        BTC.tolist(),
        res.units["y_units"].tolist(),
        res.units["x_units"].tolist(),
        funding,
        10_000.0,
        10e-4,
        3e-4,
    )
    np.testing.assert_allclose(res.equity, ref, rtol=1e-11)
    # The units are those of size_legs, and equity = cash + marked positions.
    legs = size_legs(position, beta, ETH, BTC, capital=10_000.0, lot_size=(0.01, 0.0001), rebalance_band=0.05)
    pd.testing.assert_frame_equal(res.units, legs, check_exact=True)
    marked = res.cash + res.units["y_units"] * ETH + res.units["x_units"] * BTC
    np.testing.assert_allclose(marked, res.equity, rtol=1e-11)
    # Costs add up; round trips add up to the final P&L; returns compound to equity / capital.
    assert res.fees_paid == pytest.approx(10e-4 * res.costs["traded"].sum(), rel=1e-12)
    assert res.trades["pnl"].sum() == pytest.approx(res.equity.iloc[-1] - 10_000.0, rel=1e-9)
    np.testing.assert_allclose(np.cumprod(1 + res.returns) * 10_000.0, res.equity, rtol=1e-10)
    # The gross-exposure convention on the same signals is unchanged by the new options.
    gross = backtest(ETH, BTC, beta=beta, position=position, fee_bps=10)
    assert gross.convention == "gross_exposure" and gross.total_return == pytest.approx(
        gross.equity.iloc[-1] - 1
    )


def test_docs_numbers_eth_btc() -> None:
    # docs/backtest.md: the README's Kalman ETH/BTC signals read three ways.
    beta, position, _ = _real_inputs()
    gross = backtest(ETH, BTC, beta=beta, position=position, fee_bps=10)
    same_units = backtest(ETH, BTC, units=gross.units, capital=10_000.0, fee_bps=10)
    sized = backtest(
        ETH,
        BTC,
        beta=beta,
        position=position,
        fee_bps=10,
        capital=10_000.0,
        lot_size=(0.001, 0.00001),
        rebalance_band=0.05,
    )
    rows = [(r.total_return, r.max_drawdown, r.n_trades) for r in (gross, same_units, sized)]
    np.testing.assert_allclose(
        [r[:2] for r in rows], [[-0.577, 0.609], [-0.128, 0.161], [-0.823, 0.868]], atol=5e-4
    )
    assert [r[2] for r in rows] == [132, 132, 132] and len(ETH) == 3065
    # Same units, same currency P&L: the gross returns times the exposure held are the account's P&L.
    pnl = same_units.equity.diff().fillna(same_units.equity.iloc[0] - 10_000.0)
    base = (gross.units.abs().shift(fill_value=0) * PRICES.shift().fillna(PRICES).to_numpy()).sum(axis=1)
    opened = (gross.units.abs() * PRICES.to_numpy()).sum(axis=1)
    base = base.where(base > 0, opened)
    np.testing.assert_allclose(gross.returns * base, pnl, rtol=1e-9, atol=1e-9)


def test_strategy_entry_point_units_frame() -> None:
    # What a Strategy passes: its frame's y_units/x_units; the account then trades exactly those.
    beta, position, _ = _real_inputs()
    frame = size_legs(position, beta, ETH, BTC, capital=10_000.0).assign(position=position)
    via_units = backtest(ETH, BTC, units=frame[["y_units", "x_units"]], capital=10_000.0, fee_bps=10)
    via_position = backtest(ETH, BTC, beta=beta, position=position, capital=10_000.0, fee_bps=10)
    pd.testing.assert_series_equal(via_units.equity, via_position.equity, check_exact=True)
    pd.testing.assert_frame_equal(via_units.trades, via_position.trades, check_exact=True)


def test_continuous_minus_zscore_position_warm_up_is_flat() -> None:
    # The textbook linear mean reversion: hold -z units of the spread; the z-score warm-up is flat.
    y, x = ETH.iloc[-400:], BTC.iloc[-400:]
    z = zscore(y - 0.05 * x, window=30)
    assert z.iloc[:29].isna().all()
    gross = backtest(y, x, beta=0.05, position=-z)
    flat_warm_up = backtest(y, x, beta=0.05, position=(-z).fillna(0.0))
    pd.testing.assert_series_equal(gross.equity, flat_warm_up.equity, check_exact=True)
    acct = backtest(y, x, beta=0.05, position=-z, capital=100_000.0, fee_bps=10)
    assert (acct.units.iloc[:29] == 0).all().all() and (acct.units.iloc[29:]["y_units"] != 0).all()
    np.testing.assert_allclose(np.sign(acct.units["y_units"].iloc[29:]), np.sign(-z.iloc[29:]))
    with pytest.raises(DataError, match=r"^position must be finite after"):
        backtest(y, x, beta=0.05, position=-z.where(z.index != z.index[100]))


def test_summary_names_the_convention() -> None:
    gross = backtest(B_Y, B_X, beta=2.0, position=[1.0, 1.0, -1.0, -1.0, 0.0])
    acct = backtest(B_Y, B_X, units=B_UNITS, capital=1000.0, fee_bps=20)
    assert "gross_exposure" in gross.summary() and "account" in acct.summary()
    assert "fees_paid" in acct.summary() and "fees_paid" not in gross.summary()
    # The gross convention's units: one unit of y and -beta of x per unit of position.
    pd.testing.assert_frame_equal(gross.units, B_UNITS.assign(x_units=[-2.0, -2.0, 2.0, 2.0, 0.0]))
    for res in (gross, acct):
        data = json.loads(json.dumps(res.to_dict()))
        assert data["convention"] == res.convention and data["total_return"] == pytest.approx(
            res.total_return
        )
        assert res.annual_turnover == pytest.approx(res.turnover.mean() * 365)
    assert gross.cash is None and gross.fees_paid is None
    assert list(acct.trades.columns) == [
        "entry_time",
        "exit_time",
        "side",
        "bars",
        "pnl",
        "fees",
        "rebates",
        "slippage",
        "funding",
        "return",
    ]


# --- causality --------------------------------------------------------------------------------------
@settings(max_examples=15, deadline=None)
@given(start=st.integers(0, 2000), t=st.integers(2, 400), band=st.sampled_from([0.0, 0.1]))
def test_account_is_causal(start: int, t: int, band: float) -> None:
    y, x = ETH.iloc[start : start + 400], BTC.iloc[start : start + 400]
    beta = (y / x).rolling(20).mean()
    position = signals(zscore(y - beta * x, window=20), stop_z=3.5)
    k = np.arange(len(y))
    funding = pd.DataFrame({"y": 1e-4 * np.sin(k / 7.0), "x": -5e-5 * np.cos(k / 5.0)}, index=y.index)
    kw = {"capital": 1e5, "lot_size": (0.01, 0.001), "rebalance_band": band, "fee_bps": 7, "slippage_bps": 2}

    def run(n: int) -> BacktestResult:
        return backtest(
            y.iloc[:n],
            x.iloc[:n],
            beta=beta.iloc[:n],
            position=position.iloc[:n],
            funding=funding.iloc[:n],
            **kw,
        )

    full, part = run(len(y)), run(t)
    for name in ("equity", "cash", "returns", "turnover"):
        pd.testing.assert_series_equal(getattr(part, name), getattr(full, name).iloc[:t], check_exact=True)
    pd.testing.assert_frame_equal(part.units, full.units.iloc[:t], check_exact=True)
    pd.testing.assert_frame_equal(part.costs, full.costs.iloc[:t], check_exact=True)


# --- errors -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "match", "exc"),
    [
        ({"capital": 0.0}, "^capital must be > 0", PairsError),
        ({"capital": "1e4"}, "^capital", PairsError),
        ({"capital": np.nan}, "^capital", PairsError),
        # The account cannot buy one lot: lot too big, capital too small, or a price too high.
        ({"lot_size": (10.0, 0.5)}, "^position must be sizable.*8.33.*units of y.*too small", PairsError),
        ({"lot_size": (0.1, 100.0)}, "^position must be sizable.*units of x", PairsError),
        ({"capital": 5.0, "lot_size": (0.1, 0.5)}, "^position must be sizable", PairsError),
        ({"beta": A_BETA.where(A_BETA.index != IDX[1])}, "^beta must be finite where position", DataError),
        ({"beta": None}, "^beta", PairsError),
        ({"sizing_mode": "dollar"}, "^sizing_mode", PairsError),
        ({"lot_size": 0.1}, "^lot_size", PairsError),
        ({"lot_size": (-0.1, 0.0)}, r"^lot_size\[0\]", PairsError),
        ({"rebalance_band": -1.0}, "^rebalance_band", PairsError),
        ({"capital": None}, "^lot_size must be None without capital", PairsError),
        (
            {"capital": None, "lot_size": None, "rebalance_band": None, "sizing_mode": "beta_neutral"},
            "^sizing_mode must be None",
            PairsError,
        ),
        ({"units": B_UNITS}, "^position must be None when units", PairsError),
        ({"position": None}, "^position must be given", PairsError),
        # Losses beyond the capital: 20x the capital in a position of 20.
        (
            {"position": A_POS * 20, "lot_size": (0.0, 0.0), "capital": 1000.0, "funding": A_FUNDING * 500},
            "^capital must keep the account equity positive",
            PairsError,
        ),
    ],
)
def test_account_errors(kwargs: dict, match: str, exc: type) -> None:
    args = {**A_KW, **kwargs}
    with pytest.raises(exc, match=match):
        backtest(A_Y, A_X, **args)


@pytest.mark.parametrize(
    ("kwargs", "match", "exc"),
    [
        ({"capital": None}, "^capital must be given with units", PairsError),
        ({"beta": 2.0}, "^beta must be None when units", PairsError),
        ({"lot_size": (0.1,)}, "^lot_size must be a pair", PairsError),
        ({"rebalance_band": 0.1}, "^rebalance_band must be None when units", PairsError),
        (
            {"units": B_UNITS.rename(columns={"x_units": "x"})},
            "^units must be a DataFrame with columns",
            PairsError,
        ),
        ({"units": B_UNITS["y_units"]}, "^units must be a DataFrame", PairsError),
        ({"units": B_UNITS.set_axis(IDX + pd.Timedelta(days=1))}, "^units index must equal", DataError),
        ({"units": B_UNITS.iloc[:4]}, "^units index must equal", DataError),
        ({"units": B_UNITS.replace(3.0, np.nan)}, "^units must not contain NaN", DataError),
        ({"units": B_UNITS * np.inf}, "^units must contain only finite", DataError),
    ],
)
def test_units_errors(kwargs: dict, match: str, exc: type) -> None:
    args = {"units": B_UNITS, "capital": 1000.0, **kwargs}
    with pytest.raises(exc, match=match):
        backtest(B_Y, B_X, **args)
