"""``pairs portfolio``: flags and files build the Portfolio the API runs; errors are one line, exit 2."""

from __future__ import annotations

import json

import pytest

import pairs
from pairs.cli._main import main

PRICES = pairs.load_sample("binance_1h").iloc[:2000, :7]
WINDOWS = ["--formation", "240", "--trading", "168", "--top", "2"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> str:
    """2,000 hourly closes of 7 coins, one 'timestamp,close' CSV file each."""
    folder = tmp_path_factory.mktemp("universe")
    for coin in PRICES:
        PRICES[coin].rename("close").to_csv(folder / f"{coin}.csv", index_label="timestamp")
    return str(folder)


def test_flags_give_the_api_result(capsys, tmp_path, folder):
    strategy = tmp_path / "s.json"
    pairs.Strategy(hedge="rolling", window=48).to_json(strategy)
    book_file = tmp_path / "book.json"
    argv = [
        folder,
        *WINDOWS,
        "--strategy",
        str(strategy),
        "--max-half-life",
        "48",
        "--leverage",
        "2",
        "--log",
    ]
    assert main(["portfolio", *argv, "--write-portfolio", str(book_file), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    book = pairs.Portfolio.load(book_file)
    assert book == pairs.Portfolio(
        pairs.Strategy(hedge="rolling", window=48, log_prices=True),
        pairs.Selection(top=2, max_half_life=48, log=True),
        formation=240,
        trading=168,
        leverage=2.0,
    )
    result = book.backtest(PRICES)
    assert data["summary"]["final equity"] == pytest.approx(float(result.equity.iloc[-1]), rel=1e-12)
    assert len(data["selections"]) == len(result.selections)
    # The file alone reproduces the run.
    assert main(["portfolio", folder, "--portfolio", str(book_file), "--format", "json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["summary"] == data["summary"]


def test_table_and_report(capsys, tmp_path, folder):
    report = tmp_path / "book.html"
    assert main(["portfolio", folder, *WINDOWS, "--method", "distance", "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "top 2 by distance" in out and "Largest contributions" in out and f"Wrote {report}" in out
    text = report.read_text(encoding="utf-8")
    assert "of up to 21 candidate pairs" in text and "before costs" in text and "<img" in text


@pytest.mark.parametrize(
    ("argv", "arg"),
    [
        (["--formation", "10"], "formation"),
        (["--trading", "90min"], "trading"),
        (["--top", "0"], "top"),
        (["--leverage", "-1"], "leverage"),
        (["--portfolio", "/nonexistent/book.json"], "path"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, folder, argv, arg):
    assert main(["portfolio", folder, *WINDOWS, *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and arg in err and "Traceback" not in err
