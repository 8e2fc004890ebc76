"""pairs: hedge ratios, cointegration and spread signals for crypto pairs.

The public API is re-exported here (see ``__all__``) and loaded on first use, so that
``import pairs`` stays cheap: statsmodels, scipy.stats, numba kernels, matplotlib and dask are
imported only by the functions that need them. Implementation modules are private and live in
one package per area: ``pairs.data``, ``pairs.hedge``, ``pairs.coint``, ``pairs.trading``
(z-scores, the entry/exit rule, leg sizing), ``pairs.strategy``, ``pairs.stream``,
``pairs.evaluation``, ``pairs.screening``, plus ``pairs.plot``, ``pairs.report`` and
``pairs.cli``. No public function shares its name with a module.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pairs._version import __version__
from pairs.exceptions import (
    DataError,
    EMConvergenceWarning,
    InsufficientDataError,
    KalmanBoundaryWarning,
    MissingDependencyError,
    PairsError,
    PairsWarning,
    StateError,
)

if TYPE_CHECKING:  # the names below are imported lazily by __getattr__
    from pairs.coint import (
        ADFResult,
        BreakdownResult,
        CointReport,
        EngleGrangerResult,
        GregoryHansenResult,
        HalfLifeResult,
        HurstResult,
        JohansenResult,
        KSSResult,
        PhillipsOuliarisResult,
        VarianceRatioResult,
        adf,
        breakdown,
        coint_report,
        engle_granger,
        gregory_hansen,
        half_life,
        hurst,
        johansen,
        kss,
        phillips_ouliaris,
        rolling_coint,
        variance_ratio,
    )
    from pairs.data import (
        AlignResult,
        align,
        from_ccxt,
        load_ccxt,
        load_funding,
        load_sample,
        load_yfinance,
        read_prices,
    )
    from pairs.evaluation import (
        BacktestResult,
        CheckResult,
        DeflatedSharpeResult,
        OverfittingResult,
        PortfolioResult,
        SweepResult,
        WalkForwardResult,
        backtest,
        check_strategy,
        deflated_sharpe,
        portfolio_backtest,
        portfolio_sweep,
        probability_of_overfitting,
        sweep,
        walk_forward,
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
    from pairs.screening import ScanResult, SimulatedUniverse, scan, simulate_universe
    from pairs.strategy import Portfolio, Selection, Strategy, StrategyResult
    from pairs.stream import Order, PortfolioSignal, PortfolioStream, Signal, StreamBook, StreamEngine
    from pairs.trading import (
        BertramResult,
        ExecutionRule,
        RuleState,
        SignalRule,
        bertram_thresholds,
        signals,
        size_legs,
        step_rule,
        zscore,
    )

_LAZY = {
    "pairs.coint": (
        "ADFResult",
        "BreakdownResult",
        "CointReport",
        "EngleGrangerResult",
        "GregoryHansenResult",
        "HalfLifeResult",
        "HurstResult",
        "JohansenResult",
        "KSSResult",
        "PhillipsOuliarisResult",
        "VarianceRatioResult",
        "adf",
        "breakdown",
        "coint_report",
        "engle_granger",
        "gregory_hansen",
        "half_life",
        "hurst",
        "johansen",
        "kss",
        "phillips_ouliaris",
        "rolling_coint",
        "variance_ratio",
    ),
    "pairs.data": (
        "AlignResult",
        "align",
        "from_ccxt",
        "load_ccxt",
        "load_funding",
        "load_sample",
        "load_yfinance",
        "read_prices",
    ),
    "pairs.evaluation": (
        "BacktestResult",
        "DeflatedSharpeResult",
        "OverfittingResult",
        "PortfolioResult",
        "WalkForwardResult",
        "backtest",
        "deflated_sharpe",
        "portfolio_backtest",
        "portfolio_sweep",
        "CheckResult",
        "check_strategy",
        "probability_of_overfitting",
        "walk_forward",
        "SweepResult",
        "sweep",
    ),
    "pairs.hedge": (
        "HedgeEffectiveness",
        "HedgeResult",
        "KalmanResult",
        "ewm_hedge",
        "expanding_hedge",
        "hedge_effectiveness",
        "kalman_hedge",
        "ols_hedge",
        "rolling_hedge",
        "tls_hedge",
    ),
    "pairs.screening": ("ScanResult", "SimulatedUniverse", "scan", "simulate_universe"),
    "pairs.strategy": ("Portfolio", "Selection", "Strategy", "StrategyResult"),
    "pairs.stream": ("Order", "PortfolioSignal", "PortfolioStream", "Signal", "StreamBook", "StreamEngine"),
    "pairs.trading": (
        "RuleState",
        "SignalRule",
        "signals",
        "size_legs",
        "step_rule",
        "zscore",
        "BertramResult",
        "bertram_thresholds",
        "ExecutionRule",
    ),
}
_HOME = {name: module for module, names in _LAZY.items() for name in names}

__all__ = [
    "ADFResult",
    "AlignResult",
    "BacktestResult",
    "BertramResult",
    "BreakdownResult",
    "CheckResult",
    "CointReport",
    "DataError",
    "DeflatedSharpeResult",
    "EMConvergenceWarning",
    "EngleGrangerResult",
    "ExecutionRule",
    "GregoryHansenResult",
    "HalfLifeResult",
    "HedgeEffectiveness",
    "HedgeResult",
    "HurstResult",
    "InsufficientDataError",
    "JohansenResult",
    "KSSResult",
    "KalmanBoundaryWarning",
    "KalmanResult",
    "MissingDependencyError",
    "Order",
    "OverfittingResult",
    "PairsError",
    "PairsWarning",
    "PhillipsOuliarisResult",
    "Portfolio",
    "PortfolioResult",
    "PortfolioSignal",
    "PortfolioStream",
    "RuleState",
    "ScanResult",
    "Selection",
    "Signal",
    "SignalRule",
    "SimulatedUniverse",
    "StateError",
    "Strategy",
    "StrategyResult",
    "StreamBook",
    "StreamEngine",
    "SweepResult",
    "VarianceRatioResult",
    "WalkForwardResult",
    "__version__",
    "adf",
    "align",
    "backtest",
    "bertram_thresholds",
    "breakdown",
    "check_strategy",
    "coint_report",
    "deflated_sharpe",
    "engle_granger",
    "ewm_hedge",
    "expanding_hedge",
    "from_ccxt",
    "gregory_hansen",
    "half_life",
    "hedge_effectiveness",
    "hurst",
    "johansen",
    "kalman_hedge",
    "kss",
    "load_ccxt",
    "load_funding",
    "load_sample",
    "load_yfinance",
    "ols_hedge",
    "phillips_ouliaris",
    "portfolio_backtest",
    "portfolio_sweep",
    "probability_of_overfitting",
    "read_prices",
    "rolling_coint",
    "rolling_hedge",
    "scan",
    "signals",
    "simulate_universe",
    "size_legs",
    "step_rule",
    "sweep",
    "tls_hedge",
    "variance_ratio",
    "walk_forward",
    "zscore",
]


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        # Submodules such as pairs.plot or pairs.report are imported on attribute access too.
        try:
            return importlib.import_module(f"pairs.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"pairs.{name}":
                raise
            raise AttributeError(f"module 'pairs' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
