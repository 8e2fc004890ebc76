"""Cointegration tests, mean-reversion diagnostics and breakdown monitoring.

Every ADF / Engle-Granger statistic runs through the compiled kernel in
:mod:`pairs.coint._kernels`, which reproduces statsmodels exactly; its batch entry point
``eg_stat_batch`` serves universe scans.
"""

from pairs.coint._engle_granger import EngleGrangerResult, engle_granger
from pairs.coint._johansen import JohansenResult, johansen
from pairs.coint._monitor import BreakdownResult, breakdown, rolling_coint
from pairs.coint._report import CointReport, coint_report
from pairs.coint._stationarity import (
    ADFResult,
    HalfLifeResult,
    HurstResult,
    VarianceRatioResult,
    adf,
    half_life,
    hurst,
    variance_ratio,
)

__all__ = [
    "ADFResult",
    "BreakdownResult",
    "CointReport",
    "EngleGrangerResult",
    "HalfLifeResult",
    "HurstResult",
    "JohansenResult",
    "VarianceRatioResult",
    "adf",
    "breakdown",
    "coint_report",
    "engle_granger",
    "half_life",
    "hurst",
    "johansen",
    "rolling_coint",
    "variance_ratio",
]
