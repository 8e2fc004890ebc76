"""Price data: CSV layouts, yfinance and ccxt with a cache (candles and funding rates), bundled samples, alignment and gaps."""

from pairs.data._align import AlignResult, align, infer_bar
from pairs.data._cache import default_cache_dir
from pairs.data._ccxt import from_ccxt, load_ccxt
from pairs.data._csv import LAYOUTS, read_prices
from pairs.data._funding import load_funding
from pairs.data._sample import SAMPLES, load_sample, sample_path
from pairs.data._yahoo import load_yfinance

__all__ = [
    "LAYOUTS",
    "SAMPLES",
    "AlignResult",
    "align",
    "default_cache_dir",
    "from_ccxt",
    "infer_bar",
    "load_ccxt",
    "load_funding",
    "load_sample",
    "load_yfinance",
    "read_prices",
    "sample_path",
]
