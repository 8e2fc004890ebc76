"""The strategy spec: hedge -> z-score -> rule -> sizing -> costs, defined once for every use."""

from pairs.strategy._result import StrategyResult
from pairs.strategy._strategy import Strategy

__all__ = ["Strategy", "StrategyResult"]
