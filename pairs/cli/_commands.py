"""``pairs fit``, ``pairs test``, ``pairs scan`` and ``pairs report``; the test battery the demo reuses."""

from __future__ import annotations

import argparse
from typing import Any, cast

import numpy as np
import pandas as pd

from pairs.cli._io import Pair, frame_text, load_pair, load_panel, print_csv, print_json, records, rows_text
from pairs.coint import EngleGrangerResult, adf, engle_granger, half_life, hurst, johansen
from pairs.exceptions import PairsError
from pairs.hedge._kalman import kalman_hedge
from pairs.hedge._ols import ols_hedge
from pairs.hedge._rolling import ewm_hedge, expanding_hedge, rolling_hedge
from pairs.hedge._tls import tls_hedge
from pairs.report import analysis_report, write_report
from pairs.screening._scan import scan

__all__ = ["cmd_fit", "cmd_report", "cmd_scan", "cmd_test", "coint_tests", "coint_text", "last_value"]

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
        return kalman_hedge(yv, xv, **options)
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
        data |= {"delta": res.delta, "obs_var": res.obs_var, "loglik": res.loglik}
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
            for k in ("r_squared", "beta_se", "alpha_se", "delta", "obs_var", "loglik")
            if k in data
        ]
        print(pair.headline(args.log))
        print(rows_text(rows, title="Hedge ratio"))
        print(f"spread = {pair.y.name} - beta * {pair.x.name} - alpha")
    return 0


def coint_tests(
    yv: pd.Series, xv: pd.Series, *, alpha: float = 0.05, trend: str = "c", k_ar_diff: int = 1
) -> dict[str, Any]:
    """Engle-Granger both ways, Johansen, and ADF, half-life and Hurst of the OLS spread."""
    yn, xn = str(yv.name), str(xv.name)
    eg = engle_granger(yv, xv, direction="both", trend=trend)  # type: ignore[arg-type]
    directions: list[dict[str, Any]] = []
    # direction="both" always fills forward (y~x) and reverse (x~y).
    fwd, rev = cast(EngleGrangerResult, eg.forward), cast(EngleGrangerResult, eg.reverse)
    for label, sub in ((f"{yn}~{xn}", fwd), (f"{xn}~{yn}", rev)):
        directions.append(
            {
                "direction": label,
                "stat": sub.stat,
                "pvalue": sub.pvalue,
                "crit": sub.crit_values[f"{alpha:.0%}"],
                "beta": sub.beta,
                "alpha": sub.alpha,
                "lags": sub.lags,
            }
        )
    jo = johansen(pd.concat([yv, xv], axis=1), k_ar_diff=k_ar_diff)
    level = f"{1 - alpha:.0%}"
    rank = jo.rank(alpha)
    rows = [
        {
            "null": null,
            "trace": jo.trace_stat[null],
            "trace_crit": jo.trace_crit.loc[null, level],
            "trace_pvalue": jo.trace_pvalue[null],
            "max_eig": jo.max_eig_stat[null],
            "max_eig_crit": jo.max_eig_crit.loc[null, level],
            "max_eig_pvalue": jo.max_eig_pvalue[null],
        }
        for null in jo.trace_stat.index
    ]
    spread = fwd.spread
    stationarity = adf(spread)
    hl = half_life(spread)
    pvals = [fwd.pvalue, rev.pvalue]
    eg_ok = all(p < alpha for p in pvals)
    ps = ", ".join(f"{d['pvalue']:.3g} ({d['direction']})" for d in directions)
    evidence = f"Engle-Granger p = {ps}; Johansen rank {rank}"
    if eg_ok and rank >= 1:
        verdict = f"cointegrated at {alpha:.0%}: {evidence}."
    elif any(p < alpha for p in pvals) or rank >= 1:
        verdict = f"mixed evidence at {alpha:.0%}, not conclusive: {evidence}."
    else:
        verdict = f"not cointegrated at {alpha:.0%}: {evidence}."
    return {
        "alpha": alpha,
        "engle_granger": directions,
        "johansen": {
            "det_order": jo.det_order,
            "k_ar_diff": jo.k_ar_diff,
            "tests": rows,
            "rank": rank,
            "beta": -float(jo.hedge_ratios.iloc[1]),
        },
        "spread": {
            "definition": f"{yn} - {fwd.beta:.6g} * {xn} {'-' if fwd.alpha >= 0 else '+'} {abs(fwd.alpha):.6g}",
            "adf_stat": stationarity.stat,
            "adf_pvalue": stationarity.pvalue,
            "adf_lags": stationarity.lags,
            "half_life_bars": hl.bars,
            "half_life_days": None if hl.timedelta is None else hl.timedelta / pd.Timedelta(days=1),
            "hurst": hurst(spread).hurst,
        },
        "cointegrated": bool(eg_ok and rank >= 1),
        "verdict": verdict,
    }


