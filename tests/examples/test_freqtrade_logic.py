"""The pairs logic of the freqtrade example (examples/freqtrade/pairs_logic.py), without freqtrade.

Candles are the bundled Binance daily OHLCV of ETH/USDT and BTC/USDT in freqtrade's layout (a
``date`` column, UTC). The columns must equal ``Strategy.run`` on the same closes exactly (the
engine replays the batch bit for bit), be causal (a prefix of the candles gives the prefix of
the columns) and continue identically after a restart from the saved state.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import sys
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pairs
from pairs.data import sample_path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "freqtrade"
STRATEGY = pairs.Strategy(log_prices=True, delta=1e-5, zscore_window=30, rule={"entry_z": 1.5, "exit_z": 0.0})


def _load_logic():
    spec = importlib.util.spec_from_file_location("pairs_logic", EXAMPLE / "pairs_logic.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["pairs_logic"] = module
    spec.loader.exec_module(module)
    return module


logic = _load_logic()


def _candles(coin: str) -> pd.DataFrame:
    frame = pd.read_csv(sample_path(f"{coin}USDT_1d.csv"), parse_dates=["timestamp"])
    frame["date"] = frame.pop("timestamp").dt.tz_localize("UTC")
    return frame[["date", "open", "high", "low", "close", "volume"]]


@pytest.fixture(scope="module")
def legs() -> pd.DataFrame:
    eth, btc = _candles("ETH"), _candles("BTC").iloc[5:]  # BTC starts later: merge_legs keeps both-coin dates
    return logic.merge_legs(eth, btc).iloc[:900]


@pytest.fixture(scope="module")
def batch(legs: pd.DataFrame) -> pd.DataFrame:
    index = pd.DatetimeIndex(legs["date"])
    y, x = pd.Series(legs["close_y"].to_numpy(), index), pd.Series(legs["close_x"].to_numpy(), index)
    return STRATEGY.run(y, x).frame


def _transitions(position: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray]:
    prev = np.r_[0, position[:-1]]
    return ((position == side) & (prev != side)).astype(int), ((prev == side) & (position != side)).astype(
        int
    )


def test_merge_legs_keeps_common_dates(legs: pd.DataFrame) -> None:
    assert list(legs.columns) == ["date", "close_y", "close_x"]
    assert legs["date"].is_monotonic_increasing and legs["date"].iloc[0] == _candles("BTC")["date"].iloc[5]


def test_columns_equal_strategy_run(legs: pd.DataFrame, batch: pd.DataFrame) -> None:
    out = logic.PairSignals(STRATEGY)(legs)
    assert list(out.columns) == list(logic.COLUMNS)
    np.testing.assert_array_equal(out["position"].to_numpy(), batch["position"].to_numpy())
    np.testing.assert_array_equal(out["zscore"].to_numpy(), batch["zscore"].to_numpy())
    np.testing.assert_array_equal(out["beta"].to_numpy(), batch["beta"].to_numpy())
    assert list(out["action"]) == list(batch["action"])
    position = batch["position"].to_numpy()
    for side, name in ((1, "long"), (-1, "short")):
        enter, exit_ = _transitions(position, side)
        np.testing.assert_array_equal(out[f"enter_{name}"].to_numpy(), enter)
        np.testing.assert_array_equal(out[f"exit_{name}"].to_numpy(), exit_)
    assert out["enter_long"].sum() > 2 and out["enter_short"].sum() > 2  # the rule trades both ways
    # Replaying the entry/exit columns as a position gives the position back.
    replay = np.cumsum(out["enter_long"] - out["exit_long"] - out["enter_short"] + out["exit_short"])
    np.testing.assert_array_equal(replay.to_numpy(), position)


@pytest.mark.parametrize("stop", [31, 200, 457, 899])
def test_prefix_property(legs: pd.DataFrame, stop: int) -> None:
    full = logic.PairSignals(STRATEGY)(legs)
    part = logic.PairSignals(STRATEGY)(legs.iloc[:stop])
    pd.testing.assert_frame_equal(part, full.iloc[:stop])


def test_live_calls_on_a_sliding_window(legs: pd.DataFrame) -> None:
    """Live mode: each call sees the last 100 closed candles; the newest row equals the full run."""
    full = logic.PairSignals(STRATEGY)(legs)
    live = logic.PairSignals(STRATEGY)
    for end in range(1, len(legs) + 1, 7):
        out = live(legs.iloc[max(0, end - 100) : end])
        pd.testing.assert_series_equal(out.iloc[-1], full.iloc[end - 1], check_names=False)


def test_resumes_from_saved_state(legs: pd.DataFrame, tmp_path: Path) -> None:
    full = logic.PairSignals(STRATEGY)(legs)
    state = tmp_path / "state" / "eth_btc.json"
    logic.PairSignals(STRATEGY, state)(legs.iloc[:500])
    assert json.loads(state.read_text())["engine"]["state"]["n_updates"] == 500
    restarted = logic.PairSignals(STRATEGY, state)
    out = restarted(legs)
    pd.testing.assert_frame_equal(out.iloc[500:], full.iloc[500:])
    assert out["position"].iloc[:500].isna().all() and (out["enter_long"].iloc[:500] == 0).all()
    with pytest.raises(ValueError, match="another strategy"):
        logic.PairSignals(STRATEGY.replace(zscore_window=20), state)


def test_fills_reach_the_engine_once_and_survive_a_restart(legs: pd.DataFrame, tmp_path: Path) -> None:
    """order_filled -> PairSignals.fill: holdings follow the fills, a repeated fill id is not applied
    twice, the next orders are the target minus what was filled, and a restarted bot keeps its holdings."""
    sized = STRATEGY.replace(capital=10_000.0, lot_size=(0.001, 0.001))
    state = tmp_path / "state.json"
    probe = logic.PairSignals(sized)(legs.iloc[:600])
    t = int(np.flatnonzero(probe["position"].to_numpy() != 0)[0])  # the first bar in a position
    live = logic.PairSignals(sized, state)
    out = live(legs.iloc[: t + 1])
    target_y, target_x = out["y_units"].iloc[t], out["x_units"].iloc[t]
    assert target_y != 0 and target_x != 0
    # The exchange fills the y leg in two parts and the x leg at once (a sell when x is short).
    half = round(abs(target_y) / 2, 3)
    side_y = "buy" if target_y > 0 else "sell"
    assert live.fill("y", side_y, half, 100.0, 0.05, "o1") is True
    assert live.fill("y", side_y, half, 101.0, 0.05, "o1") is False  # the callback repeated: ignored
    assert live.fill("x", "buy" if target_x > 0 else "sell", abs(target_x), 50.0, 0.02, "o2") is True
    held = live.engine.holdings
    assert held["y"] == pytest.approx(np.sign(target_y) * half) and held["x"] == pytest.approx(target_x)
    restarted = logic.PairSignals(sized, state)
    assert restarted.engine.holdings == held
    orders = {o.symbol: o.quantity for o in restarted.engine.orders()}
    assert orders["y"] == pytest.approx(abs(target_y) - half, abs=1e-3) and "x" not in orders
    with pytest.raises(ValueError, match="side"):
        live.fill("y", "long", 1.0, 100.0, 0.0, "o3")


def test_logic_does_not_import_freqtrade() -> None:
    tree = ast.parse((EXAMPLE / "pairs_logic.py").read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert "freqtrade" not in imported and "pairs" in imported


# --- the two legs, the comparison with the account backtest, the exporter -----------------------------

# The SPREAD of PairsStrategy.py (which imports freqtrade, so it is not imported here).
SIZED = pairs.Strategy(
    hedge="kalman",
    log_prices=True,
    delta=1e-5,
    zscore_window=30,
    rule={"entry_z": 2.0, "exit_z": 0.0},
    capital=5_000,
    lot_size=(0.001, 0.001),
    rebalance_band=0.05,
    fee_bps=5,
)
FEE_BPS = 5.0


@pytest.fixture(scope="module")
def full() -> pd.DataFrame:
    """Every common candle of ETH and BTC with the sized strategy's columns, indexed by date."""
    legs = logic.merge_legs(_candles("ETH"), _candles("BTC"))
    return pd.concat([legs, logic.PairSignals(SIZED)(legs)], axis=1).set_index("date")


