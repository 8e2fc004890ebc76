"""Evaluation: the cost-aware backtest, walk-forward analysis and selection statistics."""

from pairs.evaluation._backtest import BacktestResult, WalkForwardResult, backtest, walk_forward
from pairs.evaluation._overfitting import (
    DeflatedSharpeResult,
    OverfittingResult,
    deflated_sharpe,
    probability_of_overfitting,
)
from pairs.evaluation._portfolio import PortfolioResult, portfolio_backtest

__all__ = [
    "BacktestResult",
    "DeflatedSharpeResult",
    "OverfittingResult",
    "PortfolioResult",
    "WalkForwardResult",
    "backtest",
    "deflated_sharpe",
    "portfolio_backtest",
    "probability_of_overfitting",
    "walk_forward",
]
