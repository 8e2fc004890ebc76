"""``pairs signal --follow --book``: wide bars in, one JSON line per bar, book state, exactly once.

The reference is a :class:`~pairs.StreamBook` of the same pairs and strategy fed the same bars in
process (itself equal to one StreamEngine per pair, tests/stream/test_book.py). Floats cross
JSON with ``repr`` round-trip precision, so they are compared exactly.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from pairs import StreamBook, load_sample
from pairs.cli._book import parse_pairs
from pairs.cli._main import main
from pairs.strategy import Strategy
from pairs.trading import SignalRule

PRICES = load_sample("binance_1d")[["BTC", "ETH", "LTC", "SOL"]].iloc[1050:1250]  # SOL lists mid-way
PAIRS = "ETH/BTC,LTC/BTC,SOL/ETH"
FLAGS = ("--log", "--delta", "1e-5", "--entry-z", "1.5", "--exit-z", "0", "--capital", "10000")
STRATEGY = Strategy(log_prices=True, delta=1e-5, rule=SignalRule(entry_z=1.5, exit_z=0.0), capital=10_000.0)


def csv_text(prices: pd.DataFrame, header: bool = True) -> str:
    rows = [",".join(["timestamp", *prices.columns])] if header else []
    for ts, row in prices.iterrows():
        rows.append(",".join([ts.isoformat(), *("" if v != v else repr(float(v)) for v in row)]))
    return "\n".join(rows) + "\n"


def json_text(prices: pd.DataFrame) -> str:
    lines = []
    for ts, row in prices.iterrows():
        lines.append(
            json.dumps(
                {"timestamp": ts.isoformat(), "prices": {k: (None if v != v else v) for k, v in row.items()}}
            )
        )
    return "\n".join(lines) + "\n"


def run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], text: str, *args: str
) -> tuple[int, list[dict[str, Any]], str]:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode()), encoding="utf-8"))
    code = main(["signal", "--follow", *args])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def reference(every: bool) -> list[dict[str, Any]]:
    book = StreamBook(parse_pairs(PAIRS), strategy=STRATEGY)
    out = []
    for ts, row in PRICES.iterrows():
        signals = book.update(row, ts)
        names = list(signals) if every else signals.active()
        lines = {n: {k: v for k, v in signals[n].to_dict().items() if k != "timestamp"} for n in names}
        out.append({"timestamp": ts.isoformat(), "signals": lines})
    return out


def test_book_lines_equal_the_book(monkeypatch: pytest.MonkeyPatch, capsys: Any, tmp_path: Path) -> None:
    code, lines, err = run(
        monkeypatch,
        capsys,
        csv_text(PRICES),
        "--book",
        str(tmp_path / "b.json"),
        "--pairs",
        PAIRS,
        *FLAGS,
        "--all",
    )
    assert code == 0, err
    assert lines == reference(every=True)
    assert sum(len(line["signals"]) for line in lines) == 2 * 200 + PRICES["SOL"].notna().sum()
    code, acting, err = run(
        monkeypatch, capsys, csv_text(PRICES), "--book", str(tmp_path / "c.json"), "--pairs", PAIRS, *FLAGS
    )
    assert code == 0, err
    assert acting == reference(every=False) and sum(len(line["signals"]) for line in acting) >= 3
    assert StreamBook.load(tmp_path / "c.json").n_updates == 200


def test_json_lines_equal_csv(monkeypatch: pytest.MonkeyPatch, capsys: Any, tmp_path: Path) -> None:
    code, lines, err = run(
        monkeypatch,
        capsys,
        json_text(PRICES),
        "--book",
        str(tmp_path / "b.json"),
        "--pairs",
        PAIRS,
        *FLAGS,
        "--all",
    )
    assert code == 0, err
    assert lines == reference(every=True)


@pytest.mark.parametrize("name", ["book.json", "book.state"])  # a JSON and a binary state file
def test_restart_resumes_and_resent_bar_is_answered_once(
    monkeypatch: pytest.MonkeyPatch, capsys: Any, tmp_path: Path, name: str
) -> None:
    book = str(tmp_path / name)
    first = run(
        monkeypatch, capsys, csv_text(PRICES.iloc[:120]), "--book", book, "--pairs", PAIRS, *FLAGS, "--all"
    )
    # The restarted process gets the header, the last bar again (its line re-emitted), then new bars.
    again = csv_text(PRICES.iloc[119:])
    second = run(monkeypatch, capsys, again, "--book", book, "--all")
    assert first[0] == second[0] == 0
    assert second[1][0] == first[1][-1]
    assert first[1] + second[1][1:] == reference(every=True)
    # The same timestamp with other prices is refused, the book unchanged.
    before = Path(book).read_bytes()
    assert before.startswith(b"{") == name.endswith(".json")
    changed = csv_text(PRICES.iloc[-1:] * 1.01)
    code, _, err = run(monkeypatch, capsys, changed, "--book", book)
    assert code == 2 and "stdin line 2: bar must repeat the prices" in err
    assert Path(book).read_bytes() == before


@pytest.mark.parametrize(
    ("text", "args", "message"),
    [
        (csv_text(PRICES.iloc[:3]), (), "--pairs must be given to create the book"),
        (csv_text(PRICES.iloc[:3]), ("--pairs", "ETHBTC"), "--pairs must be a comma-separated list"),
        ("1,2,3\n", ("--pairs", PAIRS), "stdin line 1: header must be"),
        ("timestamp,ETH,ETH\n", ("--pairs", "ETH/BTC"), "stdin line 1: header must name each symbol once"),
        ("timestamp,ETH,BTC\n2024-01-01,1\n", ("--pairs", "ETH/BTC"), "stdin line 2: bar must have 3 fields"),
        (
            "timestamp,ETH,BTC\n2024-01-01,x,1\n",
            ("--pairs", "ETH/BTC"),
            "stdin line 2: prices['ETH'] must be a decimal",
        ),
        (
            "timestamp,ETH,BTC\n,1,2\n",
            ("--pairs", "ETH/BTC"),
            "stdin line 2: timestamp must be given with --book",
        ),
        (
            "timestamp,ETH,BTC\n2024-01-01,-1,2\n",
            ("--pairs", "ETH/BTC"),
            "stdin line 2: prices['ETH'] must be a finite",
        ),
        ("timestamp,ETH,BTC\n2024-01-01,1,2", ("--pairs", "ETH/BTC"), "stdin line 2 must end with a newline"),
        (
            '{"timestamp": "2024-01-01", "prices": [1]}\n',
            ("--pairs", PAIRS),
            "stdin line 1: prices must be a JSON object",
        ),
        ('{"prices": {"ETH": true}}\n', ("--pairs", PAIRS), "stdin line 1: prices['ETH'] must be a number"),
    ],
)
def test_bad_input_exits_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    tmp_path: Path,
    text: str,
    args: tuple[str, ...],
    message: str,
) -> None:
    code, _, err = run(monkeypatch, capsys, text, "--book", str(tmp_path / "b.json"), *args)
    assert code == 2 and message in err, err


def test_resume_with_other_options_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: Any, tmp_path: Path
) -> None:
    book = str(tmp_path / "b.json")
    assert (
        run(monkeypatch, capsys, csv_text(PRICES.iloc[:5]), "--book", book, "--pairs", PAIRS, *FLAGS)[0] == 0
    )
    code, _, err = run(monkeypatch, capsys, "", "--book", book, "--pairs", "ETH/BTC")
    assert code == 2 and "options must match the book" in err and "pairs" in err
    code, _, err = run(monkeypatch, capsys, "", "--book", book, "--entry-z", "3")
    assert code == 2 and "strategy" in err


def test_subprocess_pipe(tmp_path: Path) -> None:
    """The installed command: a bot writes wide CSV to the pipe and reads one line per bar."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pairs",
            "signal",
            "--follow",
            "--book",
            str(tmp_path / "b.json"),
            "--pairs",
            PAIRS,
            *FLAGS,
        ],
        input=csv_text(PRICES.iloc[:30]),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(line) for line in proc.stdout.splitlines()] == reference(every=False)[:30]


