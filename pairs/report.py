"""One self-contained HTML report of a pair analysis.

A report is a title and a list of blocks ``(kind, obj)``:

* ``("heading", str)``: a section heading;
* ``("text", str)``: paragraphs (separated by blank lines), HTML-escaped;
* ``("note", str)``: a highlighted paragraph (the verdict), HTML-escaped;
* ``("table", obj)``: a result object (its ``summary()`` rows, numbers formatted exactly as
  ``summary()`` prints them), a mapping, a Series or a DataFrame; or ``(caption, obj)``;
* ``("figure", fig)``: a matplotlib Figure, embedded as a PNG rendered at 200 dpi and displayed
  at 100 CSS pixels per inch of figure (sharp on HiDPI screens), or PNG bytes shown as they are.

The HTML references nothing outside itself (no scripts, fonts or stylesheets to fetch), so the
file opens and renders offline, and can be mailed or archived as is. :func:`analysis_report`
builds the standard blocks of a pair (used by ``pairs report`` and ``pairs demo --report``).
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd

from pairs._io import write_text_atomic
from pairs._remarks import hedge_remark, window_remark
from pairs._results import ResultMixin, frame_html, rows_html
from pairs._validation import align_pair, check_choice, check_int, check_window, renamed_option
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
from pairs.screening import ScanResult
from pairs.strategy import Strategy
from pairs.strategy._describe import describe_lines

__all__ = [
    "Block",
    "analysis_report",
    "portfolio_report",
    "portfolio_verdict",
    "render_report",
    "sweep_blocks",
    "write_report",
]

Block = tuple[str, Any]
Hedge = Literal["rolling", "kalman", "ols"]

_KINDS = ("heading", "text", "note", "table", "figure")
# Figures are rendered at _PNG_DPI and displayed at _CSS_PX_PER_INCH: 2x pixel density.
_PNG_DPI = 200
_CSS_PX_PER_INCH = 100
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #444; padding-bottom: .3rem; }
h2 { margin-top: 2.2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .9rem; }
caption { text-align: left; font-weight: 600; padding-bottom: .3rem; }
th, td { border: 1px solid #ddd; padding: .25rem .6rem; text-align: right; }
th { background: #f3f3f3; }
td:first-child, th:first-child, td.w { text-align: left; }
caption { white-space: nowrap; }
figure { margin: 1rem 0; }
img { max-width: 100%; height: auto; }
.note { font-size: 1.15rem; padding: .7rem 1rem; border-left: 5px solid #555; background: #f4f4f4; }
footer { margin-top: 3rem; color: #888; font-size: .8rem; }
"""


def _table(obj: Any, where: str) -> str:
    if isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[0], str):
        caption, inner = obj
        table = _table(inner, where)
        if "<caption>" in table:
            return table
        return table.replace("<table>", f"<table><caption>{html.escape(caption)}</caption>", 1)
    if isinstance(obj, ResultMixin):
        return rows_html(obj._summary_rows(), type(obj)._title)
    if isinstance(obj, pd.DataFrame):
        return frame_html(obj)
    if isinstance(obj, pd.Series):
        return rows_html(obj.items(), None if obj.name is None else str(obj.name))
    if isinstance(obj, Mapping):
        return rows_html(obj.items(), None)
    raise PairsError(
        f"{where} must be a result object, a mapping, a Series or a DataFrame; got {type(obj).__name__}."
    )


def _png(obj: Any, where: str) -> bytes:
    if isinstance(obj, (bytes, bytearray)):
        data = bytes(obj)
    elif hasattr(obj, "savefig"):
        buffer = io.BytesIO()
        obj.savefig(buffer, format="png", dpi=_PNG_DPI)
        data = buffer.getvalue()
    else:
        raise PairsError(f"{where} must be a matplotlib Figure or PNG bytes; got {type(obj).__name__}.")
    if not data.startswith(_PNG_SIGNATURE):
        raise PairsError(f"{where} must be PNG data; got bytes starting with {data[:8]!r}.")
    return data


