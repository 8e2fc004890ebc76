"""``pairs demo``: an end-to-end analysis of the bundled Binance daily closes, offline.

Screen every pair of coins, pick the best-ranked one, fit four hedge ratios, run the
cointegration battery, trade a rolling z-score with costs, and say plainly whether anything
survived the multiple-testing correction. The backtest settings are those of
:func:`pairs.report.analysis_report`, so ``--report`` shows the same numbers.
"""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

import numpy as np
import pandas as pd

from pairs._remarks import hedge_remark, window_remark
from pairs.cli._backtest import metrics_rows
from pairs.cli._fit import last_value
from pairs.cli._io import Pair, frame_text, print_record, records, rows_text
from pairs.coint import CointReport, coint_report
from pairs.data import align, load_sample
from pairs.evaluation._portfolio import PortfolioResult, portfolio_backtest
from pairs.hedge._kalman import kalman_hedge
from pairs.hedge._ols import ols_hedge
from pairs.hedge._rolling import rolling_hedge
from pairs.hedge._tls import tls_hedge
from pairs.report import analysis_report, portfolio_verdict, write_report
from pairs.screening._scan import scan
from pairs.strategy import Portfolio, Selection, Strategy

__all__ = ["cmd_demo"]

SAMPLE = "binance_1d"
MIN_OVERLAP = 1000  # bars (days) of common history for a pair to be screened
ALPHA = 0.05
WINDOW = 60
DELTA = 1e-4
# The strategy the demo trades and reports: the library's defaults, on log prices.
STRATEGY = Strategy(log_prices=True)
FEE_BPS = STRATEGY.fee_bps
# The rotation of section 5: the same strategy on every pair of the hourly universe's last year,
# the five best Engle-Granger p-values of each 30-day window with a half-life under two days.
HOURLY = "binance_1h"
HOURS = 24 * 365
ROTATION = Portfolio(STRATEGY, Selection(top=5, log=True, max_half_life=48), formation="30D", trading="7D")


def _rotation() -> tuple[PortfolioResult, pd.DataFrame]:
    hourly = load_sample(HOURLY).iloc[-HOURS:]
    return portfolio_backtest(ROTATION, hourly), hourly


def _hedges(ly: pd.Series, lx: pd.Series) -> pd.DataFrame:
    fits: dict[str, tuple[Any, str]] = {
        "OLS": (ols_hedge(ly, lx), "full sample (looks ahead)"),
        "TLS": (tls_hedge(ly, lx), "full sample (looks ahead)"),
        f"rolling OLS ({WINDOW} bars)": (rolling_hedge(ly, lx, window=WINDOW), "last window"),
        f"Kalman (delta {DELTA:g})": (kalman_hedge(ly, lx, noise_units="log", delta=DELTA), "last filtered"),
    }
    return pd.DataFrame(
        {
            "beta": [last_value(f.beta) for f, _ in fits.values()],
            "alpha": [last_value(f.alpha) for f, _ in fits.values()],
            "estimate": [note for _, note in fits.values()],
        },
        index=pd.Index(list(fits), name="hedge"),
    )


def _trade(pair: Pair) -> tuple[dict[str, Any], pd.DataFrame]:
    run = STRATEGY.run(pair.y, pair.x)
    return dict(run.backtest()._summary_rows()), run.frame


def _remarks(hedges: pd.DataFrame, tests: CointReport) -> dict[str, str]:
    """Comments on the numbers a reader may take for bugs (see :mod:`pairs._remarks`)."""
    beta_xy = float(tests.engle_granger["beta"].iloc[1])
    others = {"TLS": float(hedges.loc["TLS", "beta"]), "Johansen": tests.johansen_beta}
    found = {
        "hedges": hedge_remark(float(hedges.loc["OLS", "beta"]), beta_xy, others),
        "window": window_remark(STRATEGY.z_window, tests.half_life_bars),
    }
    return {key: text for key, text in found.items() if text}


def _story(res: Any, best: pd.Series, y: str, x: str) -> str:
    if res.n_significant:
        return (
            f"{res.n_significant} pair(s) stay significant after the {res.correction} correction; "
            f"the analysis below is of the strongest, {y}/{x} (adjusted p = {best['pvalue_adj']:.3g})."
        )
    return (
        f"No pair is significant after the {res.correction} correction (best adjusted p = "
        f"{best['pvalue_adj']:.3g}). The best raw p-value, {best['pvalue']:.3g} for {y}/{x}, is what the "
        f"best of {res.n_tested} tests shows by chance. The analysis below is of that best-ranked pair "
        "for illustration: it is NOT evidence of a tradable relationship."
    )


def _verdict(res: Any, y: str, x: str, tests: CointReport, metrics: dict[str, Any]) -> str:
    trade = (
        f"the default strategy (Kalman hedge on log prices) with {FEE_BPS:g} bps costs returned "
        f"{metrics['total_return']:+.1%} (Sharpe {metrics['sharpe']:.2f}, max drawdown "
        f"{metrics['max_drawdown']:.1%}, {metrics['n_trades']} trades)"
    )
    if res.n_significant == 0:
        return (
            f"no cointegrated pair among {res.n_tested} after correction; on the best-ranked "
            f"{y}/{x}, {trade}. Treat it as a demonstration, not a signal."
        )
    pair_test = "confirmed" if tests.cointegrated else "only partly confirmed"
    return f"{y}/{x} is cointegrated after correction, {pair_test} by the tests; {trade}."


