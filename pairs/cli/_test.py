"""``pairs test``: the cointegration battery on one pair."""

from __future__ import annotations

import argparse
from typing import Any, cast

import pandas as pd

from pairs.cli._fit import prices_for
from pairs.cli._io import frame_text, load_pair, print_json, rows_text
from pairs.coint import EngleGrangerResult, adf, engle_granger, half_life, hurst, johansen

__all__ = ["cmd_test", "coint_tests", "coint_text"]


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
