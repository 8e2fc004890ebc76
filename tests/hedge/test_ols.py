"""Static OLS hedge ratio against statsmodels OLS on real Binance closes, invariances, bad inputs.

Tolerance: our fit centres then uses QR, statsmodels uses ``pinv`` on the raw design; both are
backward stable, so estimates, R-squared and standard errors must agree to 1e-10 relative
(observed <= 2e-12 on the worst case, three price legs on levels). Residuals near zero are
compared with an absolute floor of 1e-10 times the scale of ``y'``.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from pairs import HedgeResult, ols_hedge
from pairs.exceptions import DataError, InsufficientDataError, PairsError

ON_MODES = ("levels", "diff", "returns", "log_returns")
RTOL = 1e-10


@pytest.mark.parametrize("on", ON_MODES)
@pytest.mark.parametrize("intercept", [True, False])
@pytest.mark.parametrize("legs", [["ETH"], ["ETH", "LTC", "XRP"]], ids=["one_leg", "three_legs"])
def test_matches_statsmodels_ols(pair_prices, leg_prices, ref_changes, on, intercept, legs) -> None:
    prices = leg_prices if len(legs) > 1 else pair_prices
    x = prices[legs] if len(legs) > 1 else prices["ETH"]
    res = ols_hedge(prices["BTC"], x, intercept=intercept, on=on)

    y_ref = ref_changes(prices["BTC"], on)
    x_ref = ref_changes(prices[legs], on)
    design = sm.add_constant(x_ref) if intercept else x_ref
    ref = sm.OLS(y_ref, design).fit()

    beta = np.atleast_1d(np.asarray(res.beta, dtype=float))
    np.testing.assert_allclose(beta, ref.params[legs].to_numpy(), rtol=RTOL)
    np.testing.assert_allclose(np.atleast_1d(np.asarray(res.beta_se)), ref.bse[legs].to_numpy(), rtol=RTOL)
    np.testing.assert_allclose(
        np.atleast_1d(np.asarray(res.beta_tstat)), ref.tvalues[legs].to_numpy(), rtol=RTOL
    )
    assert res.r_squared == pytest.approx(ref.rsquared, rel=RTOL)
    assert res.n_obs == int(ref.nobs)
    if intercept:
        assert res.alpha == pytest.approx(ref.params["const"], rel=RTOL)
        assert res.alpha_se == pytest.approx(ref.bse["const"], rel=RTOL)
        assert res.alpha_tstat == pytest.approx(ref.tvalues["const"], rel=RTOL)
    else:
        assert res.alpha == 0.0 and res.alpha_se is None and res.alpha_tstat is None

    assert res.spread.index.equals(prices.index)
    assert np.isnan(res.spread.iloc[0]) == (on != "levels")
    np.testing.assert_allclose(
        res.spread.loc[y_ref.index].to_numpy(),
        ref.resid.to_numpy(),
        rtol=RTOL,
        atol=RTOL * float(y_ref.abs().mean()),
    )


def test_result_shapes_and_serialisation(pair_prices, leg_prices) -> None:
    one = ols_hedge(pair_prices["BTC"], pair_prices["ETH"])
    assert isinstance(one, HedgeResult) and isinstance(one.beta, float)
    assert one.method == "ols" and one.on == "levels" and one.params == {"intercept": True}
    many = ols_hedge(leg_prices["BTC"], leg_prices[["ETH", "LTC", "XRP"]], on="returns")
    assert isinstance(many.beta, pd.Series) and list(many.beta.index) == ["ETH", "LTC", "XRP"]
    payload = json.loads(json.dumps(many.to_dict()))
    assert payload["beta"]["index"] == ["ETH", "LTC", "XRP"]
    assert payload["spread"]["values"][0] is None
    text = many.summary()
    assert "beta[LTC]" in text and "beta_tstat[XRP]" in text and "returns" in text
    with pytest.raises(AttributeError):
        many.beta = 1.0  # type: ignore[misc]


def test_arrays_adopt_positions(pair_prices) -> None:
    res = ols_hedge(pair_prices["BTC"].to_numpy(), pair_prices["ETH"].to_numpy(), on="log_returns")
    ref = ols_hedge(pair_prices["BTC"], pair_prices["ETH"], on="log_returns")
    assert res.beta == ref.beta
    assert isinstance(res.spread.index, pd.RangeIndex)


@settings(max_examples=15, deadline=None)
@given(scale=st.floats(1e-3, 1e3), on=st.sampled_from(["levels", "diff"]), intercept=st.booleans())
def test_scaling_x_scales_beta_inversely(pair_prices, scale, on, intercept) -> None:
    y, x = pair_prices["BTC"], pair_prices["ETH"]
    base = ols_hedge(y, x, on=on, intercept=intercept)
    scaled = ols_hedge(y, x * scale, on=on, intercept=intercept)
    assert scaled.beta * scale == pytest.approx(base.beta, rel=1e-9)
    assert scaled.r_squared == pytest.approx(base.r_squared, rel=1e-9)


@settings(max_examples=10, deadline=None)
@given(scale=st.floats(1e-3, 1e3), on=st.sampled_from(["returns", "log_returns"]))
def test_returns_beta_ignores_price_units(pair_prices, scale, on) -> None:
    y, x = pair_prices["BTC"], pair_prices["ETH"]
    assert ols_hedge(y, x * scale, on=on).beta == pytest.approx(ols_hedge(y, x, on=on).beta, rel=1e-9)


def test_min_variance_ratio_on_changes(pair_prices) -> None:
    """On changes with an intercept the ratio is Cov(dy, dx) / Var(dx)."""
    r = np.log(pair_prices).diff().dropna()
    expected = r["BTC"].cov(r["ETH"]) / r["ETH"].var()
    assert ols_hedge(pair_prices["BTC"], pair_prices["ETH"], on="log_returns").beta == pytest.approx(
        expected, rel=1e-12
    )


# --- bad inputs -------------------------------------------------------------------------------


@pytest.fixture
def short(pair_prices) -> pd.DataFrame:
    return pair_prices.iloc[:50].copy()


def test_rejects_nan_and_inf(short) -> None:
    y = short["BTC"].copy()
    y.iloc[5] = np.nan
    with pytest.raises(DataError, match="y must not contain NaN"):
        ols_hedge(y, short["ETH"])
    x = short["ETH"].copy()
    x.iloc[5] = np.inf
    with pytest.raises(DataError, match="x must contain only finite"):
        ols_hedge(short["BTC"], x)


@pytest.mark.parametrize("on", ["returns", "log_returns"])
def test_returns_need_positive_prices(short, on) -> None:
    x = short["ETH"].copy()
    x.iloc[3] = 0.0
    with pytest.raises(DataError, match="x must be strictly positive"):
        ols_hedge(short["BTC"], x, on=on)
    y = short["BTC"].copy()
    y.iloc[3] = -1.0
    with pytest.raises(DataError, match="y must be strictly positive"):
        ols_hedge(y, short["ETH"], on=on)
    ols_hedge(y, short["ETH"], on="diff")  # changes in price units accept any sign


def test_rejects_bad_index(short) -> None:
    shuffled = short.iloc[::-1]
    with pytest.raises(DataError, match="y index must be sorted"):
        ols_hedge(shuffled["BTC"], shuffled["ETH"])
    dup = short.iloc[[0, 1, 1, 2, 3, 4]]
    with pytest.raises(DataError, match="y index must have unique"):
        ols_hedge(dup["BTC"], dup["ETH"])
    with pytest.raises(DataError, match="x index must equal y index"):
        ols_hedge(short["BTC"].iloc[1:], short["ETH"].iloc[:-1])
    with pytest.raises(DataError, match="x must have the same length"):
        ols_hedge(short["BTC"], short["ETH"].iloc[:-1])


def test_rejects_bad_options_and_types(short) -> None:
    with pytest.raises(PairsError, match="on must be one of"):
        ols_hedge(short["BTC"], short["ETH"], on="prices")
    with pytest.raises(PairsError, match="intercept must be True or False"):
        ols_hedge(short["BTC"], short["ETH"], intercept="yes")
    with pytest.raises(DataError, match="y must"):
        ols_hedge("BTC", short["ETH"])
    with pytest.raises(DataError, match="x must have a numeric dtype"):
        ols_hedge(short["BTC"], short["ETH"].astype(str))


def test_rejects_constant_short_and_collinear(short) -> None:
    with pytest.raises(DataError, match="x must not be constant"):
        ols_hedge(short["BTC"], pd.Series(3.0, index=short.index))
    with pytest.raises(DataError, match="x must not be constant"):
        ols_hedge(short["BTC"], pd.Series(np.arange(50.0) + 10, index=short.index), on="diff")
    with pytest.raises(InsufficientDataError, match="y must have more than 2"):
        ols_hedge(short["BTC"].iloc[:2], short["ETH"].iloc[:2])
    with pytest.raises(InsufficientDataError, match="y must have at least 3"):
        ols_hedge(short["BTC"].iloc[:2], short["ETH"].iloc[:2], on="returns")
    legs = pd.DataFrame({"ETH": short["ETH"], "ETH2": 2.0 * short["ETH"]})
    with pytest.raises(DataError, match="x must not have collinear legs"):
        ols_hedge(short["BTC"], legs)
