"""The book's binary state file, the row invariants shared by engine and book, and old files.

A binary state (``StreamBook.save`` to a path not ending in ``.json``) must restore a book that
continues bit for bit like the original and like a JSON round trip; every corruption is a
StateError; a state no sequence of bars produces is refused, in either format; state files
written by the previous layout still load.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import pairs
from pairs import StateError, Strategy, StreamBook, StreamEngine
from pairs.stream._state import MAGIC, Packed

DAILY = pairs.load_sample("binance_1d")
COINS = list(DAILY.columns)
ALL_PAIRS = [(a, b) for i, a in enumerate(COINS) for b in COINS[i + 1 :]]
MIXED = {
    pair: style
    for pair, style in zip(
        ALL_PAIRS,
        [
            Strategy(zscore_window=30),
            Strategy(log_prices=True, delta=1e-5, zscore_window=30, capital=1e4, lot_size=(0.01, 0.001)),
            Strategy(hedge="rolling", window=40, capital=5e3, sizing_mode="dollar_neutral"),
            Strategy(hedge="rolling", window=30, log_prices=True, zscore_method="ewm", zscore_halflife=8.0),
            Strategy(zscore_method="innovation", capital=2e4, rebalance_band=0.05, log_prices=True),
            Strategy(zscore_method="expanding"),
        ]
        * 13,
        strict=False,
    )
}
# Fixed hedges with their own betas share one group (beta and alpha are state, not settings).
MIXED[("ETH", "BTC")] = Strategy(hedge="ols", beta=0.05, alpha=10.0, zscore_window=20)
MIXED[("LTC", "BTC")] = Strategy(hedge="ols", beta=0.01, zscore_window=20)


def _bars(frame: pd.DataFrame) -> list[tuple[pd.Timestamp, dict[str, float]]]:
    return [(ts, {k: float(v) for k, v in row.items() if v == v}) for ts, row in frame.iterrows()]


def _book(n_bars: int = 300) -> StreamBook:
    book = StreamBook(MIXED)
    for ts, bar in _bars(DAILY.iloc[1200 : 1200 + n_bars]):
        book.update(bar, ts)
    return book


def _lines(book: StreamBook, frame: pd.DataFrame) -> list[str]:
    return [book.update(bar, ts).frame.to_json() for ts, bar in _bars(frame)]


def test_binary_round_trip_continues_bit_for_bit(tmp_path: Path) -> None:
    book = _book()
    book.save(tmp_path / "book.state")
    book.save(tmp_path / "book.json")
    raw = (tmp_path / "book.state").read_bytes()
    assert raw.startswith(MAGIC) and (tmp_path / "book.json").read_text().startswith('{"sha256"')
    assert len(raw) < 0.7 * (tmp_path / "book.json").stat().st_size
    binary, text = StreamBook.load(tmp_path / "book.state"), StreamBook.load(tmp_path / "book.json")
    assert json.dumps(binary.state_dict()) == json.dumps(book.state_dict()) == json.dumps(text.state_dict())
    later = DAILY.iloc[1500:1560]
    expected = _lines(book, later)
    assert _lines(binary, later) == expected and _lines(text, later) == expected
    for name in (book.names[0], book.names[-1], "ETH/BTC"):
        assert binary.engine(name).state_dict() == book.engine(name).state_dict()


def test_format_is_explicit_or_inferred_from_the_suffix(tmp_path: Path) -> None:
    book = _book(40)
    book.save(tmp_path / "a.json", format="binary")
    book.save(tmp_path / "b.bin", format="json")
    assert (tmp_path / "a.json").read_bytes().startswith(MAGIC)
    assert (tmp_path / "b.bin").read_bytes().startswith(b'{"sha256"')
    assert isinstance(book.snapshot("x.state"), Packed) and isinstance(book.snapshot("x.JSON"), dict)
    for path in ("a.json", "b.bin"):
        assert StreamBook.load(tmp_path / path).state_dict() == book.state_dict()
    with pytest.raises(pairs.PairsError, match=r"^format must be one of"):
        book.save(tmp_path / "c", format="pickle")


def test_every_corruption_of_a_binary_file_is_a_state_error(tmp_path: Path) -> None:
    path = tmp_path / "book.state"
    _book(60).save(path)
    raw = path.read_bytes()
    rng = np.random.default_rng(0)
    cases = [raw[: len(raw) // 2], raw[:-1], raw + b"\0", raw[:12]]
    for k in rng.choice(len(raw), size=40, replace=False).tolist():
        flipped = bytearray(raw)
        flipped[k] ^= 0x10
        cases.append(bytes(flipped))
    for case in cases:
        path.write_bytes(case)
        with pytest.raises(StateError, match=r"^path must be an intact StreamBook state file"):
            StreamBook.load(path)


def _resealed(path: Path, edit: Any) -> None:
    """Rewrite a binary book file with ``edit(header, arrays)`` applied and a valid checksum."""
    from pairs.stream._state import read_state_file, write_state_file

    payload = read_state_file(path, body="book", what="StreamBook state")
    packed: Packed = payload["book"]
    header = json.loads(json.dumps(packed.header))
    arrays = [a.copy() for a in packed.arrays]
    edit(header, arrays)
    write_state_file(path, {"book": Packed(header, tuple(arrays))}, body="book")


def _group_of(arrays: list[np.ndarray], hedge: float) -> int:
    """Index of the first group whose settings have this hedge kind (P_HEDGE is 0)."""
    return next(g for g in range(len(arrays[2::5])) if arrays[3 + 5 * g][0] == hedge)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        # The Kalman covariance (state columns 10-12: p00, p01, p11) no longer PSD.
        (lambda h, a: a[4 + 5 * _group_of(a, 0)].__setitem__((0, 11), 1e6), "positive semi-definite"),
        # A cooldown left on a rule without cooldown (state column 2).
        (lambda h, a: a[4 + 5 * _group_of(a, 0)].__setitem__((0, 2), 3.0), "cooldown"),
        # A bar count beyond what a float holds exactly, and beyond the book's count.
        (lambda h, a: a[4 + 5 * _group_of(a, 0)].__setitem__((0, 24), 1e19), "n_updates"),
        (lambda h, a: a[4 + 5 * _group_of(a, 0)].__setitem__((0, 24), 301.0), "at most the book's"),
        # A pair whose last bar is after the book's last one (the book went back in time).
        (lambda h, a: h.__setitem__("last_timestamp", {"timestamp": "2020-01-01T00:00:00"}), "at most"),
        # Settings that are not the strategy's (another entry threshold).
        (lambda h, a: a[3].__setitem__(6, 9.0), "settings"),
        # A fixed hedge whose beta is not its strategy's.
        (lambda h, a: a[4 + 5 * _group_of(a, 2)].__setitem__((0, 8), 0.5), "beta and alpha"),
        # The same pair twice, a pair missing, an unknown symbol.
        (lambda h, a: a[0].__setitem__((1,), a[0][0]), "distinct"),
        (lambda h, a: a[2].__setitem__(slice(None), 0) or None, "exactly once|distinct|settings|beta"),
        (lambda h, a: h.__setitem__("symbols", h["symbols"][:3]), "known symbols"),
    ],
)
def test_impossible_binary_states_are_refused(tmp_path: Path, edit: Any, match: str) -> None:
    path = tmp_path / "book.state"
    _book().save(path)
    _resealed(path, edit)
    with pytest.raises(StateError, match=match):
        StreamBook.load(path)


def test_new_invariants_hold_for_engines_too() -> None:
    engine = StreamEngine(Strategy(log_prices=True))
    for ts, row in DAILY[["ETH", "BTC"]].dropna().iloc[:50].iterrows():
        engine.update(row["ETH"], row["BTC"], ts)
    state = engine.state_dict()
    for part, key, value, match in [
        ("hedge", "p01", 10.0, "positive semi-definite"),
        ("rule", "cooldown_left", 2, "cooldown"),
        ("rule", "blocked_side", 1, "blocked_side"),
    ]:
        bad = json.loads(json.dumps(state))
        bad["state"][part][key] = value
        with pytest.raises(StateError, match=match):
            StreamEngine.from_state(bad)
    bad = json.loads(json.dumps(state))
    bad["state"]["n_updates"] = 10**19
    with pytest.raises(StateError, match="n_updates"):
        StreamEngine.from_state(bad)


def test_a_book_state_whose_pair_is_ahead_of_the_book_is_refused() -> None:
    state = _book(40).state_dict()
    state["pairs"][0]["state"]["last_timestamp"] = {"timestamp": "2030-01-01T00:00:00"}
    with pytest.raises(StateError, match=r"must be at most the book's last timestamp"):
        StreamBook.from_state(state)


def test_saves_keep_the_file_mode_and_follow_a_dangling_link(tmp_path: Path) -> None:
    book = _book(20)
    path = tmp_path / "book.state"
    book.save(path)
    os.chmod(path, 0o640)
    book.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    engine = StreamEngine(Strategy())
    engine.save(tmp_path / "e.json")
    os.chmod(tmp_path / "e.json", 0o644)
    engine.save(tmp_path / "e.json")
    assert stat.S_IMODE((tmp_path / "e.json").stat().st_mode) == 0o644
    link = tmp_path / "link.state"
    link.symlink_to(tmp_path / "target.state")
    book.save(link)
    assert link.is_symlink() and (tmp_path / "target.state").read_bytes().startswith(MAGIC)
    assert StreamBook.load(link).state_dict() == book.state_dict()


FIXTURES = Path(__file__).parent.parent / "fixtures" / "state"


@pytest.mark.parametrize("name", ["engine_kalman.json", "engine_rolling.json", "book.json"])
def test_state_files_of_the_previous_layout_still_load(name: str) -> None:
    # Written by pairs before the row layout (commit d3c9afe) with tests/fixtures/state/record.py:
    # the restored objects continue exactly as the original did then (recorded signals).
    doc = json.loads((FIXTURES / name).read_text())
    path = FIXTURES / doc["file"]
    if doc["kind"] == "engine":
        engine = StreamEngine.load(path)
        saved = json.loads(path.read_text())["engine"]["state"]["sizing"]
        # Holdings of a file saved before fills existed are its targets (pairs.stream._legs).
        assert engine.holdings == {"y": saved["y_units"], "x": saved["x_units"]}
        signals = [engine.update(y, x, ts) for ts, y, x in doc["bars"]]
        first = signals[0]
        assert first.orders is None or [(o.symbol, o.side, o.quantity) for o in first.orders] == [
            (leg, "buy" if target > held else "sell", round(abs(target - held), 4))
            for leg, target, held in (
                ("y", first.y_units, saved["y_units"]),
                ("x", first.x_units, saved["x_units"]),
            )
            if target != held
        ]
        # The recorded lines, which had no orders yet.
        got = [json.dumps({k: v for k, v in s.to_dict().items() if k != "orders"}) for s in signals]
    else:
        book = StreamBook.load(path)
        got = [book.update(bar, ts).frame.to_json() for ts, bar in doc["bars"]]
    assert got == doc["expected"]
