"""StreamEngine: replaying real history equals the batch functions; state round trips; bad input.

Tolerances: on price levels the Kalman and rolling hedges run the batch kernels' operations in
the same order, so beta, spread, innovation z-score, positions and leg sizes must be identical;
1e-10 is the stated contract (absolute on z-scores, relative on betas) and covers the rolling
z-score (O(1) updates instead of the batch's two passes, ~1e-13) and log prices (``math.log``
vs ``np.log``, at most one ulp). State round trips must be exact: ``==`` on every output and
on the JSON of the final state.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pairs import Signal, StreamEngine, kalman_hedge, load_sample, ols_hedge, rolling_hedge
from pairs.exceptions import DataError, PairsError, StateError
from pairs.strategy import Strategy
from pairs.trading import ACTIONS, RuleState, SignalRule, signals, size_legs, step_rule, zscore

RULE = SignalRule(entry_z=1.5, exit_z=0.25, stop_z=3.5, max_holding=40, cooldown=2)
# Kalman noise (relative units, see pairs.strategy._steps) for prices and log prices.
LEVELS = {"delta": 1e-4, "obs_var": 1e-3}
LOGS = {"delta": 1e-5, "obs_var": 1e-3}
FIELDS = [f.name for f in dataclasses.fields(Signal)]


@pytest.fixture(scope="module")
def daily(btc_eth_daily: pd.DataFrame) -> pd.DataFrame:
    return btc_eth_daily


@pytest.fixture(scope="module")
def four_hour() -> pd.DataFrame:
    return load_sample("binance_4h")[["BTC", "ETH"]].dropna()


def replay(engine: StreamEngine, prices: pd.DataFrame) -> pd.DataFrame:
    """Feed ETH (y) on BTC (x) bar by bar; one row of Signal fields per bar."""
    index = list(prices.index)
    ys, xs = prices["ETH"].tolist(), prices["BTC"].tolist()
    rows = [engine.update(y, x, t) for t, y, x in zip(index, ys, xs, strict=True)]
    return pd.DataFrame([[getattr(s, f) for f in FIELDS] for s in rows], columns=FIELDS, index=prices.index)


def assert_matches(out: pd.DataFrame, beta: Any, spread: pd.Series, z: pd.Series) -> None:
    np.testing.assert_allclose(
        out["beta"].astype(float), np.broadcast_to(beta, len(out)), rtol=1e-10, atol=1e-12
    )
    np.testing.assert_allclose(out["spread"].astype(float), spread, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(out["zscore"].astype(float), z, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(out["position"].to_numpy(float), signals(z, rule=RULE).to_numpy())


def relative_kalman(prices: pd.DataFrame, strategy: Strategy) -> Any:
    """The strategy's Kalman filter, independently: kalman_hedge on prices relative to the first bar."""
    y, x = prices["ETH"], prices["BTC"]
    if strategy.log_prices:
        y, x = np.log(y), np.log(x)
        yr, xr = y - y.iloc[0], x - x.iloc[0]
    else:
        yr, xr = y / y.iloc[0], x / x.iloc[0]
    return kalman_hedge(
        yr,
        xr,
        noise_units="raw",
        delta=strategy.delta,
        obs_var=strategy.obs_var,
        initial_state_mean=(0.0, 0.0),
        initial_state_cov=1.0,
    )


