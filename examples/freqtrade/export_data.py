"""Write candles from ``pairs`` in freqtrade's data format, for a futures backtest without download.

Run ``python examples/freqtrade/export_data.py user_data`` (no network). For each perpetual of the
spread it writes, under ``user_data/data/<exchange>/futures/``, the three files freqtrade's futures
backtest reads (freqtrade's ``IDataHandler._pair_data_filename``: ``<pair with / and : as _>-<timeframe>-
<candle type>.<json|feather>``):

* ``ETH_USDT_USDT-1d-futures.json``: the candles, rows ``[ms, open, high, low, close, volume]``;
* ``ETH_USDT_USDT-1h-mark.json``: mark-price candles on freqtrade's mark timeframe (1 h in freqtrade
  2026.9, 8 h in older releases: ``--mark-timeframe``); ``pairs`` has no mark prices, so each mark
  candle is the last close known at its open (open = high = low = close, volume 0);
* ``ETH_USDT_USDT-1h-funding_rate.json``: funding rates in freqtrade's OHLCV layout
  ``[ms, rate, 0, 0, 0, 0]`` (written by older releases, read by all), from a file of
  ``pairs.load_funding`` (``--funding rates.csv``) or 0 every ``--funding-timeframe`` when none is given.

By default the candles are the Binance spot daily klines bundled with ``pairs`` (ETHUSDT, BTCUSDT),
standing in for the perpetuals' candles offline; ``--candles`` takes a CSV of closes such as
``pairs.load_ccxt("binanceusdm", [...]).to_csv(...)`` instead (close-only candles then).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from pairs.data import sample_path

COLUMNS = ["date", "open", "high", "low", "close", "volume"]


def pair_to_filename(pair: str) -> str:
    """freqtrade's file stem of a pair (``freqtrade.misc.pair_to_filename``): ``ETH/USDT:USDT`` -> ``ETH_USDT_USDT``."""
    for ch in ("/", " ", ".", "@", "$", "+", ":"):
        pair = pair.replace(ch, "_")
    return pair


def bundled_candles(coin: str) -> pd.DataFrame:
    """The bundled Binance daily klines of ``coin`` (``"ETH"``) with freqtrade's columns, ``date`` in UTC."""
    frame = pd.read_csv(sample_path(f"{coin}USDT_1d.csv"), parse_dates=["timestamp"])
    frame["date"] = frame.pop("timestamp").dt.tz_localize("UTC")
    return frame[COLUMNS]


def mark_candles(candles: pd.DataFrame, timeframe: str) -> pd.DataFrame:
    """Candles every ``timeframe`` from the first candle's open to the last one's, each at the last
    close known at its open (a candle's close is known from the next candle's open on)."""
    dates = pd.to_datetime(candles["date"], utc=True)
    bar = dates.diff().median()
    known = pd.Series(candles["close"].to_numpy(np.float64), index=dates + bar)
    grid = pd.date_range(dates.iloc[0] + bar, dates.iloc[-1], freq=pd.Timedelta(timeframe), tz="UTC")
    close = known.reindex(known.index.union(grid)).ffill().loc[grid].to_numpy()
    return pd.DataFrame(
        {"date": grid, "open": close, "high": close, "low": close, "close": close, "volume": 0.0}
    )


def funding_candles(rates: pd.Series | None, candles: pd.DataFrame, timeframe: str) -> pd.DataFrame:
    """freqtrade's funding-rate candles ``[date, rate, 0, 0, 0, 0]``: the settlements of ``rates``, or
    a rate of 0 every ``timeframe`` over the candles' span when ``rates`` is None."""
    if rates is None:
        dates = pd.to_datetime(candles["date"], utc=True)
        grid = pd.date_range(dates.iloc[0], dates.iloc[-1], freq=pd.Timedelta(timeframe), tz="UTC")
        rates = pd.Series(0.0, index=grid)
    rates = rates.dropna()
    zero = np.zeros(len(rates))
    return pd.DataFrame(
        {
            "date": rates.index,
            "open": rates.to_numpy(np.float64),
            "high": zero,
            "low": zero,
            "close": zero,
            "volume": zero,
        }
    )