def _alt(obj: Any) -> str:
    titles = [ax.get_title() for ax in getattr(obj, "axes", [])]
    return next((t for t in titles if t), "figure")


def _block(index: int, block: Any) -> str:
    where = f"blocks[{index}]"
    if not isinstance(block, tuple) or len(block) != 2:
        raise PairsError(f"{where} must be a (kind, object) tuple; got {block!r:.80}.")
    kind, obj = block
    check_choice(f"{where} kind", kind, _KINDS)
    if kind in ("heading", "text", "note") and not isinstance(obj, str):
        raise PairsError(f"{where} must hold a str for kind {kind!r}; got {type(obj).__name__}.")
    if kind == "heading":
        return f"<h2>{html.escape(obj)}</h2>"
    if kind == "text":
        paragraphs = [p.strip() for p in obj.split("\n\n") if p.strip()]
        return "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    if kind == "note":
        return f'<p class="note">{html.escape(obj)}</p>'
    if kind == "table":
        return _table(obj, where)
    encoded = base64.b64encode(_png(obj, where)).decode("ascii")
    width = ""
    if hasattr(obj, "get_figwidth"):
        width = f' width="{round(obj.get_figwidth() * _CSS_PX_PER_INCH)}"'
    alt = html.escape(_alt(obj))
    return f'<figure><img src="data:image/png;base64,{encoded}"{width} alt="{alt}"></figure>'


def render_report(title: str, blocks: Iterable[Block]) -> str:
    """Render a title and blocks as one self-contained HTML document.

    Parameters
    ----------
    title
        Document title and top heading.
    blocks
        ``(kind, obj)`` tuples, kind in ``"heading"``, ``"text"``, ``"note"``, ``"table"``,
        ``"figure"``
        (see :mod:`pairs.report`).

    Returns
    -------
    str
        The HTML document: inline CSS, figures as ``data:image/png;base64`` images, no
        external resource.

    Examples
    --------
    >>> doc = render_report("Demo", [("heading", "Numbers"), ("table", {"beta": 0.123456789})])
    >>> "<th>beta</th><td>0.123457</td>" in doc
    True
    """
    if not isinstance(title, str):
        raise PairsError(f"title must be a str; got {type(title).__name__}.")
    # Read at call time: pairs/__init__ may import this module before it defines __version__.
    from pairs import __version__

    body = "\n".join(_block(i, block) for i, block in enumerate(blocks))
    safe_title = html.escape(title)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{safe_title}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{safe_title}</h1>\n{body}\n"
        f"<footer>Generated by pairs {html.escape(__version__)}.</footer>\n</body>\n</html>\n"
    )


def write_report(path: str | os.PathLike[str], title: str, blocks: Iterable[Block]) -> Path:
    """Render a report and write it to ``path`` atomically.

    The document goes to a temporary file in the target directory, then replaces ``path`` in one
    rename, so a reader never sees a half-written report and a failure leaves no partial file.

    Parameters
    ----------
    path
        Destination ``.html`` file; its directory must exist.
    title, blocks
        As in :func:`render_report`.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = write_report(pathlib.Path(tmp) / "r.html", "Demo", [("text", "Hello.")])
    ...     "<p>Hello.</p>" in out.read_text(encoding="utf-8")
    True
    """
    if not isinstance(path, (str, os.PathLike)):
        raise PairsError(f"path must be a file path; got {type(path).__name__}.")
    target = Path(path)
    if not target.parent.is_dir():
        raise PairsError(f"path must be in an existing directory; got {str(target)!r}.")
    document = render_report(title, blocks)
    write_text_atomic(target, document, shared=True)
    return target


def _last(value: float | pd.Series) -> float:
    if isinstance(value, pd.Series):
        valid = value.dropna()
        return float(valid.iloc[-1]) if len(valid) else np.nan
    return float(value)


def _bar(index: pd.Index) -> pd.Timedelta | None:
    """The most common spacing of a DatetimeIndex (None otherwise)."""
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 2:
        return None
    return pd.Timedelta(pd.Series(index[1:] - index[:-1]).mode().iloc[0])