def coint_text(res: dict[str, Any]) -> str:
    """Readable tables of :func:`coint_tests` output."""
    alpha = res["alpha"]
    crit = f"{alpha:.0%} crit"
    eg = pd.DataFrame(res["engle_granger"]).set_index("direction")
    eg.columns = ["stat", "p-value", crit, "beta", "alpha", "lags"]
    jo = res["johansen"]
    jt = pd.DataFrame(jo["tests"]).set_index("null")
    jt.columns = ["trace", f"trace {crit}", "trace p", "max-eig", f"max-eig {crit}", "max-eig p"]
    sp = res["spread"]
    days = sp["half_life_days"]
    hl = f"{sp['half_life_bars']:.4g} bars" + ("" if days is None else f" = {days:.4g} days")
    parts = [
        "Engle-Granger (null: no cointegration; MacKinnon p-values)",
        frame_text(eg),
        "",
        f"Johansen (det_order {jo['det_order']}, k_ar_diff {jo['k_ar_diff']}; p-values interpolated "
        "within [0.01, 0.10])",
        frame_text(jt),
        f"rank at {alpha:.0%}: {jo['rank']}   (implied beta {jo['beta']:.6g})",
        "",
        rows_text(
            [
                ("ADF stat", sp["adf_stat"]),
                ("ADF p-value", sp["adf_pvalue"]),
                ("half-life", hl),
                ("Hurst exponent", sp["hurst"]),
            ],
            title=f"Spread = {sp['definition']}",
        ),
        "(The ADF p-value uses Dickey-Fuller tables, too lenient for an estimated spread: rely on\n"
        "Engle-Granger. Hurst exponent: 0.5 for a random walk, below 0.5 when mean reverting.)",
    ]
    return "\n".join(parts)


def cmd_test(args: argparse.Namespace) -> int:
    """``pairs test``: the cointegration battery on one pair, with a one-line verdict."""
    pair = load_pair(args)
    yv, xv = prices_for(pair, args.log)
    res = coint_tests(yv, xv, alpha=args.alpha, trend=args.trend, k_ar_diff=args.k_ar_diff)
    if args.format == "json":
        print_json({"data": pair.info(), "log": bool(args.log), **res})
    else:
        print(pair.headline(args.log))
        print()
        print(coint_text(res))
        print(f"\nVerdict: {res['verdict']}")
    return 0


def cmd_scan(args: argparse.Namespace) -> int:
    """``pairs scan``: Engle-Granger on every pair of a universe, ranked, with correction."""
    panel = load_panel(args)
    res = scan(
        panel,
        alpha=args.alpha,
        correction=args.correction,
        min_overlap=args.min_overlap,
        direction=args.direction,
        log=bool(args.log),
        n_jobs=args.n_jobs,
        progress=None,
    )
    top = res.table if args.top == 0 else res.table.head(args.top)
    top = top.set_axis(pd.RangeIndex(1, len(top) + 1, name="rank"))
    if args.format == "json":
        settings = {
            k: getattr(res, k) for k in ("test", "correction", "alpha", "direction", "min_overlap", "log")
        }
        counts = {k: getattr(res, k) for k in ("n_pairs", "n_tested", "n_skipped", "n_significant")}
        print_json(
            {
                "n_series": panel.shape[1],
                **counts,
                "settings": settings,
                "pairs": records(top),
                "skipped": res.skipped.to_dict("records"),
            }
        )
    elif args.format == "csv":
        print_csv(top)
    else:
        kind = "log prices" if args.log else "prices"
        print(
            f"Engle-Granger ({res.direction}), {kind}, {panel.shape[1]} series: {res.n_tested} pairs tested, "
            f"{res.n_skipped} skipped (< {res.min_overlap} common bars, or constant)"
        )
        print(
            f"{res.correction} correction at alpha = {res.alpha:g}: {res.n_significant} significant pair(s)"
        )
        if len(top):
            cols = ["y", "x", "stat", "pvalue", "pvalue_adj", "significant", "beta", "half_life", "n_obs"]
            print()
            print(frame_text(top[cols]))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """``pairs report``: the standard HTML report of one pair."""
    pair = load_pair(args)
    blocks = analysis_report(
        pair.y,
        pair.x,
        window=args.window,
        zscore_window=args.zscore_window,
        entry_z=args.entry_z,
        exit_z=args.exit_z,
        stop_z=args.stop_z,
        fee_bps=args.fee_bps,
        hedge=args.hedge,
        delta=args.delta,
        coint_window=args.coint_window,
        coint_step=args.coint_step,
        alpha=args.alpha,
    )
    title = args.title or f"{pair.y.name} / {pair.x.name}: pair analysis"
    path = write_report(args.output, title, blocks)
    print(f"Wrote {path} ({path.stat().st_size:,} bytes): {pair.headline(True)}")
    return 0