@pytest.mark.parametrize("log_prices", [False, True])
def test_kalman_stream_is_bit_identical_to_strategy_run(daily: pd.DataFrame, log_prices: bool) -> None:
    strategy = Strategy(zscore_method="innovation", rule=RULE, log_prices=log_prices)
    out = replay(strategy.stream(), daily)
    run = strategy.run(daily["ETH"], daily["BTC"]).frame
    for name in ("beta", "alpha", "spread", "zscore"):
        np.testing.assert_array_equal(out[name].to_numpy(float), run[name].to_numpy())
    np.testing.assert_array_equal(out["position"].to_numpy(), run["position"].to_numpy())
    np.testing.assert_array_equal(out["action"].to_numpy(), run["action"].to_numpy())
    assert (run["position"] != 0).sum() > 100
    assert set(out["action"]) == set(ACTIONS)
    # Independent check of the relative-units filter (kalman_hedge is checked against pykalman).
    ref = relative_kalman(daily, strategy)
    y0, x0 = daily["ETH"].iloc[0], daily["BTC"].iloc[0]
    if log_prices:
        beta = ref.beta
        alpha = ref.alpha + np.log(y0) - ref.beta * np.log(x0)
    else:
        beta, alpha = ref.beta * y0 / x0, ref.alpha * y0
    np.testing.assert_allclose(run["beta"], beta, rtol=1e-12)
    np.testing.assert_allclose(run["alpha"], alpha, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(run["zscore"], ref.zscore, rtol=0, atol=1e-9)


@pytest.mark.parametrize("sample", ["daily", "four_hour"])
def test_kalman_log_prices_matches_batch(sample: str, request: pytest.FixtureRequest) -> None:
    prices = request.getfixturevalue(sample)
    strategy = Strategy(rule=RULE, log_prices=True, zscore_method="innovation", **LOGS)
    out = replay(strategy.stream(), prices)
    res = relative_kalman(prices, strategy)
    assert_matches(out, res.beta, res.spread, res.zscore)


@pytest.mark.parametrize("method", ["rolling", "ewm", "expanding"])
def test_kalman_with_spread_zscore_matches_batch(daily: pd.DataFrame, method: str) -> None:
    extra = {"rolling": {"window": 30}, "ewm": {"halflife": 10.0}, "expanding": {}}[method]
    strategy = Strategy(rule=RULE, zscore_method=method, **{f"zscore_{k}": v for k, v in extra.items()})
    out = replay(strategy.stream(), daily)
    run = strategy.run(daily["ETH"], daily["BTC"]).frame
    np.testing.assert_array_equal(out["zscore"].to_numpy(float), run["zscore"].to_numpy())
    assert_matches(out, run["beta"], run["spread"], zscore(run["spread"], method=method, **extra))


@pytest.mark.parametrize("sample", ["daily", "four_hour"])
def test_rolling_hedge_matches_batch(sample: str, request: pytest.FixtureRequest) -> None:
    prices = request.getfixturevalue(sample)
    out = replay(StreamEngine("rolling", window=90, zscore_window=45, rule=RULE), prices)
    res = rolling_hedge(prices["ETH"], prices["BTC"], window=90)
    np.testing.assert_array_equal(out["beta"].to_numpy(float), res.beta.to_numpy())
    assert_matches(out, res.beta, res.spread, zscore(res.spread, window=45))


def test_fixed_hedge_from_training_set_matches_batch(daily: pd.DataFrame) -> None:
    train, live = daily.iloc[:1000], daily.iloc[1000:]
    fit = ols_hedge(np.log(train["ETH"]), np.log(train["BTC"]))
    engine = StreamEngine(
        "ols",
        beta=fit.beta,
        alpha=fit.alpha,
        log_prices=True,
        zscore_method="ewm",
        zscore_halflife=20,
        rule=RULE,
    )
    out = replay(engine, live)
    spread = np.log(live["ETH"]) - fit.beta * np.log(live["BTC"]) - fit.alpha
    assert_matches(out, fit.beta, spread, zscore(spread, method="ewm", halflife=20))
    assert (out["alpha"] == fit.alpha).all()


def test_actions_are_those_of_step_rule(daily: pd.DataFrame) -> None:
    out = replay(StreamEngine("rolling", window=60, zscore_window=20, rule=RULE), daily.iloc[:800])
    state = RuleState()
    for z, position, action in zip(out["zscore"], out["position"], out["action"], strict=True):
        state, expected = step_rule(state, z, RULE)
        assert (position, action) == (state.position, expected)


@pytest.mark.parametrize(
    ("mode", "lot_size", "band", "log_prices"),
    [
        ("beta_neutral", (0.0, 0.0), 0.0, False),
        ("beta_neutral", (0.01, 0.0001), 0.05, False),
        ("beta_neutral", (0.01, 0.001), 0.0, True),
        ("dollar_neutral", (0.1, 0.001), 0.0, False),
    ],
)
def test_leg_sizes_match_size_legs(
    daily: pd.DataFrame, mode: str, lot_size: tuple, band: float, log_prices: bool
) -> None:
    engine = StreamEngine(
        "kalman",
        rule=RULE,
        capital=25_000.0,
        sizing_mode=mode,
        lot_size=lot_size,
        rebalance_band=band,
        log_prices=log_prices,
        **(LOGS if log_prices else LEVELS),
    )
    out = replay(engine, daily)
    beta = out["beta"].astype(float)
    unit_beta = beta * daily["ETH"] / daily["BTC"] if log_prices else beta
    ref = size_legs(
        out["position"].astype(float),
        unit_beta,
        daily["ETH"],
        daily["BTC"],
        capital=25_000.0,
        mode=mode,
        lot_size=lot_size,
        rebalance_band=band,
    )
    np.testing.assert_array_equal(out["y_units"].to_numpy(float), ref["y_units"].to_numpy())
    np.testing.assert_array_equal(out["x_units"].to_numpy(float), ref["x_units"].to_numpy())
    assert (out["y_units"] != 0).sum() > 100


def test_signal_to_dict_is_json_safe(daily: pd.DataFrame) -> None:
    engine = StreamEngine("rolling", window=10, zscore_window=5)
    first = engine.update(3000.0, 40000.0, daily.index[0])
    d = first.to_dict()
    assert d["timestamp"] == "2017-08-17T00:00:00+00:00"
    assert d["beta"] is None and d["zscore"] is None and d["y_units"] is None and d["action"] == "hold"
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    assert (
        StreamEngine("ols", beta=1.0, zscore_window=5).update(2.0, 1.0, 1_700_000_000).to_dict()["timestamp"]
        == 1_700_000_000
    )


ENGINES = {
    "kalman": lambda: StreamEngine("kalman", rule=RULE, **LOGS, log_prices=True, capital=1e4),
    "kalman_rolling_z": lambda: StreamEngine(
        "kalman", rule=RULE, zscore_method="rolling", zscore_window=15, **LEVELS
    ),
    "rolling": lambda: StreamEngine(
        "rolling", window=40, zscore_window=20, rule=RULE, capital=1e4, lot_size=(0.01, 0.001)
    ),
    "ols": lambda: StreamEngine("ols", beta=0.07, alpha=-50.0, zscore_method="expanding", rule=RULE),
    "ols_ewm": lambda: StreamEngine(
        "ols", beta=1.1, log_prices=True, zscore_method="ewm", zscore_halflife=7.5, rule=RULE
    ),
}
N_BARS = 400


def signal_rows(signals_: list[Signal]) -> list[tuple]:
    """Exact comparison rows: float bits (NaN == NaN, -0.0 != 0.0) and the rest as is."""
    return [tuple(v.hex() if isinstance(v, float) else v for v in dataclasses.astuple(s)) for s in signals_]


@pytest.fixture(scope="module")
def uninterrupted(daily: pd.DataFrame) -> dict[str, tuple[list[tuple], str]]:
    bars = daily.iloc[:N_BARS]
    out = {}
    for name, make in ENGINES.items():
        engine = make()
        rows = [engine.update(y, x, t) for t, y, x in zip(bars.index, bars["ETH"], bars["BTC"], strict=True)]
        out[name] = (signal_rows(rows), json.dumps(engine.state_dict()))
    return out


def run_with_restart(
    name: str, bars: pd.DataFrame, k: int, via_file: Path | None = None
) -> tuple[list[tuple], str]:
    engine = ENGINES[name]()
    stream = list(zip(bars.index, bars["ETH"], bars["BTC"], strict=True))
    rows = [engine.update(y, x, t) for t, y, x in stream[:k]]
    if via_file is None:
        engine = StreamEngine.from_state(json.loads(json.dumps(engine.state_dict())))
    else:
        engine.save(via_file)
        engine = StreamEngine.load(via_file)
    rows += [engine.update(y, x, t) for t, y, x in stream[k:]]
    return signal_rows(rows), json.dumps(engine.state_dict())


@settings(max_examples=12, deadline=None)
@given(name=st.sampled_from(sorted(ENGINES)), k=st.integers(0, N_BARS))
def test_restart_from_json_state_is_identical(
    daily: pd.DataFrame, uninterrupted: dict[str, tuple[list[tuple], str]], name: str, k: int
) -> None:
    assert run_with_restart(name, daily.iloc[:N_BARS], k) == uninterrupted[name]


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_restart_during_warmup_and_in_a_position(
    daily: pd.DataFrame, uninterrupted: dict[str, tuple[list[tuple], str]], tmp_path: Path, name: str
) -> None:
    rows = uninterrupted[name][0]
    position = FIELDS.index("position")
    in_position = [i + 1 for i, row in enumerate(rows) if row[position] != 0]
    assert in_position, "the rule should open a position within the replay"
    for k in (0, 1, 7, 25, in_position[0], in_position[len(in_position) // 2]):
        assert run_with_restart(name, daily.iloc[:N_BARS], k) == uninterrupted[name]
        assert run_with_restart(name, daily.iloc[:N_BARS], k, tmp_path / "engine.json") == uninterrupted[name]


def test_save_is_atomic_and_overwrites(tmp_path: Path) -> None:
    engine = StreamEngine("ols", beta=2.0, zscore_window=3)
    path = tmp_path / "state.json"
    engine.save(path)
    engine.update(5.0, 2.0, 1)
    engine.save(str(path))
    assert os.listdir(tmp_path) == ["state.json"]
    assert StreamEngine.load(path).state_dict() == engine.state_dict()
    assert StreamEngine.load(path).n_updates == 1


def engine_after(n: int) -> StreamEngine:
    engine = StreamEngine("rolling", window=5, zscore_window=3, capital=1e3)
    for i in range(n):
        engine.update(
            10.0 + math.sin(i),
            5.0 + math.cos(i),
            pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(hours=i),
        )
    return engine


@pytest.mark.parametrize(
    ("y", "x", "match", "exc"),
    [
        (math.nan, 1.0, "y_price", DataError),
        (1.0, math.inf, "x_price", DataError),
        (0.0, 1.0, "y_price", DataError),
        (1.0, -2.0, "x_price", DataError),
        ("1.0", 1.0, "y_price", DataError),
        (1.0, True, "x_price", DataError),
        (1.0, None, "x_price", DataError),
    ],
)
def test_bad_prices_rejected_with_state_unchanged(y: Any, x: Any, match: str, exc: type) -> None:
    engine = engine_after(12)
    before = json.dumps(engine.state_dict())
    with pytest.raises(exc, match=match):
        engine.update(y, x, pd.Timestamp("2025-01-01", tz="UTC"))
    assert json.dumps(engine.state_dict()) == before


@pytest.mark.parametrize("path", ["no_timestamps", "earlier_timestamp", "gap_reset", "numbers"])
def test_a_bad_price_is_refused_before_anything_changes(path: str) -> None:
    # The price check runs inside the compiled step on the common path; on every other path it
    # runs first, so neither a gap reset nor a timestamp error comes before it.
    start = pd.Timestamp("2024-01-01", tz="UTC")
    engine = StreamEngine(max_gap="2h", on_gap="reset") if path == "gap_reset" else StreamEngine()
    stamps: list[Any] = (
        [None] * 5 if path == "no_timestamps" else [start + pd.Timedelta(hours=i) for i in range(5)]
    )
    if path == "numbers":
        stamps = [float(i) for i in range(5)]
    for i, ts in enumerate(stamps):
        engine.update(10.0 + i, 5.0 + math.sin(i), ts)
    before = json.dumps(engine.state_dict())
    later = {
        "no_timestamps": None,
        "earlier_timestamp": start,
        "gap_reset": start + pd.Timedelta(days=2),
        "numbers": 7.0,
    }[path]
    for y, x, name in ((math.nan, 5.0, "y_price"), (10.0, -1.0, "x_price"), (math.inf, 0.0, "y_price")):
        with pytest.raises(DataError, match=name):
            engine.update(y, x, later)
        assert json.dumps(engine.state_dict()) == before


@pytest.mark.parametrize(
    ("timestamp", "exc", "match"),
    [
        (pd.Timestamp("2024-01-01 11:00", tz="UTC"), StateError, "duplicate"),
        (pd.Timestamp("2024-01-01 03:00", tz="UTC"), StateError, "earlier"),
        ("2024-01-01T05:00:00+00:00", StateError, "earlier"),
        (None, StateError, "timestamp"),
        (pd.Timestamp("2025-01-01"), DataError, "comparable"),
        (1_800_000_000, DataError, "comparable"),
        (math.nan, DataError, "timestamp"),
        ("not a date", DataError, "timestamp"),
        (object(), DataError, "timestamp"),
        (np.datetime64("NaT"), DataError, "timestamp"),
    ],
)
def test_bad_timestamps_rejected_with_state_unchanged(timestamp: Any, exc: type, match: str) -> None:
    engine = engine_after(12)
    before = json.dumps(engine.state_dict())
    with pytest.raises(exc, match=match):
        engine.update(10.0, 5.0, timestamp)
    assert json.dumps(engine.state_dict()) == before
    engine.update(10.0, 5.0, "2024-01-01T12:00:00+00:00")
    assert engine.n_updates == 13


def test_numeric_types_are_coerced_to_float() -> None:
    a, b = StreamEngine("ols", beta=0.5, zscore_window=3), StreamEngine("ols", beta=0.5, zscore_window=3)
    for i, (y, x) in enumerate([(3, 2), (np.float32(4.5), np.int64(3)), (np.float64(5.0), 7)]):
        left, right = a.update(y, x, i), b.update(float(y), float(x), i)
        assert signal_rows([left]) == signal_rows([right]) and type(left.spread) is float


def test_timestamps_are_optional_until_given() -> None:
    engine = StreamEngine("ols", beta=1.0, zscore_method="expanding")
    assert engine.update(2.0, 1.0).timestamp is None
    assert engine.update(2.0, 1.0, 5).timestamp == 5
    with pytest.raises(StateError, match="timestamp"):
        engine.update(2.0, 1.0, 5)


def write_state(path: Path, engine_doc: Any) -> None:
    """A state file with a valid checksum around arbitrary content."""
    canonical = json.dumps(engine_doc, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    path.write_text(json.dumps({"sha256": digest, "engine": engine_doc}))


def test_corrupted_or_foreign_state_files_rejected(tmp_path: Path) -> None:
    engine = engine_after(9)
    path = tmp_path / "s.json"
    engine.save(path)
    text = path.read_text()
    (tmp_path / "truncated.json").write_text(text[: len(text) // 2])
    with pytest.raises(StateError, match="truncated or corrupted"):
        StreamEngine.load(tmp_path / "truncated.json")
    (tmp_path / "empty.json").write_text("")
    with pytest.raises(StateError, match="JSON"):
        StreamEngine.load(tmp_path / "empty.json")
    value = repr(engine.state_dict()["state"]["hedge"]["mean_x"])
    assert text.count(value) == 1
    (tmp_path / "flipped.json").write_text(text.replace(value, value[:-1] + str((int(value[-1]) + 1) % 10)))
    with pytest.raises(StateError, match="checksum"):
        StreamEngine.load(tmp_path / "flipped.json")
    (tmp_path / "nan.json").write_text(text.replace(value, "NaN"))
    with pytest.raises(StateError, match="JSON"):
        StreamEngine.load(tmp_path / "nan.json")
    doc = engine.state_dict()
    write_state(tmp_path / "v1.json", {**doc, "version": 1})
    with pytest.raises(StateError, match="version"):
        StreamEngine.load(tmp_path / "v1.json")
    write_state(tmp_path / "list.json", [1, 2])
    with pytest.raises(StateError, match="state"):
        StreamEngine.load(tmp_path / "list.json")
    with pytest.raises(StateError, match="missing"):
        StreamEngine.load(tmp_path / "missing.json")


def mutate(doc: dict, path: tuple, value: Any) -> dict:
    doc = json.loads(json.dumps(doc))
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value", "match"),
    [
        (("version",), 1, "version"),
        (("version",), True, "version"),
        (("version",), "1", "version"),
        (("format",), "other", "format"),
        (("strategy", "hedge"), "magic", "hedge"),
        (("strategy", "window"), 1, "window"),
        (("strategy", "window"), 2.5, "window"),
        (("strategy", "rule"), [], "rule"),
        (("strategy", "rule", "entry_z"), -1.0, "entry_z"),
        (("strategy", "lot_size"), 0.1, "lot_size"),
        (("strategy", "log_prices"), "yes", "log_prices"),
        (("strategy", "extra"), 1, "strategy"),
        (("state", "n_updates"), -1, "n_updates"),
        (("state", "hedge", "cxx"), "abc", "cxx"),
        (("state", "hedge", "y"), [1.0], "'y'"),
        (("state", "zscore", "bars"), 2.5, "bars"),
        (("state", "zscore"), None, "zscore"),
        (("state", "rule", "position"), 2, "position"),
        (("state", "rule", "bars_held"), KeyError, "rule"),
        (("state", "sizing", "beta"), None, "beta"),
        (("state", "last_timestamp"), [], "last_timestamp"),
        (("state", "last_timestamp", "timestamp"), "garbage", "timestamp"),
        (("state",), KeyError, "state"),
    ],
)
def test_malformed_state_dicts_rejected(path: tuple, value: Any, match: str) -> None:
    doc = engine_after(9).state_dict()
    with pytest.raises(StateError, match=match):
        StreamEngine.from_state(mutate(doc, path, value))


def test_kalman_state_fields_validated() -> None:
    engine = StreamEngine("kalman")
    engine.update(2.0, 1.0)
    doc = engine.state_dict()
    with pytest.raises(StateError, match="first"):
        StreamEngine.from_state(mutate(doc, ("state", "hedge", "first"), 0))
    with pytest.raises(StateError, match="zscore"):
        StreamEngine.from_state(mutate(doc, ("state", "zscore"), {}))
    restored = StreamEngine.from_state(doc)
    assert restored.state_dict() == doc and restored.n_updates == 1 and "kalman" in repr(restored)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"hedge": "tls"}, "hedge"),
        ({"hedge": "kalman", "window": 1}, "window"),
        ({"hedge": "rolling", "window": 1, "zscore_window": 5}, "window"),
        ({"hedge": "rolling", "window": 20.0, "zscore_window": 5}, "window"),
        ({"hedge": "ols"}, "beta"),
        ({"hedge": "ols", "beta": math.nan}, "beta"),
        ({"hedge": "kalman", "delta": 1.0}, "delta"),
        ({"hedge": "kalman", "obs_var": 0.0}, "obs_var"),
        ({"hedge": "kalman", "initial_state_mean": (1.0,)}, "initial_state_mean"),
        ({"hedge": "rolling", "window": 5, "zscore_method": "innovation"}, "zscore_method"),
        ({"hedge": "kalman", "zscore_method": "ewm", "zscore_window": 10}, "zscore_window"),
        ({"hedge": "kalman", "zscore_window": 1}, "zscore_window"),
        ({"hedge": "kalman", "zscore_method": "ewm"}, "zscore_halflife"),
        ({"hedge": "kalman", "zscore_method": "ewm", "zscore_halflife": -1.0}, "zscore_halflife"),
        ({"hedge": "kalman", "zscore_halflife": 3.0}, "zscore_halflife"),
        ({"hedge": "kalman", "rule": 3}, "rule"),
        ({"hedge": "kalman", "zscore_method": "median"}, "zscore_method"),
        ({"hedge": "kalman", "capital": 0.0}, "capital"),
        ({"hedge": "kalman", "sizing_mode": "equal"}, "sizing_mode"),
        ({"hedge": "kalman", "lot_size": 0.1}, "lot_size"),
        ({"hedge": "kalman", "lot_size": (0.1, -1.0)}, r"lot_size\[1\]"),
        ({"hedge": "kalman", "rebalance_band": -0.1}, "rebalance_band"),
        ({"hedge": "kalman", "rule": {"entry": 2.0}}, "data"),
        ({"hedge": "kalman", "log_prices": 1}, "log_prices"),
    ],
)
def test_bad_options_rejected(kwargs: dict, match: str) -> None:
    with pytest.raises(PairsError, match=match):
        StreamEngine(**kwargs)
