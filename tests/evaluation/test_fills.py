"""Account execution (issue #25): fill timing and costs against vectorbt and hand computations."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import pairs
from pairs import DataError, PairsError, read_prices
from pairs.data._sample import sample_path
from pairs.evaluation import backtest

CAPITAL = 100_000.0


def _ohlc(field: str) -> pd.DataFrame:
    return pd.concat(
        {k: read_prices(sample_path(f"{k}USDT_1d.csv"), field=field) for k in ("ETH", "BTC")}, axis=1
    ).iloc[-400:]


CLOSE, OPEN = _ohlc("close"), _ohlc("open")


def _units() -> pd.DataFrame:
    """Units of a rolling-hedge strategy sized for 10,000 (a tenth of CAPITAL: vectorbt never lacks cash)."""
    strategy = pairs.Strategy(hedge="rolling", window=30, capital=10_000.0, lot_size=(0.01, 0.0001))
    return strategy.run(CLOSE["ETH"], CLOSE["BTC"]).frame[["y_units", "x_units"]].fillna(0.0)


UNITS = _units()


def _vectorbt(orders: pd.DataFrame, **kw: object) -> np.ndarray:
    vbt = pytest.importorskip("vectorbt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pf = vbt.Portfolio.from_orders(
            CLOSE,
            size=orders.set_axis(["ETH", "BTC"], axis=1),
            size_type="amount",
            init_cash=CAPITAL,
            cash_sharing=True,
            group_by=True,
            freq="1D",
            **kw,
        )
        return pf.value().to_numpy()


def test_next_open_equals_vectorbt_from_orders() -> None:
    # The orders of each signal bar t (units sized with its close) sent at the open of bar t + 1.
    res = backtest(
        CLOSE["ETH"],
        CLOSE["BTC"],
        units=UNITS,
        capital=CAPITAL,
        fee_bps=10,
        fill="next_open",
        open_y=OPEN["ETH"],
        open_x=OPEN["BTC"],
    )
    orders = UNITS.diff().fillna(UNITS.iloc[:1]).shift(1).fillna(0.0)
    assert res.n_trades > 5 and (orders != 0).any(axis=1).sum() > 20
    ref = _vectorbt(orders, price=OPEN.to_numpy(), fees=10e-4)
    np.testing.assert_allclose(res.equity.to_numpy(), ref, rtol=0, atol=1e-7 * CAPITAL)
    assert res.fill == "next_open" and "next_open" in res.summary()
    # The units held at t + 1 are the units of the signal bar t.
    np.testing.assert_array_equal(res.units.to_numpy()[1:], UNITS.to_numpy()[:-1])


def test_slippage_as_a_moved_price_equals_vectorbt() -> None:
    res = backtest(
        CLOSE["ETH"],
        CLOSE["BTC"],
        units=UNITS,
        capital=CAPITAL,
        fee_bps=10,
        slippage_bps=20,
        slippage_model="price",
    )
    orders = UNITS.diff().fillna(UNITS.iloc[:1])
    ref = _vectorbt(orders, fees=10e-4, slippage=20e-4)
    np.testing.assert_allclose(res.equity.to_numpy(), ref, rtol=0, atol=1e-7 * CAPITAL)
    # The slippage line is |o| p s in both models; the models differ by the fees on the moved price.
    cost = backtest(CLOSE["ETH"], CLOSE["BTC"], units=UNITS, capital=CAPITAL, fee_bps=10, slippage_bps=20)
    assert res.slippage_paid == pytest.approx(cost.slippage_paid, rel=1e-12)
    assert res.slippage_paid == pytest.approx(20e-4 * res.costs["traded"].sum(), rel=1e-12)
    moved = (UNITS.diff().fillna(UNITS.iloc[:1]) * CLOSE.to_numpy() * 20e-4 * 10e-4).sum().sum()
    assert cost.equity.iloc[-1] - res.equity.iloc[-1] == pytest.approx(moved, abs=1e-9)


@pytest.mark.parametrize("fill", ["next_close", 1, 3])
def test_a_lag_holds_the_units_of_the_signal_bar(fill: object) -> None:
    lag = 1 if fill == "next_close" else int(fill)  # type: ignore[call-overload]
    now = backtest(CLOSE["ETH"], CLOSE["BTC"], units=UNITS, capital=CAPITAL, fee_bps=10)
    later = backtest(CLOSE["ETH"], CLOSE["BTC"], units=UNITS, capital=CAPITAL, fee_bps=10, fill=fill)
    np.testing.assert_array_equal(later.units.to_numpy()[lag:], now.units.to_numpy()[:-lag])
    assert (later.units.to_numpy()[:lag] == 0).all()
    assert later.fill == ("next_close" if fill == "next_close" else f"close {lag} bars later")
    # The gross-exposure convention lags the position the same way.
    beta = (CLOSE["ETH"] / CLOSE["BTC"]).rolling(20).mean()
    pos = pairs.signals(pairs.zscore(CLOSE["ETH"] - beta * CLOSE["BTC"], window=20))
    lagged = backtest(CLOSE["ETH"], CLOSE["BTC"], beta=beta, position=pos, fill=fill)
    shifted = backtest(CLOSE["ETH"], CLOSE["BTC"], beta=beta.shift(lag), position=pos.shift(lag).fillna(0.0))
    np.testing.assert_allclose(lagged.equity, shifted.equity, rtol=1e-12)


# --- maker rebate and funding signs, by hand -------------------------------------------------------
# Units y = [1, 1, 0], x = [-2, -2, 0]; taker 5 bps, maker -1 bps (a rebate) on half the notional.
# Bar 0: T = 100 + 2 * 50 = 200: fees 200 * 0.5 * 5e-4 = 0.05, rebates 200 * 0.5 * 1e-4 = 0.01.
# Bar 2: T = 105 + 2 * 51 = 207: fees 207 * 0.5 * 5e-4 = 0.05175, rebates 207 * 0.5 * 1e-4 = 0.01035.
# Funding of the short x leg: F1 = -2 * 50 * 0.002 = -0.2, F2 = -2 * 52 * 0.001 = -0.104 (received).
# Price P&L: bar 1: 10 - 2 * 2 = 6; bar 2: -5 - 2 * (-1) = -3.
IDX3 = pd.date_range("2024-01-01", periods=3, freq="D", tz="UTC")


def test_maker_rebate_and_short_funding_signs() -> None:
    res = backtest(
        pd.Series([100.0, 110.0, 105.0], index=IDX3),
        pd.Series([50.0, 52.0, 51.0], index=IDX3),
        units=pd.DataFrame({"y_units": [1.0, 1.0, 0.0], "x_units": [-2.0, -2.0, 0.0]}, index=IDX3),
        capital=1000.0,
        fee_bps=5,
        maker_fee_bps=-1,
        maker_share=0.5,
        funding=pd.DataFrame({"x": [0.0, 0.002, 0.001]}, index=IDX3),
    )
    np.testing.assert_allclose(res.costs["fees"], [0.05, 0.0, 0.05175], rtol=1e-12)
    np.testing.assert_allclose(res.costs["rebates"], [0.01, 0.0, 0.01035], rtol=1e-12)
    np.testing.assert_allclose(res.costs["funding"], [0.0, -0.2, -0.104], rtol=1e-12)
    assert res.rebates_received == pytest.approx(0.02035, rel=1e-12) and res.rebates_received > 0
    assert res.funding_paid == pytest.approx(-0.304, rel=1e-12) and res.funding_paid < 0
    e0 = 1000 - 0.05 + 0.01
    e1 = e0 + 6 + 0.2
    e2 = e1 - 3 + 0.104 - 0.05175 + 0.01035
    np.testing.assert_allclose(res.equity, [e0, e1, e2], rtol=1e-12)
    assert res.trades["rebates"].sum() == pytest.approx(0.02035, rel=1e-12)
    assert res.trades["pnl"].sum() == pytest.approx(e2 - 1000, rel=1e-9)
    summary = res.summary()
    assert "rebates_received" in summary and "funding_paid" in summary


# --- funding at its settlement timestamps, by hand -------------------------------------------------
# 4-hour bars labelled by their open time (00:00 ... 20:00), bar t closing at the next label. A
# settlement at s is paid at the first bar closing at or after s, on the units held over it, at the
# close before: ETH 08:00 (bar 1), 16:00 (bar 3), next day 00:00 (bar 5: the last bar's close);
# BTC 08:00 (bar 1), 10:00 (off the grid: bar 2), next day 00:00 (bar 5), and none at 16:00 (NaN).
# Long 2 ETH, short 0.1 BTC from bar 0:
#   bar 1: 2 * 2000 * 1e-4 + (-0.1) * 40000 * 3e-4 = 0.4 - 1.2 = -0.8
#   bar 2: -0.1 * 40100 * 2e-4 = -0.802
#   bar 3: 2 * 2020 * 2e-4 = 0.808
#   bar 5: 2 * 2040 * (-1e-4) + (-0.1) * 40400 * 1e-4 = -0.408 - 0.404 = -0.812
IDX4H = pd.date_range("2024-01-01", periods=6, freq="4h", tz="UTC")
ETH = pd.Series([2000.0, 2010, 2020, 2030, 2040, 2050], index=IDX4H, name="ETH/USDT:USDT")
BTC = pd.Series([40000.0, 40100, 40200, 40300, 40400, 40500], index=IDX4H, name="BTC/USDT:USDT")
SETTLED = pd.DataFrame(
    {
        "ETH/USDT:USDT": [1e-4, np.nan, 2e-4, -1e-4, 5e-4, 9e-4],
        "BTC/USDT:USDT": [3e-4, 2e-4, np.nan, 1e-4, 5e-4, 9e-4],
    },
    index=pd.DatetimeIndex(
        [
            "2024-01-01 08:00",
            "2024-01-01 10:00",
            "2024-01-01 16:00",
            "2024-01-02 00:00",
            "2024-01-02 08:00",
            "2023-12-31 16:00",
        ],
        tz="UTC",
    ),
).sort_index()


def test_funding_settled_at_its_timestamps() -> None:
    units = pd.DataFrame({"y_units": [2.0] * 5 + [0.0], "x_units": [-0.1] * 5 + [0.0]}, index=IDX4H)
    res = backtest(ETH, BTC, units=units, capital=10_000.0, fee_bps=0, funding=SETTLED)
    np.testing.assert_allclose(res.costs["funding"], [0.0, -0.8, -0.802, 0.808, 0.0, -0.812], rtol=1e-12)
    # The same rates placed on their bars by hand give the same account (the per-bar form).
    per_bar = pd.DataFrame(
        {"y": [0.0, 1e-4, 0.0, 2e-4, 0.0, -1e-4], "x": [0.0, 3e-4, 2e-4, 0.0, 0.0, 1e-4]}, index=IDX4H
    )
    aligned = backtest(ETH, BTC, units=units, capital=10_000.0, fee_bps=0, funding=per_bar)
    np.testing.assert_allclose(aligned.equity, res.equity, rtol=1e-13)
    # A leg without a column (a spot leg) pays none.
    only_eth = backtest(ETH, BTC, units=units, capital=10_000.0, fee_bps=0, funding=SETTLED[[ETH.name]])
    np.testing.assert_allclose(only_eth.costs["funding"], [0.0, 0.4, 0.0, 0.808, 0.0, -0.408], rtol=1e-12)


def test_funding_with_open_fills_is_paid_on_the_units_held_over_the_bar() -> None:
    # With fill="next_open" the order of bar t fills at the open of t + 1 (just after the close of
    # t), so the units held over bar t + 1 pay its funding, valued at that open.
    opens = ETH.shift(1).fillna(1990.0), BTC.shift(1).fillna(39900.0)
    units = pd.DataFrame({"y_units": [2.0] * 6, "x_units": [-0.1] * 6}, index=IDX4H)
    res = backtest(
        ETH,
        BTC,
        units=units,
        capital=10_000.0,
        fee_bps=0,
        funding=SETTLED,
        fill="next_open",
        open_y=opens[0],
        open_x=opens[1],
    )
    # Held from the open of bar 1: bar 1 pays 2 * 2000 * 1e-4 - 0.1 * 40000 * 3e-4 = -0.8.
    np.testing.assert_allclose(res.costs["funding"], [0.0, -0.8, -0.802, 0.808, 0.0, -0.812], rtol=1e-12)


def test_min_notional_skips_small_orders_but_never_a_close() -> None:
    idx = pd.date_range("2024-01-01", periods=4, freq="D", tz="UTC")
    y, x = pd.Series([100.0] * 4, index=idx), pd.Series([50.0] * 4, index=idx)
    # A re-size of 0.04 y (4 of notional) is below the 5 minimum; the close to 0 is sent.
    units = pd.DataFrame({"y_units": [1.0, 1.04, 1.2, 0.0], "x_units": [-2.0, -2.0, -2.0, 0.0]}, index=idx)
    res = backtest(y, x, units=units, capital=1000.0, fee_bps=0, min_notional=(5.0, 5.0))
    np.testing.assert_allclose(res.units["y_units"], [1.0, 1.0, 1.2, 0.0], rtol=0, atol=1e-12)
    ev = res.events
    assert list(ev["event"]) == ["below_min_notional"] and ev["time"].iloc[0] == idx[1]
    assert ev["y_order"].iloc[0] == pytest.approx(0.04) and ev["y_filled"].iloc[0] == 0.0
    small = backtest(y, x, units=units * 0.01, capital=1000.0, fee_bps=0, min_notional=(5.0, 5.0))
    assert (small.units.to_numpy() == 0).all() and len(small.events) == 3


@pytest.mark.parametrize(
    ("kwargs", "match", "exc"),
    [
        ({"fill": "tomorrow"}, "^fill must be one of", PairsError),
        ({"fill": -1}, "^fill must be", PairsError),
        ({"fill": 1.5}, "^fill must be 'close'", PairsError),
        ({"fill": "next_open"}, "^open_y must be given with fill='next_open'", PairsError),
        ({"open_y": CLOSE["ETH"]}, "^open_y must be None unless fill='next_open'", PairsError),
        (
            {"fill": "next_open", "open_y": CLOSE["ETH"], "open_x": -CLOSE["BTC"]},
            "^open_x must be strictly",
            DataError,
        ),
        (
            {"fill": "next_open", "open_y": CLOSE["ETH"].iloc[1:], "open_x": CLOSE["BTC"]},
            "^open_y",
            DataError,
        ),
        ({"maker_share": 1.5}, "^maker_share", PairsError),
        ({"maker_fee_bps": "cheap"}, "^maker_fee_bps", PairsError),
        ({"slippage_model": "vectorbt"}, "^slippage_model must be one of", PairsError),
        ({"min_notional": 5.0}, r"^min_notional must be a pair", PairsError),
        ({"min_notional": (5.0, -1.0)}, r"^min_notional\[1\]", PairsError),
        ({"leverage": 0.0}, "^leverage", PairsError),
        ({"margin": "portfolio"}, "^margin must be one of", PairsError),
        ({"margin": "isolated"}, "^leverage must be a number > 0 with margin='isolated'", PairsError),
        ({"maintenance_margin": (0.004, 1.0)}, r"^maintenance_margin\[1\]", PairsError),
        (
            {"funding": pd.DataFrame({"SOL": [0.001]}, index=CLOSE.index[:1])},
            "^funding must have columns",
            PairsError,
        ),
    ],
)
def test_execution_errors(kwargs: dict, match: str, exc: type) -> None:
    with pytest.raises(exc, match=match):
        backtest(CLOSE["ETH"], CLOSE["BTC"], units=UNITS, capital=CAPITAL, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"fill": "next_open"}, "^fill must be 'close', 'next_close' or a lag in bars without capital"),
        ({"leverage": 2.0}, "^leverage must be None without capital"),
        ({"slippage_model": "price"}, "^slippage_model must be None without capital"),
        ({"margin": "cross"}, "^margin must be None without capital"),
    ],
)
def test_account_options_need_capital(kwargs: dict, match: str) -> None:
    with pytest.raises(PairsError, match=match):
        backtest(CLOSE["ETH"], CLOSE["BTC"], beta=20.0, position=np.zeros(len(CLOSE)), **kwargs)


def test_gross_convention_charges_the_maker_share() -> None:
    pos = np.r_[np.zeros(10), np.ones(200), np.zeros(190)]
    kw = {"beta": 20.0, "position": pos}
    mixed = backtest(CLOSE["ETH"], CLOSE["BTC"], fee_bps=5, maker_fee_bps=-1, maker_share=0.25, **kw)
    flat = backtest(CLOSE["ETH"], CLOSE["BTC"], fee_bps=0.75 * 5 - 0.25 * 1, **kw)
    np.testing.assert_allclose(mixed.equity, flat.equity, rtol=1e-12)
