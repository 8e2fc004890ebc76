"""Real crypto prices bundled with the package, so everything runs offline.

See ``pairs/data/samples/PROVENANCE.md`` for sources and checks.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from pairs._validation import check_choice

__all__ = ["SAMPLES", "load_sample", "sample_path"]

SAMPLES: dict[str, str] = {
    "binance_1d": "binance_1d_close.csv.gz",
    "binance_4h": "binance_4h_close.csv.gz",
    "binance_1h": "binance_1h_close.csv.gz",
}


def sample_path(filename: str) -> Path:
    """Return the path of a bundled sample file (raw layouts: ``BTCUSDT_1d.csv``, ``ETHUSDT_1d.csv``)."""
    return Path(str(resources.files("pairs.data") / "samples" / filename))


def load_sample(name: str = "binance_1d") -> pd.DataFrame:
    """Load bundled real closes as a DataFrame, one column per coin.

    Parameters
    ----------
    name
        ``"binance_1d"``: daily Binance spot closes (USDT quote) of 13 coins,
        2017-08-17 .. 2026-01-06, NaN before a coin's listing.
        ``"binance_4h"``: 4-hour Binance closes of BTC and ETH, 2017-08-17 .. 2026-01-06
        (8 exchange outages appear as missing bars).
        ``"binance_1h"``: hourly Binance spot closes of 19 coins (no BTC/ETH: absent upstream),
        the last two years 2024-01-06 13:00 .. 2026-01-06 12:00 (17,544 hours, none missing);
        MATIC (renamed POL) ends 2024-09-10 and XMR (delisted) 2024-02-20: a real intraday
        universe for rotation, survivorship included.

    Returns
    -------
    pandas.DataFrame
        Columns named by coin (``"BTC"``, ``"ETH"``, ...), tz-aware UTC index of bar
        open times named ``"timestamp"``.

    Examples
    --------
    >>> prices = load_sample("binance_1d")
    >>> prices[["BTC", "ETH"]].dropna().shape
    (3065, 2)
    """
    check_choice("name", name, SAMPLES)
    frame = pd.read_csv(sample_path(SAMPLES[name]), index_col=0)
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame.index, utc=True), name="timestamp")
    return frame.astype("float64")