@pytest.fixture(scope="module")
def reference(full: pd.DataFrame) -> pd.DataFrame:
    return SIZED.run(full["close_y"], full["close_x"]).frame


def _flips(position: pd.Series) -> pd.Index:
    p = position.to_numpy()
    return position.index[1:][p[1:] * p[:-1] < 0]


def test_leg_signals_pair_the_legs(full: pd.DataFrame, reference: pd.DataFrame) -> None:
    y, x = logic.leg_signals(full, "y"), logic.leg_signals(full, "x")
    np.testing.assert_array_equal(y["units"].to_numpy(), reference["y_units"].to_numpy())
    np.testing.assert_array_equal(x["units"].to_numpy(), reference["x_units"].to_numpy())
    position = reference["position"].to_numpy()
    # Long the spread: y long and x short; short the spread: the reverse; flat: both exit.
    np.testing.assert_array_equal(y["enter_long"], x["enter_short"])
    np.testing.assert_array_equal(y["enter_short"], x["enter_long"])
    np.testing.assert_array_equal(y["enter_long"], (position == 1).astype(int))
    np.testing.assert_array_equal(y["enter_short"], (position == -1).astype(int))
    known = ~np.isnan(reference["y_units"].to_numpy())
    np.testing.assert_array_equal(y["exit_long"] & y["exit_short"], ((position == 0) & known).astype(int))
    np.testing.assert_array_equal(x["exit_long"] & x["exit_short"], ((position == 0) & known).astype(int))
    assert y["enter_long"].sum() > 100 and y["enter_short"].sum() > 100
    with pytest.raises(ValueError, match="leg must be"):
        logic.leg_signals(full, "z")


