"""A stream accepts only prices whose state round-trips, and bar times that are not the clock.

Issue 22 item 3: prices above about 1e154 were accepted, but the state saved after them could not
be loaded on restart (sums of squares overflowed to inf). Prices are now refused at the update,
and the extremes of the accepted range, in the worst order (the first bar at one end, the next
ones jumping to the other), give states that load again, as JSON (engine) and binary (book).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pairs import DataError, Strategy, StreamBook, StreamEngine
from pairs.stream._kernels import MAX_PRICE, MIN_PRICE

STRATEGIES = [
    Strategy(),
    Strategy(hedge="kalman", log_prices=True, zscore_method="ewm", zscore_halflife=3.0, capital=1e4),
    Strategy(hedge="kalman", zscore_method="innovation", capital=1e4, lot_size=(1e-18, 1e-18)),
    Strategy(hedge="rolling", window=5, zscore_window=4, capital=1e4),
    Strategy(hedge="rolling", window=5, zscore_method="expanding"),
    Strategy(hedge="ols", beta=1.0),
]
# Both ends of the range, each leg and each order, with a little noise so nothing is constant.
LOW, HIGH = MIN_PRICE, MAX_PRICE
Y = np.array([LOW, HIGH, HIGH * 0.5, LOW * 3, HIGH, LOW, HIGH * 0.9, LOW * 2, HIGH, HIGH * 0.7] * 3)
X = np.array([HIGH, LOW, LOW * 7, HIGH * 0.3, LOW, HIGH, LOW * 5, HIGH * 0.8, LOW, LOW * 2] * 3)
TIMES = pd.date_range("2024-01-01", periods=len(Y), freq="D", tz="UTC")


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: f"{s.hedge}-{s.zscore_method}")
def test_engine_state_at_the_price_limits_round_trips_as_json(strategy: Strategy, tmp_path: Path) -> None:
    engine = strategy.stream()
    for k, (y, x, ts) in enumerate(zip(Y, X, TIMES, strict=True)):
        signal = engine.update(float(y), float(x), ts)
        # Every state along the way loads again, and the reloaded engine goes on identically.
        restored = StreamEngine.from_state(json.loads(json.dumps(engine.state_dict())))
        assert restored.state_dict() == engine.state_dict(), k
    path = tmp_path / "engine.json"
    engine.save(path)
    loaded = StreamEngine.load(path)
    nxt = TIMES[-1] + pd.Timedelta(days=1)
    assert repr(loaded.update(2.0, 3.0, nxt)) == repr(engine.update(2.0, 3.0, nxt))  # NaN z-scores too
    assert loaded.state_dict() == engine.state_dict()
    assert signal.timestamp == TIMES[-1]


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: f"{s.hedge}-{s.zscore_method}")
def test_book_state_at_the_price_limits_round_trips_as_binary(strategy: Strategy, tmp_path: Path) -> None:
    book = StreamBook([("A", "B"), ("B", "A")], strategy=strategy)
    path = tmp_path / "book.bin"
    for y, x, ts in zip(Y, X, TIMES, strict=True):
        book.update({"A": float(y), "B": float(x)}, ts)
        book.save(path, format="binary")
        assert StreamBook.load(path).state_dict() == book.state_dict()


@pytest.mark.parametrize(
    "price", [np.nextafter(MAX_PRICE, np.inf), 1e154, 1e300, np.nextafter(MIN_PRICE, 0), 1e-303]
)
def test_prices_outside_the_range_are_refused_and_change_nothing(price: float) -> None:
    engine = Strategy().stream()
    engine.update(2.0, 3.0, TIMES[0])
    before = engine.state_dict()
    with pytest.raises(DataError, match=r"^y_price must be within \[1e-30, 1e\+30\]"):
        engine.update(price, 3.0, TIMES[1])
    with pytest.raises(DataError, match=r"^x must be within"):
        engine.warmup(pd.Series([2.0], index=TIMES[1:2]), pd.Series([price], index=TIMES[1:2]))
    assert engine.state_dict() == before
    book = StreamBook([("A", "B")], strategy=Strategy())
    with pytest.raises(DataError, match=r"^prices\['B'\] must be within"):
        book.update({"A": 2.0, "B": price}, TIMES[0])
    assert book.n_updates == 0


@pytest.mark.parametrize("word", ["now", "today", " Now "])
def test_clock_words_are_not_bar_times(word: str) -> None:
    # pandas reads "now" and "today" as the wall clock; a bar's time must come with the bar.
    engine = Strategy().stream()
    with pytest.raises(DataError, match=r"^timestamp must be the bar's own time"):
        engine.update(2.0, 3.0, word)
    book = StreamBook([("A", "B")], strategy=Strategy())
    with pytest.raises(DataError, match=r"^timestamp must be the bar's own time"):
        book.update({"A": 2.0, "B": 3.0}, word)
    assert engine.n_updates == book.n_updates == 0
