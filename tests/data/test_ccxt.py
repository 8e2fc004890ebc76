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

from pairs import (
    DataError,
    MissingDependencyError,
    PairsError,
    PairsWarning,
    from_ccxt,
    load_ccxt,
    read_prices,
)
from pairs.data import _ccxt
from pairs.data._cache import cache_path, write_cache
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
# Three made-up days after the recorded ones, for clocks moved past them.
LATER = {
    s: [*rows, *([rows[-1][0] + k * DAY, *[rows[-1][4] * (1 + k / 100)] * 4, 1.0] for k in (1, 2, 3))]
    for s, rows in CANDLES.items()
}


class RecordedBinance(ccxt.binance):  # type: ignore[misc]
    """ccxt's Binance class with its three network calls served from recorded data.

    ``now`` is the local clock (``milliseconds``), ``server_now`` the exchange's (``fetch_time``,
    default ``now``); the exchange serves candles by its own clock, the still-open one as it
    stands (its close is still its open). Subclasses change ``page`` to misbehave.
    """

    def __init__(
        self,
        *,
        now: int = AFTER_LAST,
        server_now: int | None = None,
        failures: list[BaseException] | None = None,
    ) -> None:
        self.now = now
        self.server_now = now if server_now is None else server_now
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

    def fetch_time(self, params: dict[str, Any] | None = None) -> int:
        self.calls.append(("fetch_time",))
        self._maybe_fail()
        return self.server_now

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
        return self.page(self.candles.get(symbol, []), since, min(limit or 500, 1000))

    def page(self, candles: list[list[Any]], since: int | None, limit: int) -> list[list[Any]]:
        """Binance's answer: the candles opening at or after ``since``, oldest first."""
        rows = [r for r in candles if since is None or r[0] >= since][:limit]
        served = [list(r) for r in rows if r[0] <= self.server_now]
        return [[*r[:4], r[1], r[5]] if r[0] + DAY > self.server_now else r for r in served]

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
    # 3,065 daily candles in pages of 1,000 (ccxt's Binance limit): 4 pages each, each from one
    # millisecond after the last candle of the previous page.
    pages = ex.ohlcv_calls
    assert len(pages) == 8 and all(c[2] == "1d" and c[4] == 1000 for c in pages)
    btc = [c[3] for c in pages if c[1] == "BTC/USDT"]
    assert btc[0] == 0 and btc[1] == CANDLES["BTC/USDT"][999][0] + 1
    # Markets, the exchange's time, then the pages; the exchange's rateLimit (50 ms for Binance)
    # between every two calls, nothing else.
    assert ex.calls[:2] == [("load_markets",), ("fetch_time",)] and len(ex.calls) == 10
    assert waits == [0.05] * 9


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
    assert len(ex.calls) == 6  # load_markets failed 3 times, then load_markets, fetch_time, one page
    # Backoff 2 * 2**k after each failure (longer than the 50 ms rateLimit, so no extra
    # pause), then the rateLimit before each next call.
    assert waits == [2.0, 4.0, 8.0, 0.05, 0.05]


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
    ex.healthy_calls = 3  # load_markets, fetch_time and the first page
    second = CANDLES["BTC/USDT"][999][0] + 1
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
    def stamp(ms: int) -> pd.Timestamp:
        return pd.Timestamp(ms, unit="ms", tz="UTC")

    load_ccxt(RecordedBinance(), "BTC/USDT", cache_dir=tmp_path)
    later = RecordedBinance(now=AFTER_LAST + DAY - 1)  # default max_age for daily candles: one day
    later.candles = LATER
    assert load_ccxt(later, "BTC/USDT", cache_dir=tmp_path).index[-1] == stamp(LAST)
    assert later.calls == []
    # By then the day after the recorded data has closed: with max_age="6h" it is downloaded.
    got = load_ccxt(later, "BTC/USDT", cache_dir=tmp_path, max_age="6h")
    assert got.index[-1] == stamp(LAST + DAY) and got.iloc[-1, 0] == LATER["BTC/USDT"][-3][4]
    assert len(later.ohlcv_calls) == 4
    stale = RecordedBinance(now=AFTER_LAST + 2 * DAY)
    stale.candles = LATER
    assert load_ccxt(stale, "BTC/USDT", cache_dir=tmp_path).index[-1] == stamp(LAST + 2 * DAY)
    assert len(stale.ohlcv_calls) == 4
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
        ({"on_empty_page": "ignore"}, "on_empty_page"),
    ],
)
def test_load_ccxt_bad_arguments(tmp_path: Path, kwargs: dict[str, Any], arg: str) -> None:
    args = {"exchange": RecordedBinance(), "symbols": "BTC/USDT", "cache_dir": tmp_path, **kwargs}
    with pytest.raises(PairsError, match=rf"^{arg} must"):
        load_ccxt(**args)
    if isinstance(args["exchange"], RecordedBinance):
        assert args["exchange"].calls == []


