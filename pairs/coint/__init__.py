"""Cointegration and unit-root tests, mean-reversion diagnostics and breakdown monitoring.

Besides ADF, Engle-Granger and Johansen: Phillips-Ouliaris (``phillips_ouliaris``), the KSS
nonlinear unit-root test (``kss``) and Gregory-Hansen with a structural break
(``gregory_hansen``). Every ADF / Engle-Granger statistic runs through the compiled kernel in
:mod:`pairs.coint._kernels`, which reproduces statsmodels exactly; its batch entry point
``eg_stat_batch`` serves universe scans.
"""

from pairs.coint._engle_granger import EngleGrangerResult, engle_granger
from pairs.coint._gregory_hansen import GregoryHansenResult, gregory_hansen
from pairs.coint._johansen import JohansenResult, johansen
from pairs.coint._kss import KSSResult, kss
from pairs.coint._monitor import BreakdownResult, breakdown, rolling_coint
from pairs.coint._phillips_ouliaris import PhillipsOuliarisResult, phillips_ouliaris
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
]
