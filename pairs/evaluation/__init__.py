"""Evaluation: the cost-aware backtest, walk-forward analysis and selection statistics."""

from pairs.evaluation._backtest import BacktestResult, WalkForwardResult, backtest, walk_forward
from pairs.evaluation._check import CheckResult, check_strategy
from pairs.evaluation._overfitting import (
    DeflatedSharpeResult,
    OverfittingResult,
    deflated_sharpe,
    probability_of_overfitting,
)

__all__ = [
    "BacktestResult",
    "CheckResult",
    "DeflatedSharpeResult",
    "OverfittingResult",
    "WalkForwardResult",
    "backtest",
    "check_strategy",
    "deflated_sharpe",
    "probability_of_overfitting",
    "walk_forward",
]
