"""State files as a bot needs them: one writer, symlinks written through, stale temporary files
removed, path errors as PairsError, untrusted content and impossible states refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from pairs import StreamEngine
from pairs._io import remove_stale_temps, write_text_atomic
from pairs.exceptions import DataError, PairsError, StateError
from pairs.strategy import Strategy
from pairs.stream._lock import StateLock, lock_path


def engine_after(n: int, **options: Any) -> StreamEngine:
    engine = StreamEngine("rolling", window=5, zscore_window=3, capital=1e3, rule={"entry_z": 0.5}, **options)
    for i in range(n):
        engine.update(
            10.0 + (i % 7) * 0.3,
            5.0 + (i % 5) * 0.2,
            pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(hours=i),
        )
    return engine


def test_save_writes_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real" / "engine.json"
    real.parent.mkdir()
    link = tmp_path / "engine.json"
    link.symlink_to(real)
    engine = engine_after(9)
    engine.save(link)
    assert link.is_symlink() and real.is_file()
    engine.update(11.0, 5.5, pd.Timestamp("2025-01-01", tz="UTC"))
    engine.save(link)
    assert link.is_symlink() and StreamEngine.load(real).n_updates == 10
    assert lock_path(link) == lock_path(real)  # one lock for both names


def test_stale_temporary_files_are_removed_live_ones_kept(tmp_path: Path) -> None:
    target = tmp_path / "engine.json"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(dead.stdout)
    stale = tmp_path / f".engine.json.{dead_pid}.abc123.tmp"
    live = tmp_path / f".engine.json.{os.getppid()}.def456.tmp"
    other = tmp_path / f".other.json.{dead_pid}.abc123.tmp"
    old = tmp_path / ".engine.json.x.tmp"
    for path in (stale, live, other, old):
        path.write_text("{")
    assert remove_stale_temps(target) == [stale]
    assert live.exists() and other.exists() and old.exists()
    write_text_atomic(tmp_path / "other.json", "{}")  # the first write of a path cleans its own
    assert not other.exists() and live.exists()


def test_lock_refuses_a_second_writer_naming_the_holder(tmp_path: Path) -> None:
    state = tmp_path / "engine.json"
    with StateLock(state) as held:
        assert held.held and lock_path(state).read_text().strip() == str(os.getpid())
        with pytest.raises(StateError, match=rf"in use by another writer \(pid {os.getpid()}\)"):
            StateLock(state).acquire()
        # another process is refused too
        code = (
            "import sys; from pairs.stream._lock import StateLock\n"
            "try:\n StateLock(sys.argv[1]).acquire()\nexcept Exception as e:\n print(e); sys.exit(2)"
        )
        proc = subprocess.run([sys.executable, "-c", code, str(state)], capture_output=True, text=True)
        assert proc.returncode == 2 and f"pid {os.getpid()}" in proc.stdout
    with StateLock(state):
        pass  # released on exit
    with pytest.raises(StateError, match="writable folder"):
        StateLock(tmp_path / "missing" / "engine.json").acquire()


@pytest.mark.parametrize("path", [123, None, b"engine.json", ""])
def test_path_type_errors_are_pairs_errors(path: Any) -> None:
    engine = engine_after(2)
    with pytest.raises(PairsError, match="path"):
        engine.save(path)
    with pytest.raises(PairsError, match="path"):
        StreamEngine.load(path)
    with pytest.raises(PairsError, match="path"):
        Strategy.load(path)
    if path is not None:  # to_json(None) returns the text
        with pytest.raises(PairsError, match="path"):
            Strategy().to_json(path)


def test_io_errors_are_state_errors(tmp_path: Path) -> None:
    engine = engine_after(2)
    with pytest.raises(StateError, match="writable state file"):
        engine.save(tmp_path / "missing" / "engine.json")
    with pytest.raises(StateError, match="readable"):
        StreamEngine.load(tmp_path)
    with pytest.raises(DataError, match="writable"):
        Strategy().to_json(tmp_path / "missing" / "s.json")


def write(path: Path, doc: Any) -> None:
    """A file with a valid checksum around ``doc`` (the engine only)."""
    import hashlib

    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    path.write_text(json.dumps({"sha256": hashlib.sha256(canonical.encode()).hexdigest(), "engine": doc}))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('{"sha256": "0", "engine": {"n": ' + "9" * 400 + "}}", "numbers in range"),
        ('{"sha256": "0", "engine": {"n": 1e999}}', "numbers in range"),
        ('{"sha256": "0", "engine": ' + "[" * 100 + "]" * 100 + "}", "nested"),
        ('{"sha256": "0", "engine": NaN}', "JSON"),
        (b"\xff\xfe{}", "UTF-8"),
    ],
)
def test_hostile_state_json_is_a_state_error(tmp_path: Path, text: Any, match: str) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(StateError, match=match):
        StreamEngine.load(path)


def mutate(doc: dict, where: tuple, value: Any) -> dict:
    doc = json.loads(json.dumps(doc))
    target = doc
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("where", "value", "match"),
    [
        (("state", "hedge", "cxx"), -1.0, "non-negative variance"),
        (("state", "hedge", "cxx"), "nan", "finite"),
        (("state", "hedge", "bars"), 8, "n_updates"),
        (("state", "hedge", "weight"), 4.0, "weight"),
        (("state", "hedge", "y"), [1.0, 2.0, "nan", 3.0, 4.0], "finite prices"),
        (("state", "hedge", "x"), [1.0, 2.0, -3.0, 3.0, 4.0], "positive prices"),
        (("state", "zscore", "m2"), -3.0, "non-negative variance"),
        (("state", "zscore", "count"), 7.0, "count"),
        (("state", "zscore", "values"), [1.0, "inf", 2.0], "finite or NaN"),
        (("state", "n_updates"), 10, "n_updates"),
        (("state", "rule", "bars_held"), 50, "bars_held"),
        (("state", "sizing", "position"), -1.0, "position"),
        (("state", "sizing", "y_units"), -5.0, "sign"),
    ],
)
def test_impossible_states_are_refused(where: tuple, value: Any, match: str) -> None:
    engine = engine_after(9)
    assert engine.position == 1, "the fixture engine should hold a long position"
    with pytest.raises(StateError, match=match):
        StreamEngine.from_state(mutate(engine.state_dict(), where, value))


def test_impossible_flat_and_fresh_states_are_refused() -> None:
    fresh = StreamEngine("kalman").state_dict()
    with pytest.raises(StateError, match="first"):
        StreamEngine.from_state(mutate(fresh, ("state", "hedge", "first"), False))
    with pytest.raises(StateError, match="last_timestamp"):
        StreamEngine.from_state(mutate(fresh, ("state", "last_timestamp"), 5))
    flat = StreamEngine("ols", beta=1.0, zscore_window=3).state_dict()
    with pytest.raises(StateError, match="without capital"):
        StreamEngine.from_state(mutate(flat, ("state", "sizing", "y_units"), 3.0))
    kalman = StreamEngine("kalman")
    kalman.update(2.0, 1.0)
    with pytest.raises(StateError, match="non-negative variance"):
        StreamEngine.from_state(mutate(kalman.state_dict(), ("state", "hedge", "p11"), -1.0))


def test_integer_timestamps_are_bounded() -> None:
    engine = StreamEngine("ols", beta=1.0)
    with pytest.raises(DataError, match="64 bits"):
        engine.update(2.0, 1.0, 10**400)
    assert engine.n_updates == 0
    engine.update(2.0, 1.0, 2**62)
