"""StreamBook: every pair equals its own StreamEngine bit for bit; state, membership, bad input.

The reference is a separate :class:`~pairs.StreamEngine` per pair fed the same bars (only those
where both of its symbols have a price). Equality is exact: every float field compared by its
bits (NaN equal to NaN), ints and strings by ``==`` and type, and at the end each pair's engine
state (``book.engine(name).state_dict()``) equal to the reference engine's JSON.
"""

from __future__ import annotations

import dataclasses
import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import pairs
from pairs import DataError, PairsError, StateError, Strategy, StreamBook, StreamEngine
from pairs.stream import BookSignals, Signal
from pairs.trading import SignalRule

FIELDS = [f.name for f in dataclasses.fields(Signal)]
DAILY = pairs.load_sample("binance_1d")
COINS = list(DAILY.columns)
ALL_PAIRS = [(a, b) for i, a in enumerate(COINS) for b in COINS[i + 1 :]]  # 78 pairs
RULE = SignalRule(entry_z=1.5, exit_z=0.25, stop_z=3.5, max_holding=20, cooldown=2)

STRATEGIES = {
    "kalman_raw": Strategy(zscore_window=30),
    "kalman_log_capital": Strategy(
        log_prices=True, delta=1e-5, zscore_window=30, capital=1e4, lot_size=(0.01, 0.001), rule=RULE
    ),
    "rolling_capital": Strategy(hedge="rolling", window=40, capital=5e3, sizing_mode="dollar_neutral"),
    "rolling_log_ewm": Strategy(
        hedge="rolling", window=30, log_prices=True, zscore_method="ewm", zscore_halflife=8.0, rule=RULE
    ),
    "kalman_innovation_band": Strategy(
        zscore_method="innovation", capital=2e4, rebalance_band=0.05, log_prices=True
    ),
    "kalman_expanding": Strategy(zscore_method="expanding"),
}


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (a != a and b != b) or struct.pack("<d", a) == struct.pack("<d", b)
    return type(a) is type(b) and a == b


def assert_same_signal(got: Signal, want: Signal, where: str) -> None:
    for f in FIELDS:
        assert same(getattr(got, f), getattr(want, f)), (
            f"{where}: {f} {getattr(got, f)!r} != {getattr(want, f)!r}"
        )


def bars(
    prices: pd.DataFrame, *, drop: float = 0.0, seed: int = 0
) -> list[tuple[pd.Timestamp, dict[str, float]]]:
    """Bars as dicts of the prices present; ``drop`` removes that share of the keys at random."""
    rng = np.random.default_rng(seed)
    out = []
    for ts, row in prices.iterrows():
        values = {k: float(v) for k, v in row.items() if v == v and rng.random() >= drop}
        out.append((ts, values))
    return out


class Reference:
    """One StreamEngine per pair, fed exactly the bars where both of its prices are present."""

    def __init__(self, specs: dict[tuple[str, str], Strategy]) -> None:
        self.engines = {f"{y}/{x}": (y, x, StreamEngine(s, symbols=(y, x))) for (y, x), s in specs.items()}

    def add(self, specs: dict[tuple[str, str], Strategy]) -> None:
        self.engines.update(
            {f"{y}/{x}": (y, x, StreamEngine(s, symbols=(y, x))) for (y, x), s in specs.items()}
        )

    def update(self, values: dict[str, float], ts: Any) -> dict[str, Signal]:
        return {
            name: engine.update(values[y], values[x], ts)
            for name, (y, x, engine) in self.engines.items()
            if y in values and x in values
        }


def check_bar(got: BookSignals, want: dict[str, Signal], ts: Any) -> None:
    assert list(got) == list(want), ts
    for name, signal in want.items():
        assert_same_signal(got[name], signal, f"{ts} {name}")
    arrays = got.arrays
    for k, name in enumerate(got.names):
        for f in ("beta", "alpha", "spread", "zscore"):
            assert same(float(arrays[f][k]), getattr(want[name], f))
        assert arrays["position"][k] == want[name].position and arrays["action"][k] == want[name].action


def check_states(book: StreamBook, ref: Reference) -> None:
    assert sorted(book.names) == sorted(ref.engines)
    for name, (_, _, engine) in ref.engines.items():
        assert json.dumps(book.engine(name).state_dict()) == json.dumps(engine.state_dict()), name


