"""The per-bar fast paths keep every guarantee of the general ones.

* ``Signal.to_json()`` (the line ``pairs signal --follow`` prints) is byte for byte
  ``json.dumps(signal.to_dict())``, and the fast ``to_dict`` equals the generic
  ``ResultMixin.to_dict`` (less ``leverage_cut`` when it is None: the key is written only
  with a cut), for every kind of timestamp and for non-finite values.
* The engine's signals, built by slot stores and a class switch (not the frozen dataclass's
  ``__init__``), are ordinary frozen :class:`Signal` objects: equal to ``Signal(...)`` of the
  same fields, immutable, hashable, picklable, with dataclass fields, from engine, warm-up and book.
* The book's bar line equals ``json.dumps`` of the same data.
* Ring buffers are checkpointed as base64 float64 bytes: bit for bit, NaN included; state files
  written before (buffers as JSON lists of numbers) still load, and malformed encodings are
  refused naming the field.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import pickle

import numpy as np
import pandas as pd
import pytest

from pairs import Signal, Strategy, StreamBook, StreamEngine, load_sample
from pairs._results import ResultMixin
from pairs.cli._book import bar_line
from pairs.exceptions import StateError
from pairs.stream._state import encode_array, read_floats

STAMPS = [
    None,
    7,
    -(2**63),
    1.5e9,
    pd.Timestamp("2024-01-02"),
    pd.Timestamp("2024-01-02 03:04:05.123456789"),
    pd.Timestamp("2024-01-02 03:04:05.5", tz="UTC"),
    pd.Timestamp("2024-01-02", tz="Asia/Kolkata"),
    pd.Timestamp("2020-11-01 01:30").tz_localize("America/New_York", ambiguous=False),
    pd.Timestamp(np.datetime64("12000-01-01T00:00:00", "s")),
    pd.Timestamp(np.datetime64("-100-06-01T12:00:00", "s")),
    pd.Timestamp(1_700_000_000, unit="s"),
]
VALUES = [0.1, -0.0, 1e-310, 123456.789e200, math.nan, math.inf, -math.inf, None, 3, np.float64(2.5)]


def _generic(signal: Signal) -> dict:
    """``ResultMixin.to_dict``, without the optional ``leverage_cut`` and ``fill`` when None."""
    out = ResultMixin.to_dict(signal)
    for name in ("leverage_cut", "fill"):
        if out[name] is None:
            del out[name]
    return out


@pytest.mark.parametrize("stamp", STAMPS, ids=repr)
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_to_json_is_json_dumps_of_to_dict(stamp: object, value: object) -> None:
    for action in ("hold", "enter_long", "enter_short", "exit", "stop"):
        for position, cut, fill in ((1, None, None), (0, "scaled", "next_open"), (-1, "refused", 3)):
            signal = Signal(stamp, value, 1.25, value, -2.0, position, value, 0.5, action, (), cut, fill)  # type: ignore[arg-type]
            assert signal.to_dict() == _generic(signal)
            assert signal.to_json() == json.dumps(signal.to_dict())
            assert ("leverage_cut" in signal.to_dict()) == (cut is not None)
            assert ("fill" in signal.to_dict()) == (fill is not None)


def test_engine_signals_serialise_as_json_dumps() -> None:
    prices = load_sample("binance_1d")[["BTC", "ETH"]].dropna().iloc[:400]
    for strategy in (
        Strategy(log_prices=True, capital=10_000, lot_size=(0.01, 0.0001)),
        Strategy(hedge="rolling", window=30, zscore_window=20),
        Strategy(log_prices=True, capital=10_000, leverage=0.5),  # no fills: every entry is cut
    ):
        engine = strategy.stream()
        cuts = 0
        for ts, btc, eth in zip(prices.index, prices["BTC"], prices["ETH"], strict=True):
            signal = engine.update(eth, btc, ts)
            assert signal.to_json() == json.dumps(signal.to_dict())
            assert signal.to_dict() == _generic(signal)
            cuts += signal.leverage_cut is not None
        assert (cuts > 0) == (strategy.leverage is not None)


def test_fast_built_signals_are_ordinary_frozen_signals() -> None:
    prices = load_sample("binance_1d")[["ETH", "BTC"]].dropna().iloc[:80]
    strategy = Strategy(log_prices=True, capital=10_000.0)
    engine = strategy.stream()
    warm = engine.warmup(prices["ETH"].iloc[:-1], prices["BTC"].iloc[:-1])
    last = engine.update(prices["ETH"].iloc[-1], prices["BTC"].iloc[-1], prices.index[-1])
    book = StreamBook({("ETH", "BTC"): strategy})
    booked = book.update({"ETH": prices["ETH"].iloc[0], "BTC": prices["BTC"].iloc[0]}, prices.index[0])
    for signal in (warm, last, *booked.values()):
        assert type(signal) is Signal
        fields = {f.name: getattr(signal, f.name) for f in dataclasses.fields(signal)}
        assert list(fields) == list(Signal.__dataclass_fields__)
        rebuilt = Signal(**fields)
        assert signal == rebuilt and hash(signal) == hash(rebuilt)
        restored = pickle.loads(pickle.dumps(signal))
        assert type(restored) is Signal and restored.to_json() == signal.to_json()  # NaN != NaN
        with pytest.raises(dataclasses.FrozenInstanceError):
            signal.beta = 0.0  # type: ignore[misc]
        assert not hasattr(signal, "__dict__")
    assert last.y_units is not None and last.timestamp == prices.index[-1]


def test_update_calls_the_compiled_entry_with_its_exact_types(tmp_path) -> None:
    # After the first bar, update skips numba's dispatch: it calls engine_step's entry point,
    # which converts nothing, so the engine's arguments must have the compiled types always.
    from pairs.stream import _engine
    from pairs.stream._kernels import engine_step

    prices = load_sample("binance_1d")[["ETH", "BTC"]].dropna().iloc[:50]
    engine = Strategy(hedge="rolling", window=10, capital=1_000.0).stream()
    engine.update(prices["ETH"].iloc[0], prices["BTC"].iloc[0], prices.index[0])
    assert _engine._step is not _engine._first_step and _engine._step is not engine_step
    (signature,) = engine_step.signatures
    assert [str(t) for t in signature] == ["array(float64, 1d, C)", "float64", "float64"]
    engine.save(tmp_path / "state.json")
    for e in (engine, StreamEngine.load(tmp_path / "state.json")):
        array = e._st
        assert array.dtype == np.float64 and array.ndim == 1
        assert array.flags.c_contiguous and array.flags.writeable and array.flags.owndata
        assert type(e._n) is int
    # Prices of other numeric types are converted before the call (one equal signal).
    a = engine.update(np.float32(prices["ETH"].iloc[1]), int(prices["BTC"].iloc[1]), prices.index[1])
    b = StreamEngine.load(tmp_path / "state.json").update(
        float(np.float32(prices["ETH"].iloc[1])), float(int(prices["BTC"].iloc[1])), prices.index[1]
    )
    assert a.to_json() == b.to_json()


@pytest.mark.parametrize("account", [{}, {"capital": 10_000.0, "leverage": 0.5}], ids=["plain", "leverage"])
def test_book_line_is_json_dumps_of_its_data(account: dict) -> None:
    prices = load_sample("binance_1d")[["BTC", "ETH", "LTC"]].dropna().iloc[:200]
    strategy = Strategy(log_prices=True, zscore_window=20, **account)
    book = StreamBook([("ETH", "BTC"), ("LTC", "BTC")], strategy=strategy)
    cuts = 0
    for ts, row in prices.iterrows():
        signals = book.update(row, ts)
        for every in (True, False):
            names = list(signals) if every else signals.active()
            data = {
                name: {k: v for k, v in signals[name].to_dict().items() if k != "timestamp"} for name in names
            }
            expected = json.dumps({"timestamp": ts.isoformat(), "signals": data})
            assert bar_line(signals, every=every) == expected
            cuts += '"leverage_cut"' in expected
    assert (cuts > 0) == bool(account)  # no fills: every entry is cut at 0.5x


def _rolling_engine() -> StreamEngine:
    prices = load_sample("binance_1d")[["BTC", "ETH"]].dropna().iloc[:150]
    engine = Strategy(hedge="rolling", window=40, zscore_window=30).stream()
    engine.warmup(prices["ETH"], prices["BTC"])
    return engine


def test_ring_buffers_are_base64_and_round_trip_bit_for_bit() -> None:
    engine = _rolling_engine()
    state = engine.state_dict()
    assert isinstance(state["state"]["hedge"]["y"], str)
    assert isinstance(state["state"]["zscore"]["values"], str)
    restored = StreamEngine.from_state(json.loads(json.dumps(state)))
    assert restored.state_dict() == state
    assert engine._st.tobytes() == restored._st.tobytes()  # the whole row: settings, state, buffers
    values = np.array([math.nan, -0.0, 1e-310, math.inf, 1.0])
    back = read_floats({"v": encode_array(values)}, "v", 5, "s")
    assert back.tobytes() == values.tobytes()


def test_buffers_written_as_json_lists_still_load() -> None:
    engine = _rolling_engine()
    state = engine.state_dict()
    legacy = json.loads(json.dumps(state))
    for part, names in (("hedge", ("y", "x")), ("zscore", ("values",))):
        for name in names:
            values = read_floats(legacy["state"][part], name, 40 if part == "hedge" else 30, "s")
            legacy["state"][part][name] = [v if math.isfinite(v) else "nan" for v in values.tolist()]
    restored = StreamEngine.from_state(legacy)
    assert restored.state_dict() == state
    later = engine.last_timestamp + pd.Timedelta(days=1)
    assert restored.update(2000.0, 40000.0, later) == engine.update(2000.0, 40000.0, later)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("not base64!", r"base64 of 3 float64 values \(24 bytes\); got invalid base64"),
        (base64.b64encode(b"\0" * 16).decode(), r"base64 of 3 float64 values \(24 bytes\); got 16 bytes"),
    ],
)
def test_malformed_buffer_encoding_is_refused(text: str, match: str) -> None:
    with pytest.raises(StateError, match=r"state\['y'\] must be " + match):
        read_floats({"y": text}, "y", 3, "state")
    engine = _rolling_engine()
    state = engine.state_dict()
    state["state"]["hedge"]["y"] = text
    with pytest.raises(StateError, match=r"\['hedge'\]\['y'\] must be base64"):
        StreamEngine.from_state(state)
