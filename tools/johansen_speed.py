"""Time ``pairs.johansen`` against statsmodels' ``coint_johansen`` on 2 and 12 coins (docs/statistics.md).

Run ``python tools/johansen_speed.py``; prints the median of repeated calls for each.
"""

from __future__ import annotations

import timeit

import numpy as np
from statsmodels.tsa.vector_ar.vecm import coint_johansen

import pairs

_COINS = ["BTC", "ETH", "LTC", "XRP", "TRX", "XLM", "BNB", "ADA", "DOGE", "SOL", "DOT", "LINK"]


def main() -> None:
    sample = pairs.load_sample("binance_1d")
    for k in (2, 12):
        frame = np.log(sample[[c for c in _COINS if c in sample.columns][:k]].dropna())
        values = frame.to_numpy()
        ours = min(timeit.repeat(lambda f=frame: pairs.johansen(f, det_order=0), number=20, repeat=5)) / 20
        ref = min(timeit.repeat(lambda v=values: coint_johansen(v, 0, 1), number=20, repeat=5)) / 20
        print(f"{k} coins, {len(frame)} bars: pairs {ours * 1e3:.2f} ms, statsmodels {ref * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