def test_one_writer_per_book(monkeypatch: pytest.MonkeyPatch, capsys: Any, tmp_path: Path) -> None:
    from pairs.stream._lock import StateLock

    book = tmp_path / "b.json"
    lock = StateLock(book).acquire()
    try:
        code, lines, err = run(
            monkeypatch, capsys, csv_text(PRICES.iloc[:3]), "--book", str(book), "--pairs", PAIRS
        )
    finally:
        lock.release()
    assert code == 2 and lines == [] and not book.exists(), err


def test_symbols_starting_with_a_digit_are_symbols(
    monkeypatch: pytest.MonkeyPatch, capsys: Any, tmp_path: Path
) -> None:
    # 1INCH and 1000PEPE are listed by exchanges: a header is refused only when a field is a number.
    renamed = PRICES[["ETH", "BTC"]].iloc[:40].rename(columns={"ETH": "1000PEPE", "BTC": "1INCH"})
    args = ("--book", str(tmp_path / "b.state"), "--pairs", "1000PEPE/1INCH", *FLAGS, "--all")
    code, lines, err = run(monkeypatch, capsys, csv_text(renamed), *args)
    assert code == 0, err
    book = StreamBook([("1000PEPE", "1INCH")], strategy=STRATEGY)
    expected = [book.update(row, ts)["1000PEPE/1INCH"].to_dict() for ts, row in renamed.iterrows()]
    assert [line["signals"]["1000PEPE/1INCH"] for line in lines] == [
        {k: v for k, v in e.items() if k != "timestamp"} for e in expected
    ]
    headless = csv_text(PRICES[["ETH", "BTC"]].iloc[:3], header=False)
    code, _, err = run(
        monkeypatch, capsys, headless, "--book", str(tmp_path / "c.state"), "--pairs", "ETH/BTC"
    )
    assert code == 2 and "stdin line 1: header must be" in err