def run(book: StreamBook, ref: Reference, stream: list[tuple[Any, dict[str, float]]]) -> int:
    updated = 0
    for ts, values in stream:
        want = ref.update(values, ts)
        check_bar(book.update(values, ts), want, ts)
        updated += len(want)
    return updated


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_book_equals_engines_on_78_daily_pairs(name: str, tmp_path: Path) -> None:
    """78 pairs over 500 days with coins listed mid-way, 3% of prices dropped and a save/load half-way."""
    strategy = STRATEGIES[name]
    stream = bars(DAILY.iloc[600:1100], drop=0.03, seed=len(name))
    book = StreamBook(ALL_PAIRS, strategy=strategy)
    ref = Reference(dict.fromkeys(ALL_PAIRS, strategy))
    first = run(book, ref, stream[:250])
    book.save(tmp_path / "book.json")
    book = StreamBook.load(tmp_path / "book.json")
    second = run(book, ref, stream[250:])
    assert first > 5_000 and second > 15_000  # most pairs trade most bars; some symbols absent
    assert book.n_updates == 500 and book.last_timestamp == stream[-1][0]
    check_states(book, ref)


def test_mixed_strategies_in_one_book() -> None:
    """A mapping of pairs to strategies: several kernel groups, one book order, one call per bar."""
    styles = list(STRATEGIES.values())
    specs = {pair: styles[k % len(styles)] for k, pair in enumerate(ALL_PAIRS[:40])}
    # Fixed hedges with per-pair betas share one group.
    specs.update(
        {
            ("ETH", "BTC"): Strategy(hedge="ols", beta=0.05, alpha=10.0, zscore_window=20),
            ("LTC", "BTC"): Strategy(hedge="ols", beta=0.01, zscore_window=20),
        }
    )
    book = StreamBook(specs)
    assert len(book._groups) == len(styles) + 1
    ref = Reference(specs)
    assert run(book, ref, bars(DAILY.iloc[1000:1300], drop=0.02, seed=7)) > 10_000
    check_states(book, ref)
    assert book.strategy_of("ETH/BTC").beta == 0.05 and book.strategy_of(("LTC", "BTC")).beta == 0.01


def test_four_hour_pair_both_ways_with_holes(tmp_path: Path) -> None:
    four = pairs.load_sample("binance_4h").iloc[:1500]
    strategy = Strategy(log_prices=True, capital=1e4, zscore_window=60, rule=RULE)
    specs = {("ETH", "BTC"): strategy, ("BTC", "ETH"): strategy.replace(log_prices=False)}
    book, ref = StreamBook(specs), Reference(specs)
    stream = bars(four, drop=0.05, seed=3)
    run(book, ref, stream[:700])
    book = StreamBook.from_state(json.loads(json.dumps(book.state_dict())))
    run(book, ref, stream[700:])
    check_states(book, ref)


def test_series_input_and_frame() -> None:
    prices = DAILY.iloc[1500:1600]
    book = StreamBook(ALL_PAIRS[:12], strategy=STRATEGIES["kalman_log_capital"])
    for ts, row in prices.iterrows():
        out = book.update(row, ts)  # a Series with NaN for unlisted coins
    frame = out.frame
    assert list(frame.columns) == [
        "beta",
        "alpha",
        "spread",
        "zscore",
        "position",
        "action",
        "y_units",
        "x_units",
    ]
    assert list(frame.index) == out.names == list(out)
    row = frame.loc["ADA/BCH"]
    assert row["zscore"] == out["ADA/BCH"].zscore and row["y_units"] == out["ADA", "BCH"].y_units
    assert out.active() == [n for n in out if out[n].action != "hold"]
    assert dict(book.positions) == {n: int(v) for n, v in zip(out.names, out.arrays["position"], strict=True)}


