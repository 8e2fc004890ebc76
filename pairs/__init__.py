"""pairs: hedge ratios, cointegration and spread signals for crypto pairs.

The public API is re-exported here; see ``__all__``.
"""

from pairs.data import AlignResult, align, load_sample, load_yfinance, read_prices
from pairs.exceptions import (
    DataError,
    InsufficientDataError,
    MissingDependencyError,
    PairsError,
    StateError,
)

__version__ = "0.1.0"

__all__ = [
    "AlignResult",
    "DataError",
    "InsufficientDataError",
    "MissingDependencyError",
    "PairsError",
    "StateError",
    "__version__",
    "align",
    "load_sample",
    "load_yfinance",
    "read_prices",
]
