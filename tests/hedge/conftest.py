"""Real Binance daily closes and an independent (pandas) reference of the ``on=`` representations."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from pairs import load_sample

ON_MODES = ("levels", "diff", "returns", "log_returns")
LEGS = ["ETH", "LTC", "XRP"]


def _ref_changes(obj: pd.Series | pd.DataFrame, on: str) -> pd.Series | pd.DataFrame:
    """``obj`` on representation ``on`` with its first bar dropped for changes (pandas only)."""
    if on == "levels":
        return obj
    if on == "diff":
        return obj.diff().iloc[1:]
    if on == "returns":
        return obj.pct_change().iloc[1:]
    return np.log(obj).diff().iloc[1:]


@pytest.fixture(scope="session")
def pair_prices(btc_eth_daily: pd.DataFrame) -> pd.DataFrame:
    """BTC and ETH, 3,065 daily bars (BTC ~4e3..1.2e5: the cancellation-prone scale)."""
    return btc_eth_daily


@pytest.fixture(scope="session")
def leg_prices() -> pd.DataFrame:
    """BTC hedged by three legs (ETH, LTC, XRP), the bars where all four trade."""
    return load_sample("binance_1d")[["BTC", *LEGS]].dropna()


@pytest.fixture(scope="session")
def ref_changes() -> Callable[[pd.Series | pd.DataFrame, str], pd.Series | pd.DataFrame]:
    return _ref_changes