def test_add_and_remove_between_bars() -> None:
    strategy = STRATEGIES["kalman_raw"]
    stream = bars(DAILY.iloc[1200:1500], drop=0.02, seed=11)
    first = dict.fromkeys(ALL_PAIRS[:30], strategy)
    book, ref = StreamBook(list(first), strategy=strategy), Reference(first)
    run(book, ref, stream[:100])
    later = {pair: STRATEGIES["rolling_capital"] for pair in ALL_PAIRS[30:60]}
    book.add(later, strategy=STRATEGIES["rolling_capital"])
    ref.add(later)
    gone = ["ADA/BCH", ("ADA", "BNB"), *[f"{y}/{x}" for y, x in ALL_PAIRS[40:45]]]
    book.remove(gone)
    for name in gone:
        del ref.engines[name if isinstance(name, str) else "/".join(name)]
    assert ("ADA", "BCH") not in book and "ADA/BTC" in book and len(book) == 53
    run(book, ref, stream[100:])
    check_states(book, ref)


def test_from_scan_top_pairs() -> None:
    prices = DAILY[["BTC", "ETH", "LTC", "XRP", "BNB", "ADA"]].dropna()
    result = pairs.scan(prices, log=True, min_overlap=500)
    book = StreamBook.from_scan(result, top=4, strategy=Strategy(log_prices=True))
    table = result.table.head(4)
    assert book.pairs == [
        (r.y, r.x) if r.direction == "y~x" else (r.x, r.y) for r in table.itertuples(index=False)
    ]
    fixed = StreamBook.from_scan(result, top=3, strategy=Strategy(hedge="ols", log_prices=True))
    for (y, x), row in zip(fixed.pairs, table.itertuples(index=False), strict=False):
        s = fixed.strategy_of((y, x))
        assert (s.beta, s.alpha) == (row.beta, row.alpha)
        assert y in (row.y, row.x)
    with pytest.raises(PairsError, match=r"^strategy must have log_prices=True"):
        StreamBook.from_scan(result, top=3, strategy=Strategy(hedge="ols"))
    with pytest.raises(PairsError, match=r"^top must"):
        StreamBook.from_scan(result, top=0)
    with pytest.raises(PairsError, match=r"^result must"):
        StreamBook.from_scan(result.table)


def _warm_book() -> StreamBook:
    book = StreamBook([("ETH", "BTC"), ("LTC", "BTC")], strategy=Strategy(capital=1e4))
    for ts, values in bars(DAILY.iloc[1000:1040]):
        book.update(values, ts)
    return book


@pytest.mark.parametrize(
    ("prices", "exc", "start"),
    [
        ({"ETH": 0.0, "BTC": 1.0}, DataError, "prices['ETH']"),
        ({"ETH": -1.0, "BTC": 1.0}, DataError, "prices['ETH']"),
        ({"ETH": float("inf"), "BTC": 1.0}, DataError, "prices['ETH']"),
        ({"ETH": "100", "BTC": 1.0}, DataError, "prices['ETH']"),
        ({"ETH": True, "BTC": 1.0}, DataError, "prices['ETH']"),
        (pd.Series({"ETH": "x", "BTC": 1.0}), DataError, "prices['ETH']"),
        (pd.Series([1.0, 2.0], index=["BTC", "BTC"]), DataError, "prices"),
        ([1.0, 2.0], DataError, "prices"),
    ],
)
def test_bad_prices_leave_the_book_unchanged(prices: Any, exc: type, start: str) -> None:
    book = _warm_book()
    before = json.dumps(book.state_dict())
    with pytest.raises(exc) as info:
        book.update(prices, DAILY.index[1040])
    assert str(info.value).startswith(start)
    assert json.dumps(book.state_dict()) == before


def test_timestamps_and_missing_prices() -> None:
    book = _warm_book()
    last = book.last_timestamp
    before = json.dumps(book.state_dict())
    for ts, exc in (
        (last, StateError),
        (last - pd.Timedelta(days=1), StateError),
        (None, StateError),
        (5, DataError),
    ):
        with pytest.raises(exc, match=r"^timestamp"):
            book.update({"ETH": 1.0, "BTC": 2.0}, ts)
    assert json.dumps(book.state_dict()) == before
    # A bar without BTC updates nothing; one without LTC only ETH/BTC; unknown symbols are ignored.
    nxt = last + pd.Timedelta(days=1)
    assert len(book.update({"ETH": 1.0, "LTC": 2.0}, nxt)) == 0
    out = book.update({"ETH": 1.0, "BTC": 2.0, "DOGE": -5, "LTC": None}, nxt + pd.Timedelta(days=1))
    assert list(out) == ["ETH/BTC"] and "LTC/BTC" not in out
    with pytest.raises(KeyError):
        out["LTC/BTC"]