def cmd_demo(args: argparse.Namespace) -> int:
    """``pairs demo``: screen the bundled coins, analyse the best pair, print or report it."""
    prices = load_sample(SAMPLE)
    res = scan(prices, log=True, min_overlap=MIN_OVERLAP, correction="fdr_bh", size=ALPHA, progress=None)
    best = res.table.iloc[0]
    y, x = str(best["y"]), str(best["x"])
    aligned, gaps = align(prices[y].dropna(), prices[x].dropna())
    pair = Pair(aligned[y], aligned[x], len(gaps), int(gaps["missing_bars"].sum()) if len(gaps) else 0)
    ly, lx = np.log(pair.y), np.log(pair.x)
    hedges = _hedges(ly, lx)
    tests = coint_report(ly, lx, size=ALPHA, n_screened=res.n_tested)
    metrics, _ = _trade(pair)
    verdict = _verdict(res, y, x, tests, metrics)
    remarks = _remarks(hedges, tests)
    rotation, hourly = _rotation()
    rotation_verdict = portfolio_verdict(rotation)
    report = None
    if args.report:
        blocks = analysis_report(pair.y, pair.x, strategy=STRATEGY, scan=res)
        report = str(write_report(args.report, f"pairs demo: {y} / {x}", blocks))
    top = res.table.head(5).set_axis(pd.RangeIndex(1, 6, name="rank"))
    top = top[["y", "x", "stat", "pvalue", "pvalue_adj", "significant", "beta", "half_life", "n_obs"]]
    if args.format != "table":
        data = {
            "universe": {
                "sample": SAMPLE,
                "coins": list(prices.columns),
                "start": prices.index[0],
                "end": prices.index[-1],
            },
            "screen": {
                "test": "engle_granger",
                "log": True,
                "min_overlap": MIN_OVERLAP,
                "correction": res.correction,
                "size": res.size,
                "n_tested": res.n_tested,
                "n_significant": res.n_significant,
                "top": records(top),
            },
            "pair": pair.info(),
            "hedges": records(hedges),
            "tests": tests.to_dict(),
            "strategy": STRATEGY.to_dict(),
            "backtest": metrics,
            "remarks": remarks,
            "verdict": verdict,
            "portfolio": {
                "sample": HOURLY,
                "start": hourly.index[0],
                "end": hourly.index[-1],
                "spec": ROTATION.to_dict(),
                "summary": dict(rotation._summary_rows()),
                "verdict": rotation_verdict,
            },
            "report": report,
        }
        print_record(data, args.format)
        return 0
    start, end = prices.index[0].date(), prices.index[-1].date()
    out = [
        f"pairs demo: bundled Binance daily closes of {prices.shape[1]} coins, {start} .. {end} (offline)",
        "",
        _heading(1, "Screening"),
        textwrap.fill(
            f"Engle-Granger on log prices of every pair with >= {MIN_OVERLAP} days of common history: "
            f"{res.n_tested} pairs; {res.correction} correction at {ALPHA:.0%}: {res.n_significant} "
            "significant.",
            100,
        ),
        frame_text(top),
        "",
        textwrap.fill(_story(res, best, y, x), 100),
        "",
        _heading(2, f"Hedge ratios: {y} on {x} (log prices)"),
        pair.headline(True),
        frame_text(hedges),
        *([textwrap.fill(f"Note: {remarks['hedges']}", 100)] if "hedges" in remarks else []),
        "",
        _heading(3, "Cointegration tests"),
        textwrap.fill(f"Single-pair result (before correcting for the screen): {tests.headline}", 100),
        *([textwrap.fill(f"Caveat: {tests.caveat}", 100)] if tests.caveat else []),
        *[line for caption, table in tests.tables() for line in ("", caption, frame_text(table))],
        "",
        _heading(4, "Signals and backtest"),
        STRATEGY.summary(),
        rows_text(metrics_rows(metrics)),
        *([textwrap.fill(f"Note: {remarks['window']}", 100)] if "window" in remarks else []),
        "",
        textwrap.fill(f"Verdict: {verdict}", 100),
        "",
        _heading(5, "A portfolio of pairs, rotated weekly"),
        textwrap.fill(
            f"Hourly closes of {hourly.shape[1]} coins, {hourly.index[0]:%Y-%m-%d} .. {hourly.index[-1]:%Y-%m-%d}: "
            f"every 7 days the {ROTATION.selection.top} pairs with the lowest Engle-Granger p-values on the last "
            f"30 days (log prices, half-life under 48 hours) are traded with the strategy above for the next "
            f"7 days, in one account of {ROTATION.capital:,.0f} (gross exposure at most {ROTATION.leverage:g}x "
            "equity). 'pairs portfolio' runs any universe; docs/portfolio.md has the rules.",
            100,
        ),
        rows_text(rotation._summary_rows()),
        "",
        textwrap.fill(f"Verdict: {rotation_verdict}", 100),
    ]
    if report:
        out.append(f"Report: {report}")
    print("\n".join(out))
    return 0


def _heading(number: int, text: str) -> str:
    title = f"{number}. {text}"
    return f"{title}\n{'-' * len(title)}"
