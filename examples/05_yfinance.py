"""Load prices from Yahoo Finance with the on-disk cache, then fit and test the pair.

Run: ``python examples/05_yfinance.py [CACHE_DIR]``.

The first run downloads BTC-USD and ETH-USD daily closes with yfinance (network needed) and
writes them to the cache: one checksummed JSON file per ticker and interval, in CACHE_DIR,
else ``$PAIRS_CACHE_DIR``, else ``~/.cache/pairs``. Later runs for a span the cache covers
read it and need no network; pass ``refresh=True`` to ``pairs.load_yfinance`` to download again.
The command line does the same: ``pairs fit --yf ETH-USD BTC-USD --start 2019-01-01 --log``.
"""

import sys

import numpy as np

import pairs
from pairs.data import default_cache_dir

TICKERS = ["ETH-USD", "BTC-USD"]
START, END = "2019-01-01", "2023-01-01"

if __name__ == "__main__":
    cache_dir = sys.argv[1] if len(sys.argv) > 1 else None
    print(f"cache: {cache_dir or default_cache_dir()}")
    try:
        closes = pairs.load_yfinance(
            TICKERS, start=START, end=END, interval="1d", cache_dir=cache_dir, retries=1
        )
    except pairs.PairsError as exc:
        sys.exit(f"could not load prices (offline and not cached yet?): {exc}")
    prices = np.log(closes.dropna())
    eth, btc = prices["ETH-USD"], prices["BTC-USD"]
    print(f"loaded {len(prices)} daily closes of {', '.join(TICKERS)}, {START} .. {END}")
    fit = pairs.ols_hedge(eth, btc)
    eg = pairs.engle_granger(eth, btc, direction="both")
    kalman = pairs.kalman_hedge(eth, btc, noise_units="log", delta=1e-5)
    print(
        f"OLS beta {fit.beta:.4f} (R-squared {fit.r_squared:.3f}); Kalman beta at the end {kalman.beta.iloc[-1]:.4f}"
    )
    print(f"Engle-Granger p-values: ETH~BTC {eg.forward.pvalue:.3f}, BTC~ETH {eg.reverse.pvalue:.3f}")