# --- data that must not be silently short or wrong (issue #22) --------------------------------------------

BTC = CANDLES["BTC/USDT"]
SECOND_PAGE = BTC[999][0] + 1  # where the second page of 1,000 is asked from


def _ts(ms: int) -> str:
    return pd.Timestamp(ms, unit="ms", tz="UTC").isoformat()


class EmptyAfter(RecordedBinance):
    """Answers nothing from ``since > start`` on, ``times`` times (forever by default)."""

    def __init__(self, start: int, times: int = 10**9, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start, self.times = start, times

    def page(self, candles: list[list[Any]], since: int | None, limit: int) -> list[list[Any]]:
        if since is not None and since > self.start and self.times:
            self.times -= 1
            return []
        return super().page(candles, since, limit)


def test_empty_page_mid_span_is_retried_then_raises_and_caches_nothing(
    tmp_path: Path, waits: list[float]
) -> None:
    ex = EmptyAfter(BTC[999][0])
    with pytest.raises(DataError) as info:
        load_ccxt(ex, "BTC/USDT", cache_dir=tmp_path)
    assert str(info.value).startswith(
        f"symbols must have all closed 1d candles on binance in the span asked; got none for 'BTC/USDT' "
        f"from {_ts(BTC[1000][0])} up to now ({_ts(AFTER_LAST)} by the exchange's clock): "
        f"fetch_ohlcv(since={SECOND_PAGE}) answered no new candle in 4 attempt(s)"
    )
    assert [c[3] for c in ex.ohlcv_calls] == [0] + [SECOND_PAGE] * 4  # the first page, then 1 + 3 retries
    # rateLimit before fetch_time and each of the first two pages, then the backoff of each retry
    assert waits == [0.05, 0.05, 0.05, 1.0, 2.0, 4.0]
    assert list(tmp_path.iterdir()) == []
    # A bounded span ending before the hole is complete and loads.
    frame = load_ccxt(EmptyAfter(BTC[999][0]), "BTC/USDT", until=_ts(BTC[1000][0]), cache_dir=tmp_path)
    assert len(frame) == 1000


def test_a_page_empty_once_is_retried(tmp_path: Path, waits: list[float]) -> None:
    ex = EmptyAfter(BTC[999][0], times=1)
    frame = load_ccxt(ex, "BTC/USDT", cache_dir=tmp_path)
    pd.testing.assert_series_equal(frame["BTC/USDT"], _reference("BTC").rename("BTC/USDT"), check_freq=False)
    assert [c[3] for c in ex.ohlcv_calls][:3] == [0, SECOND_PAGE, SECOND_PAGE]
    assert waits[3] == 1.0  # the backoff before the retry


def test_empty_page_warn_keeps_and_caches_only_the_candles_before(tmp_path: Path, waits: list[float]) -> None:
    hole = BTC[1000][0]
    with pytest.warns(
        PairsWarning, match=rf"no closed 1d candles on binance for 'BTC/USDT' from {re.escape(_ts(hole))} up"
    ):
        frame = load_ccxt(EmptyAfter(BTC[999][0]), "BTC/USDT", cache_dir=tmp_path, on_empty_page="warn")
    ref = _reference("BTC").rename("BTC/USDT")
    pd.testing.assert_series_equal(frame["BTC/USDT"], ref.iloc[:1000], check_freq=False)
    (path,) = tmp_path.iterdir()
    assert json.loads(path.read_text())["payload"]["end"] == hole  # complete up to the hole only
    # The span before the hole is served from the cache; anything past it is asked again.
    ex = RecordedBinance()
    part = load_ccxt(ex, "BTC/USDT", until=_ts(hole), cache_dir=tmp_path)
    assert ex.calls == [] and len(part) == 1000
    full = load_ccxt(ex, "BTC/USDT", cache_dir=tmp_path)
    assert len(ex.ohlcv_calls) == 4
    pd.testing.assert_series_equal(full["BTC/USDT"], ref, check_freq=False)


class SamePage(RecordedBinance):
    """Ignores ``since``: always the oldest candles."""

    def page(self, candles: list[list[Any]], since: int | None, limit: int) -> list[list[Any]]:
        return super().page(candles, None, limit)


class LatestPage(RecordedBinance):
    """Ignores ``since``: always the latest candles, as some exchanges do."""

    def page(self, candles: list[list[Any]], since: int | None, limit: int) -> list[list[Any]]:
        return super().page(candles, None, len(candles))[-limit:]


@pytest.mark.parametrize(
    ("exchange", "since", "answered", "calls"),
    [
        (SamePage, None, BTC[0][0], 2),
        (LatestPage, None, BTC[-1000][0], 2),  # looks like a young market: one more page tells
        (LatestPage, "2021-01-01", BTC[-1000][0], 2),
        (LatestPage, "2025-06-01", BTC[-1000][0], 1),  # older than since on the first page
    ],
    ids=["same_page", "latest_page", "latest_page_since", "latest_page_older_than_since"],
)
def test_exchange_ignoring_since_is_refused(
    tmp_path: Path, waits: list[float], exchange: type[RecordedBinance], since: Any, answered: int, calls: int
) -> None:
    ex = exchange()
    with pytest.raises(
        DataError,
        match=rf"^exchange binance must honour since in fetch_ohlcv; asked for 'BTC/USDT' candles from .*"
        rf"it answered one opening {re.escape(_ts(answered))}\.$",
    ):
        load_ccxt(ex, "BTC/USDT", since=since, cache_dir=tmp_path)
    assert len(ex.ohlcv_calls) == calls and list(tmp_path.iterdir()) == []


def test_a_young_market_is_one_page_and_one_check(tmp_path: Path, waits: list[float]) -> None:
    ex = RecordedBinance()
    ex.candles = {"BTC/USDT": BTC[-200:]}  # listed 200 days before the recorded end
    frame = load_ccxt(ex, "BTC/USDT", since="2020-01-01", cache_dir=tmp_path)
    pd.testing.assert_series_equal(
        frame["BTC/USDT"], _reference("BTC").iloc[-200:].rename("BTC/USDT"), check_freq=False
    )
    assert [c[3] for c in ex.ohlcv_calls][1] == BTC[-1][0] + 1


class ContainingPage(RecordedBinance):
    """Also serves the candle containing ``since`` (some exchanges do), revised by ``revise``."""

    revise = 1.0

    def page(self, candles: list[list[Any]], since: int | None, limit: int) -> list[list[Any]]:
        rows = [list(r) for r in candles if since is None or r[0] + DAY > since][:limit]
        if since and rows and rows[0][0] < since:
            rows[0][4] *= self.revise
        return rows


def test_identical_repeated_candles_are_merged(tmp_path: Path, waits: list[float]) -> None:
    frame = load_ccxt(ContainingPage(), "BTC/USDT", cache_dir=tmp_path)
    pd.testing.assert_series_equal(frame["BTC/USDT"], _reference("BTC").rename("BTC/USDT"), check_freq=False)


def test_two_different_candles_at_one_time_are_refused(tmp_path: Path, waits: list[float]) -> None:
    ex = ContainingPage()
    ex.revise = 1.01
    row = BTC[999]
    with pytest.raises(DataError) as info:
        load_ccxt(ex, "BTC/USDT", cache_dir=tmp_path)
    assert str(info.value) == (
        f"exchange binance must serve one candle per open time; got two different 'BTC/USDT' candles "
        f"opening {_ts(row[0])}: {row!r} (fetch_ohlcv('BTC/USDT', '1d', since=0)) and "
        f"{[*row[:4], row[4] * 1.01, row[5]]!r} (fetch_ohlcv('BTC/USDT', '1d', since={SECOND_PAGE}))."
    )
    # Within one page too.
    ex = RecordedBinance()
    twin = [*BTC[10][:4], BTC[10][4] + 1, BTC[10][5]]
    ex.candles = {"BTC/USDT": [*BTC[:11], twin, *BTC[11:]]}
    with pytest.raises(DataError, match=r"two different 'BTC/USDT' candles opening 2017-08-27T00:00:00"):
        load_ccxt(ex, "BTC/USDT", cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_open_candle_may_change_between_pages(tmp_path: Path, waits: list[float]) -> None:
    # A young market: the page checking `since` serves the still-open candle again, moved on.
    ex = ContainingPage(server_now=LAST + 12 * 3_600_000)
    ex.revise = 1.01
    ex.candles = {"BTC/USDT": BTC[-200:]}
    frame = load_ccxt(ex, "BTC/USDT", since="2020-01-01", cache_dir=tmp_path)
    assert [c[3] for c in ex.ohlcv_calls] == [pd.Timestamp("2020-01-01", tz="UTC").value // 10**6, LAST + 1]
    np.testing.assert_array_equal(frame["BTC/USDT"].to_numpy(), [r[4] for r in BTC[-200:-1]])


def test_a_candle_off_the_grid_is_refused_not_paged_over(tmp_path: Path, waits: list[float]) -> None:
    # Candle 999, the last of the first page, opens at noon: paging on from its open plus one
    # day used to skip candle 1000 (midnight); now the page after it is asked from just after
    # it and the stray candle is refused.
    ex = RecordedBinance()
    ex.candles = {"BTC/USDT": [*BTC[:999], [BTC[999][0] + DAY // 2, *BTC[999][1:]], *BTC[1000:]]}
    with pytest.raises(DataError) as info:
        load_ccxt(ex, "BTC/USDT", cache_dir=tmp_path)
    assert str(info.value) == (
        f"exchange binance must serve 'BTC/USDT' 1d candles on one grid (whole bars apart); got one "
        f"opening {_ts(BTC[999][0] + DAY // 2)}, off the grid of the one opening {_ts(BTC[0][0])} "
        "(fetch_ohlcv('BTC/USDT', '1d', since=0)). Mixed timeframes or shifted candles are refused, not merged."
    )


def test_a_grid_off_midnight_pages_without_loss(tmp_path: Path, waits: list[float]) -> None:
    # Daily candles opening at 16:00 UTC (midnight in UTC+8), asked in pages of 300 from an
    # instant between two of them.
    shift = -8 * 3_600_000
    ex = RecordedBinance(now=AFTER_LAST + shift)
    ex.candles = {"BTC/USDT": [[r[0] + shift, *r[1:]] for r in BTC]}
    frame = load_ccxt(ex, "BTC/USDT", since="2020-01-01 03:00", limit=300, cache_dir=tmp_path)
    ref = _reference("BTC").loc["2020-01-02":]
    np.testing.assert_array_equal(frame["BTC/USDT"].to_numpy(), ref.to_numpy())
    assert (frame.index == ref.index + pd.Timedelta(milliseconds=shift)).all()


def _monthly(rows: list[list[Any]]) -> list[list[Any]]:
    frame = pd.DataFrame(rows, columns=["t", "o", "h", "l", "c", "v"])
    frame.index = pd.to_datetime(frame["t"], unit="ms")
    months = frame.groupby(frame.index.to_period("M").start_time)
    out = months.agg({"o": "first", "h": "max", "l": "min", "c": "last", "v": "sum"})
    return [[int(ts.value // 10**6), *map(float, r)] for ts, r in out.iterrows()]


class Monthly(RecordedBinance):
    def page(self, candles: list[list[Any]], since: int | None, limit: int) -> list[list[Any]]:
        rows = [r for r in _monthly(candles) if since is None or r[0] >= since]
        return [r for r in rows if r[0] <= self.server_now][:limit]


def test_monthly_candles_are_calendar_months(tmp_path: Path, waits: list[float]) -> None:
    # 2026-01-31 12:00: January's candle (31 days) is still open although 30 days have passed.
    now = pd.Timestamp("2026-01-31 12:00", tz="UTC").value // 10**6
    ex = Monthly(now=now)
    frame = load_ccxt(ex, "BTC/USDT", timeframe="1M", limit=10, cache_dir=tmp_path)
    ref = _reference("BTC").resample("MS").last().loc[:"2025-12-01"]
    np.testing.assert_array_equal(frame["BTC/USDT"].to_numpy(), ref.to_numpy())
    assert frame.index[-1] == pd.Timestamp("2025-12-01", tz="UTC")
    assert len(from_ccxt(_monthly(BTC), drop_incomplete=_ts(now), timeframe="1M")) == len(ref)


def test_still_open_candle_is_judged_by_the_exchange_clock(tmp_path: Path, waits: list[float]) -> None:
    # The local clock runs 13 hours ahead: it says the last candle closed an hour ago, while
    # the exchange (at noon) still serves it open, its close still its open.
    ahead = RecordedBinance(now=AFTER_LAST, server_now=LAST + 12 * 3_600_000)
    frame = load_ccxt(ahead, "BTC/USDT", cache_dir=tmp_path)
    assert frame.index[-1] == pd.Timestamp(LAST - DAY, unit="ms", tz="UTC")
    (path,) = tmp_path.iterdir()
    payload = json.loads(path.read_text())["payload"]
    assert payload["index"][-1] == LAST - DAY and payload["fetched_at"] == LAST + 12 * 3_600_000
    # A day later the span up to the end of that candle is history: it is downloaded again
    # (the cache was fetched before it closed), with the candle's final close.
    later = RecordedBinance(now=AFTER_LAST + 3_600_000)
    got = load_ccxt(later, "BTC/USDT", until=_ts(LAST + DAY), cache_dir=tmp_path)
    assert len(later.ohlcv_calls) == 4
    assert got["BTC/USDT"].iloc[-1] == BTC[-1][4] != BTC[-1][1]


def test_without_fetch_time_the_local_clock_is_used(tmp_path: Path, waits: list[float]) -> None:
    ex = RecordedBinance(now=LAST + 12 * 3_600_000)
    ex.has = {**ex.has, "fetchTime": False}
    frame = load_ccxt(ex, "BTC/USDT", since="2025-01-01", cache_dir=tmp_path)
    assert ("fetch_time",) not in ex.calls and frame.index[-1] == pd.Timestamp(
        LAST - DAY, unit="ms", tz="UTC"
    )
    bad = RecordedBinance()
    bad.server_now = None  # type: ignore[assignment]
    with pytest.raises(DataError, match=r"^exchange binance must tell its time \(fetch_time\(\)\) in epoch"):
        load_ccxt(bad, "BTC/USDT", cache_dir=tmp_path)


@pytest.mark.parametrize("error", [KeyError("serverTime"), TypeError("'NoneType' object"), RuntimeError("x")])
@pytest.mark.parametrize("healthy", [0, 2], ids=["load_markets", "fetch_ohlcv"])
def test_non_ccxt_errors_inside_the_exchange_are_data_errors(
    tmp_path: Path, waits: list[float], error: Exception, healthy: int
) -> None:
    ex = RecordedBinance(failures=[error])
    ex.healthy_calls = healthy
    call = "load_markets()" if healthy == 0 else "fetch_ohlcv('BTC/USDT', '1d', since=0)"
    with pytest.raises(DataError) as info:
        load_ccxt(ex, "BTC/USDT", cache_dir=tmp_path)
    assert str(info.value).startswith(
        f"exchange binance must answer {call}; the call failed with {type(error).__name__}: "
    )
    assert info.value.__cause__ is error and len(ex.calls) == healthy + 1  # not retried
    assert list(tmp_path.iterdir()) == []


def test_keyboard_interrupt_inside_the_exchange_is_untouched(tmp_path: Path, waits: list[float]) -> None:
    ex = RecordedBinance(failures=[KeyboardInterrupt()])
    ex.healthy_calls = 2
    with pytest.raises(KeyboardInterrupt):
        load_ccxt(ex, "BTC/USDT", cache_dir=tmp_path)


def test_a_cache_written_before_the_page_checks_is_fetched_again(tmp_path: Path, waits: list[float]) -> None:
    # A file of the former loader: same key without "rules", holding a span an empty page cut short.
    key = {"source": "ccxt:binance", "symbol": "BTC/USDT", "interval": "1d"}
    short = _reference("BTC").iloc[:1000]
    path = cache_path(tmp_path, "ccxt:binance", "BTC/USDT", "1d")
    write_cache(
        path, key, short, start=None, end=None, fetched_at=pd.Timestamp(AFTER_LAST, unit="ms", tz="UTC")
    )
    ex = RecordedBinance()
    frame = load_ccxt(ex, "BTC/USDT", until="2025-01-01", cache_dir=tmp_path)
    assert len(ex.ohlcv_calls) == 3 and frame.index[-1] == pd.Timestamp("2024-12-31", tz="UTC")


def test_load_ccxt_keeps_the_open_prices_when_asked(tmp_path: Path, waits: list[float]) -> None:
    """Issue #25: the opens of the same candles (for fill="next_open"), cached apart from the closes."""
    ex = RecordedBinance()
    closes = load_ccxt(ex, "ETH/USDT", cache_dir=tmp_path)
    opens = load_ccxt(ex, "ETH/USDT", cache_dir=tmp_path, field="open")
    ref = read_prices(sample_path("ETHUSDT_1d.csv"), field="open").rename("ETH/USDT")
    pd.testing.assert_series_equal(opens["ETH/USDT"], ref, check_freq=False)
    assert not opens.equals(closes) and len(list(tmp_path.iterdir())) == 2
    calls = len(ex.calls)
    again = load_ccxt(ex, "ETH/USDT", cache_dir=tmp_path, field="open")
    pd.testing.assert_frame_equal(again, opens)
    assert len(ex.calls) == calls  # a cache hit
    assert from_ccxt(CANDLES["ETH/USDT"][:2], field="high").tolist() == [
        row[2] for row in CANDLES["ETH/USDT"][:2]
    ]
    with pytest.raises(PairsError, match=r"^field must be one of"):
        from_ccxt(CANDLES["ETH/USDT"][:2], field="volume")
    with pytest.raises(DataError, match=r"^ohlcv row 0 must have a finite positive open"):
        from_ccxt([[1609459200000, 0.0, 2.0, 0.5, 1.5, 1.0]], field="open")


def test_resolve_source_reads_the_recorded_klines_opens(
    tmp_path: Path, waits: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue #25: ``ccxt:EXCHANGE:SYMBOL`` with ``field="open"`` (what ``pairs backtest --fill
    next_open`` reads) is the open column of the klines served, row for row."""
    monkeypatch.setattr(ccxt, "binance", lambda config=None: RecordedBinance())
    opens = resolve_source("ccxt:binance:ETH/USDT", cache_dir=tmp_path, field="open")
    rows = CANDLES["ETH/USDT"]
    assert opens.index.equals(pd.DatetimeIndex([pd.Timestamp(r[0], unit="ms", tz="UTC") for r in rows]))
    np.testing.assert_array_equal(opens.to_numpy(), [r[1] for r in rows])
    closes = resolve_source("ccxt:binance:ETH/USDT", cache_dir=tmp_path)
    np.testing.assert_array_equal(closes.to_numpy(), [r[4] for r in rows])