def _truncated(amount: float, lot: float = 0.001) -> Decimal:
    """freqtrade's amount: the float's decimal text truncated to the lot (ccxt's TRUNCATE)."""
    return Decimal(str(amount)).quantize(Decimal(str(lot)), rounding=ROUND_DOWN)


def test_stake_and_adjustment_by_hand() -> None:
    assert logic.stake(-2.5, 100.0, 2.0) == pytest.approx(125.0, rel=1e-8)  # 2.5 short at 100, 2x
    # Long 2 at a stake of 90 (2x): to hold 3 at 100, add a stake of 50 (freqtrade buys 50 * 2 / 100 = 1).
    assert logic.adjustment(3.0, 2.0, 100.0, 2.0, 90.0) == pytest.approx(50.0, rel=1e-8)
    # To hold 1.5, return -22.5: freqtrade sells 22.5 * trade.amount / trade.stake_amount = 22.5 * 2 / 90 = 0.5.
    assert logic.adjustment(1.5, 2.0, 100.0, 2.0, 90.0) == pytest.approx(-22.5, rel=1e-8)
    assert logic.adjustment(-3.0, -2.0, 100.0, 1.0, 210.0) == pytest.approx(100.0, rel=1e-8)  # more short
    for target in (2.0, 2.0 + 1e-12, 0.0, -1.0, float("nan")):  # nothing to do, or the exit signal's job
        assert logic.adjustment(target, 2.0, 100.0, 2.0, 90.0) is None
    assert logic.can_enter(1.0, -0.1) and logic.can_enter(-1.0, 0.1)
    assert not any(logic.can_enter(a, b) for a, b in ((1.0, 0.0), (1.0, 1.0), (float("nan"), -1.0)))
    # 0.045 units at 1718.24: the exact stake gives back 0.04499999999999999, which freqtrade cuts to 0.044;
    # the stake of stake() gives 0.045.
    naive = 0.045 * 1718.24
    assert _truncated(naive / 1718.24) == Decimal("0.044")
    assert _truncated(logic.stake(0.045, 1718.24) / 1718.24) == Decimal("0.045")
    add = logic.adjustment(1.045, 1.0, 1718.24, 1.0, 1718.24)
    assert _truncated(add / 1718.24) == Decimal("0.045")
    cut = logic.adjustment(0.955, 1.0, 1718.24, 1.0, 1718.24)  # trade.amount 1, trade.stake_amount 1718.24
    assert _truncated(-cut * 1.0 / 1718.24) == Decimal("0.045")


def test_replay_holds_the_strategy_units(full: pd.DataFrame, reference: pd.DataFrame) -> None:
    fills, units = logic.replay(full, fee_bps=FEE_BPS)
    want = reference[["y_units", "x_units"]].fillna(0.0)
    np.testing.assert_allclose(units, want, rtol=1e-12, atol=1e-12)
    # A flip (long to short in one candle) exits and enters on that candle, as freqtrade does.
    flips = _flips(reference["position"])
    assert len(flips) == 2 and fills["time"].isin(flips).sum() == 4  # one net order per leg
    # The legs are opened and closed on the same candles, never one alone (a re-size after lot
    # rounding may trade one leg only).
    np.testing.assert_array_equal(units["y_units"] != 0, units["x_units"] != 0)
    assert (units["y_units"] * units["x_units"] <= 0).all() and len(fills) > 4 * 112
    with pytest.raises(ValueError, match="fill must be"):
        logic.replay(full, fee_bps=FEE_BPS, fill="open")


