"""from_ccxt and load_ccxt against a real ccxt exchange class serving recorded pages; no network."""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path
from typing import Any

import ccxt
import numpy as np
import pandas as pd
import pytest

from pairs import DataError, MissingDependencyError, PairsError, from_ccxt, load_ccxt, read_prices
from pairs.data import _ccxt
from pairs.data._sample import sample_path
from pairs.data._sources import resolve_source

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ccxt"
MARKETS = json.loads((FIXTURES / "binance_markets.json").read_text())
DAY = 86_400_000


def _klines(coin: str) -> list[list[Any]]:
    """The bundled Binance daily file as ccxt OHLCV rows."""
    with open(sample_path(f"{coin}USDT_1d.csv"), newline="") as fh:
        return [
            [
                pd.Timestamp(r["timestamp"], tz="UTC").value // 10**6,
                *(float(r[k]) for k in ("open", "high", "low", "close", "volume")),
            ]
            for r in csv.DictReader(fh)
        ]


CANDLES = {"BTC/USDT": _klines("BTC"), "ETH/USDT": _klines("ETH")}
LAST = CANDLES["BTC/USDT"][-1][0]  # 2026-01-06 00:00 UTC
AFTER_LAST = LAST + DAY + 3_600_000  # the last candle closed an hour ago


class RecordedBinance(ccxt.binance):  # type: ignore[misc]
    """ccxt's Binance class with its two network calls served from recorded data."""

    def __init__(self, *, now: int = AFTER_LAST, failures: list[BaseException] | None = None) -> None:
        self.now = now
        self.failures = list(failures or [])
        self.calls: list[tuple[Any, ...]] = []
        self.candles = CANDLES
        self.delisted: set[str] = set()
        self.healthy_calls = 0  # calls served before the failures start
        super().__init__({"enableRateLimit": False})

    def milliseconds(self) -> int:
        return self.now

    def _maybe_fail(self) -> None:
        if self.failures and len(self.calls) > self.healthy_calls:
            raise self.failures.pop(0)

    def load_markets(self, reload: bool = False, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.calls.append(("load_markets",))
        self._maybe_fail()
        self.set_markets(MARKETS)
        return self.markets

    def fetch_ohlcv(
        self,
        symbol: str,
        timeframe: str = "1m",
        since: int | None = None,
        limit: int | None = None,
        params: dict[str, Any] | None = None,
    ) -> list[list[Any]]:
        self.calls.append(("fetch_ohlcv", symbol, timeframe, since, limit))
        self._maybe_fail()
        if symbol not in self.markets or symbol in self.delisted:
            raise ccxt.BadSymbol(f"binance does not have market symbol {symbol}")
        # Binance serves at most 1000 klines per call, 500 when no limit is given.
        rows = [r for r in self.candles.get(symbol, []) if since is None or r[0] >= since]
        rows = rows[: min(limit or 500, 1000)]
        # The still-open candle is served as it stands "now".
        return [list(r) for r in rows if r[0] <= self.now]

    @property
    def ohlcv_calls(self) -> list[tuple[Any, ...]]:
        return [c for c in self.calls if c[0] == "fetch_ohlcv"]


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(_ccxt, "_sleep", slept.append)
    return slept


def _reference(coin: str) -> pd.Series:
    return read_prices(sample_path(f"{coin}USDT_1d.csv"))


# --- from_ccxt ---------------------------------------------------------------------------------------------


def test_from_ccxt_equals_read_prices_of_the_same_file() -> None:
    rows = CANDLES["ETH/USDT"][::-1]  # any order
    s = from_ccxt(rows, name="ETH/USDT")
    ref = _reference("ETH")
    pd.testing.assert_series_equal(s, ref.rename("ETH/USDT"), check_freq=False)
    assert s.index.name == "timestamp" and str(s.index.tz) == "UTC"


def test_from_ccxt_accepts_tuples_numpy_rows_and_null_volume() -> None:
    rows = [(1609459200000, 1.0, 2.0, 0.5, 1.5, None), np.array([1609545600000.0, 1.5, 2, 1, 1.8, 11])]
    assert from_ccxt(rows).tolist() == [1.5, 1.8]
    assert from_ccxt(np.array(CANDLES["BTC/USDT"][:3])).tolist() == [r[4] for r in CANDLES["BTC/USDT"][:3]]


GOOD = [1609459200000, 1.0, 2.0, 0.5, 1.5, 10.0]


@pytest.mark.parametrize(
    ("row", "match"),
    [
        pytest.param(GOOD[:5], r"row 1 must be \[ms, open, high, low, close, volume\]", id="five_fields"),
        pytest.param([*GOOD, 1], "row 1 must be", id="seven_fields"),
        pytest.param("1,2,3,4,5,6", "row 1 must be", id="string_row"),
        pytest.param({"close": 1.5}, "row 1 must be", id="dict_row"),
        pytest.param(
            [1609545600, 1, 2, 0.5, 1.5, 10],
            "row 1 must start with an epoch time in milliseconds",
            id="seconds",
        ),
        pytest.param([0, 1, 2, 0.5, 1.5, 10], "row 1 must start with an epoch time", id="epoch_1970"),
        pytest.param(
            [4102444800000, 1, 2, 0.5, 1.5, 10], "row 1 must start with an epoch time", id="year_2100"
        ),
        pytest.param(
            [1609545600000.5, 1, 2, 0.5, 1.5, 10], "row 1 must start with an epoch time", id="fractional_ms"
        ),
        pytest.param([True, 1, 2, 0.5, 1.5, 10], "row 1 must start with an epoch time", id="bool_time"),
        pytest.param(
            ["1609545600000", 1, 2, 0.5, 1.5, 10], "row 1 must start with an epoch time", id="string_time"
        ),
        pytest.param(
            [float("nan"), 1, 2, 0.5, 1.5, 10], "row 1 must start with an epoch time", id="nan_time"
        ),
        pytest.param(
            [1609545600000, 1, 2, 0.5, None, 10], "row 1 must have a finite positive close", id="null_close"
        ),
        pytest.param(
            [1609545600000, 1, 2, 0.5, "1.5", 10],
            "row 1 must have a finite positive close",
            id="string_close",
        ),
        pytest.param([1609545600000, 1, 2, 0.5, float("inf"), 10], "finite positive close", id="inf_close"),
        pytest.param([1609545600000, 1, 2, 0.5, 0.0, 10], "finite positive close", id="zero_close"),
        pytest.param([1609545600000, 1, 2, 0.5, -1.0, 10], "finite positive close", id="negative_close"),
        pytest.param(GOOD, "row 1 must have a unique time; got 1609459200000 twice", id="duplicate_time"),
    ],
)
def test_from_ccxt_bad_row_is_named(row: Any, match: str) -> None:
    with pytest.raises(DataError, match=r"^ohlcv row 1 must") as info:
        from_ccxt([GOOD, row])
    assert re.search(match, str(info.value)), str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "arg"),
    [
        ({"ohlcv": []}, "ohlcv"),
        ({"ohlcv": "rows"}, "ohlcv"),
        ({"ohlcv": None}, "ohlcv"),
        ({"ohlcv": [GOOD], "name": 5}, "name"),
        ({"ohlcv": [GOOD], "timeframe": "daily"}, "timeframe"),
        ({"ohlcv": [GOOD], "drop_incomplete": "soon"}, "drop_incomplete"),
    ],
)
def test_from_ccxt_bad_arguments(kwargs: dict[str, Any], arg: str) -> None:
    with pytest.raises(DataError, match=rf"^{arg} must"):
        from_ccxt(**kwargs)


