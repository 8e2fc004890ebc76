"""Strategy: one spec, three uses (notebook, CLI, stream) giving the same positions; defaults
equivariant to price units; JSON round trip; validation.

Tolerances: batch and stream run the same step functions, so positions, z-scores and betas are
compared with ``==``. Equivariance: rescaling prices changes rounding only, so z-scores agree to
1e-8 (absolute) and betas to 1e-8 (relative); positions must be identical.
"""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pairs
from pairs import PairsError, PairsWarning, SignalRule, Strategy
from pairs.cli import main
from pairs.evaluation import backtest

DAILY = pairs.load_sample("binance_1d")
COINS = ["BTC", "ETH", "BNB", "LTC", "XRP", "ADA"]
ACCEPTANCE = {
    "kalman_log": Strategy(hedge="kalman", log_prices=True),
    "rolling_log": Strategy(hedge="rolling", log_prices=True),
    "kalman_raw": Strategy(hedge="kalman", log_prices=False),
}


@pytest.fixture(scope="module")
def eth_btc() -> pd.DataFrame:
    return DAILY[["ETH", "BTC"]].dropna()


def replay(strategy: Strategy, y: pd.Series, x: pd.Series) -> pd.DataFrame:
    engine = strategy.stream()
    rows = [engine.update(a, b, t) for t, a, b in zip(y.index, y.tolist(), x.tolist(), strict=True)]
    return pd.DataFrame(
        {
            "position": [s.position for s in rows],
            "zscore": [s.zscore for s in rows],
            "beta": [s.beta for s in rows],
        },
        index=y.index,
    )


