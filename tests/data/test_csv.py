"""read_prices on real files of every layout, and on malformed files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pairs import DataError, InsufficientDataError, PairsError, load_sample, read_prices
from pairs.data._sample import sample_path

DATA = Path(__file__).resolve().parents[1] / "fixtures"


def _check_index(s: pd.Series) -> None:
    assert isinstance(s.index, pd.DatetimeIndex)
    assert str(s.index.tz) == "UTC"
    assert s.index.is_monotonic_increasing and s.index.is_unique
    assert s.dtype == np.float64


def test_binance_layout_matches_raw_columns() -> None:
    path = sample_path("BTCUSDT_1d.csv")
    s = read_prices(path)
    raw = pd.read_csv(path)
    _check_index(s)
    assert s.name == "BTCUSDT" and s.attrs["layout"] == "binance"
    assert len(s) == 3065
    np.testing.assert_array_equal(s.to_numpy(), raw["close"].to_numpy())
    assert s.index[0] == pd.Timestamp("2017-08-17", tz="UTC")
    # PROVENANCE check: BTC 2021-01-01 Binance close.
    assert s.loc[pd.Timestamp("2021-01-01", tz="UTC")] == pytest.approx(29331.69)
    high = read_prices(path, field="high")
    assert (high >= s).all()


def test_yfinance_layout_with_ticker_column() -> None:
    s = read_prices(DATA / "BTC-USD.csv")
    _check_index(s)
    assert s.name == "BTC-USD" and s.attrs["layout"] == "yfinance"
    assert s.loc[pd.Timestamp("2021-01-01", tz="UTC")] == pytest.approx(29374.15, abs=0.01)
    adj = read_prices(DATA / "BTC-USD.csv", field="adj_close")
    np.testing.assert_array_equal(adj.to_numpy(), s.to_numpy())


def test_yfinance_layout_other_column_order_named_after_file() -> None:
    s = read_prices(DATA / "BCH-USD.csv")
    raw = pd.read_csv(DATA / "BCH-USD.csv")
    assert s.name == "BCH-USD"
    np.testing.assert_array_equal(s.to_numpy(), raw["Close"].to_numpy())


def test_cryptodatadownload_newest_first_is_sorted() -> None:
    s = read_prices(DATA / "BTC-USD-1h.csv")
    raw = pd.read_csv(DATA / "BTC-USD-1h.csv")
    _check_index(s)
    assert s.attrs["layout"] == "cryptodatadownload"
    assert s.name == "BTC-USD"
    # Newest-first file: our last value is the file's first row.
    assert s.iloc[-1] == raw["Close"].iloc[0]
    assert s.index[-1] == pd.Timestamp(int(raw["Unix"].iloc[0]), unit="s", tz="UTC")
    assert (s.index.to_series().diff().dropna() == pd.Timedelta(hours=1)).all()


def test_cryptodatadownload_with_vendor_url_line(tmp_path: Path) -> None:
    text = (DATA / "ETH-USD-1h.csv").read_text()
    path = tmp_path / "Bitstamp_ETHUSD_1h.csv"
    path.write_text("https://www.CryptoDataDownload.com\n" + text)
    np.testing.assert_array_equal(
        read_prices(path).to_numpy(), read_prices(DATA / "ETH-USD-1h.csv").to_numpy()
    )


def test_binance_epoch_milliseconds(tmp_path: Path) -> None:
    path = tmp_path / "ETHUSDT_1h.csv"
    path.write_text(
        "open_time,open,high,low,close,volume\n"
        "1609459200000,730,735,725,731.5,10\n"
        "1609462800000,731.5,740,730,739.0,12\n"
    )
    s = read_prices(path)
    assert s.name == "ETHUSDT"
    assert list(s.index) == [
        pd.Timestamp("2021-01-01 00:00", tz="UTC"),
        pd.Timestamp("2021-01-01 01:00", tz="UTC"),
    ]


def test_yfinance_three_row_header(tmp_path: Path) -> None:
    path = tmp_path / "multi.csv"
    path.write_text(
        "Price,Close,High,Low,Open,Volume\n"
        "Ticker,ETH-USD,ETH-USD,ETH-USD,ETH-USD,ETH-USD\n"
        "Date,,,,,\n"
        "2021-01-01,730.37,749.2,719.8,737.7,13652004358\n"
        "2021-01-02,774.53,786.8,718.1,730.4,19740771179\n"
    )
    s = read_prices(path)
    assert s.name == "ETH-USD"
    np.testing.assert_array_equal(s.to_numpy(), [730.37, 774.53])


def test_sample_equals_raw_files() -> None:
    px = load_sample("binance_1d")
    for coin in ("BTC", "ETH"):
        raw = read_prices(sample_path(f"{coin}USDT_1d.csv"))
        got = px[coin].dropna()
        assert got.index.equals(raw.index)
        np.testing.assert_array_equal(got.to_numpy(), raw.to_numpy())
    assert px.shape[1] == 13
    h4 = load_sample("binance_4h")
    assert list(h4.columns) == ["BTC", "ETH"] and len(h4) == 18371


def test_hourly_universe_sample() -> None:
    """The bundled hourly universe: 19 coins, two years of every hour, survivorship kept as NaN."""
    h1 = load_sample("binance_1h")
    assert h1.shape == (17544, 19) and "BTC" not in h1.columns
    assert h1.index[0] == pd.Timestamp("2024-01-06 13:00", tz="UTC")
    assert (h1.index.to_series().diff().iloc[1:] == pd.Timedelta(hours=1)).all()
    assert h1["MATIC"].last_valid_index() == pd.Timestamp("2024-09-10 02:00", tz="UTC")
    assert h1["XMR"].last_valid_index() == pd.Timestamp("2024-02-20 02:00", tz="UTC")
    live = h1.drop(columns=["MATIC", "XMR"])
    assert live.iloc[:-3].notna().all().all()
    assert (live.to_numpy()[~np.isnan(live.to_numpy())] > 0).all()


def test_drop_incomplete_last_bar() -> None:
    full = read_prices(DATA / "BTC-USD.csv")
    cut = read_prices(DATA / "BTC-USD.csv", drop_incomplete=True)
    assert len(cut) == len(full) - 1 and cut.index[-1] == pd.Timestamp("2023-04-25", tz="UTC")
    as_of = read_prices(DATA / "BTC-USD.csv", drop_incomplete="2023-04-26 12:00")
    assert as_of.index[-1] == pd.Timestamp("2023-04-25", tz="UTC")
    same = read_prices(DATA / "BTC-USD.csv", drop_incomplete="2023-04-27")
    assert len(same) == len(full)


# --- malformed files -------------------------------------------------------------------------------------


def _write(tmp_path: Path, text: str, name: str = "BTCUSDT_1d.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


HEADER = "timestamp,open,high,low,close,volume\n"


def test_header_only(tmp_path: Path) -> None:
    with pytest.raises(InsufficientDataError, match="path"):
        read_prices(_write(tmp_path, HEADER))


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(InsufficientDataError, match="path"):
        read_prices(_write(tmp_path, ""))


def test_truncated_last_line(tmp_path: Path) -> None:
    text = HEADER + "2021-01-01,1,2,0.5,1.5,10\n2021-01-02,1.5,2"
    with pytest.raises(DataError, match="close"):
        read_prices(_write(tmp_path, text))


def test_bom_is_ignored(tmp_path: Path) -> None:
    text = HEADER + "2021-01-01,1,2,0.5,1.5,10\n2021-01-02,1.5,2,1,1.8,11\n"
    s = read_prices(_write(tmp_path, text, encoding="utf-8-sig"))
    assert s.attrs["layout"] == "binance" and list(s) == [1.5, 1.8]


def test_extra_columns_are_ignored_missing_field_is_named(tmp_path: Path) -> None:
    text = "timestamp,open,high,low,close,volume,trades\n2021-01-01,1,2,0.5,1.5,10,3\n2021-01-02,1.5,2,1,1.8,11,4\n"
    assert list(read_prices(_write(tmp_path, text))) == [1.5, 1.8]
    missing = "timestamp,open,high,low,volume\n2021-01-01,1,2,0.5,10\n"
    with pytest.raises(DataError, match="header"):
        read_prices(_write(tmp_path, missing, name="x.csv"))
    with pytest.raises(DataError, match="field"):
        read_prices(_write(tmp_path, text, name="y.csv"), field="adj_close")


def test_mixed_iso_date_formats_parse(tmp_path: Path) -> None:
    text = HEADER + "2021-01-01,1,2,0.5,1.5,10\n2021-01-02 00:00:00,1.5,2,1,1.8,11\n"
    s = read_prices(_write(tmp_path, text))
    assert list(s.index.day) == [1, 2]


def test_unparseable_dates(tmp_path: Path) -> None:
    text = HEADER + "yesterday,1,2,0.5,1.5,10\n2021-01-02,1.5,2,1,1.8,11\n"
    with pytest.raises(DataError, match="ISO-8601"):
        read_prices(_write(tmp_path, text))


def test_duplicate_timestamps(tmp_path: Path) -> None:
    text = HEADER + "2021-01-01,1,2,0.5,1.5,10\n2021-01-01,1.5,2,1,1.8,11\n"
    with pytest.raises(DataError, match="unique"):
        read_prices(_write(tmp_path, text))


def test_non_positive_price(tmp_path: Path) -> None:
    text = HEADER + "2021-01-01,1,2,0.5,0,10\n2021-01-02,1.5,2,1,1.8,11\n"
    with pytest.raises(DataError, match="positive"):
        read_prices(_write(tmp_path, text))


def test_unknown_layout_lists_supported(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="yfinance, binance, cryptodatadownload"):
        read_prices(_write(tmp_path, "a,b\n1,2\n"))


def test_bad_options_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PairsError, match="layout"):
        read_prices(DATA / "BTC-USD.csv", layout="kraken")  # type: ignore[arg-type]
    with pytest.raises(PairsError, match="field"):
        read_prices(DATA / "BTC-USD.csv", field="vwap")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="path"):
        read_prices(tmp_path / "missing.csv")
    with pytest.raises(DataError, match="drop_incomplete"):
        read_prices(DATA / "BTC-USD.csv", drop_incomplete="not a date")


def test_empty_placeholder_rows_dropped_and_counted(tmp_path: Path) -> None:
    text = "Date,Adj Close,Close,High,Low,Open,Volume\n2017-11-08,,,,,,\n2017-11-09,654.3,654.3,670.1,619.2,622.3,7e8\n"
    s = read_prices(_write(tmp_path, text, name="BCH-USD.csv"))
    assert len(s) == 1 and s.attrs["dropped_empty_rows"] == 1


# --- field counts and epochs are checked row by row (issue #13) ------------------------------------------


def test_trailing_comma_row_is_refused_not_shifted(tmp_path: Path) -> None:
    # pandas would read the second row shifted: its open as the timestamp, its volume as the close.
    text = HEADER + "2021-01-01,1,2,0.5,1.5,10\n2021-01-02,1.5,2,1,1.8,11,\n"
    with pytest.raises(DataError, match=r"^path .* line 3 must have 6 fields .*got 7 \(extra field"):
        read_prices(_write(tmp_path, text))


def test_short_row_is_refused_with_its_line(tmp_path: Path) -> None:
    text = HEADER + "2021-01-01,1,2,0.5,1.5,10\n\n2021-01-03,1.5,2,1,1.8\n"
    with pytest.raises(DataError, match=r"line 4 must have 6 fields .*got 5 \(truncated"):
        read_prices(_write(tmp_path, text))


def test_line_numbers_count_vendor_and_three_row_headers(tmp_path: Path) -> None:
    cdd = "https://www.CryptoDataDownload.com\nUnix,Date,Symbol,Open,High,Low,Close,Volume BTC,Volume USD\n"
    cdd += "1609459200,2021-01-01,BTC/USD,1,2,0.5,x,1,1\n"
    with pytest.raises(DataError, match="line 3"):
        read_prices(_write(tmp_path, cdd, name="cdd.csv"))
    yf3 = "Price,Close,High,Low,Open,Volume\nTicker,ETH-USD,ETH-USD,ETH-USD,ETH-USD,ETH-USD\nDate,,,,,\n"
    yf3 += "2021-01-01,730.37,749.2,719.8,737.7,1\n2021-01-02,774.53,786.8,718.1,730.4,1,9\n"
    with pytest.raises(DataError, match="line 5 must have 6 fields"):
        read_prices(_write(tmp_path, yf3, name="yf3.csv"))


def test_trailing_comma_on_every_line_including_header_is_fine(tmp_path: Path) -> None:
    text = "timestamp,open,high,low,close,volume,\n2021-01-01,1,2,0.5,1.5,10,\n2021-01-02,1.5,2,1,1.8,11,\n"
    assert list(read_prices(_write(tmp_path, text))) == [1.5, 1.8]


def test_duplicate_column_names_are_refused(tmp_path: Path) -> None:
    text = "timestamp,open,high,low,close,Close\n2021-01-01,1,2,0.5,1.5,10\n"
    with pytest.raises(DataError, match="unique column names"):
        read_prices(_write(tmp_path, text))


@pytest.mark.parametrize(
    ("stamps", "line"),
    [
        (("1609459200000", "1609545600"), 3),  # ms then seconds (would be 1970-01-19)
        (("1609459200", "1609545600000"), 3),  # seconds then ms (would be year 52970)
        (("1609459200000", "86400000"), 3),  # a 1970 epoch in ms
        (("0", "86400"), 2),  # both seconds, both 1970
        (("1609459200000", "1e20"), 3),  # beyond any unit
        (("4102444800000", "4102531200000"), 2),  # 2100-01-01: beyond the sane span
        (("1609459200000.5", "1609545600000"), 2),  # not a whole number
    ],
)
def test_bad_epochs_are_refused_per_row(tmp_path: Path, stamps: tuple[str, str], line: int) -> None:
    text = "open_time,open,high,low,close,volume\n" + "".join(f"{t},1,2,0.5,1.5,10\n" for t in stamps)
    with pytest.raises(DataError, match=rf"^path .* line {line} must have an epoch timestamp"):
        read_prices(_write(tmp_path, text, name="ETHUSDT_1d.csv"))


def test_epoch_seconds_and_microseconds_parse(tmp_path: Path) -> None:
    for scale in (1, 1_000_000):
        rows = "".join(f"{t * scale},1,2,0.5,1.5,10\n" for t in (1609459200, 1609545600))
        s = read_prices(_write(tmp_path, "open_time,open,high,low,close,volume\n" + rows, name="X_1d.csv"))
        assert list(s.index) == [pd.Timestamp("2021-01-01", tz="UTC"), pd.Timestamp("2021-01-02", tz="UTC")]


def test_nat_string_is_not_a_timestamp(tmp_path: Path) -> None:
    text = HEADER + "2021-01-01,1,2,0.5,1.5,10\nNaT,1.5,2,1,1.8,11\n"
    with pytest.raises(DataError, match="line 3 must have a timestamp; got 'NaT'"):
        read_prices(_write(tmp_path, text))


# --- open prices, for backtest(fill="next_open") (issue #25) ---------------------------------------------


def _raw_opens(path: Path, time: str, column: str, unit: str | None) -> pd.Series:
    """The file's open column by pandas alone, on UTC bar open times, oldest first."""
    raw = pd.read_csv(path)
    stamps = pd.to_datetime(raw[time], unit=unit, utc=True) if unit else pd.to_datetime(raw[time], utc=True)
    return pd.Series(raw[column].to_numpy(dtype=float), index=pd.DatetimeIndex(stamps)).sort_index()