def test_from_ccxt_drops_the_still_open_candle_on_request() -> None:
    rows = CANDLES["BTC/USDT"][-5:]
    full = from_ccxt(rows)
    assert len(from_ccxt(rows, drop_incomplete=True)) == 4
    assert len(from_ccxt(rows, drop_incomplete=False)) == 5
    # As of noon on the last day the last candle is open; as of midnight after it, closed.
    noon = full.index[-1] + pd.Timedelta(hours=12)
    assert from_ccxt(rows, drop_incomplete=noon, timeframe="1d").index[-1] == full.index[-2]
    assert from_ccxt(rows, drop_incomplete=noon).index[-1] == full.index[-2]  # bar from the spacing
    assert len(from_ccxt(rows, drop_incomplete=full.index[-1] + pd.Timedelta(days=1), timeframe="1d")) == 5
    # With 4-hour candles the same moment has closed the last one.
    assert len(from_ccxt(rows, drop_incomplete=noon, timeframe="4h")) == 5


# --- load_ccxt ----------------------------------------------------------------------------------------------


def test_load_ccxt_over_several_pages_equals_read_prices(tmp_path: Path, waits: list[float]) -> None:
    """Acceptance (issue #14): paged download of the bundled Binance daily closes == read_prices."""
    ex = RecordedBinance()
    frame = load_ccxt(ex, ["BTC/USDT", "ETH/USDT"], cache_dir=tmp_path)
    assert list(frame.columns) == ["BTC/USDT", "ETH/USDT"]
    for coin in ("BTC", "ETH"):
        pd.testing.assert_series_equal(
            frame[f"{coin}/USDT"], _reference(coin).rename(f"{coin}/USDT"), check_freq=False
        )
    # 3,065 daily candles in pages of 1,000 (ccxt's Binance limit): 4 pages each, each from the
    # day after the last candle of the previous page.
    pages = ex.ohlcv_calls
    assert len(pages) == 8 and all(c[2] == "1d" and c[4] == 1000 for c in pages)
    btc = [c[3] for c in pages if c[1] == "BTC/USDT"]
    assert btc[0] == 0 and btc[1] == CANDLES["BTC/USDT"][999][0] + DAY
    # The exchange's rateLimit (50 ms for Binance) between every two calls, nothing else.
    assert ex.calls[0] == ("load_markets",) and len(ex.calls) == 9
    assert waits == [0.05] * 8


