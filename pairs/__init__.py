"""pairs: hedge ratios, cointegration and spread signals for crypto pairs.

The public API is re-exported here; see ``__all__``. Note that the batch functions
``pairs.signals`` and ``pairs.backtest`` shadow the subpackage/module of the same name
as attributes of ``pairs``; import submodules by their full path
(``from pairs.signals.rules import step_rule``).
"""

from pairs.backtest import BacktestResult, WalkForwardResult, backtest, walk_forward
from pairs.coint import (
    ADFResult,
    BreakdownResult,
    EngleGrangerResult,
    HalfLifeResult,
    HurstResult,
    JohansenResult,
    VarianceRatioResult,
    adf,
    breakdown,
    engle_granger,
    half_life,
    hurst,
    johansen,
    rolling_coint,
    variance_ratio,
)
from pairs.data import AlignResult, align, load_sample, load_yfinance, read_prices
from pairs.exceptions import (
    DataError,
    InsufficientDataError,
    MissingDependencyError,
    PairsError,
    StateError,
)
from pairs.hedge import (
    HedgeEffectiveness,
    HedgeResult,
    KalmanResult,
    ewm_hedge,
    expanding_hedge,
    hedge_effectiveness,
    kalman_hedge,
    ols_hedge,
    rolling_hedge,
    tls_hedge,
)
from pairs.scan import ScanResult, scan
from pairs.signals import RuleState, SignalRule, size_legs, step_rule, zscore
from pairs.signals import signals as signals
from pairs.simulate import SimulatedUniverse, simulate_universe
from pairs.stream import Signal, StreamEngine

__version__ = "0.1.0"

__all__ = [
    "ADFResult",
    "AlignResult",
    "BacktestResult",
    "BreakdownResult",
    "DataError",
    "EngleGrangerResult",
    "HalfLifeResult",
    "HedgeEffectiveness",
    "HedgeResult",
    "HurstResult",
    "InsufficientDataError",
    "JohansenResult",
    "KalmanResult",
    "MissingDependencyError",
    "PairsError",
    "RuleState",
    "ScanResult",
    "Signal",
    "SignalRule",
    "SimulatedUniverse",
    "StateError",
    "StreamEngine",
    "VarianceRatioResult",
    "WalkForwardResult",
    "__version__",
    "adf",
    "align",
    "backtest",
    "breakdown",
    "engle_granger",
    "ewm_hedge",
    "expanding_hedge",
    "half_life",
    "hedge_effectiveness",
    "hurst",
    "johansen",
    "kalman_hedge",
    "load_sample",
    "load_yfinance",
    "ols_hedge",
    "read_prices",
    "rolling_coint",
    "rolling_hedge",
    "scan",
    "signals",
    "simulate_universe",
    "size_legs",
    "step_rule",
    "tls_hedge",
    "variance_ratio",
    "walk_forward",
    "zscore",
]