@pytest.mark.parametrize(
    ("pairs_arg", "start"),
    [
        ([("ETH", "ETH")], "pairs[0]"),
        ([("ETH",)], "pairs[0]"),
        (["ETH/BTC"], "pairs[0]"),
        ("ETH/BTC", "pairs"),
        ([("ETH", "BTC"), ("ETH", "BTC")], "pairs"),
        ({("ETH", "BTC"): "kalman"}, "pairs[('ETH', 'BTC')]"),
    ],
)
def test_bad_pairs(pairs_arg: Any, start: str) -> None:
    with pytest.raises(PairsError) as info:
        StreamBook(pairs_arg)
    assert str(info.value).startswith(start)


def test_membership_errors() -> None:
    book = _warm_book()
    with pytest.raises(PairsError, match=r"^pairs must be new"):
        book.add([("ETH", "BTC")])
    with pytest.raises(PairsError, match=r"^pairs must be a pair of the book"):
        book.remove(["XRP/BTC"])
    with pytest.raises(PairsError, match=r"^strategy must"):
        StreamBook([("ETH", "BTC")], strategy="kalman")  # type: ignore[arg-type]
    with pytest.raises(PairsError, match=r"^beta must"):
        StreamBook([("ETH", "BTC")], strategy=Strategy(hedge="ols"))
    assert len(book) == 2


def test_state_file_errors(tmp_path: Path) -> None:
    book = _warm_book()
    path = tmp_path / "book.json"
    book.save(path)
    text = path.read_text()
    assert json.dumps(StreamBook.load(path).state_dict()) == json.dumps(book.state_dict())
    path.write_text(text[: len(text) // 2])
    with pytest.raises(StateError, match=r"^path"):
        StreamBook.load(path)
    assert text.count('"n_updates":40') >= 1
    path.write_text(text.replace('"n_updates":40', '"n_updates":41'))
    with pytest.raises(StateError, match=r"^path must be an intact"):
        StreamBook.load(path)
    with pytest.raises(StateError, match=r"^path"):
        StreamBook.load(tmp_path / "missing.json")
    state = book.state_dict()
    with pytest.raises(StateError, match=r"^state\['format'\]"):
        StreamBook.from_state({**state, "format": "pairs.StreamEngine"})
    bad = json.loads(json.dumps(state))
    bad["pairs"][1]["state"]["rule"]["position"] = 7
    with pytest.raises(StateError, match=r"^state\['pairs'\]\[1\]"):
        StreamBook.from_state(bad)
    bad = json.loads(json.dumps(state))
    bad["pairs"][1]["strategy"] = 3
    with pytest.raises(StateError, match=r"^state\['pairs'\]\[1\]\['strategy'\]"):
        StreamBook.from_state(bad)
    with pytest.raises(StateError, match=r"^state must be a dict"):
        StreamBook.from_state([])


def test_engine_export_continues_identically() -> None:
    book = _warm_book()
    engine = book.engine("ETH/BTC")
    assert isinstance(engine, StreamEngine) and engine.n_updates == 40
    ts = book.last_timestamp + pd.Timedelta(days=1)
    assert_same_signal(
        book.update({"ETH": 2000.0, "BTC": 30000.0}, ts)["ETH/BTC"], engine.update(2000.0, 30000.0, ts), ""
    )


def test_constant_spread_through_window_refreshes() -> None:
    # y = 2 x exactly and a fixed hedge of beta 2: the spread is 0 at every bar, so the rolling
    # z-score is undefined (NaN) throughout, including the bars that end with the window's exact
    # refresh (every 60th), where the book's common path computes it again after the refresh.
    rng = np.random.default_rng(1)
    x = np.exp(np.cumsum(rng.normal(0.0, 0.01, 200)))
    strategy = Strategy(hedge="ols", beta=2.0, alpha=0.0, zscore_window=60, capital=1e4)
    book = StreamBook([("A", "B")], strategy=strategy)
    engine = StreamEngine(strategy)
    for t in range(200):
        signal = book.update({"A": 2.0 * x[t], "B": x[t]})["A/B"]
        expected = engine.update(2.0 * x[t], x[t])
        assert signal.spread == 0.0 and np.isnan(signal.zscore) and np.isnan(expected.zscore)
        assert signal.position == expected.position == 0
