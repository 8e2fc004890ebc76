"""The shared cache module: untrusted JSON limits, file names, spans and expiry."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pairs import DataError
from pairs.data._cache import cache_path, loads_untrusted, usable


@pytest.mark.parametrize(
    ("text", "match"),
    [
        pytest.param("[" * 40 + "]" * 40, "nested at most 16 deep; got 40", id="deep"),
        ('{"a": "' + "[" * 50 + '"}', None),  # brackets inside strings do not count
        ("[1" + "0" * 30 + "]", "31 digits"),
        ("[-1" + "0" * 30 + "]", "31 digits"),
        ("[1e400]", "outside float range"),
        ("[-1e400]", "outside float range"),
        ("[NaN]", "NaN"),
        ("[Infinity]", "Infinity"),
        ('{"a": 1', "valid JSON"),
        (b"\xff\xfe", "UTF-8"),
        ("x" * 101, "at most 100 bytes; got 101"),
    ],
)
def test_untrusted_json_limits(text: str | bytes, match: str | None) -> None:
    if match is None:
        assert loads_untrusted(text, what="cache file", max_bytes=100) == {"a": "[" * 50}
        return
    with pytest.raises(DataError, match=rf"^cache file must .*{match}"):
        loads_untrusted(text, what="cache file", max_bytes=100)


def test_untrusted_json_accepts_ordinary_documents() -> None:
    doc = '{"index": [1609459200000, 1609545600000], "close": [29331.69, 3.2e-05], "t": null, "ok": true}'
    assert loads_untrusted(doc, what="x") == {
        "index": [1609459200000, 1609545600000],
        "close": [29331.69, 3.2e-05],
        "t": None,
        "ok": True,
    }


def test_cache_file_names_are_distinct_for_distinct_keys(tmp_path: Path) -> None:
    keys = [
        ("yfinance", "BTC-USD", "1d"),
        ("yfinance", "BTC-USD", "1h"),
        ("yfinance", "BTC/USD", "1d"),
        ("yfinance", "BTC_USD", "1d"),
        ("yfinance", "btc-usd", "1d"),
        ("ccxt:binance", "BTC/USDT", "1d"),
        ("ccxt:binance", "BTC/USDT:USDT", "1d"),
        ("ccxt:binanceus", "BTC/USDT", "1d"),
        ("ccxt:binance", "x" * 500, "1d"),
        ("ccxt:binance", "x" * 501, "1d"),
    ]
    names = {cache_path(tmp_path, *k).name.lower() for k in keys}
    assert len(names) == len(keys)
    assert all(len(n) < 150 for n in names)


def _ms(text: str) -> int:
    return pd.Timestamp(text, tz="UTC").value // 10**6


@pytest.mark.parametrize(
    ("have", "want", "now", "ok"),
    [
        ((None, None), (None, None), "2024-01-01 23:00", True),  # open, fresh
        ((None, None), (None, None), "2024-01-02 13:00", False),  # open, stale
        ((None, None), ("2020-01-01", "2023-06-01"), "2030-01-01", True),  # history never expires
        ((None, None), ("2020-01-01", "2024-01-01 12:00"), "2030-01-01", True),  # ends before the fetch
        ((None, None), ("2020-01-01", "2024-01-01 13:00"), "2030-01-01", False),  # runs past the fetch
        # Ends after the fetch, before now: fresh, but the bars closing after the fetch are missing.
        ((None, None), ("2020-01-01", "2024-01-01 13:00"), "2024-01-01 14:00", False),
        (("2020-01-01", None), (None, None), "2024-01-01 01:00", False),  # starts too late
        (("2020-01-01", "2023-01-01"), ("2020-01-01", None), "2024-01-01 01:00", False),  # ended too early
        (("2020-01-01", "2023-01-01"), ("2021-01-01", "2022-01-01"), "2030-01-01", True),
        (("2020-01-01", "2023-01-01"), ("2021-01-01", "2023-02-01"), "2030-01-01", False),
        (
            ("2020-01-01", "2030-01-01"),
            ("2021-01-01", "2029-01-01"),
            "2024-01-01 06:00",
            True,
        ),  # future end, fresh
    ],
)
def test_usable_spans(
    have: tuple[str | None, str | None], want: tuple[str | None, str | None], now: str, ok: bool
) -> None:
    meta = {
        "start": None if have[0] is None else _ms(have[0]),
        "end": None if have[1] is None else _ms(have[1]),
        "fetched_at": _ms("2024-01-01 12:00"),
    }
    start, end = (None if w is None else pd.Timestamp(w, tz="UTC") for w in want)
    assert usable(meta, start, end, now=pd.Timestamp(now, tz="UTC"), max_age=pd.Timedelta("1D")) is ok