def test_a_header_without_a_pairs_symbol_is_refused_at_the_header(
    monkeypatch: pytest.MonkeyPatch, capsys: Any, tmp_path: Path
) -> None:
    # A bot that names its columns otherwise (eth, ETH/USDT) must not run silently on nothing.
    for columns in ({"ETH": "eth"}, {"ETH": "ETH/USDT", "BTC": "BTC/USDT"}):
        text = csv_text(PRICES[["ETH", "BTC"]].iloc[:5].rename(columns=columns))
        code, lines, err = run(
            monkeypatch, capsys, text, "--book", str(tmp_path / "b.json"), "--pairs", "ETH/BTC"
        )
        assert code == 2 and lines == [] and "stdin line 1: header must name every symbol" in err
        assert "'ETH'" in err and err.count("\n") == 1


def test_a_resent_bar_written_with_another_utc_offset_is_the_same_bar(
    monkeypatch: pytest.MonkeyPatch, capsys: Any, tmp_path: Path
) -> None:
    book = str(tmp_path / "b.state")
    frame = PRICES[["ETH", "BTC"]].iloc[:20]
    code, first, err = run(
        monkeypatch, capsys, csv_text(frame), "--book", book, "--pairs", "ETH/BTC", "--all"
    )
    assert code == 0, err
    last = frame.iloc[-1:]
    shifted = (
        "timestamp,ETH,BTC\n"
        + ",".join(
            [last.index[0].tz_convert("Asia/Tokyo").isoformat(), *(repr(float(v)) for v in last.iloc[0])]
        )
        + "\n"
    )
    assert "+09:00" in shifted
    code, again, err = run(monkeypatch, capsys, shifted, "--book", book, "--all")
    assert code == 0, err
    assert again == [first[-1]]  # the stored line re-emitted, not a refusal and not a second update
    assert StreamBook.load(book).n_updates == 20


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # Arabic-Indic digits: float() takes them, a bot's input must not.
        ("timestamp,ETH,BTC\n2024-01-01,\u0661\u0662\u0663,2\n", "prices['ETH'] must be a decimal number"),
        ('{"timestamp": "2024-01-01", "prices": {"ETH": 1, "ETH": 2, "BTC": 3}}\n', "'ETH' twice"),
        (
            '{"timestamp": "2024-01-01", "timestamp": "2024-01-02", "prices": {"ETH": 1}}\n',
            "'timestamp' twice",
        ),
    ],
)
def test_non_ascii_digits_and_repeated_json_keys_are_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: Any, tmp_path: Path, text: str, message: str
) -> None:
    code, lines, err = run(
        monkeypatch, capsys, text, "--book", str(tmp_path / "b.state"), "--pairs", "ETH/BTC"
    )
    assert code == 2 and lines == [] and message in err and err.count("\n") == 1, err
