"""``--fill next_open`` on the command line (issue #25): the open prices of both legs read from the
sources (CSV files of each layout, ``ccxt:EXCHANGE:SYMBOL``, ``--yf`` tickers) and traded.

The reference reads each file with pandas (or the csv module) alone, not through ``read_prices``,
and backtests with :func:`pairs.backtest` (``fill="next_open"``, ``open_y``, ``open_x``) the units
of :meth:`pairs.Strategy.run`; CSV output is at full float precision, so the equity must agree to
rtol 1e-12. No network: ccxt's Binance class and ``yfinance.download`` are served from the files.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import ccxt
import numpy as np
import pandas as pd
import pytest
import yfinance

import pairs
from pairs.cli import main
from pairs.data._sample import sample_path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CAPITAL, LEVERAGE = 10_000.0, 2.0
FLAGS = ["--log", "--capital", "10000", "--leverage", "2"]
# file, time column, its epoch unit (None: dates), open and close columns
BINANCE = ("timestamp", None, "open", "close")
YFINANCE = ("Date", None, "Open", "Close")
CDD = ("Unix", "s", "Open", "Close")  # newest row first
FILES = {
    "binance": (sample_path("ETHUSDT_1d.csv"), sample_path("BTCUSDT_1d.csv"), BINANCE),
    "yfinance": (FIXTURES / "ETH-USD.csv", FIXTURES / "BTC-USD.csv", YFINANCE),
    "cryptodatadownload": (FIXTURES / "ETH-USD-1h.csv", FIXTURES / "BTC-USD-1h.csv", CDD),
}


def _columns(path: Path, layout: tuple[str, str | None, str, str]) -> pd.DataFrame:
    """``open``, ``close`` of a file by pandas alone, on UTC bar open times, oldest first."""
    time, unit, open_col, close_col = layout
    raw = pd.read_csv(path)
    stamps = pd.to_datetime(raw[time], unit=unit, utc=True) if unit else pd.to_datetime(raw[time], utc=True)
    frame = pd.DataFrame(
        {"open": raw[open_col].to_numpy(float), "close": raw[close_col].to_numpy(float)},
        index=pd.DatetimeIndex(stamps, name="timestamp"),
    )
    return frame.sort_index()


def _reference(ys: pd.DataFrame, xs: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Equity of the CLI's strategy filled at the next open, and filled at the close."""
    both = ys.merge(xs, how="inner", left_index=True, right_index=True, suffixes=("_y", "_x"))
    y, x = both["close_y"], both["close_x"]
    strategy = pairs.Strategy(log_prices=True, capital=CAPITAL, leverage=LEVERAGE)
    units = strategy.run(y, x).frame[["y_units", "x_units"]]
    options: dict[str, Any] = {"capital": CAPITAL, "units": units, "leverage": LEVERAGE}
    at_open = pairs.backtest(y, x, fill="next_open", open_y=both["open_y"], open_x=both["open_x"], **options)
    at_close = pairs.backtest(y, x, fill="close", **options)
    assert at_open.fill == "next_open"
    return at_open.equity, at_close.equity


def _equity(capsys: pytest.CaptureFixture[str], *argv: str) -> pd.Series:
    assert main(["backtest", *argv, *FLAGS, "--fill", "next_open", "--format", "csv"]) == 0
    out = pd.read_csv(io.StringIO(capsys.readouterr().out), index_col="timestamp")
    return out["equity"]


def _check(got: pd.Series, ref: tuple[pd.Series, pd.Series]) -> None:
    at_open, at_close = ref
    assert len(got) == len(at_open)
    np.testing.assert_array_equal(pd.to_datetime(got.index, utc=True), at_open.index)
    np.testing.assert_allclose(got.to_numpy(), at_open.to_numpy(), rtol=1e-12)
    # The opens change the account: a CLI that filled at the close would fail the check above.
    assert not np.allclose(at_open.to_numpy(), at_close.to_numpy(), rtol=1e-6)


@pytest.mark.parametrize("layout", list(FILES))
def test_backtest_next_open_on_csv_files_equals_backtest_with_the_files_opens(
    capsys: pytest.CaptureFixture[str], layout: str
) -> None:
    y_path, x_path, columns = FILES[layout]
    got = _equity(capsys, str(y_path), str(x_path))
    _check(got, _reference(_columns(y_path, columns), _columns(x_path, columns)))


def test_the_table_names_the_fill_and_json_keeps_it(capsys: pytest.CaptureFixture[str]) -> None:
    y_path, x_path, _ = FILES["cryptodatadownload"]
    argv = ["backtest", str(y_path), str(x_path), *FLAGS, "--fill", "next_open"]
    assert main(argv) == 0
    assert "at the next bar's open" in capsys.readouterr().out
    assert main([*argv, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["strategy"]["fill"] == "next_open"


def test_sweep_with_a_next_open_point_reads_the_opens(capsys: pytest.CaptureFixture[str]) -> None:
    y_path, x_path, columns = FILES["cryptodatadownload"]
    argv = ["sweep", str(y_path), str(x_path), *FLAGS, "--grid", "fill=close,next_open", "--format", "csv"]
    assert main(argv) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out), index_col="point")
    at_open, at_close = _reference(_columns(y_path, columns), _columns(x_path, columns))
    row = table.set_index("fill")["total_return"]
    np.testing.assert_allclose(row["next_open"], at_open.iloc[-1] / CAPITAL - 1.0, rtol=1e-9)
    np.testing.assert_allclose(row["close"], at_close.iloc[-1] / CAPITAL - 1.0, rtol=1e-9)


