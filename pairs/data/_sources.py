"""Price sources named by a string, for the CLI: ``ccxt:EXCHANGE:SYMBOL``."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pandas as pd

from pairs._typing import PriceField
from pairs.data._ccxt import DEFAULT_CACHE, load_ccxt
from pairs.exceptions import DataError

__all__ = ["CCXT_PREFIX", "resolve_source"]

CCXT_PREFIX = "ccxt:"


def resolve_source(
    spec: str,
    *,
    timeframe: str = "1d",
    since: Any = None,
    until: Any = None,
    cache_dir: str | os.PathLike[str] | None = DEFAULT_CACHE,
    refresh: bool = False,
    max_age: str | timedelta | None = None,
    field: PriceField = "close",
) -> pd.Series:
    """The close Series named by ``spec``: ``ccxt:EXCHANGE:SYMBOL`` (e.g. ``ccxt:binance:BTC/USDT``).

    The symbol is everything after the second colon, so derivatives symbols such as
    ``ccxt:binance:BTC/USDT:USDT`` work. Options are those of :func:`pairs.data.load_ccxt`
    (``field="open"``: the opens instead of the closes);
    the Series is named after the symbol, without NaN.

    Examples
    --------
    >>> resolve_source("ccxt:binance")
    Traceback (most recent call last):
    pairs.exceptions.DataError: source must look like ccxt:EXCHANGE:SYMBOL (e.g. ccxt:binance:BTC/USDT); got 'ccxt:binance'.
    """
    if not isinstance(spec, str) or not spec.startswith(CCXT_PREFIX):
        raise DataError(
            f"source must look like ccxt:EXCHANGE:SYMBOL (e.g. ccxt:binance:BTC/USDT); got {spec!r}."
        )
    parts = spec[len(CCXT_PREFIX) :].split(":", 1)
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        raise DataError(
            f"source must look like ccxt:EXCHANGE:SYMBOL (e.g. ccxt:binance:BTC/USDT); got {spec!r}."
        )
    exchange, symbol = parts[0].strip(), parts[1].strip()
    frame = load_ccxt(
        exchange,
        symbol,
        timeframe=timeframe,
        since=since,
        until=until,
        cache_dir=cache_dir,
        refresh=refresh,
        max_age=max_age,
        field=field,
    )
    return frame[symbol].dropna()