def _time_format(index: pd.Index) -> str:
    """Dates for daily (or longer) bars, date and time for intraday bars."""
    bar = _bar(index)
    if bar is None or bar >= pd.Timedelta(days=1):
        return "%Y-%m-%d"
    return "%Y-%m-%d %H:%M" if bar >= pd.Timedelta(minutes=1) else "%Y-%m-%d %H:%M:%S"


def _when(value: Any, fmt: str) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "open"
    if isinstance(value, pd.Timestamp | np.datetime64):
        stamp = pd.Timestamp(value)
        text = stamp.strftime(fmt)
        return text + (" UTC" if fmt != "%Y-%m-%d" and stamp.tz is not None else "")
    return str(value)


def _bar_name(bar: pd.Timedelta | None) -> str:
    if bar is None:
        return ""
    names = {pd.Timedelta(days=1): "daily", pd.Timedelta(hours=1): "hourly", pd.Timedelta(weeks=1): "weekly"}
    if bar in names:
        return names[bar] + " "
    minutes = bar / pd.Timedelta(minutes=1)
    if minutes < 60:
        return f"{minutes:g}-minute "
    return f"{minutes / 60:g}-hour " if minutes < 1440 else f"{minutes / 1440:g}-day "


def _duration(bars: float, bar: pd.Timedelta | None) -> str:
    if not np.isfinite(bars):
        return "n/a"
    if bar is None:
        return f"{bars:.3g} bars"
    hours = bars * bar / pd.Timedelta(hours=1)
    value, unit = (hours / 24, "day") if hours >= 24 else (hours, "hour")
    return f"{value:.3g} {unit}" + ("" if value == 1 else "s")


def _pct(value: float, sign: bool = True) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{value:+.1%}" if sign else f"{value:.1%}"


def _num(value: float, spec: str = ".2f") -> str:
    return "n/a" if value is None or not np.isfinite(value) else format(value, spec)


def _metrics_table(result: BacktestResult) -> dict[str, str]:
    rows = [
        ("total return", _pct(result.total_return)),
        ("annualised return (APR)", _pct(result.apr)),
        ("Sharpe ratio", _num(result.sharpe)),
        ("Sortino ratio", _num(result.sortino)),
        ("max drawdown", _pct(result.max_drawdown, sign=False)),
        ("annual turnover", f"{_num(result.annual_turnover, '.1f')}x"),
        ("bars", f"{len(result.returns)} ({result.periods_per_year:g} per year)"),
    ]
    if result.convention == "account":
        rows += [
            ("starting capital", f"{result.capital:,.2f}"),
            ("final equity", f"{float(result.equity.iloc[-1]):,.2f}"),
            ("fees paid", f"{result.fees_paid:,.2f}"),
            ("slippage paid", f"{result.slippage_paid:,.2f}"),
            ("funding paid", f"{result.funding_paid:,.2f}"),
        ]
    return _rows(rows)


def _rows(rows: list[tuple[str, str]]) -> dict[str, str]:
    return dict(rows)


