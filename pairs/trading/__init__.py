"""Spread signals: causal z-scores, the entry/exit state machine and leg sizing."""

from pairs.trading._bertram import BertramResult, bertram_thresholds
from pairs.trading._execution import ExecutionRule
from pairs.trading._rules import ACTIONS, RuleState, SignalRule, signals, step_rule
from pairs.trading._sizing import size_legs
from pairs.trading._zscore import zscore

__all__ = [
    "ACTIONS",
    "BertramResult",
    "ExecutionRule",
    "RuleState",
    "SignalRule",
    "bertram_thresholds",
    "signals",
    "size_legs",
    "step_rule",
    "zscore",
]
