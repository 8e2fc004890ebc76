"""check_strategy: a planted look-ahead is found; warm-up lengths match direct computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pairs
import pairs.strategy._batch as batch

PRICES = pairs.load_sample("binance_1d")[["ETH", "BTC"]].dropna()
SHORT = PRICES.iloc[:600]


def _warmup(
    z_part: np.ndarray, z_full: np.ndarray, b_part: np.ndarray, b_full: np.ndarray, tol: float
) -> float:
    """Bars to replay from the start before z and beta stay within tol of the full run (NaN: never)."""
    last_bad = -1
    for k in range(len(z_part)):
        z_ok = (np.isnan(z_part[k]) and np.isnan(z_full[k])) or abs(z_part[k] - z_full[k]) <= tol
        b_ok = (np.isnan(b_part[k]) and np.isnan(b_full[k])) or abs(b_part[k] / b_full[k] - 1.0) <= tol
        if not (z_ok and b_ok):
            last_bad = k
    return float("nan") if last_bad == len(z_part) - 1 else float(last_bad + 1)


def _rolling_z(spread: np.ndarray, window: int) -> np.ndarray:
    s = pd.Series(spread)
    roll = s.rolling(window, min_periods=window)
    return ((s - roll.mean()) / roll.std(ddof=1)).to_numpy()


def _direct_rolling(
    y: np.ndarray, x: np.ndarray, window: int, z_window: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rolling OLS (np.polyfit per window) and its rolling z-score, written out."""
    beta = np.full(len(y), np.nan)
    spread = np.full(len(y), np.nan)
    for t in range(window - 1, len(y)):
        b, a = np.polyfit(x[t - window + 1 : t + 1], y[t - window + 1 : t + 1], 1)
        beta[t], spread[t] = b, y[t] - b * x[t] - a
    return beta, _rolling_z(spread, z_window)


def _direct_kalman(y: np.ndarray, x: np.ndarray, delta: float, obs_var: float, z_window: int):
    """The strategy's Kalman filter on log prices relative to the first bar, in 2x2 matrices."""
    yr, xr = y - y[0], x - x[0]
    q = delta / (1.0 - delta) * np.eye(2)
    theta, p = np.zeros(2), np.eye(2)
    beta, spread = np.empty(len(y)), np.empty(len(y))
    for t in range(len(y)):
        if t:
            p = p + q
        h = np.array([xr[t], 1.0])
        s = h @ p @ h + obs_var
        gain = p @ h / s
        theta = theta + gain * (yr[t] - h @ theta)
        p = p - np.outer(gain, h @ p)
        beta[t], spread[t] = theta[0], yr[t] - theta[0] * xr[t] - theta[1]
    return beta, _rolling_z(spread, z_window)


def _positions(result: pairs.CheckResult, index: pd.Index) -> list[int]:
    return [index.get_loc(s) for s in result.warmup["start"]]


def test_rolling_warmup_matches_a_direct_computation() -> None:
    w, zw = 30, 20
    strategy = pairs.Strategy(hedge="rolling", window=w, zscore_window=zw, log_prices=True)
    y, x = SHORT["ETH"], SHORT["BTC"]
    result = pairs.check_strategy(strategy, y, x, cuts=10, starts=3)
    assert result.causal and result.lookahead.empty
    ly, lx = np.log(y.to_numpy()), np.log(x.to_numpy())
    full_b, full_z = _direct_rolling(ly, lx, w, zw)
    # The direct computation is the strategy's own run (so the comparison below is of warm-up only).
    run = strategy.run(y, x).frame
    np.testing.assert_allclose(run["zscore"], full_z, rtol=1e-6, atol=1e-9)
    for s, got in zip(_positions(result, y.index), result.warmup["warmup_bars"], strict=True):
        b, z = _direct_rolling(ly[s:], lx[s:], w, zw)
        expected = _warmup(z, full_z[s:], b, full_b[s:], 1e-6)
        assert abs(got - expected) <= 1
        assert expected == w + zw - 2  # the written-out count: the first z uses w + zw - 1 bars
    assert result.warmup_bars == w + zw - 2


def test_kalman_warmup_matches_a_direct_computation() -> None:
    strategy = pairs.Strategy(log_prices=True)  # the default Kalman hedge and rolling z-score
    y, x = PRICES["ETH"], PRICES["BTC"]
    tol = 0.2  # z within 0.2 and beta within 20%: the first tolerance at which most starts settle
    result = pairs.check_strategy(strategy, y, x, cuts=5, starts=4, tolerance=tol)
    ly, lx = np.log(y.to_numpy()), np.log(x.to_numpy())
    full_b, full_z = _direct_kalman(ly, lx, strategy.delta, strategy.obs_var, strategy.z_window)
    np.testing.assert_allclose(strategy.run(y, x).frame["zscore"], full_z, rtol=1e-6, atol=1e-9)
    expected = []
    for s in _positions(result, y.index):
        b, z = _direct_kalman(ly[s:], lx[s:], strategy.delta, strategy.obs_var, strategy.z_window)
        expected.append(_warmup(z, full_z[s:], b, full_b[s:], tol))
    got = result.warmup["warmup_bars"].to_numpy()
    assert np.array_equal(np.isnan(got), np.isnan(expected))
    finite = ~np.isnan(got)
    assert finite.any()
    assert np.all(np.abs(got[finite] - np.asarray(expected)[finite]) <= 1)
    # A filter started later is another model (noise in units relative to its first bar):
    # at a tight tolerance it never matches the full run within the data.
    assert np.isnan(pairs.check_strategy(strategy, y, x, cuts=2, starts=1, tolerance=1e-6).warmup_bars)


def _centred_zscore(spread, code, window, alpha, min_periods):
    s = pd.Series(spread)
    roll = s.rolling(window, min_periods=window, center=True)
    return ((s - roll.mean()) / roll.std(ddof=1)).to_numpy()


def test_a_planted_centred_zscore_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    strategy = pairs.Strategy(hedge="rolling", window=30, zscore_window=20, log_prices=True)
    y, x = SHORT["ETH"], SHORT["BTC"]
    assert pairs.check_strategy(strategy, y, x, cuts=10).causal
    monkeypatch.setattr(batch, "zscore_kernel", _centred_zscore)
    result = pairs.check_strategy(strategy, y, x, cuts=10)
    assert not result.causal
    bars = [y.index.get_loc(b) for b in result.lookahead["bar"]]
    cuts = [y.index.get_loc(c) for c in result.lookahead["cut"]]
    # Every changed bar lies within half a window before the end of the prefix that changed it.
    assert all(0 <= c - b < 10 for b, c in zip(bars, cuts, strict=True))
    assert all("zscore" in cols for cols in result.lookahead["columns"])
    # The last bar of every prefix is reported, where the full run has its centred z-score
    # (10 later bars).
    ends = {c for c in cuts if c < len(y) - 10}
    assert ends <= set(bars) and len(ends) >= 8


def test_a_whole_sample_ols_fit_looks_ahead() -> None:
    result = pairs.check_strategy(pairs.Strategy(hedge="ols"), SHORT["ETH"], SHORT["BTC"], cuts=5)
    assert not result.causal
    assert result.lookahead["bar"].iloc[0] == SHORT.index[0]
    assert "beta" in result.lookahead["columns"].iloc[0]
