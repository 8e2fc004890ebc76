"""load_funding against ccxt's real Binance USD-M class serving recorded pages; no network.

``RecordedUsdm`` replaces only the network calls of ``ccxt.binanceusdm``: ``load_markets``, ``fetch_time``,
the raw funding endpoint ``fapiPublicGetFundingRate`` (so ccxt's own request building, parsing and
filtering of ``fetch_funding_rate_history`` run) and ``fetch_ohlcv`` (for the CLI source). The pages are
Binance's raw answers (``{"symbol", "fundingRate", "fundingTime", "markPrice"}``, strings as Binance
sends them, oldest first, at most ``limit`` rows from ``startTime`` on, 100 by default) of made-up rates
(tests/fixtures/ccxt/README.md).
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import ccxt
import numpy as np
import pandas as pd
import pytest

import pairs
from pairs import DataError, PairsError, load_funding
from pairs.cli import main
from pairs.data import _ccxt
from pairs.data._sample import sample_path
from pairs.data._sources import resolve_source

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ccxt"
MARKETS = json.loads((FIXTURES / "binanceusdm_markets.json").read_text())
HOUR = 3_600_000
DAY = 24 * HOUR
BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"


def _ms(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").value // 10**6)


# The settlements of 2024-01-01 for BTC, written out: the hand-checked example. The second one is
# reported 3 ms after the hour and must be kept at that exact time.
BTC_DAY = [
    (_ms("2024-01-01 00:00"), "0.00010000"),
    (_ms("2024-01-01 08:00") + 3, "-0.00002500"),
    (_ms("2024-01-01 16:00"), "0.00037514"),
]


def _history(first: str, last: str, hours: int, phase: float) -> list[tuple[int, str]]:
    """Settlements every ``hours`` from ``first`` to ``last`` with smooth made-up rates of both signs."""
    times = range(_ms(first), _ms(last) + 1, hours * HOUR)
    return [(t, f"{1e-4 * (0.5 + math.sin(k / 5 + phase)):.8f}") for k, t in enumerate(times)]


def _btc() -> list[tuple[int, str]]:
    hand = {round(t, -5): (t, r) for t, r in BTC_DAY}
    return [hand.get(t, (t, r)) for t, r in _history("2023-12-01", "2024-03-01", 8, 0.0)]


# ETH settles every 8 h, then every 4 h from 2024-01-15 (Binance changes a market's interval at times).
RAW = {
    "BTCUSDT": _btc(),
    "ETHUSDT": _history("2023-12-01", "2024-01-14 16:00", 8, 1.0)
    + _history("2024-01-15", "2024-03-01", 4, 2.0),
}
NOW = _ms("2024-03-01 02:00")  # BTC's next settlement is at 08:00, ETH's at 04:00


def _klines(coin: str) -> list[list[Any]]:
    with open(sample_path(f"{coin}USDT_1d.csv"), newline="") as fh:
        return [
            [_ms(r["timestamp"]), *(float(r[k]) for k in ("open", "high", "low", "close", "volume"))]
            for r in csv.DictReader(fh)
        ]


class RecordedUsdm(ccxt.binanceusdm):  # type: ignore[misc]
    """ccxt's Binance USD-M class with its network calls served from recorded pages."""

    def __init__(self, config: dict[str, Any] | None = None, *, now: int = NOW) -> None:
        self.now = now
        self.failures: list[BaseException] = []
        self.requests: list[dict[str, Any]] = []
        super().__init__({"enableRateLimit": False})

    def milliseconds(self) -> int:
        return self.now

    def _maybe_fail(self) -> None:
        if self.failures:
            raise self.failures.pop(0)

    def load_markets(self, reload: bool = False, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self._maybe_fail()
        self.set_markets(MARKETS)
        return self.markets

    def fetch_time(self, params: dict[str, Any] | None = None) -> int:
        self._maybe_fail()
        return self.now

    def fapiPublicGetFundingRate(self, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        request = dict(params or {})
        self.requests.append(request)
        self._maybe_fail()
        return self.page(request)

    def page(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        """Binance's answer: settlements from ``startTime`` on, oldest first, ``limit`` (100) at most."""
        start, limit = request.get("startTime", 0), min(request.get("limit", 100), 1000)
        rows = [(t, r) for t, r in RAW[request["symbol"]] if t >= start and t <= self.now][:limit]
        return [
            {"symbol": request["symbol"], "fundingRate": r, "fundingTime": t, "markPrice": "1.0"}
            for t, r in rows
        ]

    def fetch_ohlcv(
        self, symbol: str, timeframe: str = "1m", since: Any = None, limit: Any = None, params: Any = None
    ) -> list[list[Any]]:
        # The perpetuals' daily candles: the bundled spot klines stand in for them.
        rows = [r for r in _klines(symbol[:3]) if since is None or r[0] >= since]
        return [list(r) for r in rows[: min(limit or 500, 1000)]]


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(_ccxt, "_sleep", slept.append)
    return slept


def _expected(market_id: str, symbol: str, since: int = 0, until: int = 2**62) -> pd.Series:
    """The recorded rates of one market read straight from the raw pages."""
    rows = [(t, float(r)) for t, r in RAW[market_id] if since <= t < until and t <= NOW]
    index = pd.DatetimeIndex([pd.Timestamp(t, unit="ms", tz="UTC") for t, _ in rows], name="timestamp")
    return pd.Series([r for _, r in rows], index=index, name=symbol)


def test_several_pages_give_every_settlement_at_its_time(tmp_path: Path, waits: list[float]) -> None:
    ex = RecordedUsdm()
    got = load_funding(ex, [BTC, ETH], since="2023-12-01", cache_dir=tmp_path)
    btc, eth = _expected("BTCUSDT", BTC), _expected("ETHUSDT", ETH)
    pd.testing.assert_series_equal(got[BTC].dropna(), btc, check_freq=False)
    pd.testing.assert_series_equal(got[ETH].dropna(), eth, check_freq=False)
    assert len(btc) == 3 * 91 + 1 and len(eth) == 3 * 45 + 6 * 46 + 1
    assert got.index.equals(btc.index.union(eth.index)) and str(got.index.tz) == "UTC"
    assert got.index.name == "timestamp" and list(got.columns) == [BTC, ETH]
    # Pages of Binance's default 100: each asked from one millisecond after the last settlement.
    btc_calls = [r["startTime"] for r in ex.requests if r["symbol"] == "BTCUSDT"]
    assert btc_calls == [_ms("2023-12-01"), *(t + 1 for t, _ in RAW["BTCUSDT"][99::100])]
    assert (got[BTC] < 0).any() and (got[BTC] > 0).any()
    # The exchange's rateLimit (50 ms) is waited between any two calls (markets, time, pages).
    assert waits == [ex.rateLimit / 1000] * (2 + len(ex.requests) - 1)


def test_three_settlements_by_hand(tmp_path: Path, waits: list[float]) -> None:
    got = load_funding(RecordedUsdm(), BTC, since="2024-01-01", until="2024-01-02", cache_dir=tmp_path)
    assert list(got.index) == [
        pd.Timestamp("2024-01-01 00:00", tz="UTC"),
        pd.Timestamp("2024-01-01 08:00:00.003", tz="UTC"),
        pd.Timestamp("2024-01-01 16:00", tz="UTC"),
    ]
    assert got[BTC].tolist() == [0.0001, -0.000025, 0.00037514]


def test_smaller_pages_give_the_same_answer(tmp_path: Path, waits: list[float]) -> None:
    want = load_funding(RecordedUsdm(), [BTC, ETH], since="2024-01-10", until="2024-02-01", cache_dir=False)
    ex = RecordedUsdm()
    got = load_funding(ex, [BTC, ETH], since="2024-01-10", until="2024-02-01", cache_dir=False, limit=7)
    pd.testing.assert_frame_equal(got, want)
    assert len(ex.requests) > 20 and all(r["limit"] == 7 for r in ex.requests)
    # The span is [since, until), ETH's 4-hourly settlements included.
    assert got.index[0] == pd.Timestamp("2024-01-10", tz="UTC") and got.index[-1] < pd.Timestamp(
        "2024-02-01", tz="UTC"
    )
    assert got[ETH].dropna().index.to_series().diff().max() == pd.Timedelta(hours=8)


class EmptyAfter(RecordedUsdm):
    """Serves nothing from ``hole`` on, though settlements keep happening (a failing endpoint), for
    ``empty_answers`` empty answers."""

    hole = _ms("2024-01-20")
    empty_answers = 10**9

    def page(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        rows = super().page(request)
        if self.empty_answers > 0:
            rows = [r for r in rows if r["fundingTime"] < self.hole]
            self.empty_answers -= not rows
        return rows


def test_an_empty_page_mid_span_is_an_error_not_the_end(tmp_path: Path, waits: list[float]) -> None:
    ex = EmptyAfter()
    with pytest.raises(DataError) as info:
        load_funding(ex, BTC, since="2024-01-01", until="2024-02-01", cache_dir=tmp_path, limit=50)
    last = [t for t, _ in RAW["BTCUSDT"] if t < EmptyAfter.hole][-1]
    assert str(info.value) == (
        "symbols must have every funding settlement on binanceusdm in the span asked; got none for "
        f"'BTC/USDT:USDT' from {pd.Timestamp(last + 8 * HOUR, unit='ms', tz='UTC').isoformat()} up to "
        "until=2024-02-01T00:00:00+00:00 (2024-03-01T02:00:00+00:00 by the exchange's clock): "
        f"fetch_funding_rate_history(since={last + 1}) answered no new rate in 4 attempt(s) "
        "(a delisting, a failing endpoint?)."
    )
    assert [r["startTime"] for r in ex.requests[-4:]] == [last + 1] * 4
    assert [w for w in waits if w >= 1] == [
        1.0,
        2.0,
        4.0,
    ]  # the backoff of network errors, between empty answers
    assert list(tmp_path.iterdir()) == []  # nothing cached


def test_a_page_empty_once_is_retried(tmp_path: Path, waits: list[float]) -> None:
    ex = EmptyAfter()
    ex.empty_answers = 1
    got = load_funding(ex, BTC, since="2024-01-01", until="2024-02-01", cache_dir=tmp_path, limit=50)
    pd.testing.assert_series_equal(
        got[BTC], _expected("BTCUSDT", BTC, _ms("2024-01-01"), _ms("2024-02-01")), check_freq=False
    )


def test_the_last_settlement_not_yet_due_is_not_an_error(tmp_path: Path, waits: list[float]) -> None:
    # An hour after BTC's 00:00 settlement, nothing more is due: no error and no page after the last.
    ex = RecordedUsdm(now=_ms("2024-03-01 01:00"))
    got = load_funding(ex, BTC, since="2024-02-25", cache_dir=tmp_path)
    assert got.index[-1] == pd.Timestamp("2024-03-01", tz="UTC") and len(ex.requests) == 1


def test_cache_round_trip(tmp_path: Path, waits: list[float]) -> None:
    want = load_funding(
        RecordedUsdm(), [BTC, ETH], since="2023-12-15", until="2024-02-15", cache_dir=tmp_path
    )
    assert len(list(tmp_path.iterdir())) == 2
    offline = RecordedUsdm()
    offline.failures = [ccxt.NetworkError("offline")] * 100
    got = load_funding(offline, [BTC, ETH], since="2024-01-01", until="2024-02-01", cache_dir=tmp_path)
    pd.testing.assert_frame_equal(got, want.loc["2024-01-01":"2024-01-31"].dropna(how="all"))
    assert offline.requests == [] and (got[BTC] < 0).any()  # signed rates survive the cache
    # An open span expires after max_age (one hour by default); refresh=True always downloads.
    open_ended = load_funding(RecordedUsdm(), BTC, since="2024-02-20", cache_dir=tmp_path)
    ex = RecordedUsdm(now=NOW + 30 * 60_000)
    pd.testing.assert_frame_equal(load_funding(ex, BTC, since="2024-02-20", cache_dir=tmp_path), open_ended)
    assert ex.requests == []
    later = RecordedUsdm(now=NOW + 2 * HOUR)
    load_funding(later, BTC, since="2024-02-20", cache_dir=tmp_path)
    assert len(later.requests) == 1
    again = RecordedUsdm()
    load_funding(again, BTC, since="2024-01-01", until="2024-02-01", cache_dir=tmp_path, refresh=True)
    assert len(again.requests) == 1


def test_offline_is_one_clear_line_and_writes_no_cache(tmp_path: Path, waits: list[float]) -> None:
    ex = RecordedUsdm()
    ex.failures = [
        ccxt.NetworkError("binanceusdm GET https://fapi.binance.com\nName or service not known")
    ] * 4
    with pytest.raises(
        DataError, match=r"^exchange binanceusdm must be reachable for load_markets\(\); failed after 4"
    ) as info:
        load_funding(ex, BTC, since="2024-01-01", cache_dir=tmp_path)
    assert "\n" not in str(info.value) and waits == [1.0, 2.0, 4.0]
    assert list(tmp_path.iterdir()) == []


def test_only_perpetual_swaps(tmp_path: Path, waits: list[float]) -> None:
    with pytest.raises(
        DataError,
        match=r"^symbols must be perpetual swaps of binanceusdm such as 'BTC/USDT:USDT'; got 'BTC/USDT:USDT-240329' \(a future market\)",
    ):
        load_funding(RecordedUsdm(), [BTC, "BTC/USDT:USDT-240329"], cache_dir=tmp_path)
    with pytest.raises(
        DataError,
        match=r"^symbols must be markets of binanceusdm .*got 'BTC/USDT'; did you mean BTC/USDT:USDT",
    ):
        load_funding(RecordedUsdm(), "BTC/USDT", cache_dir=tmp_path)


def test_exchange_without_funding_history(waits: list[float]) -> None:
    with pytest.raises(
        DataError, match=r"^exchange must offer fetch_funding_rate_history in ccxt .*got 'kraken'"
    ):
        load_funding("kraken", "BTC/USD:USD", cache_dir=False)


class SamePage(RecordedUsdm):
    """An exchange class that ignores ``since`` and does not filter by it as ccxt's Binance does."""

    def fetch_funding_rate_history(
        self, symbol: str, since: Any = None, limit: Any = None, params: Any = None
    ) -> Any:
        return super().fetch_funding_rate_history(symbol, _ms("2024-01-01"), limit)


class Revised(RecordedUsdm):
    """Serves the first settlement twice, with two different rates."""

    def page(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        rows = super().page(request)
        return [rows[0], {**rows[0], "fundingRate": "0.00020000"}, *rows[1:]]


class Repeated(RecordedUsdm):
    """Serves the first settlement of every page twice, identical."""

    def page(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        rows = super().page(request)
        return rows[:1] + rows


def test_an_identical_repeated_settlement_is_kept_once(tmp_path: Path, waits: list[float]) -> None:
    span = {"since": "2024-01-01", "until": "2024-02-01", "cache_dir": False, "limit": 14}
    pd.testing.assert_frame_equal(
        load_funding(Repeated(), BTC, **span), load_funding(RecordedUsdm(), BTC, **span)
    )


class NoRate(RecordedUsdm):
    def page(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        return [{**row, "fundingRate": None} for row in super().page(request)]


@pytest.mark.parametrize(
    ("exchange", "match"),
    [
        (
            SamePage,
            r"^exchange binanceusdm must honour since in fetch_funding_rate_history; asked for 'BTC/USDT:USDT' rates from 2024-01-05T08:00:00.001000\+00:00",
        ),
        (
            Revised,
            r"^exchange binanceusdm must serve one funding rate per settlement; got 0.0001 \(fetch_funding_rate_history\('BTC/USDT:USDT', since=1704067200000\)\) and 0.0002 \(fetch_funding_rate_history\('BTC/USDT:USDT', since=1704067200000\)\) for 'BTC/USDT:USDT' at 2024-01-01T00:00:00\+00:00",
        ),
        (NoRate, r"^funding rate 0 must have a finite fundingRate; got None"),
    ],
    ids=["ignores_since", "two_rates_one_time", "no_rate"],
)
def test_bad_pages_are_refused(tmp_path: Path, waits: list[float], exchange: type, match: str) -> None:
    with pytest.raises(DataError, match=match):
        load_funding(exchange(), BTC, since="2024-01-01", until="2024-02-01", cache_dir=tmp_path, limit=14)
    assert list(tmp_path.iterdir()) == []


def test_no_settlement_in_the_span(tmp_path: Path, waits: list[float]) -> None:
    with pytest.raises(
        DataError,
        match=r"^symbols must have funding rates on binanceusdm in the span asked; got none for 'BTC/USDT:USDT'",
    ):
        load_funding(RecordedUsdm(), BTC, since="2024-03-05", cache_dir=tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "arg"),
    [
        ({"symbols": []}, "symbols"),
        ({"symbols": [BTC, BTC]}, "symbols"),
        ({"since": "nope"}, "since"),
        ({"since": "2024-02-01", "until": "2024-01-01"}, "until"),
        ({"limit": 0}, "limit"),
        ({"retries": -1}, "retries"),
        ({"backoff": -1.0}, "backoff"),
        ({"max_age": "-1h"}, "max_age"),
        ({"refresh": "yes"}, "refresh"),
        ({"cache_dir": 5}, "cache_dir"),
        ({"exchange": "binanceusdx"}, "exchange"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs: dict[str, Any], arg: str) -> None:
    call = {"exchange": RecordedUsdm(), "symbols": BTC, **kwargs}
    with pytest.raises(PairsError, match=rf"^{arg} must"):
        load_funding(call.pop("exchange"), call.pop("symbols"), **call)


def test_ccxt_sources_take_perpetual_symbols(
    tmp_path: Path, waits: list[float], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(ccxt, "binanceusdm", RecordedUsdm)
    series = resolve_source(
        f"ccxt:binanceusdm:{BTC}", since="2024-01-01", until="2024-02-01", cache_dir=tmp_path
    )
    assert series.name == BTC and len(series) == 31
    argv = ["signal", f"ccxt:binanceusdm:{ETH}", f"ccxt:binanceusdm:{BTC}", "--cache-dir", str(tmp_path)]
    assert main([*argv, "--format", "csv"]) == 0
    got = pd.read_csv(io.StringIO(capsys.readouterr().out), index_col="timestamp")
    sample = pairs.load_sample("binance_1d")[["ETH", "BTC"]].dropna().loc[:"2024-02-29"]
    expected = pairs.Strategy().run(sample["ETH"], sample["BTC"]).frame
    np.testing.assert_array_equal(got["position"].to_numpy(), expected["position"].to_numpy())