def test_bot_trades_agree_with_the_account_backtest(full: pd.DataFrame, reference: pd.DataFrame) -> None:
    """The documented comparison (README.md): same fill (the signal candle's close), same fee (5 bps)."""
    fills, units = logic.replay(full, fee_bps=FEE_BPS)
    y, x, capital = full["close_y"], full["close_x"], 10_000.0
    assert len(full) == 3065 and str(full.index[0].date()) == "2017-08-17"
    bot = pairs.backtest(y, x, units=units, capital=capital, fee_bps=FEE_BPS)
    # The account's ledger equals the bot's fills, cash written out: capital - cost of fills - fees + value held.
    last = full.iloc[-1]
    cash = capital - (fills["units"] * fills["price"]).sum() - fills["fee"].sum()
    value = units["y_units"].iloc[-1] * last["close_y"] + units["x_units"].iloc[-1] * last["close_x"]
    assert bot.equity.iloc[-1] == pytest.approx(cash + value, rel=1e-12)
    assert bot.fees_paid == pytest.approx(fills["fee"].sum(), rel=1e-12)
    # pairs' own account backtest of the strategy's units: the same equity on every bar.
    own = pairs.backtest(
        y, x, units=reference[["y_units", "x_units"]].fillna(0.0), capital=capital, fee_bps=FEE_BPS
    )
    np.testing.assert_allclose(bot.equity, own.equity, rtol=0, atol=1e-9 * capital)
    assert round(own.equity.iloc[-1], 2) == 4122.12 and own.n_trades == bot.n_trades == 112
    assert round(own.fees_paid, 2) == 583.47


FREQTRADE = Path(__file__).resolve().parents[1] / "fixtures" / "freqtrade"


def test_replay_reproduces_freqtrades_recorded_backtest() -> None:
    """freqtrade 2026.9's own backtest of PairsStrategy.py (2019-2024, recorded): the same orders and P&L."""
    recorded = pd.read_csv(FREQTRADE / "orders_2019_2024.csv")
    recorded["time"] = pd.to_datetime(recorded["time"], utc=True)
    freqtrade = compare.net_orders(recorded)
    frame = compare.candles_frame(SIZED, "2019-01-01", "2024-12-31")
    fills, _ = logic.replay(frame, fee_bps=FEE_BPS, leverage=1.0, fill="next_open")
    pair = {"y": "ETH/USDT:USDT", "x": "BTC/USDT:USDT"}
    fills = fills.assign(pair=fills["leg"].map(pair)).sort_values(["time", "pair"], ignore_index=True)
    assert len(freqtrade) == len(fills) == 498
    pd.testing.assert_series_equal(freqtrade["time"], fills["time"], check_names=False)
    assert list(freqtrade["pair"]) == list(fills["pair"])
    np.testing.assert_allclose(freqtrade["units"], fills["units"], rtol=0, atol=1e-9)  # whole lots of 0.001
    np.testing.assert_array_equal(freqtrade["price"], fills["price"])  # the next candle's open
    pnl = -(fills["units"] * fills["price"]).sum() - fills["fee"].sum()
    assert pnl == pytest.approx(-3058.011504080001, rel=1e-12)  # freqtrade's total profit, recorded
    # pairs' own account of the strategy's units with freqtrade's fill (the units of candle t held from
    # the open of candle t + 1, the account priced at the opens): freqtrade's profit and fees.
    ref = SIZED.run(frame["close_y"], frame["close_x"]).frame[["y_units", "x_units"]].fillna(0.0)
    lagged = ref.shift(1).fillna(0.0)
    at_open = pairs.backtest(frame["open_y"], frame["open_x"], units=lagged, capital=10_000, fee_bps=FEE_BPS)
    assert at_open.equity.iloc[-1] - 10_000 == pytest.approx(-3058.011504080001, rel=1e-12)
    assert at_open.fees_paid == pytest.approx(fills["fee"].sum(), rel=1e-12) and at_open.n_trades == 81
    # ... and at its default fill, the signal candle's close:
    own = pairs.backtest(frame["close_y"], frame["close_x"], units=ref, capital=10_000, fee_bps=FEE_BPS)
    assert round(own.equity.iloc[-1] - 10_000, 2) == -3057.67 and own.n_trades == 81
    assert round(at_open.fees_paid, 2) == round(own.fees_paid, 2) == 418.23  # the README's table


