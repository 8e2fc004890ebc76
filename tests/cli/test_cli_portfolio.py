"""``pairs portfolio``: flags and files build the Portfolio the API runs; errors are one line, exit 2."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
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


def test_fill_at_the_next_open_reads_the_opens_of_every_source(capsys, tmp_path):
    # Files with an open column (the previous close moved by a seeded noise: the sample keeps
    # closes only); the command equals the API given the same opens.
    rng = np.random.default_rng(11)
    opens = (PRICES.shift(1) * np.exp(rng.normal(0, 0.002, PRICES.shape))).fillna(PRICES)
    for coin in PRICES:
        frame = pd.DataFrame({"open": opens[coin], "close": PRICES[coin]})
        frame.to_csv(tmp_path / f"{coin}.csv", index_label="timestamp")
    flags = ["--fill", "next_open", "--margin", "isolated", "--min-notional", "50", "--leverage", "3"]
    assert main(["portfolio", str(tmp_path), *WINDOWS, *flags, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    book = pairs.Portfolio(
        pairs.Strategy(fill="next_open"),
        pairs.Selection(top=2),
        formation=240,
        trading=168,
        leverage=3.0,
        margin="isolated",
        min_notional=50.0,
    )
    assert pairs.Portfolio.from_dict(data["portfolio"]) == book
    result = book.backtest(PRICES, opens=opens)
    assert data["summary"]["final equity"] == pytest.approx(float(result.equity.iloc[-1]), rel=1e-12)
    assert data["summary"]["fill"] == "next_open"
    closes = book.replace(strategy=pairs.Strategy()).backtest(PRICES)
    assert float(closes.equity.iloc[-1]) != pytest.approx(data["summary"]["final equity"], rel=1e-9)


def test_fill_at_the_next_open_needs_sources_with_opens(capsys, folder):
    assert main(["portfolio", "sample:binance_1h", *WINDOWS, "--fill", "next_open"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "open prices" in err[0] and "sample:binance_1h" in err[0]
    assert main(["portfolio", folder, *WINDOWS, "--fill", "next_open"]) == 2  # 'timestamp,close' files
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "open" in err[0]
