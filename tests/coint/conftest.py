"""Shared real-data fixtures for the cointegration tests (bundled Binance closes, arch's crude)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import pairs


@pytest.fixture(scope="session")
def log_prices() -> pd.DataFrame:
    """Daily Binance log closes of 13 coins (NaN before listing)."""
    return np.log(pairs.load_sample("binance_1d"))


@pytest.fixture(scope="session")
def crude_log() -> pd.DataFrame:
    """Monthly Brent and WTI log prices, 1987-2019 (arch's bundled data)."""
    from arch.data import crude

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.log(crude.load())


@pytest.fixture(scope="session")
def btc_eth(log_prices: pd.DataFrame) -> pd.DataFrame:
    """BTC and ETH log closes 2017-11-09 .. 2023-04-25 (the negative control)."""
    return log_prices[["BTC", "ETH"]].dropna().loc["2017-11-09":"2023-04-25"]