def test_restarted_bot_keeps_its_legs(tmp_path: Path) -> None:
    legs = logic.merge_legs(_candles("ETH"), _candles("BTC")).iloc[:1200]
    uninterrupted = logic.PairSignals(SIZED)(legs)
    state = tmp_path / "pairs_state" / "spread.json"
    logic.PairSignals(SIZED, state)(legs.iloc[:700])
    restarted = logic.PairSignals(SIZED, state)(legs)
    for leg in logic.LEGS:
        want, got = logic.leg_signals(uninterrupted, leg), logic.leg_signals(restarted, leg)
        pd.testing.assert_frame_equal(got.iloc[700:], want.iloc[700:])
        # Candles the previous process saw give no entry and no exit: the open trades stay as they are.
        assert (got.iloc[:700].drop(columns="units") == 0).all().all()
    assert uninterrupted["position"].iloc[699] != 0  # the restart happens with both legs open


# --- the exporter ------------------------------------------------------------------------------------

export_data = importlib.util.module_from_spec(
    spec := importlib.util.spec_from_file_location("export_data", EXAMPLE / "export_data.py")
)
spec.loader.exec_module(export_data)
sys.modules["export_data"] = export_data
compare = importlib.util.module_from_spec(
    spec := importlib.util.spec_from_file_location("compare_backtests", EXAMPLE / "compare_backtests.py")
)
spec.loader.exec_module(compare)
Y, X = "ETH/USDT:USDT", "BTC/USDT:USDT"
RATES = pd.DataFrame(
    {Y: [0.0001, -0.000025, 0.00037514], X: [0.0002, 0.0, -0.0001]},
    index=pd.to_datetime(
        ["2024-01-01 00:00:00", "2024-01-01 08:00:00.003", "2024-01-01 16:00:00"], utc=True, format="ISO8601"
    ),
)


