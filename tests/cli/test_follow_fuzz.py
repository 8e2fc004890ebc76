"""Fuzz ``pairs signal --follow --state`` (hypothesis): hostile lines and hostile state files.

Whatever the input, the command exits 0 or 2 with at most one line on stderr and never a
traceback; a refused line leaves the state file byte for byte as it was; a hostile state
file is refused (exit 2, or StateError/PairsError from ``StreamEngine.load``), never used
silently or crashing. ``main`` runs in-process for speed.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pairs import StreamEngine, load_sample
from pairs.cli._main import main
from pairs.exceptions import PairsError

pytestmark = pytest.mark.slow

OPTIONS = ["--log", "--entry-z", "1.0", "--capital", "10000", "--hedge", "rolling", "--window", "10"]
N_BASE = 25


def run(stdin: bytes, state: Path, *extra: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["signal", "--follow", *extra, "--state", str(state)])
    finally:
        sys.stdin = saved
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def base() -> dict[str, Any]:
    prices = load_sample("binance_1d")[["ETH", "BTC"]].dropna().iloc[: N_BASE + 1]
    lines = [
        f"{t.isoformat()},{y!r},{x!r}\n"
        for t, y, x in zip(prices.index, prices["ETH"], prices["BTC"], strict=True)
    ]
    folder = Path(tempfile.mkdtemp())
    state = folder / "base.json"
    code, _, err = run("".join(lines[:N_BASE]).encode(), state, *OPTIONS)
    assert code == 0, err
    return {"bytes": state.read_bytes(), "next": lines[N_BASE], "last": lines[N_BASE - 1], "folder": folder}


def check_outcome(code: int, out: str, err: str) -> None:
    assert code in (0, 2), (code, err)
    assert "Traceback" not in err and "internal error" not in err
    if code == 2:
        assert err.startswith("pairs: error: ") and err.count("\n") == 1, err
    else:
        assert err == ""
    for line in out.splitlines():
        json.loads(line)


numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**500), max_value=10**500),
    st.sampled_from(["1e999", "-0", "0x10", "1_000", "nan", "inf", "٣", "1e-400", "2300.5", "42000"]),
)
fields = st.one_of(
    numbers.map(str), st.text(max_size=30), st.sampled_from(["", " ", "2021-05-01T00:00:00+00:00", "now"])
)
json_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), numbers.filter(lambda v: not isinstance(v, str)), st.text(max_size=10)
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
csv_lines = st.lists(fields, min_size=0, max_size=5).map(lambda fs: ",".join(fs))
json_lines = st.one_of(
    st.fixed_dictionaries({"timestamp": st.one_of(json_values, fields), "y": json_values, "x": json_values}),
    st.dictionaries(st.sampled_from(["timestamp", "y", "x", "volume"]), json_values, max_size=4),
    json_values,
).map(lambda v: json.dumps(v, allow_nan=True))
raw_lines = st.one_of(
    csv_lines.map(str.encode),
    json_lines.map(str.encode),
    st.binary(max_size=40),
    st.sampled_from([b"[" * 3000 + b"]" * 3000, b'{"y":' * 200, b"\xff\xfe\x00", b"\r\n", b"timestamp,y,x"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(line=raw_lines, newline=st.booleans(), then_valid=st.booleans())
def test_fuzzed_lines_exit_0_or_2_and_refusals_keep_the_state(
    base: dict[str, Any], line: bytes, newline: bool, then_valid: bool
) -> None:
    state = base["folder"] / "fuzz.json"
    state.write_bytes(base["bytes"])
    stdin = line + (b"\n" if newline else b"")
    if then_valid and newline:
        stdin += base["next"].encode()
    code, out, err = run(stdin, state)
    check_outcome(code, out, err)
    if code == 2:
        assert state.read_bytes() == base["bytes"], err  # the refused line changed nothing
    else:
        assert StreamEngine.load(state).n_updates in (N_BASE, N_BASE + 1, N_BASE + 2)


def paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for key, value in doc.items():
            out += paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            out += paths(value, (*prefix, i))
    return out


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), value=json_values, fix_checksum=st.booleans(), resend=st.booleans())
def test_fuzzed_state_files_are_refused_or_consistent(
    base: dict[str, Any], data: st.DataObject, value: Any, fix_checksum: bool, resend: bool
) -> None:
    doc = json.loads(base["bytes"])
    where = data.draw(st.sampled_from(paths({k: v for k, v in doc.items() if k != "sha256"})))
    edited = copy.deepcopy(doc)
    target = edited
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    if fix_checksum:
        payload = {k: v for k, v in edited.items() if k != "sha256"}
        try:
            canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
        except ValueError:
            canonical = ""
        edited["sha256"] = hashlib.sha256(canonical.encode()).hexdigest()
    state = base["folder"] / "fuzz_state.json"
    text = json.dumps(edited, allow_nan=True)
    state.write_text(text)
    try:
        StreamEngine.load(state)
    except PairsError:
        pass
    code, out, err = run((base["last"] if resend else base["next"]).encode(), state)
    check_outcome(code, out, err)
    if code == 2:
        assert state.read_text() == text
