"""walk_forward(half_life_window=k): each fold's window is k half-lives of its training spread, causal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pairs
from pairs import PairsError, Strategy

PRICES = pairs.load_sample("binance_1d")[["BNB", "LTC"]].dropna().iloc[-1200:]


def _half_life(y: pd.Series, x: pd.Series) -> float:
    """OLS residual of y on x (numpy), then the AR(1) half-life -ln 2 / ln(1 + lambda)."""
    slope, intercept = np.polyfit(x, y, 1)
    s = (y - slope * x - intercept).to_numpy()
    lag = s[:-1] - s[:-1].mean()
    lam = (lag @ np.diff(s)) / (lag @ lag)
    return float(-np.log(2) / np.log(1 + lam)) if -1 < lam < 0 else np.inf


def test_each_fold_window_is_k_half_lives_of_its_training_spread():
    strategy = Strategy(hedge="rolling", log_prices=True, zscore_window=30)
    wf = pairs.walk_forward(
        PRICES["BNB"], PRICES["LTC"], train=300, test=150, strategy=strategy, half_life_window=2.0
    )
    logs = np.log(PRICES)
    for k, row in enumerate(wf.folds.itertuples()):
        train = logs.iloc[k * 150 : k * 150 + 300]
        hl = _half_life(train["BNB"], train["LTC"])
        assert row.half_life == pytest.approx(hl, rel=1e-8)
        expect = int(min(max(round(2.0 * hl), 2), 300)) if np.isfinite(hl) else 300
        assert row.window == expect
    # A fold trades exactly the strategy with that window: fold 0 against a fixed-window run.
    first = wf.folds.iloc[0]
    fixed = pairs.walk_forward(
        PRICES["BNB"].iloc[:450],
        PRICES["LTC"].iloc[:450],
        train=300,
        test=150,
        strategy=strategy.replace(window=int(first["window"])),
    )
    np.testing.assert_array_equal(
        wf.backtest.returns.iloc[:150].to_numpy(), fixed.backtest.returns.iloc[:150].to_numpy()
    )


def test_the_window_never_sees_its_test_bars():
    strategy = Strategy(hedge="rolling", log_prices=True, zscore_window=30)
    base = pairs.walk_forward(
        PRICES["BNB"], PRICES["LTC"], train=300, test=150, strategy=strategy, half_life_window=3.0
    )
    changed = PRICES.copy()
    changed.iloc[300:450] *= np.linspace(1.0, 1.5, 150)[:, None]  # fold 0's test bars only
    other = pairs.walk_forward(
        changed["BNB"], changed["LTC"], train=300, test=150, strategy=strategy, half_life_window=3.0
    )
    assert other.folds["window"].iloc[0] == base.folds["window"].iloc[0]


def test_bad_input():
    with pytest.raises(PairsError, match="half_life_window"):
        pairs.walk_forward(
            PRICES["BNB"], PRICES["LTC"], train=300, test=150, strategy=Strategy(), half_life_window=0
        )
    with pytest.raises(PairsError, match="strategy"):
        pairs.walk_forward(PRICES["BNB"], PRICES["LTC"], train=300, test=150, half_life_window=2.0)
    with pytest.raises(PairsError, match="window"):
        pairs.walk_forward(
            PRICES["BNB"],
            PRICES["LTC"],
            train=300,
            test=150,
            strategy=Strategy(hedge="rolling"),
            grid={"window": [20, 40]},
            half_life_window=2.0,
        )
