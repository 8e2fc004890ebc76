"""``ccxt:EXCHANGE:SYMBOL`` price sources on the command line, against ccxt's real Binance class with
its two network calls served from the bundled Binance daily candles (no network)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import ccxt
import numpy as np
import pandas as pd
import pytest

import pairs
from pairs.cli import main
from pairs.data import _ccxt
from pairs.data._sample import sample_path

MARKETS = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures" / "ccxt" / "binance_markets.json").read_text()
)


def _klines(coin: str) -> list[list[Any]]:
    with open(sample_path(f"{coin}USDT_1d.csv"), newline="") as fh:
        return [
            [
                pd.Timestamp(r["timestamp"], tz="UTC").value // 10**6,
                *(float(r[k]) for k in ("open", "high", "low", "close", "volume")),
            ]
            for r in csv.DictReader(fh)
        ]


class OfflineBinance(ccxt.binance):  # type: ignore[misc]
    """ccxt's Binance with its three network calls (markets, time, candles) served offline."""

    candles: ClassVar[dict[str, list[list[Any]]]] = {"BTC/USDT": _klines("BTC"), "ETH/USDT": _klines("ETH")}

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__({"enableRateLimit": False})

    def milliseconds(self) -> int:
        return self.candles["BTC/USDT"][-1][0] + 86_400_000 + 3_600_000  # the last candle closed an hour ago

    def fetch_time(self, params: Any = None) -> int:
        return self.milliseconds()

    def load_markets(self, reload: bool = False, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.set_markets(MARKETS)
        return self.markets

    def fetch_ohlcv(
        self, symbol: str, timeframe: str = "1m", since: Any = None, limit: Any = None, params: Any = None
    ) -> list[list[Any]]:
        rows = [r for r in self.candles[symbol] if since is None or r[0] >= since]
        return [list(r) for r in rows[: min(limit or 500, 1000)]]


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(ccxt, "binance", OfflineBinance)
    monkeypatch.setattr(_ccxt, "_sleep", lambda seconds: None)
    return tmp_path


def test_ccxt_sources_equal_the_bundled_files(offline: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["signal", "ccxt:binance:ETH/USDT", "ccxt:binance:BTC/USDT", "--cache-dir", str(offline)]
    assert main([*argv, "--format", "csv"]) == 0
    got = pd.read_csv(io.StringIO(capsys.readouterr().out), index_col="timestamp")
    sample = pairs.load_sample("binance_1d")[["ETH", "BTC"]].dropna()
    expected = pairs.Strategy().run(sample["ETH"], sample["BTC"]).frame
    assert len(got) == len(expected)
    np.testing.assert_array_equal(got["position"].to_numpy(), expected["position"].to_numpy())
    np.testing.assert_allclose(got["beta"], expected["beta"], rtol=1e-12)
    # The second run is served from the cache written by the first.
    monkey = OfflineBinance.fetch_ohlcv
    try:
        OfflineBinance.fetch_ohlcv = None  # type: ignore[assignment,method-assign]
        assert main([*argv, "--format", "json"]) == 0
    finally:
        OfflineBinance.fetch_ohlcv = monkey  # type: ignore[method-assign]


def test_bad_ccxt_source_is_one_line_exit_2(offline: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["signal", "ccxt:binance", "sample:BTC", "--cache-dir", str(offline)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ccxt:EXCHANGE:SYMBOL" in err


def _not_a_ccxt_error(rows: list[list[Any]]) -> list[list[Any]]:
    raise TypeError("'NoneType' object is not subscriptable")  # a parser meeting a changed answer


def _empty_after_2020(rows: list[list[Any]]) -> list[list[Any]]:
    return rows if rows and rows[0][0] < 1_600_000_000_000 else []


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        # Used to escape as an internal error (exit 3, "a bug in pairs").
        (
            _not_a_ccxt_error,
            "exchange binance must answer fetch_ohlcv('ETH/USDT', '1d', since=0); the call failed",
        ),
        # Used to end the data silently in 2020.
        (_empty_after_2020, "symbols must have all closed 1d candles on binance in the span asked"),
    ],
    ids=["error_inside_the_exchange", "empty_page"],
)
def test_short_or_broken_exchange_data_is_one_line_exit_2(
    offline: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fault: Callable[[list[list[Any]]], list[list[Any]]],
    message: str,
) -> None:
    class Broken(OfflineBinance):
        def fetch_ohlcv(self, *args: Any, **kwargs: Any) -> list[list[Any]]:
            return fault(super().fetch_ohlcv(*args, **kwargs))

    monkeypatch.setattr(ccxt, "binance", Broken)
    assert main(["signal", "ccxt:binance:ETH/USDT", "sample:BTC", "--cache-dir", str(offline)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"pairs: error: {message}"), err
    assert list(offline.iterdir()) == []