def _trade_tables(
    trades: pd.DataFrame, y_name: str, bar: pd.Timedelta | None, fmt: str, last: int = 10
) -> list[Block]:
    """A summary of every round trip, then the last ``last`` of them."""
    if not len(trades):
        return [("text", "The strategy opened no trade.")]
    ret = trades["return"].to_numpy(dtype=float)
    closed = trades["exit_time"].notna().to_numpy()
    rows = [
        (
            "round trips",
            f"{len(trades)} ({int((trades['side'] > 0).sum())} long {y_name}, "
            f"{int((trades['side'] < 0).sum())} short; {int((~closed).sum())} still open)",
        ),
        ("win rate", _pct(float(np.mean(ret > 0)), sign=False)),
        ("average return per trade", _pct(float(np.mean(ret)))),
        ("best trade", _pct(float(np.max(ret)))),
        ("worst trade", _pct(float(np.min(ret)))),
        ("average holding", _duration(float(trades["bars"].mean()), bar)),
        ("longest holding", _duration(float(trades["bars"].max()), bar)),
    ]
    if "pnl" in trades.columns:
        pnl = trades["pnl"].to_numpy(dtype=float)
        rows.insert(3, ("average P&L per trade", f"{np.mean(pnl):,.2f}"))
        rows.insert(4, ("total P&L", f"{np.sum(pnl):,.2f}"))
    recent = trades.iloc[-last:]
    shown = pd.DataFrame(
        {
            "entry": [_when(t, fmt) for t in recent["entry_time"]],
            "exit": [_when(t, fmt) for t in recent["exit_time"]],
            "side": [f"{'long' if v > 0 else 'short'} {y_name}" for v in recent["side"]],
            "held": [_duration(float(b), bar) for b in recent["bars"]],
            "return": [_pct(float(v)) for v in recent["return"]],
        },
        # Numbered like the full list (a RangeIndex would not be shown).
        index=pd.Index(np.arange(len(trades) - len(recent) + 1, len(trades) + 1), name="trade"),
    )
    if "pnl" in recent.columns:
        shown["P&L"] = [f"{v:,.2f}" for v in recent["pnl"]]
    title = "Last trade" if len(recent) == 1 else f"Last {len(recent)} of {len(trades)} trades"
    return [("table", ("Trades", _rows(rows))), ("table", (title, shown))]


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


def sweep_blocks(sweep: SweepResult, *, top: int = 10) -> list[Block]:
    """Report blocks of a parameter sweep: how the result depends on the settings, and whether to trust the best.

    A heading "Parameter sensitivity"; the deflated Sharpe of the best point in words (a
    highlighted note) and the grid's probability of backtest overfitting; the heatmap of the
    objective over the first two grid keys (:meth:`pairs.SweepResult.plot`); and the ``top``
    points by the sweep's objective.

    Examples
    --------
    >>> import pairs
    >>> prices = pairs.load_sample("binance_1d")[["ETH", "BTC"]].dropna()
    >>> res = pairs.sweep(pairs.Strategy(hedge="rolling"), {"window": [30, 60], "rule.entry_z": [1.5, 2.0]},
    ...                   prices["ETH"], prices["BTC"])
    >>> [kind for kind, _ in sweep_blocks(res)]
    ['heading', 'text', 'note', 'text', 'figure', 'table']
    """
    if not isinstance(sweep, SweepResult):
        raise PairsError(f"sweep must be a pairs.SweepResult; got {type(sweep).__name__}.")
    top = check_int("top", top, minimum=1)
    verdicts = sweep.verdicts()
    grid = ", ".join(f"{k} in {v}" for k, v in sweep.grid.items())
    objective = sweep.objective
    ranked = sweep.table.sort_values(objective, ascending=objective == "max_drawdown", kind="stable").head(
        top
    )
    return [
        ("heading", "Parameter sensitivity"),
        (
            "text",
            f"{len(sweep.table)} settings backtested over the same {len(sweep.returns)} bars ({grid}); "
            f"the best by {objective} is the best of many tries, which flatters it.",
        ),
        ("note", verdicts["deflated Sharpe"] or "Deflated Sharpe: undefined for this grid."),
        ("text", verdicts["overfitting"] or "Probability of backtest overfitting: undefined for this grid."),
        ("figure", sweep.plot()),
        ("table", (f"Top {len(ranked)} settings by {objective}", ranked)),
    ]


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


