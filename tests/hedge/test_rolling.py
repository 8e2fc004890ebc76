"""Rolling, expanding and EWM hedge ratios against statsmodels on real Binance closes.

References and tolerances:

* rolling/expanding: statsmodels ``RollingOLS(...).fit(method="pinv")`` (an exact per-window
  pseudo-inverse, unlike its default moving inner products) on the same representation, stored
  at the window's last bar. 1e-8 relative on beta, alpha and R-squared. Observed: <= 3e-9
  everywhere, the worst on near-zero coefficients of three co-moving price legs, where
  statsmodels' own error (vs exact rational arithmetic) is of the same order.
* ewm: statsmodels ``WLS`` on each prefix with weights ``0.5 ** (age / halflife)``, 1e-8
  relative (observed <= 3e-11).
* causality: ``f(data[:t])`` equals ``f(data)[:t]`` exactly (the kernel is sequential).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.regression.rolling import RollingOLS

from pairs import ewm_hedge, expanding_hedge, ols_hedge, rolling_hedge
from pairs.exceptions import DataError, InsufficientDataError, PairsError

ON_MODES = ("levels", "diff", "returns", "log_returns")
LEGS = ["ETH", "LTC", "XRP"]
RTOL = 1e-8
SERIES_FIELDS = ("alpha", "spread", "r_squared")


def _inputs(pair_prices, leg_prices, n_legs):
    if n_legs == 1:
        return pair_prices, pair_prices["BTC"], pair_prices["ETH"], ["ETH"]
    return leg_prices, leg_prices["BTC"], leg_prices[LEGS], LEGS


def _beta_matrix(res) -> np.ndarray:
    return np.asarray(res.beta, dtype=float).reshape(len(res.spread), -1)


def _assert_matches(res, ref_params: pd.DataFrame, ref_r2: pd.Series, legs, intercept, index) -> None:
    """Compare our outputs at ``index`` (the representation's bars) with a statsmodels fit."""
    beta = _beta_matrix(res)[res.spread.index.get_indexer(index)]
    np.testing.assert_allclose(beta, ref_params[legs].to_numpy(), rtol=RTOL)
    alpha = res.alpha.loc[index].to_numpy()
    if intercept:
        np.testing.assert_allclose(alpha, ref_params["const"].to_numpy(), rtol=RTOL)
    else:
        np.testing.assert_array_equal(alpha, np.where(np.isnan(beta[:, 0]), np.nan, 0.0))
    np.testing.assert_allclose(res.r_squared.loc[index].to_numpy(), ref_r2.to_numpy(), rtol=RTOL)


def _rolling_reference(prices, legs, on, intercept, ref_changes, **kwargs):
    y = ref_changes(prices["BTC"], on)
    x = ref_changes(prices[legs], on)
    design = sm.add_constant(x) if intercept else x
    fit = RollingOLS(y, design, **kwargs).fit(method="pinv")
    return fit.params, fit.rsquared, y.index


ROLLING_CASES = [
    *[(1, 60, on, intercept) for on in ON_MODES for intercept in (True, False)],
    (1, 20, "levels", True),
    *[(3, 60, on, True) for on in ON_MODES],
    (3, 60, "levels", False),
    # Short window, raw co-moving price legs: plain normal equations are off by ~3e-7 here.
    (3, 20, "levels", False),
]
# The statsmodels expanding reference costs O(n^2) SVD work: a representative subset.
EXPANDING_CASES = [
    *[(1, on, True) for on in ON_MODES],
    (1, "levels", False),
    (3, "levels", True),
    (3, "log_returns", False),
]


@pytest.mark.parametrize(("n_legs", "window", "on", "intercept"), ROLLING_CASES)
def test_rolling_matches_statsmodels(pair_prices, leg_prices, ref_changes, on, intercept, n_legs, window):
    prices, y, x, legs = _inputs(pair_prices, leg_prices, n_legs)
    res = rolling_hedge(y, x, window=window, intercept=intercept, on=on)
    params, r2, index = _rolling_reference(prices, legs, on, intercept, ref_changes, window=window)
    _assert_matches(res, params, r2, legs, intercept, index)
    offset = 0 if on == "levels" else 1
    assert res.beta.iloc[: window - 1 + offset].isna().all().all()
    assert res.beta.iloc[window - 1 + offset :].notna().all().all()
    for name in SERIES_FIELDS:
        assert getattr(res, name).index.equals(prices.index)
    if n_legs == 3:
        assert list(res.beta.columns) == LEGS and res.beta.index.equals(prices.index)


@pytest.mark.parametrize("on", ["levels", "log_returns"])
def test_rolling_min_periods_matches_statsmodels_expanding_start(pair_prices, ref_changes, on) -> None:
    res = rolling_hedge(pair_prices["BTC"], pair_prices["ETH"], window=60, min_periods=10, on=on)
    params, r2, index = _rolling_reference(
        pair_prices, ["ETH"], on, True, ref_changes, window=60, min_nobs=10, expanding=True
    )
    _assert_matches(res, params, r2, ["ETH"], True, index)
    assert res.beta.notna().sum() == len(index) - 9 and res.params["min_periods"] == 10


@pytest.mark.parametrize(("n_legs", "on", "intercept"), EXPANDING_CASES)
def test_expanding_matches_statsmodels(pair_prices, leg_prices, ref_changes, on, intercept, n_legs) -> None:
    prices, y, x, legs = _inputs(pair_prices, leg_prices, n_legs)
    res = expanding_hedge(y, x, min_periods=10, intercept=intercept, on=on)
    n_obs = len(prices) - (on != "levels")
    params, r2, index = _rolling_reference(
        prices, legs, on, intercept, ref_changes, window=n_obs, min_nobs=10, expanding=True
    )
    _assert_matches(res, params, r2, legs, intercept, index)
    static = ols_hedge(y, x, intercept=intercept, on=on)
    np.testing.assert_allclose(_beta_matrix(res)[-1], np.atleast_1d(np.asarray(static.beta)), rtol=1e-9)
    assert res.r_squared.iloc[-1] == pytest.approx(static.r_squared, rel=1e-9)


@pytest.mark.parametrize("on", ON_MODES)
@pytest.mark.parametrize("intercept", [True, False])
@pytest.mark.parametrize("n_legs", [1, 3])
def test_ewm_matches_wls_on_prefixes(pair_prices, leg_prices, ref_changes, on, intercept, n_legs) -> None:
    prices, y, x, legs = _inputs(pair_prices, leg_prices, n_legs)
    halflife = 25.0
    res = ewm_hedge(y, x, halflife=halflife, intercept=intercept, on=on, min_periods=5)
    y_ref = ref_changes(prices["BTC"], on)
    x_ref = ref_changes(prices[legs], on)
    design = sm.add_constant(x_ref) if intercept else x_ref
    ends = [*range(10, len(y_ref), 211), len(y_ref) - 1]
    rows, r2 = [], []
    for end in ends:
        weights = 0.5 ** (np.arange(end, -1, -1) / halflife)
        fit = sm.WLS(y_ref.iloc[: end + 1], design.iloc[: end + 1], weights=weights).fit()
        rows.append(fit.params)
        r2.append(fit.rsquared)
    index = y_ref.index[ends]
    _assert_matches(res, pd.DataFrame(rows, index=index), pd.Series(r2, index=index), legs, intercept, index)
    assert res.beta.iloc[: 4 + (on != "levels")].isna().all().all()


def test_window_includes_current_bar_and_spread_definition(pair_prices) -> None:
    y, x = pair_prices["BTC"], pair_prices["ETH"]
    res = rolling_hedge(y, x, window=30)
    for t in (29, 500, 3064):
        static = ols_hedge(y.iloc[t - 29 : t + 1], x.iloc[t - 29 : t + 1])
        assert res.beta.iloc[t] == pytest.approx(static.beta, rel=1e-9)
        assert res.spread.iloc[t] == pytest.approx(static.spread.iloc[-1], rel=1e-7)
    expected = y - res.beta * x - res.alpha
    np.testing.assert_allclose(res.spread.to_numpy(), expected.to_numpy(), rtol=1e-12, atol=1e-9)


def test_large_price_offset_is_harmless(pair_prices) -> None:
    """Centred updates: adding 1e6 to both legs (prices ~1e6, moves ~1e2) changes nothing material.

    Raw sums of squares would lose ~1e-7 relative here; the kernel stays near 1e-9.
    """
    y, x = pair_prices["BTC"], pair_prices["ETH"]
    for fit in (
        lambda a, b: rolling_hedge(a, b, window=60),
        lambda a, b: expanding_hedge(a, b),
        lambda a, b: ewm_hedge(a, b, halflife=20),
    ):
        base, shifted = fit(y, x), fit(y + 1e6, x + 1e6)
        np.testing.assert_allclose(shifted.beta, base.beta, rtol=1e-7)
        np.testing.assert_allclose(shifted.r_squared, base.r_squared, rtol=1e-7)


@settings(max_examples=10, deadline=None)
@given(scale=st.floats(1e-3, 1e3), on=st.sampled_from(["levels", "diff"]))
def test_scaling_x_scales_beta_inversely(pair_prices, scale, on) -> None:
    y, x = pair_prices["BTC"].iloc[:400], pair_prices["ETH"].iloc[:400]
    for fit in (
        lambda b: rolling_hedge(y, b, window=30, on=on),
        lambda b: expanding_hedge(y, b, on=on),
        lambda b: ewm_hedge(y, b, halflife=10, on=on),
    ):
        np.testing.assert_allclose(fit(x * scale).beta * scale, fit(x).beta, rtol=1e-8)


def _estimators(window: int):
    return {
        "rolling": lambda y, x, **kw: rolling_hedge(y, x, window=window, **kw),
        "rolling_partial": lambda y, x, **kw: rolling_hedge(y, x, window=window, min_periods=5, **kw),
        "expanding": lambda y, x, **kw: expanding_hedge(y, x, **kw),
        "ewm": lambda y, x, **kw: ewm_hedge(y, x, halflife=window / 2, **kw),
    }


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_causality_prefix_equals_truncation(pair_prices, leg_prices, data) -> None:
    kind = data.draw(st.sampled_from(["rolling", "rolling_partial", "expanding", "ewm"]))
    on = data.draw(st.sampled_from(ON_MODES))
    intercept = data.draw(st.booleans())
    many = data.draw(st.booleans())
    prices = leg_prices if many else pair_prices
    window = data.draw(st.integers(5, 40))
    start = data.draw(st.integers(0, len(prices) - 250))
    seg = prices.iloc[start : start + data.draw(st.integers(window + 5, 240))]
    cut = data.draw(st.integers(window + 2, len(seg)))
    y, x = seg["BTC"], seg[LEGS] if many else seg["ETH"]
    fit = _estimators(window)[kind]
    full = fit(y, x, on=on, intercept=intercept)
    part = fit(y.iloc[:cut], x.iloc[:cut], on=on, intercept=intercept)
    for name in ("beta", *SERIES_FIELDS):
        expected = getattr(full, name).iloc[:cut]
        np.testing.assert_array_equal(np.asarray(getattr(part, name)), np.asarray(expected))


def test_future_changes_do_not_move_the_past(pair_prices) -> None:
    y, x = pair_prices["BTC"].iloc[:300], pair_prices["ETH"].iloc[:300].copy()
    x_future = x.copy()
    x_future.iloc[200:] *= 1.7
    for fit in _estimators(30).values():
        a, b = fit(y, x, on="returns"), fit(y, x_future, on="returns")
        pd.testing.assert_series_equal(a.beta.iloc[:200], b.beta.iloc[:200])
        assert not np.allclose(a.beta.iloc[201:250], b.beta.iloc[201:250])


def test_flat_stretch_gives_nan_without_warnings(pair_prices) -> None:
    """Stale (forward-filled) prices make windows singular: NaN there, and no RuntimeWarning."""
    x = pair_prices["ETH"].iloc[:200].copy()
    x.iloc[100:130] = x.iloc[100]
    res = rolling_hedge(pair_prices["BTC"].iloc[:200], x, window=10)
    assert res.beta.iloc[109:130].isna().all()
    assert res.beta.iloc[130:].notna().all() and res.beta.iloc[9:109].notna().all()
    assert res.spread.iloc[109:130].isna().all()


def test_result_metadata(pair_prices) -> None:
    y, x = pair_prices["BTC"], pair_prices["ETH"]
    res = ewm_hedge(y, x, halflife=10, on="log_returns")
    assert (res.method, res.on, res.n_obs) == ("ewm", "log_returns", len(y) - 1)
    assert res.params == {"intercept": True, "halflife": 10.0, "min_periods": 3}
    assert expanding_hedge(y, x).params == {"intercept": True, "min_periods": 3}
    assert rolling_hedge(y, x, window=60).params == {"intercept": True, "window": 60, "min_periods": 60}
    assert "beta[last]" in res.summary()
    assert rolling_hedge(y, x, window=60, intercept=False).alpha.dropna().eq(0.0).all()


# --- bad inputs -------------------------------------------------------------------------------


def test_bad_windows_and_periods(pair_prices) -> None:
    y, x = pair_prices["BTC"].iloc[:50], pair_prices["ETH"].iloc[:50]
    with pytest.raises(PairsError, match="window must be an integer >= 2"):
        rolling_hedge(y, x, window=1)
    with pytest.raises(InsufficientDataError, match="window must be <= the number of observations"):
        rolling_hedge(y, x, window=51)
    with pytest.raises(InsufficientDataError, match=r"window must be <= the number of observations \(49\)"):
        rolling_hedge(y, x, window=50, on="returns")
    with pytest.raises(PairsError, match="window must be an integer"):
        rolling_hedge(y, x, window=10.0)
    with pytest.raises(PairsError, match="window must be an integer >= 3"):
        rolling_hedge(y, pair_prices[["ETH", "BTC"]].iloc[:50] * [1, 2], window=2)
    with pytest.raises(PairsError, match="min_periods must be an integer >= 2"):
        rolling_hedge(y, x, window=10, min_periods=1)
    with pytest.raises(PairsError, match="min_periods must be an integer <= 10"):
        rolling_hedge(y, x, window=10, min_periods=11)
    with pytest.raises(InsufficientDataError, match="min_periods must be <="):
        expanding_hedge(y, x, min_periods=51)
    with pytest.raises(PairsError, match="min_periods must be an integer"):
        ewm_hedge(y, x, halflife=5, min_periods="3")
    with pytest.raises(InsufficientDataError, match="y must have more than 2 observations"):
        expanding_hedge(y.iloc[:3], x.iloc[:3], on="diff")


@pytest.mark.parametrize("halflife", [0, -2.0, float("nan"), float("inf"), "10", True])
def test_bad_halflife(pair_prices, halflife) -> None:
    with pytest.raises(PairsError, match="halflife must be"):
        ewm_hedge(pair_prices["BTC"].iloc[:50], pair_prices["ETH"].iloc[:50], halflife=halflife)


@pytest.mark.parametrize(
    "fit",
    [
        lambda y, x, **kw: rolling_hedge(y, x, window=5, **kw),
        lambda y, x, **kw: expanding_hedge(y, x, **kw),
        lambda y, x, **kw: ewm_hedge(y, x, halflife=5, **kw),
    ],
    ids=["rolling", "expanding", "ewm"],
)
def test_bad_data_and_options(pair_prices, fit) -> None:
    short = pair_prices.iloc[:40]
    y, x = short["BTC"], short["ETH"]
    with pytest.raises(PairsError, match="on must be one of"):
        fit(y, x, on="pct")
    with pytest.raises(PairsError, match="intercept must be True or False"):
        fit(y, x, intercept=None)
    bad = x.copy()
    bad.iloc[7] = np.nan
    with pytest.raises(DataError, match="x must not contain NaN"):
        fit(y, bad)
    bad.iloc[7] = 0.0
    with pytest.raises(DataError, match="x must be strictly positive"):
        fit(y, bad, on="log_returns")
    with pytest.raises(DataError, match="y index must be sorted"):
        fit(y.iloc[::-1], x.iloc[::-1])
    with pytest.raises(DataError, match="x index must equal y index"):
        fit(y, x.set_axis(x.index + pd.Timedelta(hours=1)))
    with pytest.raises(DataError, match="x must not be constant"):
        fit(y, pd.Series(2.0, index=y.index))
    with pytest.raises(DataError, match="y must have a numeric dtype"):
        fit(y.astype(object), x)
