"""Evaluation: the cost-aware backtest and walk-forward analysis."""

from pairs.evaluation._backtest import BacktestResult, WalkForwardResult, backtest, walk_forward

__all__ = ["BacktestResult", "WalkForwardResult", "backtest", "walk_forward"]
