"""Spread signals: causal z-scores, the entry/exit state machine and leg sizing."""

from pairs.signals.rules import ACTIONS, RuleState, SignalRule, signals, step_rule
from pairs.signals.sizing import size_legs
from pairs.signals.zscore import zscore

__all__ = ["ACTIONS", "RuleState", "SignalRule", "signals", "size_legs", "step_rule", "zscore"]
