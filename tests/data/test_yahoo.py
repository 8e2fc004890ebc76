"""load_yfinance with yfinance mocked at its boundary (yfinance.download); no network."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yfinance
from yfinance.exceptions import YFRateLimitError

from pairs import DataError, PairsError, load_yfinance
from pairs.data import _cache as cache
from pairs.data import _yahoo as yahoo

DATA = Path(__file__).resolve().parents[1] / "fixtures"


def _recorded(ticker: str, multi: bool = True) -> pd.DataFrame:
    """A yfinance 1.x style answer built from a real yfinance CSV export."""
    raw = pd.read_csv(DATA / f"{ticker}.csv", index_col="Date", parse_dates=True)
    frame = raw[["Adj Close", "Close", "High", "Low", "Open", "Volume"]]
    if multi:
        frame.columns = pd.MultiIndex.from_product([frame.columns, [ticker]], names=["Price", "Ticker"])
    return frame


class FakeDownload:
    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers
        self.calls: list[dict[str, Any]] = []

    def __call__(self, ticker: str, **kwargs: Any) -> pd.DataFrame:
        self.calls.append({"ticker": ticker, **kwargs})
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, BaseException):
            raise answer
        return answer(ticker) if callable(answer) else answer


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waits: list[float] = []
    monkeypatch.setattr(yahoo.time, "sleep", waits.append)
    return waits


def test_download_then_cache_hit_without_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeDownload([_recorded])
    monkeypatch.setattr(yfinance, "download", fake)
    first = load_yfinance(["BTC-USD", "ETH-USD"], start="2020-01-01", end="2021-01-01", cache_dir=tmp_path)
    assert list(first.columns) == ["BTC-USD", "ETH-USD"] and len(fake.calls) == 2
    assert str(first.index.tz) == "UTC"
    assert first.index[0] == pd.Timestamp("2020-01-01", tz="UTC")
    assert first.index[-1] == pd.Timestamp("2020-12-31", tz="UTC")
    raw = pd.read_csv(DATA / "BTC-USD.csv", index_col="Date", parse_dates=True)["Close"]
    assert first["BTC-USD"].loc[pd.Timestamp("2020-06-01", tz="UTC")] == raw.loc["2020-06-01"]

    def offline(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("network used on a cache hit")

    monkeypatch.setattr(yfinance, "download", offline)
    again = load_yfinance(["BTC-USD", "ETH-USD"], start="2020-03-01", end="2020-06-01", cache_dir=tmp_path)
    pd.testing.assert_frame_equal(again, first.loc["2020-03-01":"2020-05-31"], check_freq=False)


def test_single_level_columns_and_full_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeDownload([lambda t: _recorded(t, multi=False)])
    monkeypatch.setattr(yfinance, "download", fake)
    out = load_yfinance("ETH-USD", cache_dir=tmp_path)
    assert fake.calls[0]["period"] == "max" and fake.calls[0]["auto_adjust"] is False
    assert len(out) == 1995


def test_refresh_downloads_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeDownload([_recorded])
    monkeypatch.setattr(yfinance, "download", fake)
    load_yfinance("BTC-USD", cache_dir=tmp_path)
    load_yfinance("BTC-USD", cache_dir=tmp_path)
    load_yfinance("BTC-USD", cache_dir=tmp_path, refresh=True)
    assert len(fake.calls) == 2


def test_cache_dir_false_downloads_every_time_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # cache_dir=False: no cache read or written, as load_ccxt(cache_dir=False); None is the
    # default folder ($PAIRS_CACHE_DIR here).
    monkeypatch.setenv("PAIRS_CACHE_DIR", str(tmp_path))
    fake = FakeDownload([_recorded])
    monkeypatch.setattr(yfinance, "download", fake)
    first = load_yfinance("BTC-USD", start="2020-01-01", end="2021-01-01", cache_dir=False)
    again = load_yfinance("BTC-USD", start="2020-01-01", end="2021-01-01", cache_dir=False)
    pd.testing.assert_frame_equal(first, again)
    assert len(fake.calls) == 2 and list(tmp_path.iterdir()) == []
    load_yfinance("BTC-USD", start="2020-01-01", end="2021-01-01", cache_dir=None)
    assert len(fake.calls) == 3 and len(list(tmp_path.rglob("*.json"))) == 1
    for bad in (True, 0, ["x"]):
        with pytest.raises(DataError, match=r"^cache_dir must be a folder path"):
            load_yfinance("BTC-USD", cache_dir=bad)


def test_exception_is_retried_then_clear_error_and_no_cache_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_sleep: list[float]
) -> None:
    fake = FakeDownload([ConnectionError("Failed to resolve query1.finance.yahoo.com")])
    monkeypatch.setattr(yfinance, "download", fake)
    with pytest.raises(DataError, match=r"BTC-USD.*3 attempt"):
        load_yfinance("BTC-USD", cache_dir=tmp_path, retries=2, backoff=0.5)
    assert no_sleep == [0.5, 1.0]
    assert list(tmp_path.iterdir()) == []


def test_rate_limit_then_success(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_sleep: list[float]
) -> None:
    fake = FakeDownload([YFRateLimitError(), YFRateLimitError(), _recorded])
    monkeypatch.setattr(yfinance, "download", fake)
    out = load_yfinance("BTC-USD", cache_dir=tmp_path, backoff=1.0)
    assert len(fake.calls) == 3 and no_sleep == [1.0, 2.0]
    assert len(out) == 3144


@pytest.mark.parametrize(
    ("answer", "match"),
    [
        (pd.DataFrame(), "no data"),
        (None, "no data"),
        (pd.DataFrame({"Open": [1.0]}, index=pd.to_datetime(["2021-01-01"])), "Close"),
        (pd.DataFrame({"Close": [np.nan]}, index=pd.to_datetime(["2021-01-01"])), "NaN"),
        (pd.DataFrame({"Close": [-1.0]}, index=pd.to_datetime(["2021-01-01"])), "positive"),
    ],
)
def test_bad_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: Any, match: str) -> None:
    monkeypatch.setattr(yfinance, "download", lambda *a, **k: answer)
    with pytest.raises(DataError, match=match):
        load_yfinance("NOPE-USD", cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_crash_mid_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yfinance, "download", FakeDownload([_recorded]))

    def crash(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(yahoo.os, "fsync", crash)
    # A cache that cannot be written is a clean error naming cache_dir, the OSError chained.
    with pytest.raises(DataError, match=r"^cache_dir must be a writable folder; .*disk full") as info:
        load_yfinance("BTC-USD", cache_dir=tmp_path)
    assert isinstance(info.value.__cause__, OSError)
    assert list(tmp_path.iterdir()) == []


def test_corrupt_cache_is_refetched_never_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeDownload([_recorded])
    monkeypatch.setattr(yfinance, "download", fake)
    good = load_yfinance("BTC-USD", cache_dir=tmp_path)
    (path,) = list(tmp_path.iterdir())
    doc = json.loads(path.read_text())
    doc["payload"]["close"][10] *= 2  # silent corruption: checksum no longer matches
    path.write_text(json.dumps(doc))
    again = load_yfinance("BTC-USD", cache_dir=tmp_path)
    assert len(fake.calls) == 2
    pd.testing.assert_frame_equal(again, good)
    path.write_text(path.read_text()[:100])  # truncated file
    load_yfinance("BTC-USD", cache_dir=tmp_path)
    assert len(fake.calls) == 3


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="tickers"):
        load_yfinance([], cache_dir=tmp_path)
    with pytest.raises(DataError, match="tickers"):
        load_yfinance(["A", "A"], cache_dir=tmp_path)
    with pytest.raises(DataError, match="interval"):
        load_yfinance("BTC-USD", interval="7m", cache_dir=tmp_path)
    with pytest.raises(DataError, match="start"):
        load_yfinance("BTC-USD", start="someday", cache_dir=tmp_path)
    with pytest.raises(PairsError, match="retries"):
        load_yfinance("BTC-USD", retries=-1, cache_dir=tmp_path)


# --- cache expiry, identity and validation (issue #13) ----------------------------------------------------


def _at(monkeypatch: pytest.MonkeyPatch, when: str) -> None:
    monkeypatch.setattr(yahoo, "_now", lambda: pd.Timestamp(when, tz="UTC"))


def test_open_ended_span_expires_after_max_age(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeDownload([_recorded])
    monkeypatch.setattr(yfinance, "download", fake)
    _at(monkeypatch, "2023-04-26 10:00")
    load_yfinance("BTC-USD", cache_dir=tmp_path)
    _at(monkeypatch, "2023-04-27 09:59")  # default for daily bars: one day
    load_yfinance("BTC-USD", cache_dir=tmp_path)
    assert len(fake.calls) == 1
    _at(monkeypatch, "2023-04-27 10:01")
    load_yfinance("BTC-USD", cache_dir=tmp_path)
    assert len(fake.calls) == 2
    _at(monkeypatch, "2023-04-27 13:00")
    load_yfinance("BTC-USD", cache_dir=tmp_path, max_age="2h")
    assert len(fake.calls) == 3
    # An end in the future is open-ended too; an end before the fetch is history and never expires.
    load_yfinance("BTC-USD", cache_dir=tmp_path, end="2030-01-01", max_age="1h")
    assert len(fake.calls) == 3
    _at(monkeypatch, "2025-01-01")
    load_yfinance("BTC-USD", cache_dir=tmp_path, start="2021-01-01", end="2022-01-01")
    assert len(fake.calls) == 3
    load_yfinance("BTC-USD", cache_dir=tmp_path, end="2030-01-01")
    assert len(fake.calls) == 4


def test_hourly_default_max_age_is_one_bar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeDownload([_recorded])
    monkeypatch.setattr(yfinance, "download", fake)
    _at(monkeypatch, "2023-04-26 10:00")
    load_yfinance("BTC-USD", cache_dir=tmp_path, interval="1h")
    _at(monkeypatch, "2023-04-26 10:59")
    load_yfinance("BTC-USD", cache_dir=tmp_path, interval="1h")
    _at(monkeypatch, "2023-04-26 11:01")
    load_yfinance("BTC-USD", cache_dir=tmp_path, interval="1h")
    assert len(fake.calls) == 2


def test_bounded_span_cached_then_wider_span_refetched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeDownload([_recorded])
    monkeypatch.setattr(yfinance, "download", fake)
    load_yfinance("BTC-USD", cache_dir=tmp_path, start="2020-01-01", end="2021-01-01")
    load_yfinance("BTC-USD", cache_dir=tmp_path, start="2019-01-01", end="2021-01-01")
    load_yfinance("BTC-USD", cache_dir=tmp_path, start="2020-01-01", end="2022-01-01")
    load_yfinance("BTC-USD", cache_dir=tmp_path, start="2020-01-01")
    assert len(fake.calls) == 4


@pytest.mark.parametrize("bad", ["0", "-1h", "soon", 5, pd.NaT])
def test_bad_max_age(tmp_path: Path, bad: Any) -> None:
    with pytest.raises(DataError, match=r"^max_age must be a positive duration"):
        load_yfinance("BTC-USD", cache_dir=tmp_path, max_age=bad)


def test_tickers_that_look_alike_get_their_own_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The old file names mapped every character outside [A-Za-z0-9-._^=] to "_": these collided.
    fake = FakeDownload([lambda t: _recorded("BTC-USD").rename(columns={"BTC-USD": t}, level=1)])
    monkeypatch.setattr(yfinance, "download", fake)
    names = ["BTC/USD", "BTC_USD", "BTC:USD", "btc_usd"]
    for name in names:
        load_yfinance(name, cache_dir=tmp_path)
    assert len({p.name.lower() for p in tmp_path.iterdir()}) == len(names)
    for name in names:
        assert load_yfinance(name, cache_dir=tmp_path).columns.tolist() == [name]
    assert len(fake.calls) == len(names)


def _rewrite(path: Path, edit: Any) -> None:
    """Change the payload of a cache file and re-sign it (a well-formed file with foreign content)."""
    doc = json.loads(path.read_text())
    edit(doc["payload"])
    doc["sha256"] = cache._checksum(doc["payload"])
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda p: p.update(symbol="ETH-USD"), id="other_ticker"),
        pytest.param(lambda p: p.update(interval="1h"), id="other_interval"),
        pytest.param(lambda p: p.update(source="ccxt:binance"), id="other_source"),
        pytest.param(lambda p: p["close"].__setitem__(3, -1.0), id="negative_close"),
        pytest.param(lambda p: p["close"].__setitem__(3, None), id="null_close"),
        pytest.param(lambda p: p["close"].__setitem__(3, "7"), id="string_close"),
        pytest.param(lambda p: p["index"].__setitem__(3, p["index"][2]), id="duplicate_time"),
        pytest.param(lambda p: p["index"].reverse(), id="unsorted"),
        pytest.param(lambda p: p["index"].__setitem__(0, 0), id="epoch_1970"),
        pytest.param(lambda p: p["close"].pop(), id="length_mismatch"),
        pytest.param(lambda p: p.update(index=[], close=[]), id="empty"),
        pytest.param(lambda p: p.update(fetched_at="yesterday"), id="bad_fetch_time"),
        pytest.param(lambda p: p.pop("start"), id="missing_key"),
    ],
)
def test_foreign_or_invalid_cache_content_is_refetched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: Any
) -> None:
    fake = FakeDownload([_recorded])
    monkeypatch.setattr(yfinance, "download", fake)
    good = load_yfinance("BTC-USD", cache_dir=tmp_path)
    (path,) = list(tmp_path.iterdir())
    _rewrite(path, edit)
    again = load_yfinance("BTC-USD", cache_dir=tmp_path)
    assert len(fake.calls) == 2
    pd.testing.assert_frame_equal(again, good)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * 100_000 + "]" * 100_000, id="deep_nesting"),
        pytest.param('{"version": 2, "sha256": "x", "payload": {"n": 1' + "0" * 400 + "}}", id="400_digits"),
        pytest.param('{"version": 2, "sha256": "x", "payload": {"n": 1e999}}', id="float_overflow"),
        pytest.param('{"version": 2, "sha256": "x", "payload": {"n": NaN}}', id="nan"),
        pytest.param("\xff\xfe not json", id="not_utf8"),
    ],
)
def test_hostile_cache_json_is_refetched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    fake = FakeDownload([_recorded])
    monkeypatch.setattr(yfinance, "download", fake)
    load_yfinance("BTC-USD", cache_dir=tmp_path)
    (path,) = list(tmp_path.iterdir())
    path.write_bytes(text.encode("latin-1"))
    load_yfinance("BTC-USD", cache_dir=tmp_path)
    assert len(fake.calls) == 2
    assert json.loads(path.read_text())["payload"]["symbol"] == "BTC-USD"


def test_oversized_cache_file_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeDownload([_recorded])
    monkeypatch.setattr(yfinance, "download", fake)
    load_yfinance("BTC-USD", cache_dir=tmp_path)
    monkeypatch.setattr(cache, "MAX_CACHE_BYTES", 1000)
    load_yfinance("BTC-USD", cache_dir=tmp_path)
    assert len(fake.calls) == 2


def test_offline_is_one_line_and_yfinance_logs_stay_quiet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], no_sleep: list[float]
) -> None:
    import logging

    def failing(ticker: str, **kwargs: Any) -> pd.DataFrame:
        # What yfinance 1.x does offline: log the failures, return an empty frame.
        logger = logging.getLogger("yfinance")
        logger.error("\n1 Failed download:")
        logger.error("['BTC-USD']: ConnectionError('Failed to resolve\n query2.finance.yahoo.com')")
        return pd.DataFrame()

    monkeypatch.setattr(yfinance, "download", failing)
    with pytest.raises(DataError) as info:
        load_yfinance("BTC-USD", cache_dir=tmp_path)
    message = str(info.value)
    assert "\n" not in message and "Failed to resolve query2" in message
    assert message.startswith("tickers must be symbols Yahoo Finance knows")
    out = capsys.readouterr()
    assert out.err == "" and out.out == ""
    assert logging.getLogger("yfinance").propagate  # restored

    monkeypatch.setattr(yfinance, "download", FakeDownload([OSError("line one\nline two")]))
    with pytest.raises(DataError) as info:
        load_yfinance("BTC-USD", cache_dir=tmp_path, retries=1)
    assert "\n" not in str(info.value) and "line one line two" in str(info.value)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """yfinance's own code on a machine without network: every host fails to resolve.

    The boundary is yfinance's HTTP session (curl_cffi), which raises what curl raises offline;
    yfinance's caches of time zones, cookies and ISINs are its in-memory dummies (no file in
    the home folder). Returns the URLs yfinance tried.
    """
    session = pytest.importorskip("curl_cffi.requests").Session
    from curl_cffi.requests.exceptions import DNSError
    from yfinance import cache as yf_cache

    monkeypatch.setattr(yf_cache._TzCacheManager, "_tz_cache", yf_cache._TzCacheDummy())
    monkeypatch.setattr(yf_cache._CookieCacheManager, "_Cookie_cache", yf_cache._CookieCacheDummy())
    monkeypatch.setattr(yf_cache._ISINCacheManager, "_isin_cache", yf_cache._ISINCacheDummy())
    urls: list[str] = []

    def offline(self: Any, method: str, url: str, **kwargs: Any) -> Any:
        urls.append(url)
        host = url.split("/")[2]
        raise DNSError(
            f"Failed to perform, curl: (6) Could not resolve host: {host}. "
            "See https://curl.se/libcurl/c/libcurl-errors.html first for more details.",
            6,
        )

    monkeypatch.setattr(session, "request", offline)
    return urls


def test_offline_cli_prints_exactly_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_network: list[str], no_sleep: list[float]
) -> None:
    # With pandas 3, yfinance.download warned twice (three lines each) about its own inplace
    # calls, around the one-line error: seven lines on stderr. Every warning is recorded here
    # ("always"): any of them would be printed.
    from pairs.cli._main import main

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(["fit", "--yf", "BTC-USD", "ETH-USD", "--cache-dir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert [f"{w.filename}: {w.message}" for w in caught] == []
    assert code == 2 and out == ""
    assert err.startswith(
        "pairs: error: tickers must be symbols Yahoo Finance knows; got no data for 'BTC-USD'"
    )
    assert err.count("\n") == 1 and "offline" in err and "Could not resolve host" in err
    assert any("finance.yahoo.com" in url for url in no_network)
    assert list(tmp_path.iterdir()) == []


# --- open prices, for backtest(fill="next_open") (issue #25) ---------------------------------------------


@pytest.mark.parametrize("multi", [True, False], ids=["multi_level", "flat"])
def test_field_open_is_the_open_column_cached_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, multi: bool
) -> None:
    fake = FakeDownload([lambda t: _recorded(t, multi=multi)])
    monkeypatch.setattr(yfinance, "download", fake)
    closes = load_yfinance("ETH-USD", cache_dir=tmp_path)
    opens = load_yfinance("ETH-USD", cache_dir=tmp_path, field="open")
    raw = pd.read_csv(DATA / "ETH-USD.csv")
    np.testing.assert_array_equal(opens["ETH-USD"].to_numpy(), raw["Open"].to_numpy())
    assert opens.index.equals(pd.DatetimeIndex(pd.to_datetime(raw["Date"], utc=True), name="timestamp"))
    np.testing.assert_array_equal(closes["ETH-USD"].to_numpy(), raw["Close"].to_numpy())
    # Two cache files (closes, opens): each answers its own field without a download.
    assert len(fake.calls) == 2 and len(list(tmp_path.iterdir())) == 2

    def offline(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("network used on a cache hit")

    monkeypatch.setattr(yfinance, "download", offline)
    pd.testing.assert_frame_equal(load_yfinance("ETH-USD", cache_dir=tmp_path, field="open"), opens)
    pd.testing.assert_frame_equal(load_yfinance("ETH-USD", cache_dir=tmp_path), closes)


def test_field_must_be_a_price_and_an_answer_without_it_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(PairsError, match=r"^field must be one of"):
        load_yfinance("ETH-USD", cache_dir=tmp_path, field="volume")  # type: ignore[arg-type]
    closes_only = pd.DataFrame({"Close": [1.0]}, index=pd.to_datetime(["2021-01-01"]))
    monkeypatch.setattr(yfinance, "download", lambda *a, **k: closes_only)
    with pytest.raises(DataError, match=r"^yfinance answer for 'ETH-USD' must have a column 'Open'"):
        load_yfinance("ETH-USD", cache_dir=tmp_path, field="open", retries=0)
    assert list(tmp_path.iterdir()) == []
