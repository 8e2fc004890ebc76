"""``pairs report --portfolio FILE SOURCE...``: the page ``pairs portfolio --report`` writes; bad
combinations are one line on stderr and exit 2."""

from __future__ import annotations

import json

import pytest

import pairs
from pairs.cli._main import main

pytest.importorskip("matplotlib")

PRICES = pairs.load_sample("binance_1h").iloc[:1500, :6]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A universe folder (one 'timestamp,close' CSV per coin) and a portfolio file."""
    folder = tmp_path_factory.mktemp("universe")
    for coin in PRICES:
        PRICES[coin].rename("close").to_csv(folder / f"{coin}.csv", index_label="timestamp")
    book = pairs.Portfolio(
        pairs.Strategy(hedge="rolling", window=48, log_prices=True),
        pairs.Selection(top=2, log=True, max_half_life=100),
        formation=240,
        trading=168,
    )
    path = folder / "book.json"
    book.to_json(path)
    return str(folder), str(path)


def test_the_page_of_pairs_portfolio_report(capsys, tmp_path, files):
    folder, book = files
    first, second = tmp_path / "a.html", tmp_path / "b.html"
    assert main(["portfolio", folder, "--portfolio", book, "--report", str(first)]) == 0
    capsys.readouterr()
    assert main(["report", "--portfolio", book, folder, "-o", str(second)]) == 0
    out = capsys.readouterr().out
    page = second.read_text(encoding="utf-8")
    # The same document, figures included (they are rendered from the same result).
    assert page == first.read_text(encoding="utf-8")
    assert "<title>Portfolio of pairs</title>" in page and "<img" in page
    result = pairs.Portfolio.load(book).backtest(PRICES)
    assert out.startswith(
        f"Wrote {second} ({second.stat().st_size:,} bytes): 6 coins, {result.n_windows} windows"
    )
    assert f"{float(result.equity.iloc[-1]):.6g}" in out


def test_json_record_and_title(capsys, tmp_path, files):
    folder, book = files
    target = tmp_path / "c.html"
    argv = ["--portfolio", book, folder, "-o", str(target), "--title", "My book", "--format", "json"]
    assert main(["report", *argv]) == 0
    data = json.loads(capsys.readouterr().out)
    result = pairs.Portfolio.load(book).backtest(PRICES)
    assert data["output"] == str(target) and data["bytes"] == target.stat().st_size
    assert data["title"] == "My book" and "<title>My book</title>" in target.read_text(encoding="utf-8")
    assert data["coins"] == list(PRICES.columns)
    assert pairs.Portfolio.from_dict(data["portfolio"]) == pairs.Portfolio.load(book)
    assert data["summary"]["final equity"] == pytest.approx(float(result.equity.iloc[-1]), rel=1e-12)
    assert data["summary"]["round trips"] == len(result.trades)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        ([], "SOURCE must be given with --portfolio"),
        (["{folder}", "--entry-z", "2.5"], "['--entry-z']"),
        (["{folder}", "--log", "--hedge", "ols"], "['--log', '--hedge']"),
        (["{folder}", "--strategy", "s.json"], "['--strategy']"),
        (["{folder}", "--coint-window", "100", "--size", "0.1"], "['--coint-window', '--size']"),
        (["{folder}", "--grid", "window=30,60"], "['--grid']"),
    ],
)
def test_pair_options_or_no_prices_with_portfolio(capsys, tmp_path, files, argv, needle):
    folder, book = files
    target = tmp_path / "d.html"
    args = [a.replace("{folder}", folder) for a in argv]
    assert main(["report", "--portfolio", book, *args, "-o", str(target)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("pairs: error: ") and err.count("\n") == 1, err
    assert needle in err and "Traceback" not in err
    assert not target.exists()


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["sample:ETH"], "Y and X must be given"),
        (["sample:ETH", "sample:BTC", "sample:BNB"], "got 3 source(s)"),
        (["--portfolio", "/nonexistent/book.json", "sample:binance_1h"], "/nonexistent/book.json"),
    ],
)
def test_pair_report_needs_two_sources(capsys, tmp_path, argv, needle):
    target = tmp_path / "e.html"
    assert main(["report", *argv, "-o", str(target)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and needle in err, err
    assert not target.exists()
