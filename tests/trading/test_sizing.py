"""size_legs: closed-form units, lot rounding, rebalancing band, bad inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pairs import DataError, PairsError, load_sample
from pairs.trading import size_legs

PY = pd.Series([100.0, 100.0, 100.0])
PX = pd.Series([10.0, 10.0, 10.0])


def test_beta_neutral_closed_form() -> None:
    # capital 1000 for |pos| = 1: y = 1000 / (100 + 2 * 10) = 8.333.., x = -2 y; gross = 1000.
    out = size_legs([1.0, -0.5, 0.0], 2.0, PY, PX, capital=1000.0)
    assert list(out.columns) == ["y_units", "x_units"] and out.index.equals(PY.index)
    y1 = 1000.0 / 120.0
    np.testing.assert_allclose(out["y_units"], [y1, -y1 / 2, 0.0], rtol=1e-15)
    np.testing.assert_allclose(out["x_units"], [-2 * y1, y1, 0.0], rtol=1e-15)
    gross = out["y_units"].abs() * PY + out["x_units"].abs() * PX
    np.testing.assert_allclose(gross, [1000.0, 500.0, 0.0], rtol=1e-15)


def test_negative_beta_hedges_with_the_same_sign() -> None:
    out = size_legs([1.0], -2.0, PY.iloc[:1], PX.iloc[:1], capital=1200.0)
    assert out.iloc[0].tolist() == pytest.approx([10.0, 20.0], rel=1e-15)


def test_dollar_neutral_closed_form() -> None:
    out = size_legs([1.0, -1.0, 0.0], None, PY, PX, capital=1000.0, mode="dollar_neutral")
    np.testing.assert_allclose(out.to_numpy(), [[5.0, -50.0], [-5.0, 50.0], [0.0, 0.0]], rtol=1e-15)


def test_lot_rounding_toward_zero() -> None:
    # y = 8.333 -> 8.3 (lot 0.1); x = -2 * 8.3 = -16.6 -> -16 (lot 1); mirror for a short.
    out = size_legs([1.0, -1.0], 2.0, PY.iloc[:2], PX.iloc[:2], capital=1000.0, lot_size=(0.1, 1.0))
    np.testing.assert_allclose(out.to_numpy(), [[8.3, -16.0], [-8.3, 16.0]], rtol=1e-12)


def test_lot_rounding_ignores_floating_noise() -> None:
    # 0.3 / 0.1 == 2.9999999999999996: still 3 lots, not 2.
    out = size_legs([1.0], None, [1.0], [1.0], capital=0.6, mode="dollar_neutral", lot_size=(0.1, 0.1))
    np.testing.assert_allclose(out.to_numpy(), [[0.3, -0.3]], rtol=1e-12)


@pytest.mark.parametrize("mode", ["dollar_neutral", "beta_neutral"])
def test_lot_rounding_beyond_int64(mode: str) -> None:
    # Issue #13: a PEPE-priced leg (1.2e-5) with satoshi lots (1e-8) and 2.5M of capital needs
    # ~1e19 lots, more than 2**63; an int64 cast overflowed and turned the long leg short.
    py, px = pd.Series([1.2e-5, 1.2e-5]), pd.Series([1.1e-5, 1.1e-5])
    kw = {"capital": 2.5e6, "mode": mode, "lot_size": (1e-8, 1e-8)}
    out = size_legs([1.0, -1.0], 1.0, py, px, **kw)
    exact = size_legs([1.0, -1.0], 1.0, py, px, **{**kw, "lot_size": (0.0, 0.0)})
    assert (out["y_units"].abs() / 1e-8 > 2.0**63).all()
    assert np.sign(out.to_numpy()).tolist() == [[1.0, -1.0], [-1.0, 1.0]]
    # The rounding step (1e-8) is far below the float spacing of ~1e11 units: the units are exact.
    np.testing.assert_allclose(out.to_numpy(), exact.to_numpy(), rtol=1e-15)


def test_lot_multiples_on_real_data() -> None:
    prices = load_sample("binance_1d")[["BTC", "ETH"]].dropna().iloc[-200:]
    pos = np.where(np.arange(200) % 40 < 25, 1.0, -1.0)
    out = size_legs(pos, 25.0, prices["BTC"], prices["ETH"], capital=50_000, lot_size=(0.001, 0.01))
    for col, lot in (("y_units", 0.001), ("x_units", 0.01)):
        q = out[col].to_numpy() / lot
        np.testing.assert_allclose(q, np.round(q), atol=1e-6)
    exact = size_legs(pos, 25.0, prices["BTC"], prices["ETH"], capital=50_000)
    assert (out["y_units"].abs() <= exact["y_units"].abs() + 1e-12).all()
    assert ((exact["y_units"] - out["y_units"]).abs() < 0.001).all()


def test_band_holds_units_until_beta_drifts() -> None:
    beta = pd.Series([2.0, 2.1, 2.25, 2.3, 2.0])
    py, px = pd.Series(np.full(5, 100.0)), pd.Series(np.full(5, 10.0))
    out = size_legs(np.ones(5), beta, py, px, capital=1000.0, rebalance_band=0.1)
    # Re-sizes at bar 0 (ref 2.0), bar 2 (|2.25 - 2| > 0.2, ref 2.25) and bar 4 (|2.0 - 2.25| > 0.225).
    used = np.array([2.0, 2.0, 2.25, 2.25, 2.0])
    y = 1000.0 / (100.0 + used * 10.0)
    np.testing.assert_allclose(out["y_units"], y, rtol=1e-15)
    np.testing.assert_allclose(out["x_units"], -used * y, rtol=1e-15)
    # A drift exactly equal to the band is not "more than" the band: |2.5 - 2| = 0.25 * 2.
    edge = size_legs(
        np.ones(2), pd.Series([2.0, 2.5]), py.iloc[:2], px.iloc[:2], capital=1000.0, rebalance_band=0.25
    )
    assert edge["x_units"].iloc[1] == edge["x_units"].iloc[0]
    every = size_legs(np.ones(5), beta, py, px, capital=1000.0)
    np.testing.assert_allclose(every["x_units"] / every["y_units"], -beta, rtol=1e-15)


def test_units_held_while_prices_move_and_resized_on_position_change() -> None:
    prices = load_sample("binance_1d")[["BTC", "ETH"]].dropna().iloc[:6]
    pos = [1.0, 1.0, 1.0, 0.5, 0.5, 0.0]
    out = size_legs(pos, 20.0, prices["BTC"], prices["ETH"], capital=10_000.0, rebalance_band=0.05)
    assert out["y_units"].iloc[0] == out["y_units"].iloc[1] == out["y_units"].iloc[2]
    assert out["y_units"].iloc[3] == out["y_units"].iloc[4] != out["y_units"].iloc[2]
    gross = out["y_units"].abs() * prices["BTC"] + out["x_units"].abs() * prices["ETH"]
    np.testing.assert_allclose(gross.iloc[[0, 3]], [10_000.0, 5_000.0], rtol=1e-12)
    assert out.iloc[5].tolist() == [0.0, 0.0]


def test_beta_series_with_warm_up_nan_where_flat() -> None:
    beta = pd.Series([np.nan, np.nan, 2.0])
    out = size_legs([0.0, 0.0, 1.0], beta, PY, PX, capital=1000.0)
    assert out["y_units"].tolist()[:2] == [0.0, 0.0] and out["y_units"].iloc[2] > 0


@pytest.mark.parametrize(
    ("kwargs", "match", "exc"),
    [
        ({"mode": "equal"}, "mode", PairsError),
        ({"capital": 0.0}, "capital", PairsError),
        ({"capital": np.nan}, "capital", PairsError),
        ({"lot_size": (-0.1, 0.0)}, "lot_size", PairsError),
        ({"lot_size": (0.1, "a")}, "lot_size", PairsError),
        ({"lot_size": 0.1}, "lot_size", PairsError),
        ({"rebalance_band": -0.1}, "rebalance_band", PairsError),
        ({"beta": None}, "beta", PairsError),
        ({"beta": "2"}, "beta", PairsError),
        ({"beta": pd.Series([2.0, np.nan, 2.0])}, "beta", DataError),
        ({"beta": pd.Series([2.0, 2.0])}, "beta", DataError),
        ({"position": [1.0, np.nan, 0.0]}, "position", DataError),
        ({"position": pd.Series([1.0, 1.0, 0.0], index=[5, 6, 7])}, "position", DataError),
        ({"position": [1.0, 1.0]}, "position", DataError),
        ({"y_price": pd.Series([100.0, -1.0, 100.0])}, "y_price", DataError),
        ({"x_price": pd.Series([10.0, 10.0, 10.0], index=[1, 2, 3])}, "x_price", DataError),
    ],
)
def test_bad_inputs(kwargs: dict, match: str, exc: type) -> None:
    args = {"position": [1.0, 1.0, 0.0], "beta": 2.0, "y_price": PY, "x_price": PX, "capital": 1000.0}
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        size_legs(args.pop("position"), args.pop("beta"), args.pop("y_price"), args.pop("x_price"), **args)
