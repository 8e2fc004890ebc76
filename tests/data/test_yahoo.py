"""load_yfinance with yfinance mocked at its boundary (yfinance.download); no network."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yfinance
from yfinance.exceptions import YFRateLimitError

from pairs import DataError, PairsError, load_yfinance
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
    with pytest.raises(OSError, match="disk full"):
        load_yfinance("BTC-USD", cache_dir=tmp_path)
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
