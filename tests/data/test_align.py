"""align(): common UTC index, gap report, bounded forward-fill."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pairs import DataError, PairsError, align, load_sample, read_prices

DATA = Path(__file__).resolve().parents[1] / "fixtures"


def test_inner_on_real_4h_outages() -> None:
    px = load_sample("binance_4h")
    prices, gaps = align(px["BTC"], px["ETH"])
    assert list(prices.columns) == ["BTC", "ETH"]
    assert len(prices) == 18371 and not prices.isna().any().any()
    # PROVENANCE: 8 outages per series, longest 1 day 8 hours between bars = 7 missing 4h bars.
    assert (gaps["series"] == "BTC").sum() == 8
    assert gaps["missing_bars"].max() == 7
    assert not gaps["filled"].any()


def test_outer_fills_short_gaps_only() -> None:
    px = load_sample("binance_4h")
    prices, gaps = align(px["BTC"], px["ETH"], how="outer", max_gap=2)
    long_hole = gaps.loc[gaps["missing_bars"] > 2]
    assert len(long_hole) == 2 and not long_hole["filled"].any()
    assert gaps.loc[gaps["missing_bars"] <= 2, "filled"].all()
    # The 7-bar hole stays NaN, every bar of it.
    hole = prices.loc["2018-02-08 04:00":"2018-02-09 04:00"]
    assert len(hole) == 7 and hole.isna().all().all()
    # A filled bar carries the previous close.
    assert prices.loc["2018-07-04 04:00", "BTC"] == px["BTC"].loc["2018-07-04 00:00"]
    # Index is the full regular 4-hour grid.
    assert (prices.index.to_series().diff().dropna() == pd.Timedelta(hours=4)).all()


def test_seventy_day_hole_never_forward_filled() -> None:
    avax = read_prices(DATA / "AVAX-USD.csv")
    btc = read_prices(DATA / "BTC-USD.csv")
    prices, gaps = align(avax, btc, how="outer", max_gap=5)
    row = gaps.loc[gaps["series"] == "AVAX-USD"].iloc[0]
    assert row["missing_bars"] == 69 and not row["filled"]
    assert prices.loc["2020-07-15":"2020-09-21", "AVAX-USD"].isna().all()
    inner, _ = align(avax, btc)
    assert inner.index[0] == pd.Timestamp("2020-07-13", tz="UTC")
    assert not inner.loc["2020-07-15":"2020-09-21"].shape[0]


def test_dataframe_input_and_naive_index_taken_as_utc() -> None:
    idx = pd.date_range("2024-01-01", periods=5, freq="D")
    df = pd.DataFrame({"a": np.arange(1.0, 6.0), "b": np.arange(2.0, 7.0)}, index=idx)
    prices, gaps = align(df)
    assert str(prices.index.tz) == "UTC" and gaps.empty


def test_mixed_timezones_rejected() -> None:
    a = pd.Series([1.0, 2.0], index=pd.date_range("2024-01-01", periods=2, freq="D"), name="a")
    b = pd.Series([1.0, 2.0], index=pd.date_range("2024-01-01", periods=2, freq="D", tz="UTC"), name="b")
    with pytest.raises(DataError, match="tz"):
        align(a, b)


def test_bad_inputs() -> None:
    s = pd.Series([1.0, 2.0], index=pd.date_range("2024-01-01", periods=2, freq="D", tz="UTC"), name="a")
    with pytest.raises(DataError, match="series"):
        align(s)
    with pytest.raises(DataError, match="unique names"):
        align(s, s)
    with pytest.raises(PairsError, match="how"):
        align(s, s.rename("b"), how="left")  # type: ignore[arg-type]
    with pytest.raises(PairsError, match="max_gap"):
        align(s, s.rename("b"), max_gap=-1)
    unsorted = s.iloc[::-1].rename("b")
    with pytest.raises(DataError, match="sorted"):
        align(s, unsorted)
    with pytest.raises(DataError, match="DatetimeIndex"):
        align(pd.Series([1.0, 2.0], name="a"), pd.Series([1.0, 2.0], name="b"))