def _write(frame: pd.DataFrame, path: Path, fmt: str) -> Path:
    path = path.with_suffix(f".{fmt}")
    frame = frame.reset_index(drop=True)[COLUMNS]
    if fmt == "feather":  # needs pyarrow, as freqtrade's own feather files do
        frame.to_feather(path)
    else:
        ms = pd.to_datetime(frame["date"], utc=True).dt.as_unit("ms").astype(np.int64)
        rows = np.column_stack([ms.to_numpy(np.float64), frame[COLUMNS[1:]].to_numpy(np.float64)])
        path.write_text(json.dumps([[int(r[0]), *r[1:].tolist()] for r in rows]))
    return path


def export(
    user_data: str | Path,
    candles: Mapping[str, pd.DataFrame],
    *,
    funding: pd.DataFrame | None = None,
    exchange: str = "binance",
    timeframe: str = "1d",
    mark_timeframe: str = "1h",
    funding_timeframe: str = "1h",
    fmt: str = "json",
) -> list[Path]:
    """Write each pair's futures, mark and funding-rate files; returns the paths written.

    ``candles`` maps a freqtrade pair (``"ETH/USDT:USDT"``) to its candles (``COLUMNS``); ``funding``
    has one column of rates per pair (``pairs.load_funding``'s frame), settlement times as index.
    """
    if fmt not in ("json", "feather"):
        raise ValueError(f"fmt must be 'json' or 'feather'; got {fmt!r}.")
    out = Path(user_data) / "data" / exchange / "futures"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for pair, frame in candles.items():
        stem = pair_to_filename(pair)
        rates = None if funding is None or pair not in funding else funding[pair]
        written += [
            _write(frame, out / f"{stem}-{timeframe}-futures", fmt),
            _write(mark_candles(frame, mark_timeframe), out / f"{stem}-{mark_timeframe}-mark", fmt),
            _write(
                funding_candles(rates, frame, funding_timeframe),
                out / f"{stem}-{funding_timeframe}-funding_rate",
                fmt,
            ),
        ]
    return written


def _closes_as_candles(path: str, pairs_: list[str]) -> dict[str, pd.DataFrame]:
    closes = pd.read_csv(path, index_col=0, parse_dates=True)
    out = {}
    for pair in pairs_:
        s = closes[pair].dropna()
        c = s.to_numpy(np.float64)
        dates = s.index.tz_localize("UTC") if s.index.tz is None else s.index.tz_convert("UTC")
        out[pair] = pd.DataFrame({"date": dates, "open": c, "high": c, "low": c, "close": c, "volume": 0.0})
    return out


def main(argv: list[str] | None = None) -> list[Path]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("user_data", nargs="?", default="user_data")
    parser.add_argument("--y", default="ETH/USDT:USDT", help="freqtrade pair of the y leg")
    parser.add_argument("--x", default="BTC/USDT:USDT", help="freqtrade pair of the x leg")
    parser.add_argument("--candles", help="CSV of closes, one column per pair (default: bundled klines)")
    parser.add_argument("--funding", help="CSV of pairs.load_funding (default: rate 0)")
    parser.add_argument("--exchange", default="binance")
    parser.add_argument("--mark-timeframe", default="1h")
    parser.add_argument("--funding-timeframe", default="1h")
    parser.add_argument("--format", default="json", choices=("json", "feather"))
    args = parser.parse_args(argv)
    if args.candles:
        candles = _closes_as_candles(args.candles, [args.y, args.x])
    else:
        candles = {args.y: bundled_candles("ETH"), args.x: bundled_candles("BTC")}
    funding = None
    if args.funding:
        funding = pd.read_csv(args.funding, index_col=0)
        funding.index = pd.to_datetime(funding.index, utc=True, format="ISO8601")
    return export(
        args.user_data,
        candles,
        funding=funding,
        exchange=args.exchange,
        mark_timeframe=args.mark_timeframe,
        funding_timeframe=args.funding_timeframe,
        fmt=args.format,
    )


if __name__ == "__main__":
    for path in main():
        print(path)
