"""Hedge effectiveness: the formula, the in-sample identity with OLS, no look-ahead, bad inputs.

The in-sample identity (effectiveness of the full-sample OLS beta on the same changes equals
that regression's R-squared) is exact algebra, checked to 1e-10 relative. The manual
reference recomputes the hedged changes with pandas (``pct_change``, ``shift``) to 1e-12.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pairs import HedgeEffectiveness, ewm_hedge, hedge_effectiveness, ols_hedge, rolling_hedge
from pairs.exceptions import DataError, InsufficientDataError, PairsError

CHANGES = ("diff", "returns", "log_returns")
LEGS = ["ETH", "LTC", "XRP"]


@pytest.mark.parametrize("on", CHANGES)
def test_in_sample_ols_beta_effectiveness_is_r_squared(pair_prices, leg_prices, on) -> None:
    y, x = pair_prices["BTC"], pair_prices["ETH"]
    fit = ols_hedge(y, x, on=on)
    res = hedge_effectiveness(y, x, fit.beta, on=on)
    assert res.effectiveness == pytest.approx(fit.r_squared, rel=1e-10)
    assert res.n_obs == len(y) - 1
    many = ols_hedge(leg_prices["BTC"], leg_prices[LEGS], on=on)
    res_many = hedge_effectiveness(leg_prices["BTC"], leg_prices[LEGS], many.beta, on=on)
    assert res_many.effectiveness == pytest.approx(many.r_squared, rel=1e-10)
    # No static beta beats the OLS one in sample.
    for other in (0.0, 0.9 * fit.beta, 1.1 * fit.beta):
        assert hedge_effectiveness(y, x, other, on=on).effectiveness < res.effectiveness


def _ref_changes(prices: pd.Series, on: str) -> pd.Series:
    if on == "diff":
        return prices.diff()
    if on == "returns":
        return prices.pct_change()
    return np.log(prices).diff()


@pytest.mark.parametrize("on", CHANGES)
def test_matches_manual_formula_static_and_lagged(pair_prices, on) -> None:
    y, x = pair_prices["BTC"].iloc[:500], pair_prices["ETH"].iloc[:500]
    dy, dx = _ref_changes(y, on), _ref_changes(x, on)

    static = hedge_effectiveness(y, x, 0.7, on=on)
    hedged = dy - 0.7 * dx
    np.testing.assert_allclose(static.hedged.to_numpy(), hedged.to_numpy(), rtol=1e-12)
    assert static.var_hedged == pytest.approx(hedged.var(), rel=1e-12)
    assert static.var_unhedged == pytest.approx(dy.var(), rel=1e-12)
    assert static.effectiveness == pytest.approx(1 - hedged.var() / dy.var(), rel=1e-12)

    beta = rolling_hedge(y, x, window=30, on=on).beta
    moving = hedge_effectiveness(y, x, beta, on=on)
    hedged = dy - beta.shift(1) * dx
    valid = hedged.notna()
    np.testing.assert_allclose(moving.hedged.to_numpy(), hedged.to_numpy(), rtol=1e-12)
    assert moving.n_obs == int(valid.sum()) == 500 - 31
    assert moving.var_unhedged == pytest.approx(dy[valid].var(), rel=1e-12)
    assert moving.effectiveness == pytest.approx(1 - hedged[valid].var() / dy[valid].var(), rel=1e-12)


def test_multi_leg_time_varying_beta(leg_prices) -> None:
    y, x = leg_prices["BTC"].iloc[:400], leg_prices[LEGS].iloc[:400]
    beta = rolling_hedge(y, x, window=60, on="returns").beta
    res = hedge_effectiveness(y, x, beta, on="returns")
    expected = y.pct_change() - (beta.shift(1) * x.pct_change()).sum(axis=1, min_count=3)
    np.testing.assert_allclose(res.hedged.to_numpy(), expected.to_numpy(), rtol=1e-12)
    static = hedge_effectiveness(y, x, pd.Series([0.3, 0.2, 0.1], index=["XRP", "ETH", "LTC"]))
    expected = y.pct_change() - x.pct_change() @ np.array([0.2, 0.1, 0.3])
    np.testing.assert_allclose(static.hedged.to_numpy(), expected.to_numpy(), rtol=1e-12)


def test_beta_known_at_t_minus_one_hedges_t(pair_prices) -> None:
    """Changing beta from bar t on leaves every hedged change up to t untouched (no look-ahead)."""
    y, x = pair_prices["BTC"].iloc[:300], pair_prices["ETH"].iloc[:300]
    beta = rolling_hedge(y, x, window=20, on="returns").beta
    future = beta.copy()
    future.iloc[150:] = 5.0
    a = hedge_effectiveness(y, x, beta).hedged
    b = hedge_effectiveness(y, x, future).hedged
    pd.testing.assert_series_equal(a.iloc[:151], b.iloc[:151])
    moved = x.pct_change().iloc[151:] != 0.0
    assert (a.iloc[151:] != b.iloc[151:])[moved].all()


@pytest.mark.parametrize("on", ["returns", "log_returns"])
def test_out_of_sample_comparison_on_real_data(pair_prices, on) -> None:
    """Static beta fitted on the first half vs causal moving betas, all judged on the second half.

    Theory: no static beta beats the test half's own OLS beta on that half, so the trained
    static beta's effectiveness is bounded by it. Data (BTC/ETH daily, 2017-2026): the moving
    betas, which adapt as the correlation drifts, hedge the second half better than the static
    beta (returns: rolling 0.702 and EWM 0.707 vs static 0.690).
    """
    y, x = pair_prices["BTC"], pair_prices["ETH"]
    half = len(y) // 2
    train, test = pair_prices.iloc[:half], pair_prices.iloc[half:]
    static_beta = ols_hedge(train["BTC"], train["ETH"], on=on).beta
    rolling_beta = rolling_hedge(y, x, window=60, on=on).beta.loc[test.index]
    ewm_beta = ewm_hedge(y, x, halflife=30, on=on).beta.loc[test.index]

    static = hedge_effectiveness(test["BTC"], test["ETH"], static_beta, on=on)
    rolling = hedge_effectiveness(test["BTC"], test["ETH"], rolling_beta, on=on)
    ewm = hedge_effectiveness(test["BTC"], test["ETH"], ewm_beta, on=on)
    best_static = ols_hedge(test["BTC"], test["ETH"], on=on)

    assert static.n_obs == rolling.n_obs == ewm.n_obs == len(test) - 1
    assert 0.0 < static.effectiveness <= best_static.r_squared + 1e-12
    assert static.effectiveness < rolling.effectiveness < 1.0
    assert static.effectiveness < ewm.effectiveness < 1.0


def test_result_object(pair_prices) -> None:
    res = hedge_effectiveness(pair_prices["BTC"], pair_prices["ETH"], 0.6, on="log_returns")
    assert isinstance(res, HedgeEffectiveness) and res.on == "log_returns"
    assert res.hedged.index.equals(pair_prices.index) and np.isnan(res.hedged.iloc[0])
    payload = json.loads(json.dumps(res.to_dict()))
    assert payload["n_obs"] == len(pair_prices) - 1
    assert "effectiveness" in res.summary()


# --- bad inputs -------------------------------------------------------------------------------


def test_bad_inputs(pair_prices, leg_prices) -> None:
    y, x = pair_prices["BTC"].iloc[:60], pair_prices["ETH"].iloc[:60]
    with pytest.raises(PairsError, match="on must be one of 'diff', 'returns', 'log_returns'"):
        hedge_effectiveness(y, x, 0.5, on="levels")
    with pytest.raises(DataError, match="beta must be a float or a Series"):
        hedge_effectiveness(y, x, "0.5")
    with pytest.raises(DataError, match="beta must be a float or a Series"):
        hedge_effectiveness(y, x, True)
    with pytest.raises(PairsError, match="beta must be a finite number"):
        hedge_effectiveness(y, x, float("inf"))
    with pytest.raises(DataError, match="beta index must equal y index"):
        hedge_effectiveness(y, x, pd.Series(0.5, index=pair_prices.index[1:61]))
    with pytest.raises(DataError, match="beta must contain only finite"):
        hedge_effectiveness(y, x, pd.Series(np.inf, index=y.index))
    with pytest.raises(InsufficientDataError, match="beta must be known on at least 2 bars"):
        hedge_effectiveness(y, x, pd.Series(np.nan, index=y.index))
    bad = y.copy()
    bad.iloc[3] = -1.0
    with pytest.raises(DataError, match="y must be strictly positive"):
        hedge_effectiveness(bad, x, 0.5, on="returns")
    legs = leg_prices[LEGS].iloc[:60]
    yl = leg_prices["BTC"].iloc[:60]
    with pytest.raises(DataError, match="beta must be a Series indexed by the legs"):
        hedge_effectiveness(yl, legs, 0.5)
    with pytest.raises(DataError, match="beta must be indexed by the legs"):
        hedge_effectiveness(yl, legs, pd.Series([0.1, 0.2], index=["ETH", "LTC"]))
    with pytest.raises(DataError, match="beta must hold finite numbers per leg"):
        hedge_effectiveness(yl, legs, pd.Series([0.1, np.nan, 0.3], index=LEGS))
    with pytest.raises(DataError, match="beta columns must be the legs"):
        hedge_effectiveness(yl, legs, pd.DataFrame(0.1, index=yl.index, columns=["ETH", "LTC", "DOGE"]))
