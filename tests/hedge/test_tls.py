"""Total least squares against the SVD closed form and scipy.odr, symmetry and bad inputs.

Tolerances: the principal axis from an SVD of the centred data is the same quantity computed
another way (1e-10 relative). scipy.odr iterates to its own stopping rule; with tightened
tolerances it lands within ~1e-8 of the exact slope, so we allow 1e-6 (and 1e-8 absolute on
the intercept, ~3e-7 of a daily log-return's standard deviation). The reciprocal identity
``beta(y, x) * beta(x, y) = 1`` holds to rounding (1e-14).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pairs import ols_hedge, tls_hedge
from pairs.exceptions import DataError, PairsError

ON_MODES = ("levels", "diff", "returns", "log_returns")


def _svd_slope(y: np.ndarray, x: np.ndarray, intercept: bool) -> float:
    data = np.column_stack([x, y])
    if intercept:
        data = data - data.mean(axis=0)
    normal = np.linalg.svd(data, full_matrices=False)[2][-1]
    return float(-normal[0] / normal[1])


@pytest.mark.parametrize("on", ON_MODES)
@pytest.mark.parametrize("intercept", [True, False])
def test_matches_svd_closed_form(pair_prices, ref_changes, on, intercept) -> None:
    res = tls_hedge(pair_prices["BTC"], pair_prices["ETH"], on=on, intercept=intercept)
    y = ref_changes(pair_prices["BTC"], on).to_numpy()
    x = ref_changes(pair_prices["ETH"], on).to_numpy()
    assert res.beta == pytest.approx(_svd_slope(y, x, intercept), rel=1e-10)
    expected_alpha = y.mean() - res.beta * x.mean() if intercept else 0.0
    assert res.alpha == pytest.approx(expected_alpha, rel=1e-10)
    resid = y - res.beta * x - res.alpha
    np.testing.assert_allclose(
        res.spread.dropna().to_numpy(), resid, rtol=1e-10, atol=1e-10 * np.abs(y).mean()
    )
    tss = np.sum((y - y.mean()) ** 2) if intercept else np.sum(y**2)
    assert res.r_squared == pytest.approx(1 - np.sum(resid**2) / tss, rel=1e-10)
    assert res.n_obs == len(y) and res.method == "tls"


def test_matches_scipy_odr(pair_prices) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        odr = pytest.importorskip("scipy.odr")
    r = np.log(pair_prices).diff().dropna()
    fit = odr.ODR(
        odr.RealData(r["ETH"].to_numpy(), r["BTC"].to_numpy()),
        odr.unilinear,
        beta0=[1.0, 0.0],
        sstol=1e-15,
        partol=1e-15,
        maxit=1000,
    ).run()
    res = tls_hedge(pair_prices["BTC"], pair_prices["ETH"], on="log_returns")
    assert res.beta == pytest.approx(fit.beta[0], rel=1e-6)
    assert res.alpha == pytest.approx(fit.beta[1], abs=1e-8)


@pytest.mark.parametrize("on", ON_MODES)
@pytest.mark.parametrize("intercept", [True, False])
def test_swapping_legs_gives_reciprocal(pair_prices, on, intercept) -> None:
    forward = tls_hedge(pair_prices["BTC"], pair_prices["ETH"], on=on, intercept=intercept)
    backward = tls_hedge(pair_prices["ETH"], pair_prices["BTC"], on=on, intercept=intercept)
    assert forward.beta * backward.beta == pytest.approx(1.0, rel=1e-14)
    if intercept:
        assert backward.alpha == pytest.approx(-forward.alpha / forward.beta, rel=1e-10)


@pytest.mark.parametrize("on", ON_MODES)
def test_lies_between_the_two_ols_slopes(pair_prices, on) -> None:
    """Classical bracket: OLS of y on x <= TLS <= 1 / OLS of x on y (positive correlation)."""
    y, x = pair_prices["BTC"], pair_prices["ETH"]
    low = ols_hedge(y, x, on=on).beta
    high = 1.0 / ols_hedge(x, y, on=on).beta
    assert low < tls_hedge(y, x, on=on).beta < high
    assert tls_hedge(y, x, on=on).r_squared < ols_hedge(y, x, on=on).r_squared


@settings(max_examples=15, deadline=None)
@given(scale=st.floats(1e-3, 1e3))
def test_common_scaling_leaves_beta_unchanged(pair_prices, scale) -> None:
    y, x = pair_prices["BTC"], pair_prices["ETH"]
    base = tls_hedge(y, x, on="diff")
    scaled = tls_hedge(y * scale, x * scale, on="diff")
    assert scaled.beta == pytest.approx(base.beta, rel=1e-10)
    assert scaled.alpha == pytest.approx(base.alpha * scale, rel=1e-9)


def test_perfect_line_is_recovered() -> None:
    x = pd.Series(np.linspace(1.0, 5.0, 40))
    res = tls_hedge(3.0 * x + 2.0, x)
    assert res.beta == pytest.approx(3.0, rel=1e-12)
    assert res.alpha == pytest.approx(2.0, rel=1e-12)
    assert res.r_squared == pytest.approx(1.0, rel=1e-12)


def test_bad_inputs(pair_prices) -> None:
    short = pair_prices.iloc[:30]
    with pytest.raises(DataError, match="x must be a Series or 1-d array"):
        tls_hedge(short["BTC"], short[["BTC", "ETH"]])
    with pytest.raises(PairsError, match="on must be one of"):
        tls_hedge(short["BTC"], short["ETH"], on="level")
    with pytest.raises(PairsError, match="intercept must be True or False"):
        tls_hedge(short["BTC"], short["ETH"], intercept=1)
    with pytest.raises(DataError, match="x must not be constant"):
        tls_hedge(short["BTC"], pd.Series(1.0, index=short.index))
    bad = short["ETH"].copy()
    bad.iloc[4] = np.nan
    with pytest.raises(DataError, match="x must not contain NaN"):
        tls_hedge(short["BTC"], bad)
    bad.iloc[4] = -3.0
    with pytest.raises(DataError, match="x must be strictly positive"):
        tls_hedge(short["BTC"], bad, on="log_returns")
    with pytest.raises(DataError, match="x index must equal y index"):
        tls_hedge(short["BTC"].iloc[1:], short["ETH"].iloc[:-1])
    uncorrelated = pd.Series([1.0, -1.0, 1.0, -1.0])
    with pytest.raises(DataError, match="x must co-move with y"):
        tls_hedge(pd.Series([1.0, 1.0, -1.0, -1.0]), uncorrelated, intercept=False)
