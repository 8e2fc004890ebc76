"""zscore: pandas references on real data, causality, zero variance, precision, bad inputs."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pairs import DataError, InsufficientDataError, PairsError, load_sample
from pairs.trading import zscore

PRICES = load_sample("binance_1d")[["BTC", "ETH"]].dropna()
SPREAD = (PRICES["BTC"] - 20.0 * PRICES["ETH"]).rename("spread")
LOG_SPREAD = np.log(PRICES["BTC"]) - 1.2 * np.log(PRICES["ETH"])

# pandas' rolling variance is an add/remove (Welford) update, ours a two-pass per window: the
# algorithms differ, so the values agree to rounding (observed ~1e-11 on this data), not bit for bit.
RTOL, ATOL = 1e-9, 1e-9


def _reference(s: pd.Series, method: str, **kw: float) -> pd.Series:
    if method == "rolling":
        roll = s.rolling(kw["window"], min_periods=kw.get("min_periods"))
    elif method == "ewm":
        roll = s.ewm(halflife=kw["halflife"], min_periods=kw.get("min_periods", 0))
    else:
        roll = s.expanding(min_periods=kw.get("min_periods", 2))
    return (s - roll.mean()) / roll.std()


def _assert_close(ours: pd.Series, ref: pd.Series) -> None:
    np.testing.assert_array_equal(ours.isna().to_numpy(), ref.isna().to_numpy())
    np.testing.assert_allclose(ours.to_numpy(), ref.to_numpy(), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("spread", [SPREAD, LOG_SPREAD], ids=["levels", "logs"])
@pytest.mark.parametrize("window", [2, 5, 30, 250])
def test_rolling_matches_pandas(spread: pd.Series, window: int) -> None:
    out = zscore(spread, window=window)
    assert out.index.equals(spread.index) and out.name == "zscore"
    assert out.iloc[: window - 1].isna().all() and out.iloc[window - 1 :].notna().all()
    _assert_close(out, _reference(spread, "rolling", window=window))


@pytest.mark.parametrize("spread", [SPREAD, LOG_SPREAD], ids=["levels", "logs"])
@pytest.mark.parametrize("halflife", [0.7, 5.0, 60.0])
def test_ewm_matches_pandas(spread: pd.Series, halflife: float) -> None:
    # Same recursion as pandas (adjust=True, bias=False); only the shift by the first value differs.
    _assert_close(
        zscore(spread, method="ewm", halflife=halflife), _reference(spread, "ewm", halflife=halflife)
    )


@pytest.mark.parametrize("spread", [SPREAD, LOG_SPREAD], ids=["levels", "logs"])
def test_expanding_matches_pandas(spread: pd.Series) -> None:
    _assert_close(zscore(spread, method="expanding"), _reference(spread, "expanding"))


@pytest.mark.parametrize(
    ("method", "kw"),
    [
        ("rolling", {"window": 20}),
        ("rolling", {"window": 20, "min_periods": 5}),
        ("ewm", {"halflife": 8.0}),
        ("ewm", {"halflife": 8.0, "min_periods": 15}),
        ("expanding", {}),
        ("expanding", {"min_periods": 40}),
    ],
)
def test_nan_gaps_match_pandas(method: str, kw: dict) -> None:
    # Leading warm-up NaN (as from a moving hedge) and holes inside the series.
    s = SPREAD.iloc[:400].copy()
    s.iloc[:7] = np.nan
    s.iloc[[50, 51, 52, 120, 300]] = np.nan
    s.iloc[200:230] = np.nan
    out = zscore(s, method=method, **kw)
    assert out.iloc[[50, 120, 300]].isna().all()
    _assert_close(out, _reference(s, method, **kw))


@settings(max_examples=30, deadline=None)
@given(
    t=st.integers(min_value=40, max_value=300),
    method=st.sampled_from(["rolling", "ewm", "expanding"]),
    start=st.integers(min_value=0, max_value=2500),
)
def test_causal(t: int, method: str, start: int) -> None:
    s = SPREAD.iloc[start : start + 300]
    s = s.where(np.arange(len(s)) % 37 != 5)  # a few holes
    kw = {"rolling": {"window": 30}, "ewm": {"halflife": 7.0}, "expanding": {}}[method]
    full = zscore(s, method=method, **kw)
    part = zscore(s.iloc[:t], method=method, **kw)
    pd.testing.assert_series_equal(part, full.iloc[:t], check_exact=True)


@pytest.mark.parametrize(
    ("method", "kw"), [("rolling", {"window": 5}), ("ewm", {"halflife": 3.0}), ("expanding", {})]
)
def test_zero_std_is_nan_without_warning(method: str, kw: dict) -> None:
    constant = pd.Series(np.full(30, 0.1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert zscore(constant, method=method, **kw).isna().all()
        # 0.1 * 5 / 5 is not 0.1 in floating point: zero variance must be detected exactly.
        stretch = pd.Series(np.r_[np.linspace(1.0, 2.0, 10), np.full(10, 0.1)])
        out = zscore(stretch, method=method, **kw)
    if method == "rolling":
        assert out.iloc[4:14].notna().all() and out.iloc[14:].isna().all()
    else:
        assert out.iloc[1:].notna().all()


@pytest.mark.parametrize(
    ("method", "kw"), [("rolling", {"window": 30}), ("ewm", {"halflife": 10.0}), ("expanding", {})]
)
def test_large_level_keeps_precision(method: str, kw: dict) -> None:
    # 2**30 + k / 1024 is exact in float64, so both series carry exactly the same moves.
    rng = np.random.default_rng(0)
    moves = np.cumsum(rng.integers(-2048, 2049, size=1000)) / 1024.0
    big = zscore(pd.Series(2.0**30 + moves), method=method, **kw)
    small = zscore(pd.Series(moves), method=method, **kw)
    np.testing.assert_allclose(big.to_numpy(), small.to_numpy(), rtol=0, atol=1e-9)


@pytest.mark.parametrize(
    ("method", "kw"), [("rolling", {"window": 30}), ("ewm", {"halflife": 10.0}), ("expanding", {})]
)
def test_affine_invariance(method: str, kw: dict) -> None:
    base = zscore(SPREAD, method=method, **kw)
    moved = zscore(-1e-3 * SPREAD + 5.0, method=method, **kw)
    np.testing.assert_allclose(moved.to_numpy(), -base.to_numpy(), rtol=1e-8, atol=1e-8)


def test_array_input_gets_range_index() -> None:
    out = zscore(SPREAD.to_numpy()[:50], window=10)
    assert isinstance(out.index, pd.RangeIndex)
    np.testing.assert_allclose(out.to_numpy(), zscore(SPREAD.iloc[:50], window=10).to_numpy())


@pytest.mark.parametrize(
    ("kwargs", "match", "exc"),
    [
        ({"window": 10, "method": "median"}, "method", PairsError),
        ({}, "window", PairsError),
        ({"window": 1}, "window", PairsError),
        ({"window": 2.5}, "window", PairsError),
        ({"window": 10_000}, "window", InsufficientDataError),
        ({"window": 10, "min_periods": 0}, "min_periods", PairsError),
        ({"window": 10, "min_periods": 11}, "min_periods", PairsError),
        ({"method": "ewm"}, "halflife", PairsError),
        ({"method": "ewm", "halflife": 0.0}, "halflife", PairsError),
        ({"method": "ewm", "halflife": np.inf}, "halflife", PairsError),
        ({"method": "ewm", "halflife": 5.0, "window": 10}, "window", PairsError),
        ({"window": 10, "halflife": 5.0}, "halflife", PairsError),
        ({"method": "expanding", "window": 10}, "window", PairsError),
        ({"method": "expanding", "min_periods": -1}, "min_periods", PairsError),
    ],
)
def test_bad_options(kwargs: dict, match: str, exc: type) -> None:
    with pytest.raises(exc, match=match):
        zscore(SPREAD, **kwargs)


def test_bad_spread() -> None:
    with pytest.raises(DataError, match="spread"):
        zscore(SPREAD.where(SPREAD.index != SPREAD.index[5], np.inf), window=10)
    with pytest.raises(DataError, match="spread"):
        zscore(pd.Series(["a", "b", "c"]), window=2)
    with pytest.raises(DataError, match="spread"):
        zscore(SPREAD.iloc[::-1], window=10)
    with pytest.raises(DataError, match="spread"):
        zscore(pd.concat([SPREAD.iloc[:5], SPREAD.iloc[:5]]), window=2)
    with pytest.raises(DataError, match="spread"):
        zscore(np.ones((5, 2)), window=2)
    with pytest.raises(DataError, match="spread"):
        zscore("spread", window=2)
