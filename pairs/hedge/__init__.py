"""Hedge-ratio estimators: static OLS/TLS, rolling/expanding/EWM OLS, Kalman filter, effectiveness."""

from pairs.hedge._effectiveness import HedgeEffectiveness, hedge_effectiveness
from pairs.hedge._kalman import KalmanResult, kalman_hedge, kalman_step
from pairs.hedge._ols import ols_hedge
from pairs.hedge._result import HedgeResult
from pairs.hedge._rolling import ewm_hedge, expanding_hedge, rolling_hedge
from pairs.hedge._tls import tls_hedge

__all__ = [
    "HedgeEffectiveness",
    "HedgeResult",
    "KalmanResult",
    "ewm_hedge",
    "expanding_hedge",
    "hedge_effectiveness",
    "kalman_hedge",
    "kalman_step",
    "ols_hedge",
    "rolling_hedge",
    "tls_hedge",
]
