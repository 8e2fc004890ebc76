"""The standard report of one pair: verdict and strategy first, then the evidence."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from pairs._remarks import hedge_remark, window_remark
from pairs._validation import align_pair, check_int, check_window, renamed_option
from pairs.coint import CointReport, breakdown, coint_report
from pairs.evaluation import BacktestResult, SweepResult
from pairs.exceptions import PairsError
from pairs.hedge._kalman import kalman_hedge
from pairs.hedge._ols import ols_hedge
from pairs.hedge._rolling import rolling_hedge
from pairs.plot import (
    _matplotlib,
    plot_equity,
    plot_hedge_ratios,
    plot_prices,
    plot_rolling_coint,
    plot_spread,
)
from pairs.report._format import _bar, _bar_name, _last, _num, _pct, _rows, _time_format, _when
from pairs.report._html import Block
from pairs.report._sweep import sweep_blocks
from pairs.report._tables import _metrics_table, _trade_tables
from pairs.screening import ScanResult
from pairs.strategy import Strategy
from pairs.strategy._describe import describe_lines

__all__ = ["analysis_report"]


def _interpretation(coint: CointReport) -> str:
    hl = coint.half_life_text
    if coint.verdict == "cointegrated":
        return (
            "Both Engle-Granger regressions and Johansen's test reject 'no cointegration': over this "
            f"sample the spread mean-reverts (half-life {hl}). Cointegration can break: see the monitor "
            "at the end."
        )
    if coint.verdict == "mixed evidence":
        return (
            "The tests disagree: some reject 'no cointegration', others do not. Treat the relationship "
            "as unproven; the backtest below is not backed by a stable spread."
        )
    return (
        "No test rejects 'no cointegration': the spread is not shown to mean-revert over this sample "
        f"(half-life {hl}), so the strategy's results below rest on no statistical relationship."
    )


def analysis_report(
    y: Any,
    x: Any,
    *,
    strategy: Strategy | None = None,
    coint_window: int = 180,
    coint_step: int = 5,
    size: float = 0.05,
    periods_per_year: float | None = None,
    scan: ScanResult | None = None,
    alpha: float | None = None,
    sweep: SweepResult | None = None,
) -> list[Block]:
    """Standard report blocks of a pair: verdict and strategy first, then the evidence.

    Sections: the cointegration verdict (:func:`pairs.coint.coint_report`) with the headline
    backtest numbers; the strategy traded; prices (log scale); hedge ratios; the cointegration
    tests; the strategy's spread and signals; its backtest with a summary of the trades and the
    last ten; and a rolling cointegration monitor. The traded spread, z-score, positions and
    backtest are those of ``strategy`` (:meth:`pairs.Strategy.run`), so the report shows the
    numbers of ``pairs signal`` / ``pairs backtest`` with that strategy. One choice of prices
    holds for the whole report and is stated in it: the tests, hedge ratios and monitor use log
    prices when the strategy trades log prices (``log_prices=True``), the prices as given
    otherwise. Timestamps are dates for daily (or longer) bars, date and time for intraday bars.

    When the pair was picked from a :func:`pairs.scan`, pass it as ``scan``: the verdict then
    says how many pairs were screened, the correction and the pair's adjusted p-value, and
    that the single-pair tests are not corrected for the choice (a best-of-N pair passes a 5%
    test far more often than 5% of the time).

    Parameters
    ----------
    y, x
        Prices of the asset hedged and of the hedge (positive, aligned, no NaN).
    strategy
        The strategy traded; default ``pairs.Strategy()``; not one that fills at
        ``"next_open"`` (the report takes no open prices).
    coint_window, coint_step
        Window and step of the rolling Engle-Granger test and breakdown monitor
        (:func:`pairs.coint.breakdown`).
    size
        Test size of the verdict and of the monitor: 0.01, 0.05 or 0.1.
    periods_per_year
        Annualisation of the backtest metrics (inferred from a DatetimeIndex when None).
    scan
        The scan the pair was chosen from (its table must contain the pair), or None. Scan the
        prices the strategy trades (log prices for ``log_prices=True``), so that the screen and
        the report test the same relationship.
    alpha
        Deprecated: the former name of ``size``, accepted with a ``FutureWarning`` until the
        next release.
    sweep
        A :func:`pairs.sweep` of the pair: adds the parameter-sensitivity section of
        :func:`sweep_blocks` at the end.

    Returns
    -------
    list of Block
        Blocks for :func:`render_report` / :func:`write_report`.

    Examples
    --------
    >>> import pairs
    >>> prices = pairs.load_sample("binance_1d")[["ETH", "BTC"]].dropna().iloc[-400:]
    >>> log = pairs.Strategy(log_prices=True)  # tests, hedges and backtest all on log prices
    >>> blocks = analysis_report(prices["ETH"], prices["BTC"], strategy=log, coint_window=120)
    >>> blocks[1]
    ('note', 'ETH / BTC: not cointegrated at 5% (Engle-Granger p = 0.82 (ETH ~ BTC), 0.601 (BTC ~ ETH); Johansen rank 0).')
    >>> [obj for kind, obj in blocks if kind == "heading"]  # doctest: +NORMALIZE_WHITESPACE
    ['Verdict', 'Strategy', 'Prices', 'Hedge ratios', 'Cointegration tests', 'Spread and signals',
     'Backtest', 'Cointegration monitor']
    """
    blocks = _analysis(
        y,
        x,
        strategy=strategy,
        coint_window=coint_window,
        coint_step=coint_step,
        size=renamed_option("size", size, "alpha", alpha, 0.05),
        periods_per_year=periods_per_year,
        scan=scan,
    ).blocks
    return blocks if sweep is None else blocks + sweep_blocks(sweep)


def _screen_row(scan: Any, y_name: str, x_name: str) -> pd.Series:
    """The row of the pair in ``scan``'s table (either orientation)."""
    if not isinstance(scan, ScanResult):
        raise PairsError(
            f"scan must be a pairs.ScanResult (from pairs.scan) or None; got {type(scan).__name__}."
        )
    table = scan.table
    hit = ((table["y"] == y_name) & (table["x"] == x_name)) | (
        (table["y"] == x_name) & (table["x"] == y_name)
    )
    if not hit.any():
        raise PairsError(
            f"scan must contain the pair {y_name}/{x_name}; got a scan of {scan.n_tested} tested pairs without it."
        )
    return table[hit].iloc[0]