def test_exporter_writes_freqtrade_futures_files(tmp_path: Path) -> None:
    candles = {Y: export_data.bundled_candles("ETH"), X: export_data.bundled_candles("BTC")}
    written = export_data.export(tmp_path, candles, funding=RATES)
    folder = tmp_path / "data" / "binance" / "futures"
    names = {p.name for p in written}
    assert names == {
        f"{stem}-{name}.json"
        for stem in ("ETH_USDT_USDT", "BTC_USDT_USDT")
        for name in ("1d-futures", "1h-mark", "1h-funding_rate")  # freqtrade 2026.9's timeframes
    }
    assert all(p.parent == folder for p in written)
    # Candles: [ms, open, high, low, close, volume], the bundled file row for row.
    rows = json.loads((folder / "ETH_USDT_USDT-1d-futures.json").read_text())
    frame = pd.read_csv(sample_path("ETHUSDT_1d.csv"))
    assert len(rows) == len(frame)
    assert rows[0] == [
        int(pd.Timestamp(frame["timestamp"][0], tz="UTC").value // 10**6),
        *frame.loc[0, ["open", "high", "low", "close", "volume"]].astype(float).tolist(),
    ]
    # Funding: freqtrade's [ms, rate, 0, 0, 0, 0] at the settlement times, to the millisecond.
    funding = json.loads((folder / "ETH_USDT_USDT-1h-funding_rate.json").read_text())
    assert funding == [
        [1704067200000, 0.0001, 0.0, 0.0, 0.0, 0.0],
        [1704096000003, -0.000025, 0.0, 0.0, 0.0, 0.0],
        [1704124800000, 0.00037514, 0.0, 0.0, 0.0, 0.0],
    ]
    # Mark: every hour, the last daily close known at the mark candle's open.
    mark = json.loads((folder / "BTC_USDT_USDT-1h-mark.json").read_text())
    btc = candles[X].set_index("date")["close"]
    day = pd.Timestamp("2024-01-02", tz="UTC")
    at = {pd.Timestamp(r[0], unit="ms", tz="UTC"): r for r in mark}
    for hours in (0, 8, 23):
        row = at[day + pd.Timedelta(hours=hours)]
        assert row[1:] == [btc[day - pd.Timedelta(days=1)]] * 4 + [0.0]
    assert np.diff([r[0] for r in mark]).tolist() == [3_600_000] * (len(mark) - 1)
    assert len(export_data.mark_candles(candles[X].iloc[:3], "8h")) == 4  # 8 h grid on request


def test_exporter_command_line_and_zero_funding(tmp_path: Path) -> None:
    rates = tmp_path / "rates.csv"
    RATES.to_csv(rates)
    paths = export_data.main([str(tmp_path / "ud"), "--funding", str(rates), "--funding-timeframe", "1h"])
    funding = json.loads(next(p for p in paths if p.name == "BTC_USDT_USDT-1h-funding_rate.json").read_text())
    assert [r[1] for r in funding] == [0.0002, 0.0, -0.0001]
    zero = export_data.funding_candles(None, _candles("BTC").iloc[:3], "8h")
    assert zero["open"].tolist() == [0.0] * 7 and zero["date"].diff().dropna().eq(pd.Timedelta("8h")).all()
    with pytest.raises(ValueError, match="fmt must be"):
        export_data.export(tmp_path, {}, fmt="csv")
    # --candles: a CSV of closes (load_ccxt's frame) becomes close-only candles.
    closes = pd.DataFrame(
        {Y: [2300.5, 2310.0], X: [42000.0, 42500.5]},
        index=pd.DatetimeIndex(["2024-01-01", "2024-01-02"], tz="UTC", name="timestamp"),
    )
    closes.to_csv(tmp_path / "closes.csv")
    paths = export_data.main([str(tmp_path / "c"), "--candles", str(tmp_path / "closes.csv")])
    rows = json.loads(next(p for p in paths if p.name == "ETH_USDT_USDT-1d-futures.json").read_text())
    assert rows == [[1704067200000, *[2300.5] * 4, 0.0], [1704153600000, *[2310.0] * 4, 0.0]]


def test_exporter_feather_reads_back(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    candles = {Y: export_data.bundled_candles("ETH")}
    export_data.export(tmp_path, candles, funding=RATES, fmt="feather")
    back = pd.read_feather(tmp_path / "data" / "binance" / "futures" / "ETH_USDT_USDT-1d-futures.feather")
    pd.testing.assert_frame_equal(back, candles[Y].reset_index(drop=True))


def test_config_and_strategy_are_futures_with_two_legs() -> None:
    config = json.loads((EXAMPLE / "config.json").read_text())
    assert (config["trading_mode"], config["margin_mode"]) == ("futures", "isolated")
    legs = config["pairs_spread"]
    assert [legs["y"], legs["x"]] == config["exchange"]["pair_whitelist"] == [Y, X]
    assert config["fee"] == FEE_BPS / 1e4 and config["max_open_trades"] == 2
    tree = ast.parse((EXAMPLE / "PairsStrategy.py").read_text())
    attrs = {
        t.id: n.value.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    assert attrs["can_short"] is True and attrs["position_adjustment_enable"] is True
    assert attrs["timeframe"] == config["timeframe"]
    methods = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assert {
        "custom_stake_amount",
        "adjust_trade_position",
        "confirm_trade_entry",
        "leverage",
        "order_filled",
    } <= methods


def test_offline_market_list_is_served(monkeypatch: pytest.MonkeyPatch) -> None:
    """backtest_offline.py's patch: ccxt's Binance classes load their markets from markets.json."""
    import asyncio

    import ccxt
    import ccxt.async_support

    for module in (ccxt, ccxt.async_support):
        monkeypatch.setattr(module.binance, "load_markets", module.binance.load_markets)
    offline = importlib.util.module_from_spec(
        spec := importlib.util.spec_from_file_location("backtest_offline", EXAMPLE / "backtest_offline.py")
    )
    spec.loader.exec_module(offline)
    offline.serve_markets()
    markets = ccxt.binance({"options": {"defaultType": "swap"}}).load_markets()
    assert set(markets) == {Y, X}
    assert all(m["swap"] and m["linear"] and m["precision"]["amount"] == 0.001 for m in markets.values())

    async def load() -> dict:
        exchange = ccxt.async_support.binance()
        try:
            return await exchange.load_markets()
        finally:
            await exchange.close()

    assert set(asyncio.run(load())) == {Y, X}
