"""``pairs fit``: one hedge-ratio estimator on one pair."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import pandas as pd

from pairs.cli._io import Pair, load_pair, print_csv, print_json, rows_text
from pairs.exceptions import PairsError
from pairs.hedge._kalman import kalman_hedge
from pairs.hedge._ols import ols_hedge
from pairs.hedge._rolling import ewm_hedge, expanding_hedge, rolling_hedge
from pairs.hedge._tls import tls_hedge
from pairs.strategy._steps import kalman_noise_units

__all__ = ["cmd_fit", "last_value", "prices_for"]

METHODS = ("ols", "tls", "rolling", "expanding", "ewm", "kalman")
# Options of `pairs fit` and the methods they apply to; any other combination is an error.
_FIT_OPTIONS = {
    "window": ("rolling",),
    "halflife": ("ewm",),
    "delta": ("kalman",),
    "obs_var": ("kalman",),
    "on": ("ols", "tls", "rolling", "expanding", "ewm"),
}


def last_value(value: Any) -> float:
    """A float coefficient, or the last non-NaN value of a coefficient path (NaN if none)."""
    if isinstance(value, pd.Series):
        valid = value.dropna()
        return float(valid.iloc[-1]) if len(valid) else float("nan")
    return float(value)


def prices_for(pair: Pair, log: bool) -> tuple[pd.Series, pd.Series]:
    """The pair's prices, or their logs."""
    return (np.log(pair.y), np.log(pair.x)) if log else (pair.y, pair.x)


def fit_hedge(yv: pd.Series, xv: pd.Series, args: argparse.Namespace) -> Any:
    """Run the estimator of ``args.method`` with its options (unset options take library defaults)."""
    method = args.method
    for option, methods in _FIT_OPTIONS.items():
        if getattr(args, option) is not None and method not in methods:
            raise PairsError(
                f"{option} must be used with --method {' or '.join(methods)}; got --{option.replace('_', '-')} "
                f"with method {method!r}."
            )
    if method == "kalman":
        options = {k: getattr(args, k) for k in ("delta", "obs_var") if getattr(args, k) is not None}
        # The units of a Strategy on the same prices, so --delta/--obs-var mean what they mean there.
        return kalman_hedge(yv, xv, noise_units=kalman_noise_units(bool(args.log)), **options)
    common: dict[str, Any] = {"on": args.on or "levels", "intercept": not args.no_intercept}
    if method == "ols":
        return ols_hedge(yv, xv, **common)
    if method == "tls":
        return tls_hedge(yv, xv, **common)
    if method == "rolling":
        return rolling_hedge(yv, xv, window=60 if args.window is None else args.window, **common)
    if method == "expanding":
        return expanding_hedge(yv, xv, **common)
    return ewm_hedge(yv, xv, halflife=30.0 if args.halflife is None else args.halflife, **common)


def cmd_fit(args: argparse.Namespace) -> int:
    """``pairs fit``: one hedge-ratio estimator; its latest coefficients, or the series as CSV."""
    pair = load_pair(args)
    yv, xv = prices_for(pair, args.log)
    res = fit_hedge(yv, xv, args)
    kalman = args.method == "kalman"
    data: dict[str, Any] = {
        "data": pair.info(),
        "log": bool(args.log),
        "method": args.method,
        "on": "levels" if kalman else res.on,
        "beta": last_value(res.beta),
        "alpha": last_value(res.alpha),
        "n_obs": res.n_obs,
    }
    if kalman:
        data |= {
            "noise_units": res.noise_units,
            "delta": res.delta,
            "obs_var": res.obs_var,
            "loglik": res.loglik,
        }
        data["zscore"] = last_value(res.zscore)
    else:
        data |= {"r_squared": last_value(res.r_squared), "params": res.params}
        if res.beta_se is not None:
            data |= {"beta_se": float(res.beta_se), "alpha_se": res.alpha_se}
    if args.format == "json":
        print_json(data)
    elif args.format == "csv":
        series = {"beta": res.beta, "alpha": res.alpha, "spread": res.spread}
        if kalman:
            series["zscore"] = res.zscore
        frame = pd.DataFrame(series, index=yv.index)
        frame.index.name = "timestamp"
        print_csv(frame)
    else:
        moving = isinstance(res.beta, pd.Series)
        latest = " (latest)" if moving else ""
        rows = [("method", args.method), ("on", data["on"]), ("n_obs", data["n_obs"])]
        rows += [(k, v) for k, v in data.get("params", {}).items()]
        rows += [(f"beta{latest}", data["beta"]), (f"alpha{latest}", data["alpha"])]
        rows += [
            (k, data[k])
            for k in ("r_squared", "beta_se", "alpha_se", "noise_units", "delta", "obs_var", "loglik")
            if k in data
        ]
        print(pair.headline(args.log))
        print(rows_text(rows, title="Hedge ratio"))
        print(f"spread = {pair.y.name} - beta * {pair.x.name} - alpha")
    return 0