# --- sources without open prices: one line, exit 2 ----------------------------------------------------


def _one_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1, captured.err
    return captured.err


def test_a_close_only_file_is_named_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    raw = pd.read_csv(sample_path("ETHUSDT_1d.csv"))
    close_only = tmp_path / "ETHUSDT_close.csv"
    raw[["timestamp", "close"]].to_csv(close_only, index=False)
    btc = str(sample_path("BTCUSDT_1d.csv"))
    err = _one_line(capsys, ["backtest", str(close_only), btc, *FLAGS, "--fill", "next_open"])
    assert err.startswith(
        f"pairs: error: Y must be a source with open prices for --fill next_open; got {str(close_only)!r}"
    )
    assert "column 'open' is missing" in err
    # The same file fills at the close, or at the next close, without opens.
    assert main(["backtest", str(close_only), btc, *FLAGS, "--fill", "next_close"]) == 0


def test_a_sample_has_no_opens_and_the_other_leg_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    eth = str(sample_path("ETHUSDT_1d.csv"))
    err = _one_line(capsys, ["backtest", eth, "sample:BTC", *FLAGS, "--fill", "next_open"])
    assert err.startswith("pairs: error: X must be a source with open prices for --fill next_open")
    assert "got 'sample:BTC', a bundled sample of closes" in err


def test_without_capital_the_backtest_refuses_next_open_before_any_open_is_read(
    capsys: pytest.CaptureFixture[str],
) -> None:
    err = _one_line(capsys, ["backtest", "sample:ETH", "sample:BTC", "--fill", "next_open"])
    assert err.startswith("pairs: error: fill must be 'close', 'next_close' or a lag in bars without capital")


def test_report_refuses_next_open_in_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    y_path, x_path, _ = FILES["binance"]
    html = tmp_path / "r.html"
    argv = ["report", str(y_path), str(x_path), *FLAGS, "--fill", "next_open", "-o", str(html)]
    err = _one_line(capsys, argv)
    assert err.startswith("pairs: error: strategy must not fill at 'next_open' in a report")
    assert not html.exists()


# --- exchanges: ccxt and Yahoo Finance, served offline ------------------------------------------------


def _kline_frame(coin: str) -> pd.DataFrame:
    rows = ccxt.binance.candles[f"{coin}/USDT"]  # OfflineBinance (tests/cli/conftest.py)
    index = pd.DatetimeIndex([pd.Timestamp(r[0], unit="ms", tz="UTC") for r in rows], name="timestamp")
    return pd.DataFrame({"open": [r[1] for r in rows], "close": [r[4] for r in rows]}, index=index)


def test_ccxt_sources_fill_at_the_recorded_klines_opens(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, offline_binance: type
) -> None:
    source = ["ccxt:binance:ETH/USDT", "ccxt:binance:BTC/USDT", "--cache-dir", str(tmp_path)]
    got = _equity(capsys, *source)
    _check(got, _reference(_kline_frame("ETH"), _kline_frame("BTC")))
    # Opens are cached apart from the closes: a second run answers from the four files.
    assert len(list(tmp_path.iterdir())) == 4
    monkeypatch.setattr(offline_binance, "fetch_ohlcv", None)
    pd.testing.assert_series_equal(_equity(capsys, *source), got)


def _recorded(ticker: str, **_: Any) -> pd.DataFrame:
    """A yfinance 1.x answer (two-level columns) built from a real yfinance CSV export."""
    raw = pd.read_csv(FIXTURES / f"{ticker}.csv", index_col="Date", parse_dates=True)
    frame = raw[["Adj Close", "Close", "High", "Low", "Open", "Volume"]]
    frame.columns = pd.MultiIndex.from_product([frame.columns, [ticker]], names=["Price", "Ticker"])
    return frame


def test_yf_tickers_fill_at_yahoos_opens(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(yfinance, "download", _recorded)
    got = _equity(capsys, "ETH-USD", "BTC-USD", "--yf", "--cache-dir", str(tmp_path))
    _, _, columns = FILES["yfinance"]
    _check(
        got,
        _reference(_columns(FIXTURES / "ETH-USD.csv", columns), _columns(FIXTURES / "BTC-USD.csv", columns)),
    )


def test_a_bar_without_an_open_is_named(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def no_open_on_new_year(ticker: str, **_: Any) -> pd.DataFrame:
        frame = _recorded(ticker)
        frame.loc["2021-01-01", ("Open", ticker)] = np.nan  # Yahoo's answer, one open missing
        return frame

    monkeypatch.setattr(yfinance, "download", no_open_on_new_year)
    argv = ["backtest", "ETH-USD", "BTC-USD", "--yf", "--cache-dir", str(tmp_path), *FLAGS]
    err = _one_line(capsys, [*argv, "--fill", "next_open"])
    assert err.startswith(
        "pairs: error: Y must have an open price at every bar of its closes for --fill next_open; "
        "got none at 2021-01-01 00:00:00+00:00."
    )
