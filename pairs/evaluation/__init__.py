"""Evaluation: the cost-aware backtest, walk-forward analysis and selection statistics."""

from pairs.evaluation._backtest import BacktestResult, backtest
from pairs.evaluation._check import CheckResult, check_strategy
from pairs.evaluation._overfitting import (
    DeflatedSharpeResult,
    OverfittingResult,
    deflated_sharpe,
    probability_of_overfitting,
)
from pairs.evaluation._portfolio import PortfolioResult, portfolio_backtest
from pairs.evaluation._portfolio_sweep import portfolio_sweep
from pairs.evaluation._sweep import SweepResult, sweep
from pairs.evaluation._walk_forward import WalkForwardResult, walk_forward

__all__ = [
    "BacktestResult",
    "CheckResult",
    "DeflatedSharpeResult",
    "OverfittingResult",
    "PortfolioResult",
    "SweepResult",
    "WalkForwardResult",
    "backtest",
    "check_strategy",
    "deflated_sharpe",
    "portfolio_backtest",
    "portfolio_sweep",
    "probability_of_overfitting",
    "sweep",
    "walk_forward",
]
