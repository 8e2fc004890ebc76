"""Write the bundled Binance daily candles of ETH/USDT and BTC/USDT in freqtrade's JSON data format.

Run: ``python examples/freqtrade/export_data.py user_data`` (no network): writes
``user_data/data/binance/ETH_USDT-1d.json`` and ``BTC_USDT-1d.json`` (rows
``[ms, open, high, low, close, volume]``), which freqtrade reads with ``"dataformat_ohlcv": "json"``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from pairs.data import sample_path


def export(user_data: Path) -> list[Path]:
    out = user_data / "data" / "binance"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for coin in ("ETH", "BTC"):
        frame = pd.read_csv(sample_path(f"{coin}USDT_1d.csv"), parse_dates=["timestamp"])
        ms = [round(t.timestamp() * 1000) for t in frame["timestamp"].dt.tz_localize("UTC")]
        values = frame[["open", "high", "low", "close", "volume"]].to_numpy().tolist()
        rows = [[t, *r] for t, r in zip(ms, values, strict=True)]
        path = out / f"{coin}_USDT-1d.json"
        path.write_text(json.dumps(rows))
        written.append(path)
    return written


if __name__ == "__main__":
    for path in export(Path(sys.argv[1] if len(sys.argv) > 1 else "user_data")):
        print(path)
