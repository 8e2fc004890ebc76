"""Issue #26 item 3: Kalman noise fits at a boundary warn; the default z-score under its own model.

The boundary warning is checked where it must fire (log ETH/BTC, a constant hedge) and where it
must not (data simulated from the model with interior noise). The z-score is checked on data
simulated from the default model, and its real-data values are pinned as docs/statistics.md
states them.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import pairs
from pairs.exceptions import KalmanBoundaryWarning
from pairs.hedge import kalman_hedge

DELTA, OBS_VAR = 1e-4, 1e-3  # kalman_hedge's defaults


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return pairs.load_sample("binance_1d")[["BTC", "ETH"]].dropna()


def _simulate(rng: np.random.Generator, n: int, delta: float = DELTA) -> tuple[pd.Series, pd.Series]:
    """Prices from the default model in its ``"ratio"`` units, scaled to BTC/ETH-like levels.

    ``x / x_0`` is a geometric random walk (3% a bar); ``y / y_0 = beta_t x / x_0 + alpha_t + e_t``
    with ``beta``, ``alpha`` random walks of variance ``delta / (1 - delta)`` a bar and
    ``Var(e) = 1e-3``. The first bar is 1 in both, as the filter's units require.
    """
    q = delta / (1.0 - delta)
    x_rel = np.exp(np.cumsum(np.r_[0.0, 0.03 * rng.standard_normal(n - 1)]))
    beta = 1.0 + np.cumsum(np.r_[0.0, np.sqrt(q) * rng.standard_normal(n - 1)])
    e = np.sqrt(OBS_VAR) * rng.standard_normal(n)
    alpha = np.cumsum(np.r_[1.0 - beta[0] - e[0], np.sqrt(q) * rng.standard_normal(n - 1)])
    y_rel = beta * x_rel + alpha + e
    return pd.Series(2_000.0 * y_rel), pd.Series(30_000.0 * x_rel)


def _boundary_warnings(*args, **kwargs) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kalman_hedge(*args, **kwargs)
    return [str(w.message) for w in caught if issubclass(w.category, KalmanBoundaryWarning)]


def test_mle_on_log_eth_btc_warns_that_obs_var_is_at_zero(prices):
    logp = np.log(prices)
    with pytest.warns(KalmanBoundaryWarning, match=r"^obs_var must be away from 0") as caught:
        res = kalman_hedge(logp["ETH"], logp["BTC"], fit="mle")
    message = str(caught[0].message)
    assert "fit='mle'" in message and "cannot tell from 0" in message and "spread" in message
    # What the warning means: the fitted spread is numerically 0.
    assert res.obs_var < 1e-15 and res.spread.std() < 1e-12
    assert issubclass(KalmanBoundaryWarning, pairs.PairsWarning)


def test_mle_in_log_units_is_interior_and_does_not_warn(prices):
    logp = np.log(prices)
    with warnings.catch_warnings():
        warnings.simplefilter("error", KalmanBoundaryWarning)
        res = kalman_hedge(logp["ETH"], logp["BTC"], noise_units="log", fit="mle")
    assert res.obs_var == pytest.approx(1.1e-4, rel=0.05)


def test_mle_in_log_units_on_500_bar_windows_ends_at_zero(prices):
    logp = np.log(prices)
    for start in (0, 500):
        window = logp.iloc[start : start + 500]
        with pytest.warns(KalmanBoundaryWarning, match=r"^obs_var must be away from 0"):
            res = kalman_hedge(window["ETH"], window["BTC"], noise_units="log", fit="mle")
        assert res.obs_var < 1e-15


def test_unconverged_em_is_not_judged(prices):
    # EM stopped early (the cap, or em_tol=0) is no optimum: only the cap's own warning.
    logp = np.log(prices).iloc[:300]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kalman_hedge(logp["ETH"], logp["BTC"], noise_units="log", fit="em", em_iter=3)
        kalman_hedge(logp["ETH"], logp["BTC"], noise_units="log", fit="em", em_iter=3, em_tol=0.0)
    assert [w.category for w in caught] == [pairs.EMConvergenceWarning]


def test_constant_hedge_warns_that_the_state_noise_is_at_zero():
    y, x = _simulate(np.random.default_rng(41), 1000, delta=1e-12)
    messages = _boundary_warnings(y, x, fit="mle")
    assert len(messages) == 1 and messages[0].startswith("the state noise must be away from 0")
    assert "static OLS hedge" in messages[0]


def test_no_warning_on_data_from_the_model_with_interior_noise():
    rng = np.random.default_rng(42)
    for _ in range(3):
        y, x = _simulate(rng, 1000)
        for fit in ("mle", "em"):
            assert _boundary_warnings(y, x, fit=fit) == [], fit


def test_default_zscore_is_standard_normal_on_data_from_the_default_model():
    rng = np.random.default_rng(26)
    pooled = []
    for _ in range(20):
        y, x = _simulate(rng, 1000)
        z = kalman_hedge(y, x).zscore.to_numpy()
        # 1,000 bars: the s.e. of a standard normal's sample sd is 2.2%; 10% is 4.5 s.e.
        assert np.std(z) == pytest.approx(1.0, rel=0.10)
        pooled.append(z)
    z = np.concatenate(pooled)
    # 20,000 values: s.e. 0.5% for the sd and 0.007 for the mean.
    assert np.std(z) == pytest.approx(1.0, rel=0.02)
    assert abs(np.mean(z)) < 0.03


def test_default_zscore_on_real_data_depends_on_the_noise_units(prices):
    """The values docs/statistics.md quotes: 1 only where the noise fits the data."""
    logp = np.log(prices)
    sds = {
        "prices, ratio": kalman_hedge(prices["ETH"], prices["BTC"]).zscore.std(),
        "log prices, log": kalman_hedge(logp["ETH"], logp["BTC"], noise_units="log").zscore.std(),
        "log prices, ratio": kalman_hedge(logp["ETH"], logp["BTC"]).zscore.std(),
    }
    assert sds == pytest.approx(
        {"prices, ratio": 1.48, "log prices, log": 0.86, "log prices, ratio": 0.164}, abs=0.01
    )
    mle = kalman_hedge(logp["ETH"], logp["BTC"], noise_units="log", fit="mle")
    assert mle.zscore.std() == pytest.approx(1.0, abs=0.01)
