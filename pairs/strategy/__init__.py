"""The strategy spec: hedge -> z-score -> rule -> sizing -> costs, defined once for every use."""

from pairs.strategy._portfolio import Portfolio
from pairs.strategy._result import StrategyResult
from pairs.strategy._selection import Selection
from pairs.strategy._strategy import Strategy

__all__ = ["Portfolio", "Selection", "Strategy", "StrategyResult"]