@pytest.mark.parametrize(
    ("path", "time", "column", "unit", "layout"),
    [
        (sample_path("ETHUSDT_1d.csv"), "timestamp", "open", None, "binance"),
        (DATA / "ETH-USD.csv", "Date", "Open", None, "yfinance"),
        (DATA / "BCH-USD.csv", "Date", "Open", None, "yfinance"),  # Open is the last column
        (DATA / "ETH-USD-1h.csv", "Unix", "Open", "s", "cryptodatadownload"),  # newest first
    ],
    ids=["binance", "yfinance", "yfinance_other_order", "cryptodatadownload"],
)
def test_read_prices_keeps_the_open_column_of_each_layout(
    path: Path, time: str, column: str, unit: str | None, layout: str
) -> None:
    opens = read_prices(path, field="open")
    ref = _raw_opens(path, time, column, unit)
    assert opens.attrs["layout"] == layout
    assert opens.index.equals(ref.index)
    np.testing.assert_array_equal(opens.to_numpy(), ref.to_numpy())
    closes = read_prices(path)
    assert opens.index.equals(closes.index) and opens.name == closes.name
    assert not np.array_equal(opens.to_numpy(), closes.to_numpy())


def test_an_open_of_zero_or_no_open_column_is_named(tmp_path: Path) -> None:
    text = "timestamp,open,close\n2024-01-01,1.0,1.5\n2024-01-02,0.0,1.6\n"
    with pytest.raises(DataError, match=r"prices must be strictly positive; got 0\.0 at 2024-01-02"):
        read_prices(_write(tmp_path, text, name="zero.csv"), field="open")
    assert read_prices(tmp_path / "zero.csv").tolist() == [1.5, 1.6]
    closes_only = _write(tmp_path, "timestamp,close\n2024-01-01,1.5\n", name="c.csv")
    with pytest.raises(DataError, match=r"^field must be a column of .*column 'open' is missing"):
        read_prices(closes_only, field="open")