@pytest.mark.parametrize("name", sorted(ACCEPTANCE))
def test_run_stream_and_cli_give_identical_positions(
    name: str, eth_btc: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    strategy = ACCEPTANCE[name]
    run = strategy.run(eth_btc["ETH"], eth_btc["BTC"])
    assert run.n_trades > 10
    streamed = replay(strategy, eth_btc["ETH"], eth_btc["BTC"])
    np.testing.assert_array_equal(streamed["position"].to_numpy(), run.position.to_numpy())
    np.testing.assert_array_equal(streamed["zscore"].to_numpy(), run.zscore.to_numpy())
    np.testing.assert_array_equal(streamed["beta"].to_numpy(), run.beta.to_numpy())
    # The command line, from CSV files of the same prices and a strategy file.
    for coin in ("ETH", "BTC"):
        eth_btc[[coin]].rename_axis("Date").rename(columns={coin: "Close"}).to_csv(tmp_path / f"{coin}.csv")
    strategy.to_json(tmp_path / "strategy.json")
    capsys.readouterr()
    argv = [
        "signal",
        str(tmp_path / "ETH.csv"),
        str(tmp_path / "BTC.csv"),
        "--strategy",
        str(tmp_path / "strategy.json"),
    ]
    assert main([*argv, "--format", "csv"]) == 0
    cli = pd.read_csv(io.StringIO(capsys.readouterr().out), index_col="timestamp")
    np.testing.assert_array_equal(cli["position"].to_numpy(), run.position.to_numpy())
    assert Strategy.from_dict(strategy.to_dict()) == strategy
    assert Strategy.load(tmp_path / "strategy.json") == strategy


def test_strategy_file_round_trip_and_cli_print(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s = Strategy(
        hedge="rolling", window=90, rule=SignalRule(entry_z=2.5, exit_z=2.5, stop_z=9.0), capital=5000.0
    )
    assert Strategy.from_dict(json.loads(json.dumps(s.to_dict()))) == s
    assert main(["strategy", "--hedge", "rolling", "--window", "90", "--entry-z", "2.5"]) == 0
    printed = Strategy.from_dict(json.loads(capsys.readouterr().out))
    assert printed == Strategy(hedge="rolling", window=90, rule=SignalRule(entry_z=2.5))
    assert main(["strategy", "-o", str(tmp_path / "s.json")]) == 0
    assert Strategy.load(tmp_path / "s.json") == Strategy()
    # A flag overrides the file's setting; the rest comes from the file.
    s.to_json(tmp_path / "r.json")
    capsys.readouterr()
    assert main(["strategy", "--strategy", str(tmp_path / "r.json"), "--entry-z", "3"]) == 0
    over = Strategy.from_dict(json.loads(capsys.readouterr().out))
    assert (
        over.window == 90 and over.rule.entry_z == 3.0 and over.rule.exit_z == 2.5 and over.capital == 5000.0
    )
    assert "Kalman" in Strategy().summary() and "rolling OLS over 90 bars" in s.summary()


def test_readme_cli_examples_without_log_trade(capsys: pytest.CaptureFixture[str]) -> None:
    # The default Kalman hedge works on raw prices: the README's examples produce trades.
    assert main(["backtest", "sample:ETH", "sample:BTC", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["metrics"]["n_trades"] > 10
    assert main(["signal", "sample:ETH", "sample:BTC", "--format", "csv"]) == 0
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert frame["action"].isin(["enter_long", "enter_short"]).sum() > 10


def test_closed_exit_band_holds_only_beyond_the_band() -> None:
    z = pd.Series([0.0, 1.5, 1.2, 0.9, -1.1, -0.5, 1.01])
    # exit_z = entry_z: in a position only while |z| > entry_z (Chan's Kalman example).
    assert pairs.signals(z, entry_z=1.0, exit_z=1.0).tolist() == [0, -1, -1, 0, 1, 0, -1]
    # exit_z = -entry_z: exits only at the opposite threshold, where the rule flips.
    assert pairs.signals(z, entry_z=1.0, exit_z=-1.0).tolist() == [0, -1, -1, -1, 1, 1, -1]
    with pytest.raises(PairsError, match="exit_z"):
        SignalRule(entry_z=1.0, exit_z=1.01)


def test_rolling_zscore_window_defaults_to_the_hedge_window(eth_btc: pd.DataFrame) -> None:
    engine = pairs.StreamEngine("rolling", window=60)
    assert engine.strategy.z_window == 60
    run = Strategy(hedge="rolling", window=60).run(eth_btc["ETH"], eth_btc["BTC"])
    expected = pairs.zscore(run.frame["spread"], window=60)
    np.testing.assert_allclose(run.zscore, expected, rtol=0, atol=1e-10)


def test_unreachable_stop_warns() -> None:
    with pytest.warns(PairsWarning, match="never fire"):
        Strategy(zscore_window=16, rule=SignalRule(stop_z=4.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Strategy(zscore_window=30, rule=SignalRule(stop_z=4.0))  # (29 / sqrt(30) = 5.29)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"hedge": "tls"}, "hedge"),
        ({"window": 1}, "window"),
        ({"zscore_method": "innovation", "hedge": "rolling"}, "zscore_method"),
        ({"zscore_method": "ewm"}, "zscore_halflife"),
        ({"zscore_window": 10, "zscore_method": "expanding"}, "zscore_window"),
        ({"rule": "tight"}, "rule"),
        ({"capital": -1.0}, "capital"),
        ({"lot_size": (1.0,)}, "lot_size"),
        ({"fee_bps": -1.0}, "fee_bps"),
        ({"log_prices": "yes"}, "log_prices"),
        ({"delta": 0.0}, "delta"),
    ],
)
def test_bad_settings_name_the_argument(kwargs: dict, match: str) -> None:
    with pytest.raises(PairsError, match=f"^{match}"):
        Strategy(**kwargs)


def test_bad_strategy_files(tmp_path: Path) -> None:
    with pytest.raises(PairsError, match=r"^data"):
        Strategy.from_dict({"hedge": "kalman", "speed": 3})
    with pytest.raises(PairsError, match="format"):
        Strategy.from_dict({"format": "other"})
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(PairsError, match=r"^path"):
        Strategy.load(tmp_path / "bad.json")
    with pytest.raises(PairsError, match=r"^path"):
        Strategy.load(tmp_path / "missing.json")
    with pytest.raises(PairsError, match=r"^beta"):
        Strategy(hedge="ols").stream()


@settings(max_examples=20, deadline=None)
@given(
    pair=st.sampled_from([(a, b) for a in COINS for b in COINS if a != b]),
    scale_y=st.sampled_from([1e-6, 0.37, 1.0, 250.0, 1e7]),
    scale_x=st.sampled_from([1e-6, 0.02, 1.0, 9.0, 1e6]),
    log_prices=st.booleans(),
)
def test_defaults_are_equivariant_to_price_units(
    pair: tuple[str, str], scale_y: float, scale_x: float, log_prices: bool
) -> None:
    prices = DAILY[list(pair)].dropna().iloc[-700:]
    y, x = prices[pair[0]], prices[pair[1]]
    # kalman_hedge with default options
    base, scaled = pairs.kalman_hedge(y, x), pairs.kalman_hedge(scale_y * y, scale_x * x)
    np.testing.assert_allclose(scaled.beta, base.beta * scale_y / scale_x, rtol=1e-8)
    np.testing.assert_allclose(
        scaled.alpha, base.alpha * scale_y, rtol=1e-8, atol=1e-8 * scale_y * base.alpha.abs().max()
    )
    np.testing.assert_allclose(scaled.zscore, base.zscore, rtol=0, atol=1e-8)
    # Strategy.run and the stream with default options
    strategy = Strategy(log_prices=log_prices)
    run0 = strategy.run(y, x).frame
    run1 = strategy.run(scale_y * y, scale_x * x).frame
    np.testing.assert_allclose(run1["zscore"], run0["zscore"], rtol=0, atol=1e-8)
    np.testing.assert_array_equal(run1["position"].to_numpy(), run0["position"].to_numpy())
    if not log_prices:
        np.testing.assert_allclose(run1["beta"], run0["beta"] * scale_y / scale_x, rtol=1e-8)
    else:
        np.testing.assert_allclose(run1["beta"], run0["beta"], rtol=1e-8)
    streamed = replay(strategy, scale_y * y, scale_x * x)
    np.testing.assert_array_equal(streamed["position"].to_numpy(), run1["position"].to_numpy())


def test_no_public_function_shadows_a_module() -> None:
    import importlib.util

    for name in pairs.__all__:
        obj = getattr(pairs, name)
        if callable(obj) and not isinstance(obj, type):
            assert importlib.util.find_spec(f"pairs.{name}") is None, name


# A strategy file written before issue #25 (no execution settings) still loads, with their defaults.
OLD_FILE = {
    "format": "pairs.Strategy",
    "version": 1,
    "hedge": "rolling",
    "window": 30,
    "capital": 10000.0,
    "lot_size": [0.01, 0.0001],
    "fee_bps": 4.0,
    "slippage_bps": 1.0,
}


def test_execution_settings_round_trip_and_old_files_load(tmp_path: Path) -> None:
    s = Strategy(
        capital=10_000.0,
        fill="next_close",
        maker_fee_bps=-1.0,
        maker_share=0.5,
        slippage_model="price",
        min_notional=(5.0, 100.0),
        leverage=3.0,
        margin="isolated",
        maintenance_margin=(0.005, 0.004),
        market=("perp", "spot"),
        borrow_rate=(0.0, 0.05),
    )
    s.to_json(tmp_path / "s.json")
    assert Strategy.load(tmp_path / "s.json") == s
    assert Strategy.from_dict(json.loads(json.dumps(s.replace(fill=2).to_dict()))).fill == 2
    old = Strategy.from_dict(OLD_FILE)
    assert old == Strategy(
        hedge="rolling", window=30, capital=10000.0, lot_size=(0.01, 0.0001), fee_bps=4.0, slippage_bps=1.0
    )
    assert (old.fill, old.maker_fee_bps, old.maker_share, old.slippage_model) == ("close", None, 0.0, "cost")
    assert (old.market, old.borrow_rate) == (("perp", "perp"), (0.0, 0.0))
    assert (old.min_notional, old.leverage, old.margin, old.maintenance_margin) == (
        (0.0, 0.0),
        None,
        "cross",
        (0.004, 0.004),
    )
    text = s.summary()
    assert "at the next bar's close" in text and "isolated, leverage at most 3x" in text
    assert "50% as maker at -1 bps" in text and "moves the fill price" in text
    assert "y perp, x spot" in text


def test_strategy_backtest_uses_its_execution_settings(eth_btc: pd.DataFrame) -> None:
    y, x = eth_btc["ETH"].iloc[-500:], eth_btc["BTC"].iloc[-500:]
    s = Strategy(
        hedge="rolling",
        window=30,
        capital=10_000.0,
        fill="next_close",
        leverage=1.0,
        maker_share=1.0,
        maker_fee_bps=-1.0,
    )
    run = s.run(y, x)
    res = s.backtest(y, x)
    direct = backtest(
        y,
        x,
        units=run.frame[["y_units", "x_units"]],
        capital=10_000.0,
        fill="next_close",
        leverage=1.0,
        maker_share=1.0,
        maker_fee_bps=-1.0,
    )
    pd.testing.assert_series_equal(res.equity, direct.equity)
    assert res.fill == "next_close" and res.rebates_received > 0 and res.fees_paid == 0
    assert (res.events["event"] == "scaled").any()
    # Without capital the fill lag and the fees apply to the gross-exposure convention.
    gross = s.replace(capital=None).backtest(y, x)
    assert gross.convention == "gross_exposure" and (gross.units.iloc[0] == 0).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"fill": "later"}, "^fill must be one of"),
        ({"fill": True}, "^fill must be 'close'"),
        ({"maker_share": -0.1}, "^maker_share"),
        ({"slippage_model": "random"}, "^slippage_model"),
        ({"min_notional": (1.0,)}, "^min_notional must be a pair"),
        ({"leverage": -2.0}, "^leverage"),
        ({"margin": "isolated"}, "^leverage must be a number > 0 with margin='isolated'"),
        ({"maintenance_margin": (0.0, 2.0)}, r"^maintenance_margin\[1\]"),
        ({"market": ("perp", "future")}, r"^market\[1\] must be one of"),
        ({"market": "spot"}, "^market must be a pair"),
        ({"borrow_rate": (-0.1, 0.0)}, r"^borrow_rate\[0\]"),
    ],
)
def test_execution_settings_errors(kwargs: dict, match: str) -> None:
    with pytest.raises(PairsError, match=match):
        Strategy(**kwargs)