def portfolio_verdict(result: Any) -> str:
    """One paragraph: what the portfolio earned before and after costs, and whether it beats chance."""
    from pairs.evaluation._portfolio import paid_costs

    costs = float(paid_costs(result.costs).sum())
    pnl = float(result.equity.iloc[-1] - result.capital)
    sig = result.significance()
    sharpe = sig.sharpe_annualised if sig.sharpe_annualised is not None else sig.sharpe_per_bar
    if sig.significant:
        chance = "better than chance"
    elif sig.deflated_sharpe < sig.size:
        chance = "worse than chance: it loses more than luck explains"
    else:
        chance = "not distinguishable from chance"
    return (
        f"P&L {pnl:+,.2f} after costs ({result.total_return:+.1%}), {pnl + costs:+,.2f} before costs "
        f"(fees, slippage and funding paid: {costs:,.2f}). Sharpe {sharpe:.2f} (annualised): {chance} "
        f"(probabilistic Sharpe ratio against 0, skewness and fat tails included: P(Sharpe > 0) = "
        f"{sig.deflated_sharpe:.2g})."
    )


def portfolio_report(result: Any) -> list[Block]:
    """Report blocks of a portfolio backtest: verdict, rules, account, contributions, selections.

    Parameters
    ----------
    result
        A :class:`pairs.PortfolioResult`.

    Returns
    -------
    list of Block
        Blocks for :func:`render_report` / :func:`write_report`.

    Examples
    --------
    >>> import pairs
    >>> book = pairs.Portfolio(pairs.Strategy(hedge="rolling", window=48), pairs.Selection(top=2),
    ...                        formation=240, trading=168)
    >>> blocks = portfolio_report(book.backtest(pairs.load_sample("binance_1h").iloc[:1200, :6]))
    >>> [obj for kind, obj in blocks if kind == "heading"]
    ['Verdict', 'Portfolio', 'Account', 'Contributions', 'Selections']
    """
    book = result.portfolio
    sel = book.selection
    ranked = "p-value" if sel.method == "coint" else "distance"
    per_window = result.selections.groupby("window").size()
    n_coins = result.units.shape[1]
    caveat = (
        f"Each window keeps the best {sel.top} of up to {n_coins * (n_coins - 1) // 2} candidate pairs, "
        f"ranked by {ranked} on its formation window alone"
        + (
            f" and kept only if significant at {sel.size:g} after {sel.correction}"
            if sel.size is not None
            else ""
        )
        + ": the best of many candidates looks cointegrated by chance, so a formation p-value is no "
        "evidence that a pair stays cointegrated while it is traded. The trading windows are out of sample."
    )
    contributions = result.contributions.sort_values()
    shown = pd.concat([contributions.head(10), contributions.tail(10)])
    shown = shown[~shown.index.duplicated()]
    recent = result.selections.tail(20)[["window", "trading_start", "y", "x", "score", "half_life"]]
    return [
        ("heading", "Verdict"),
        ("note", portfolio_verdict(result)),
        ("text", caveat),
        ("heading", "Portfolio"),
        ("table", dict(book.settings_rows())),
        (
            "text",
            "Every pair is traded by this strategy: " + str(book.strategy.summary()).replace("\n", "; "),
        ),
        ("heading", "Account"),
        ("table", result),
        ("figure", result.plot()),
        *_account_events(result),
        ("heading", "Contributions"),
        ("table", shown.rename("P&L").to_frame()),
        ("heading", "Selections"),
        (
            "text",
            f"{len(result.selections)} selections over {result.n_windows} windows "
            f"({per_window.reindex(range(result.n_windows), fill_value=0).mean():.2f} pairs per window); the last 20:",
        ),
        ("table", recent.reset_index(drop=True)),
    ]


def _account_events(result: Any) -> list[Block]:
    """A count of the account's events by kind and coin (orders not sent, cut, liquidations), if any."""
    events = result.events
    if not len(events):
        return []
    counts = events.fillna({"coin": "(account)"}).groupby(["kind", "coin"]).size().rename("bars")
    return [
        (
            "text",
            "What the account did beyond the targets (docs/portfolio.md): orders below the minimum notional "
            "not sent, orders scaled or refused by the leverage cap, liquidations, margin calls.",
        ),
        ("table", counts.reset_index()),
    ]


def _strategy_line(book: Any) -> str:
    lines = str(book.strategy.summary()).splitlines()[1:]
    return "; ".join(
        line.strip() for line in lines if line.strip() and not line.lstrip().startswith(("sizing", "="))
    )
