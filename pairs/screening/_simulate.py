"""Synthetic price universes with known cointegrated pairs, for tests, benchmarks and examples."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pairs._results import ResultMixin
from pairs._validation import check_float, check_int
from pairs.exceptions import PairsError

__all__ = ["SimulatedUniverse", "simulate_universe"]


@dataclass(frozen=True, repr=False)
class SimulatedUniverse(ResultMixin):
    """A simulated price panel and the cointegrated pairs planted in it.

    ``planted`` has one row per planted pair: ``y``, ``x`` (``y`` comes first in ``prices``),
    and the true ``beta``, ``alpha`` and ``half_life`` (bars) of
    ``log y = alpha + beta * log x + spread``, where ``spread`` is a stationary AR(1).
    """

    prices: pd.DataFrame
    planted: pd.DataFrame
    n_coins: int
    n_bars: int
    n_cointegrated: int
    seed: int | None
    _title = "Simulated universe"


def simulate_universe(
    n_coins: int,
    n_bars: int,
    *,
    n_cointegrated: int = 0,
    half_life: float = 20.0,
    volatility: float = 0.03,
    spread_volatility: float = 0.02,
    seed: int | None = None,
) -> SimulatedUniverse:
    """Simulate daily prices of independent random walks, with some cointegrated pairs planted.

    Log prices of the free coins are Gaussian random walks with per-bar ``volatility``. Planted
    pair ``k`` is columns ``2k`` (``y``) and ``2k + 1`` (``x``): ``x`` is a random walk and
    ``log y = alpha + beta * log x + s`` with ``beta`` uniform in [0.5, 1.5], ``alpha`` uniform in
    [-0.5, 0.5] and ``s`` an AR(1) with the given ``half_life`` (``phi = 2 ** (-1 / half_life)``)
    and innovation sd ``spread_volatility``, started from its stationary distribution.

    Parameters
    ----------
    n_coins
        Number of columns (``"C000"``, ``"C001"``, ...), at least 2.
    n_bars
        Number of daily bars (UTC index starting 2020-01-01), at least 10.
    n_cointegrated
        Number of planted pairs, at most ``n_coins // 2``.
    half_life, volatility, spread_volatility
        Spread half-life in bars and the per-bar sds of the walks and of the spread innovations.
    seed
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    SimulatedUniverse
        ``prices`` (strictly positive, start near 100) and the ``planted`` pairs.

    Examples
    --------
    >>> uni = simulate_universe(6, 500, n_cointegrated=1, seed=0)
    >>> uni.prices.shape, list(uni.planted[["y", "x"]].iloc[0])
    ((500, 6), ['C000', 'C001'])
    """
    coins = check_int("n_coins", n_coins, minimum=2)
    bars = check_int("n_bars", n_bars, minimum=10)
    planted = check_int("n_cointegrated", n_cointegrated, minimum=0)
    if planted > coins // 2:
        raise PairsError(f"n_cointegrated must be <= n_coins // 2 = {coins // 2}; got {n_cointegrated!r}.")
    hl = check_float("half_life", half_life, minimum=0.0, strict_min=True)
    vol = check_float("volatility", volatility, minimum=0.0, strict_min=True)
    svol = check_float("spread_volatility", spread_volatility, minimum=0.0, strict_min=True)
    if seed is not None:
        check_int("seed", seed, minimum=0, maximum=None)

    rng = np.random.default_rng(seed)
    logp = math.log(100.0) + np.cumsum(rng.normal(0.0, vol, size=(bars, coins)), axis=0)
    beta = rng.uniform(0.5, 1.5, size=planted)
    alpha = rng.uniform(-0.5, 0.5, size=planted)
    phi = 2.0 ** (-1.0 / hl)
    shocks = rng.normal(0.0, svol, size=(bars, planted))
    spread = np.empty((bars, planted))
    spread[0] = shocks[0] / math.sqrt(1.0 - phi * phi)
    for t in range(1, bars):
        spread[t] = phi * spread[t - 1] + shocks[t]
    ys = 2 * np.arange(planted)
    logp[:, ys] = alpha + beta * logp[:, ys + 1] + spread

    names = [f"C{i:03d}" for i in range(coins)]
    index = pd.date_range("2020-01-01", periods=bars, freq="D", tz="UTC", name="timestamp")
    table = pd.DataFrame(
        {
            "y": [names[i] for i in ys],
            "x": [names[i + 1] for i in ys],
            "beta": beta,
            "alpha": alpha,
            "half_life": np.full(planted, hl),
        }
    )
    return SimulatedUniverse(
        prices=pd.DataFrame(np.exp(logp), index=index, columns=names),
        planted=table,
        n_coins=coins,
        n_bars=bars,
        n_cointegrated=planted,
        seed=seed,
    )