def _screen_note(scan: ScanResult, row: pd.Series, coint: CointReport) -> str:
    """The verdict of a pair picked from a screen: the screen's corrected answer first."""
    passed = "significant" if bool(row["significant"]) else "NOT significant"
    return (
        f"Picked from {scan.n_tested} screened pairs: after the {scan.correction} correction for "
        f"them its adjusted p-value is {row['pvalue_adj']:.3g}, {passed} at {scan.size:.0%}. "
        f"Single-pair tests, not corrected for the screen: {coint.headline}"
    )


class _Analysis(NamedTuple):
    blocks: list[Block]
    coint: CointReport
    backtest: BacktestResult


def _analysis(
    y: Any,
    x: Any,
    *,
    strategy: Strategy | None,
    coint_window: int,
    coint_step: int,
    size: float,
    periods_per_year: float | None,
    scan: ScanResult | None = None,
) -> _Analysis:
    """:func:`analysis_report`'s blocks, and the verdict and backtest they show (``pairs report``)."""
    # Fail before seconds of computation when the plot extra is missing.
    _matplotlib()
    ys, xs = align_pair(y, x, positive=True, min_length=20)
    n = len(ys)
    if strategy is None:
        strategy = Strategy()
    elif not isinstance(strategy, Strategy):
        raise PairsError(f"strategy must be a pairs.Strategy or None; got {type(strategy).__name__}.")
    if strategy.fill == "next_open":
        raise PairsError(
            "strategy must not fill at 'next_open' in a report (it takes no open prices); got "
            "fill='next_open': use 'next_close' or a lag in bars, or pairs backtest for the next open."
        )
    cwin = check_window("coint_window", coint_window, n, minimum=20)
    cstep = check_int("coint_step", coint_step, minimum=1)
    yn, xn = str(ys.name), str(xs.name)
    screen = None if scan is None else _screen_row(scan, yn, xn)
    # The strategy's choice of prices, for every section: one strategy for the whole report.
    log = strategy.log_prices
    ly, lx = (np.log(ys), np.log(xs)) if log else (ys, xs)
    prices_used = "log prices" if log else "prices as given"
    coint = coint_report(ly, lx, size=size, n_screened=None if scan is None else scan.n_tested)
    level = coint.size
    bar = _bar(ys.index)
    fmt = _time_format(ys.index)
    window = strategy.window

    ols = ols_hedge(ly, lx)
    rolling = rolling_hedge(ly, lx, window=window)
    kalman = kalman_hedge(ly, lx, noise_units="log" if log else "ratio")
    fits: dict[str, Any] = {"OLS": ols, f"Rolling ({window} bars)": rolling, "Kalman": kalman}
    run = strategy.run(ys, xs)
    z, position, spread = run.zscore, run.position, run.frame["spread"]
    result = run.backtest(periods_per_year=periods_per_year)
    rule = strategy.rule
    monitor = breakdown(ly, lx, window=cwin, step=cstep, size=level)

    ratios = pd.DataFrame(
        {
            "beta": [_last(f.beta) for f in fits.values()],
            "intercept": [_last(f.alpha) for f in fits.values()],
            "estimate": ["full sample (looks ahead)", "last window", "last filtered"],
        },
        index=pd.Index(list(fits), name="hedge"),
    )
    single = "" if scan is None else " (single pair, not corrected for the screen)"
    glance = [
        *(
            []
            if scan is None or screen is None
            else [
                ("pairs screened", str(scan.n_tested)),
                (f"adjusted p-value ({scan.correction})", f"{screen['pvalue_adj']:.3g}"),
            ]
        ),
        ("cointegration", f"{coint.verdict} at {level:.0%}{single}"),
        *[(f"Engle-Granger p-value, {d}", f"{p:.3g}") for d, p in coint.engle_granger["pvalue"].items()],
        (f"Johansen rank at {level:.0%}", str(coint.johansen_rank)),
        ("spread half-life", coint.half_life_text),
        ("backtest total return", _pct(result.total_return)),
        ("Sharpe ratio", _num(result.sharpe)),
        ("max drawdown", _pct(result.max_drawdown, sign=False)),
        ("round trips", str(result.n_trades)),
    ]
    span = f"{n} {_bar_name(bar)}bars from {_when(ys.index[0], fmt)} to {_when(ys.index[-1], fmt)}"
    if not isinstance(ys.index, pd.DatetimeIndex):
        span = f"{n} bars"
    strategy_rows = _rows(describe_lines(strategy))
    stop = "no stop" if rule.stop_z is None else f"stop at |z| >= {rule.stop_z:g}"
    remarks = {
        "hedge": hedge_remark(
            coint.spread_beta, float(coint.engle_granger["beta"].iloc[1]), {"Johansen": coint.johansen_beta}
        ),
        "window": (
            window_remark(strategy.z_window, coint.half_life_bars)
            if strategy.zscore_method == "rolling"
            else None
        ),
    }
    blocks: list[Block] = [
        ("heading", "Verdict"),
        ("note", coint.headline if scan is None or screen is None else _screen_note(scan, screen, coint)),
        (
            "text",
            ("" if scan is None else "Taken alone: ")
            + _interpretation(coint)
            + (f"\n\nCaveat: {coint.caveat}" if coint.caveat else ""),
        ),
        ("table", ("At a glance", _rows(glance))),
        ("heading", "Strategy"),
        (
            "text",
            f"{yn} hedged with {xn}: {span}. Every section uses {prices_used}, as the strategy "
            f"trades them (log_prices={log}): the cointegration tests, the hedge ratios, the "
            "backtest and the monitor.",
        ),
        ("table", ("Strategy traded", strategy_rows)),
        *([("text", run.note)] if run.note else []),
        *([("text", remarks["window"])] if remarks["window"] else []),
        ("heading", "Prices"),
        ("figure", plot_prices(ys, xs)),
        ("heading", "Hedge ratios"),
        (
            "text",
            "Hedge ratio (beta) and intercept of log prices: log y = intercept + beta * log x + spread."
            if log
            else "Hedge ratio (beta) and intercept of prices: y = intercept + beta * x + spread.",
        ),
        ("figure", plot_hedge_ratios(fits)),
        ("table", ("Latest hedge ratios", ratios)),
        ("heading", "Cointegration tests"),
        *[("table", (caption, table)) for caption, table in coint.tables()],
        *([("text", remarks["hedge"])] if remarks["hedge"] else []),
        (
            "text",
            "Engle-Granger and Johansen test the null of no cointegration: a p-value below the size "
            "rejects it. The ADF p-value of the estimated spread uses Dickey-Fuller tables and is too "
            "lenient: rely on Engle-Granger. A Hurst exponent of 0.5 is a random walk; below 0.5 the "
            "spread mean-reverts.",
        ),
        ("heading", "Spread and signals"),
        (
            "text",
            f"Enter when |z| > {rule.entry_z:g}, exit at {rule.exit_z:g}, {stop}. Markers: ^ long "
            f"{yn} (short {xn}), v short {yn} (long {xn}), o exit.",
        ),
        ("figure", plot_spread(spread, z, position, entry_z=rule.entry_z, exit_z=rule.exit_z)),
        ("heading", "Backtest"),
        (
            "text",
            f"Costs: {strategy.fee_bps:g} bps fee and {strategy.slippage_bps:g} bps slippage per "
            "traded notional; returns are net of them.",
        ),
        ("figure", plot_equity(result)),
        ("table", ("Performance", _metrics_table(result))),
        *_trade_tables(result.trades, yn, bar, fmt),
        ("heading", "Cointegration monitor"),
        (
            "text",
            f"Engle-Granger test on rolling {cwin}-bar windows every {cstep} bars, and a CUSUM of "
            f"spread innovations; events when a cointegrated pair stops being so (size {level:g}).",
        ),
        ("figure", plot_rolling_coint(monitor, size=level)),
    ]
    if len(monitor.events):
        events = monitor.events.copy()
        events["timestamp"] = [_when(t, fmt) for t in events["timestamp"]]
        events = events.rename(columns={"timestamp": "time"}).set_index("time")
        blocks.append(("table", ("Breakdown events", events)))
    else:
        blocks.append(("text", "No breakdown event."))
    return _Analysis(blocks, coint, result)