def test_smaller_pages_give_the_same_answer(tmp_path: Path, waits: list[float]) -> None:
    ex = RecordedBinance()
    frame = load_ccxt(ex, "BTC/USDT", cache_dir=False, limit=300)
    assert len(ex.ohlcv_calls) == 11
    np.testing.assert_array_equal(frame["BTC/USDT"].to_numpy(), _reference("BTC").to_numpy())


def test_span_since_until(tmp_path: Path, waits: list[float]) -> None:
    ex = RecordedBinance()
    frame = load_ccxt(ex, "ETH/USDT", since="2021-01-01", until="2021-03-01", cache_dir=tmp_path)
    ref = _reference("ETH").loc["2021-01-01":"2021-02-28"]
    pd.testing.assert_series_equal(frame["ETH/USDT"], ref.rename("ETH/USDT"), check_freq=False)
    (call,) = ex.ohlcv_calls  # one page covers the span: no call past `until`
    assert call[3] == pd.Timestamp("2021-01-01", tz="UTC").value // 10**6


def test_still_open_candle_is_never_returned_nor_cached(tmp_path: Path, waits: list[float]) -> None:
    ex = RecordedBinance(now=LAST + 12 * 3_600_000)  # noon of the last day: its candle is open
    frame = load_ccxt(ex, "BTC/USDT", cache_dir=tmp_path)
    assert frame.index[-1] == pd.Timestamp(LAST - DAY, unit="ms", tz="UTC")
    (path,) = tmp_path.iterdir()
    assert json.loads(path.read_text())["payload"]["index"][-1] == LAST - DAY


