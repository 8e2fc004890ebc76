"""The batch run of a :class:`~pairs.Strategy`: the same steps as the streaming engine, over arrays."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pairs.hedge._kalman_units import paths_to_input_units, relative_inputs
from pairs.hedge._kernels import kalman_filter
from pairs.hedge._ols import ols_hedge
from pairs.hedge._rolling import rolling_hedge
from pairs.strategy._result import COLUMNS, StrategyResult
from pairs.strategy._steps import KALMAN_PRIOR, kalman_noise_units, log_values
from pairs.trading._kernels import Z_CODES, ewm_alpha, rule_kernel, zscore_kernel
from pairs.trading._rules import ACTIONS, _kernel_args
from pairs.trading._sizing import size_legs

if TYPE_CHECKING:
    from pairs.strategy._strategy import Strategy

__all__ = ["hedge_paths", "run_arrays", "run_batch", "zscore_path"]


def hedge_paths(
    strategy: Strategy, yv: np.ndarray, xv: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str | None]:
    """``(beta, alpha, spread, innovation z-score, note)`` of the strategy's hedge on (log) prices."""
    n = yv.shape[0]
    note = None
    if strategy.hedge == "kalman":
        # kalman_hedge(noise_units=...) with the strategy's noise and the default prior, unvalidated.
        units = kalman_noise_units(strategy.log_prices)
        yr, xr, first, ref_y, ref_x = relative_inputs(yv, xv, units)
        q = strategy.delta / (1.0 - strategy.delta)
        paths, _, _, _, _ = kalman_filter(yr, xr, *KALMAN_PRIOR, q, 0.0, q, strategy.obs_var)
        paths_to_input_units(paths, first, ref_y, ref_x, units)
        return paths[0], paths[1], paths[2], paths[5], note
    if strategy.hedge == "rolling":
        rolling = rolling_hedge(pd.Series(yv), pd.Series(xv), window=strategy.window)
        rb, ra, rs = np.asarray(rolling.beta), np.asarray(rolling.alpha), np.asarray(rolling.spread)
        return rb, ra, rs, np.full(n, np.nan), note
    if strategy.beta is None:
        fit = ols_hedge(pd.Series(yv), pd.Series(xv))
        beta, alpha = float(fit.beta), float(fit.alpha)  # type: ignore[arg-type]
        note = (
            f"beta = {beta:.6g} fitted by OLS on the whole history: the signals look ahead "
            "(give beta from a training period for an honest test)."
        )
    else:
        beta, alpha = strategy.beta, strategy.alpha
    b = np.full(n, beta)
    a = np.full(n, alpha)
    return b, a, yv - beta * xv - alpha, np.full(n, np.nan), note


def zscore_path(strategy: Strategy, spread: np.ndarray, innov_z: np.ndarray) -> np.ndarray:
    """The z-score the strategy's rule reads: of the spread, or the hedge's innovation z-score."""
    method = strategy.zscore_method
    if method == "innovation":
        return innov_z
    window = strategy.z_window
    alpha_ewm = ewm_alpha(strategy.zscore_halflife) if strategy.zscore_halflife is not None else 0.0
    minp = window if method == "rolling" else 2
    return zscore_kernel(spread, Z_CODES[method], window, alpha_ewm, minp)


def run_arrays(
    strategy: Strategy,
    py: np.ndarray,
    px: np.ndarray,
    logs: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, str | None]:
    """``(beta, alpha, spread, zscore, position, action codes, note)`` of ``strategy`` on positive prices.

    ``logs``: the :func:`log_values` of ``py`` and ``px`` when the caller has them already.
    """
    if strategy.log_prices:
        yv, xv = (log_values(py), log_values(px)) if logs is None else logs
    else:
        yv, xv = py, px
    beta, alpha, spread, innov_z, note = hedge_paths(strategy, yv, xv)
    z = zscore_path(strategy, spread, innov_z)
    position, codes = rule_kernel(z, *_kernel_args(strategy.rule))
    return beta, alpha, spread, z, position, codes, note


def run_batch(strategy: Strategy, y: pd.Series, x: pd.Series) -> StrategyResult:
    """Run ``strategy`` on validated, aligned, positive prices."""
    py, px = y.to_numpy(dtype=np.float64), x.to_numpy(dtype=np.float64)
    beta, alpha, spread, z, position, codes, note = run_arrays(strategy, py, px)
    index = y.index
    frame = pd.DataFrame(
        {
            "beta": beta,
            "alpha": alpha,
            "spread": spread,
            "zscore": z,
            "position": position.astype(np.int64),
            "action": np.asarray(ACTIONS, dtype=object)[codes],
        },
        index=index,
    )
    if strategy.capital is None:
        frame["y_units"] = frame["x_units"] = np.nan
    else:
        units_beta = beta * py / px if strategy.log_prices else beta
        legs = size_legs(
            pd.Series(position, index=index),
            pd.Series(units_beta, index=index),
            y,
            x,
            capital=strategy.capital,
            mode=strategy.sizing_mode,
            lot_size=strategy.lot_size,
            rebalance_band=strategy.rebalance_band,
        )
        frame["y_units"], frame["x_units"] = legs["y_units"].to_numpy(), legs["x_units"].to_numpy()
    frame.index.name = index.name if index.name is not None else "timestamp"
    return StrategyResult(strategy=strategy, frame=frame[list(COLUMNS)], y=y, x=x, note=note)
