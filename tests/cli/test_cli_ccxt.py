"""``ccxt:EXCHANGE:SYMBOL`` price sources on the command line, against ccxt's real Binance class with
its two network calls served from the bundled Binance daily candles (no network)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ccxt
import numpy as np
import pandas as pd
import pytest

import pairs
from pairs.cli import main


@pytest.fixture
def offline(offline_binance: type, tmp_path: Path) -> Path:
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
    monkey = ccxt.binance.fetch_ohlcv  # OfflineBinance's (tests/cli/conftest.py)
    try:
        ccxt.binance.fetch_ohlcv = None
        assert main([*argv, "--format", "json"]) == 0
    finally:
        ccxt.binance.fetch_ohlcv = monkey


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
    class Broken(ccxt.binance):  # type: ignore[misc,name-defined]
        def fetch_ohlcv(self, *args: Any, **kwargs: Any) -> list[list[Any]]:
            return fault(super().fetch_ohlcv(*args, **kwargs))

    monkeypatch.setattr(ccxt, "binance", Broken)
    assert main(["signal", "ccxt:binance:ETH/USDT", "sample:BTC", "--cache-dir", str(offline)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"pairs: error: {message}"), err
    assert list(offline.iterdir()) == []