@pytest.mark.parametrize(
    "error",
    [
        ccxt.RequestTimeout("timed out"),
        ccxt.DDoSProtection("slow down"),
        ccxt.RateLimitExceeded("429"),
        ccxt.NetworkError("reset"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_transient_errors_are_retried_with_backoff(
    tmp_path: Path, waits: list[float], error: Exception
) -> None:
    ex = RecordedBinance(failures=[error, error, error])
    frame = load_ccxt(ex, "BTC/USDT", since="2025-01-01", cache_dir=tmp_path, backoff=2.0)
    assert frame.index[0] == pd.Timestamp("2025-01-01", tz="UTC")
    assert len(ex.calls) == 5  # load_markets failed 3 times, then load_markets and one page
    # Backoff 2 * 2**k after each failure (longer than the 50 ms rateLimit, so no extra
    # pause), then the rateLimit before the next call.
    assert waits == [2.0, 4.0, 8.0, 0.05]


def test_offline_is_one_clear_line_and_writes_no_cache(tmp_path: Path, waits: list[float]) -> None:
    ex = RecordedBinance(
        failures=[ccxt.NetworkError("binance GET https://api.binance.com\nName or service not known")] * 3
    )
    with pytest.raises(DataError) as info:
        load_ccxt(ex, "BTC/USDT", cache_dir=tmp_path, retries=2, backoff=0.5)
    message = str(info.value)
    assert message.startswith(
        "exchange binance must be reachable for load_markets(); failed after 3 attempt(s)"
    )
    assert "\n" not in message and "Name or service not known" in message
    assert waits == [0.5, 1.0]
    assert list(tmp_path.iterdir()) == []


def test_offline_mid_paging(tmp_path: Path, waits: list[float]) -> None:
    ex = RecordedBinance(failures=[ccxt.RequestTimeout("timeout")] * 10)
    ex.healthy_calls = 2  # load_markets and the first page
    second = CANDLES["BTC/USDT"][999][0] + DAY
    with pytest.raises(
        DataError,
        match=rf"^exchange binance must be reachable for fetch_ohlcv\('BTC/USDT', '1d', since={second}\)",
    ):
        load_ccxt(ex, "BTC/USDT", cache_dir=tmp_path, retries=1)
    assert list(tmp_path.iterdir()) == []


def test_cache_hit_makes_no_calls(tmp_path: Path, waits: list[float]) -> None:
    first = load_ccxt(RecordedBinance(), ["BTC/USDT", "ETH/USDT"], cache_dir=tmp_path)
    again = RecordedBinance(now=AFTER_LAST + 3_600_000)
    pd.testing.assert_frame_equal(load_ccxt(again, ["BTC/USDT", "ETH/USDT"], cache_dir=tmp_path), first)
    part = load_ccxt(again, "ETH/USDT", since="2020-01-01", until="2020-02-01", cache_dir=tmp_path)
    assert again.calls == []
    pd.testing.assert_frame_equal(part, first[["ETH/USDT"]].loc["2020-01-01":"2020-01-31"])


def test_open_ended_cache_expires_and_refresh_bypasses(tmp_path: Path, waits: list[float]) -> None:
    load_ccxt(RecordedBinance(), "BTC/USDT", cache_dir=tmp_path)
    later = RecordedBinance(now=AFTER_LAST + DAY - 1)  # default max_age for daily candles: one day
    load_ccxt(later, "BTC/USDT", cache_dir=tmp_path)
    assert later.calls == []
    # By then the day after the recorded data has closed: a fifth page is asked for it.
    load_ccxt(later, "BTC/USDT", cache_dir=tmp_path, max_age="6h")
    assert len(later.ohlcv_calls) == 5
    stale = RecordedBinance(now=AFTER_LAST + 2 * DAY)
    load_ccxt(stale, "BTC/USDT", cache_dir=tmp_path)
    assert len(stale.ohlcv_calls) == 5
    # A closed span is history: never expires, but refresh=True downloads anyway.
    old = RecordedBinance(now=AFTER_LAST + 400 * DAY)
    load_ccxt(old, "BTC/USDT", until="2025-01-01", cache_dir=tmp_path)
    assert old.calls == []
    load_ccxt(old, "BTC/USDT", until="2025-01-01", cache_dir=tmp_path, refresh=True)
    assert len(old.ohlcv_calls) == 3


def test_corrupt_cache_is_refetched(tmp_path: Path, waits: list[float]) -> None:
    good = load_ccxt(RecordedBinance(), "BTC/USDT", cache_dir=tmp_path)
    (path,) = tmp_path.iterdir()
    doc = json.loads(path.read_text())
    doc["payload"]["close"][5] *= 2
    path.write_text(json.dumps(doc))
    ex = RecordedBinance()
    pd.testing.assert_frame_equal(load_ccxt(ex, "BTC/USDT", cache_dir=tmp_path), good)
    assert len(ex.ohlcv_calls) == 4
    path.write_text("[" * 100_000)
    ex = RecordedBinance()
    load_ccxt(ex, "BTC/USDT", cache_dir=tmp_path)
    assert len(ex.ohlcv_calls) == 4


def test_no_cache_dir_means_no_files_and_always_fetch(
    tmp_path: Path, waits: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAIRS_CACHE_DIR", str(tmp_path))
    for _ in range(2):
        ex = RecordedBinance()
        load_ccxt(ex, "BTC/USDT", since="2025-01-01", cache_dir=False)
        assert len(ex.ohlcv_calls) == 1
    # None still disables the cache here, but warns: it means the default folder in load_yfinance.
    with pytest.warns(FutureWarning, match="cache_dir=False"):
        load_ccxt(RecordedBinance(), "BTC/USDT", since="2025-01-01", cache_dir=None)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(DataError, match=r"^cache_dir must be a folder path"):
        load_ccxt(RecordedBinance(), "BTC/USDT", cache_dir=True)
    load_ccxt(RecordedBinance(), "BTC/USDT", since="2025-01-01")  # default: $PAIRS_CACHE_DIR
    assert len(list(tmp_path.iterdir())) == 1


def test_unknown_symbol(tmp_path: Path, waits: list[float]) -> None:
    ex = RecordedBinance()
    with pytest.raises(
        DataError, match=r"^symbols must be markets of binance .*got 'BTC/USDC'; did you mean BTC/USDT"
    ):
        load_ccxt(ex, ["ETH/USDT", "BTC/USDC"], cache_dir=tmp_path)
    assert ex.ohlcv_calls == []  # every symbol is checked before the first page
    ex.markets["DOGE/USDT"] = {**ex.markets["BTC/USDT"], "symbol": "DOGE/USDT"}
    ex.delisted = {"DOGE/USDT"}  # listed in the markets, refused by the kline endpoint
    with pytest.raises(DataError, match=r"^symbols must be markets of binance; got 'DOGE/USDT' \(BadSymbol"):
        load_ccxt(ex, "DOGE/USDT", cache_dir=tmp_path)


def test_empty_answer(tmp_path: Path, waits: list[float]) -> None:
    with pytest.raises(
        DataError, match=r"^symbols must have closed 1d candles on binance .* got none for 'LTC/USDT'"
    ):
        load_ccxt(RecordedBinance(), "LTC/USDT", cache_dir=tmp_path)
    with pytest.raises(DataError, match="got none for 'BTC/USDT'"):
        load_ccxt(RecordedBinance(), "BTC/USDT", since="2027-01-01", cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_malformed_page_names_the_row(tmp_path: Path, waits: list[float]) -> None:
    ex = RecordedBinance()
    ex.candles = {"BTC/USDT": [*CANDLES["BTC/USDT"][:1500], [CANDLES["BTC/USDT"][1500][0], 1, 1, 1, None, 1]]}
    with pytest.raises(DataError, match=r"^ohlcv row 1500 must have a finite positive close"):
        load_ccxt(ex, "BTC/USDT", cache_dir=tmp_path)


def test_exchange_error_is_one_line(tmp_path: Path, waits: list[float]) -> None:
    ex = RecordedBinance(failures=[ccxt.ExchangeError('binance {"code":-1121,\n"msg":"Invalid symbol."}')])
    with pytest.raises(
        DataError, match=r"^exchange binance must answer load_markets\(\); it refused: ExchangeError"
    ) as info:
        load_ccxt(ex, "BTC/USDT", cache_dir=tmp_path)
    assert "\n" not in str(info.value)


def test_missing_ccxt_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ccxt", None)
    with pytest.raises(MissingDependencyError, match=r"pairs\[ccxt\]"):
        load_ccxt("binance", "BTC/USDT")
    assert isinstance(MissingDependencyError("x"), ImportError)


def test_exchange_by_id_uses_the_cache(tmp_path: Path, waits: list[float]) -> None:
    # A span that ended before the fetch never expires, so the real Binance class built from the
    # id answers from the cache the recorded exchange filled, without a call.
    want = load_ccxt(
        RecordedBinance(), "BTC/USDT", since="2024-01-01", until="2025-01-01", cache_dir=tmp_path
    )
    got = load_ccxt("binance", "BTC/USDT", since="2024-01-01", until="2025-01-01", cache_dir=tmp_path)
    pd.testing.assert_frame_equal(got, want)
    series = resolve_source(
        "ccxt:binance:BTC/USDT", since="2024-06-01", until="2025-01-01", cache_dir=tmp_path
    )
    pd.testing.assert_series_equal(series, want["BTC/USDT"].loc["2024-06-01":], check_freq=False)


@pytest.mark.parametrize("spec", ["binance:BTC/USDT", "ccxt:binance", "ccxt::BTC/USDT", "ccxt:binance:", 5])
def test_resolve_source_bad_specs(spec: Any) -> None:
    with pytest.raises(DataError, match=r"^source must look like ccxt:EXCHANGE:SYMBOL"):
        resolve_source(spec)


@pytest.mark.parametrize(
    ("kwargs", "arg"),
    [
        ({"exchange": "binanse"}, "exchange"),
        ({"exchange": 5}, "exchange"),
        ({"symbols": []}, "symbols"),
        ({"symbols": ["A/B", "A/B"]}, "symbols"),
        ({"symbols": [None]}, "symbols"),
        ({"symbols": 7}, "symbols"),
        ({"timeframe": "daily"}, "timeframe"),
        ({"timeframe": "2d"}, "timeframe"),  # valid ccxt syntax, not offered by Binance
        ({"since": "someday"}, "since"),
        ({"until": []}, "until"),
        ({"since": "2022-01-01", "until": "2021-01-01"}, "until"),
        ({"cache_dir": 5}, "cache_dir"),
        ({"refresh": "yes"}, "refresh"),
        ({"max_age": "-1h"}, "max_age"),
        ({"limit": 0}, "limit"),
        ({"retries": -1}, "retries"),
        ({"backoff": -1.0}, "backoff"),
    ],
)
def test_load_ccxt_bad_arguments(tmp_path: Path, kwargs: dict[str, Any], arg: str) -> None:
    args = {"exchange": RecordedBinance(), "symbols": "BTC/USDT", "cache_dir": tmp_path, **kwargs}
    with pytest.raises(PairsError, match=rf"^{arg} must"):
        load_ccxt(**args)
    if isinstance(args["exchange"], RecordedBinance):
        assert args["exchange"].calls == []
