"""One self-contained HTML report of a pair analysis.

A report is a title and a list of blocks ``(kind, obj)``:

* ``("heading", str)``: a section heading;
* ``("text", str)``: paragraphs (separated by blank lines), HTML-escaped;
* ``("table", obj)``: a result object (its ``summary()`` rows, numbers formatted exactly as
  ``summary()`` prints them), a mapping, a Series or a DataFrame;
* ``("figure", fig)``: a matplotlib Figure (or PNG bytes), embedded as a base64 PNG.

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
from typing import Any, Literal

import numpy as np
import pandas as pd

from pairs._io import write_text_atomic
from pairs._results import ResultMixin, _fmt
from pairs._validation import align_pair, check_choice, check_int, check_window
from pairs.coint import breakdown, engle_granger
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
from pairs.strategy import Strategy

__all__ = ["Block", "analysis_report", "render_report", "write_report"]

Block = tuple[str, Any]
Hedge = Literal["rolling", "kalman", "ols"]

_KINDS = ("heading", "text", "table", "figure")
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
td:first-child, th:first-child { text-align: left; }
figure { margin: 1rem 0; }
img { max-width: 100%; height: auto; }
footer { margin-top: 3rem; color: #888; font-size: .8rem; }
"""


def _cell(value: Any) -> str:
    return html.escape(_fmt(value))


def _rows_table(rows: Iterable[tuple[Any, Any]], caption: str | None) -> str:
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    body = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{_cell(v)}</td></tr>" for k, v in rows)
    return f"<table>{cap}<tbody>{body}</tbody></table>"


def _frame_table(frame: pd.DataFrame) -> str:
    show_index = not isinstance(frame.index, pd.RangeIndex)
    head = "<th>" + html.escape(str(frame.index.name or "")) + "</th>" if show_index else ""
    head += "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for label, values in zip(frame.index, frame.itertuples(index=False), strict=True):
        first = f"<th>{html.escape(str(label))}</th>" if show_index else ""
        rows.append("<tr>" + first + "".join(f"<td>{_cell(v)}</td>" for v in values) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _table(obj: Any, where: str) -> str:
    if isinstance(obj, ResultMixin):
        return _rows_table(obj._summary_rows(), type(obj)._title)
    if isinstance(obj, pd.DataFrame):
        return _frame_table(obj)
    if isinstance(obj, pd.Series):
        return _rows_table(obj.items(), None if obj.name is None else str(obj.name))
    if isinstance(obj, Mapping):
        return _rows_table(obj.items(), None)
    raise PairsError(
        f"{where} must be a result object, a mapping, a Series or a DataFrame; got {type(obj).__name__}."
    )


def _png(obj: Any, where: str) -> bytes:
    if isinstance(obj, (bytes, bytearray)):
        data = bytes(obj)
    elif hasattr(obj, "savefig"):
        buffer = io.BytesIO()
        obj.savefig(buffer, format="png", dpi=obj.dpi)
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
    if kind in ("heading", "text") and not isinstance(obj, str):
        raise PairsError(f"{where} must hold a str for kind {kind!r}; got {type(obj).__name__}.")
    if kind == "heading":
        return f"<h2>{html.escape(obj)}</h2>"
    if kind == "text":
        paragraphs = [p.strip() for p in obj.split("\n\n") if p.strip()]
        return "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    if kind == "table":
        return _table(obj, where)
    encoded = base64.b64encode(_png(obj, where)).decode("ascii")
    return f'<figure><img src="data:image/png;base64,{encoded}" alt="{html.escape(_alt(obj))}"></figure>'


def render_report(title: str, blocks: Iterable[Block]) -> str:
    """Render a title and blocks as one self-contained HTML document.

    Parameters
    ----------
    title
        Document title and top heading.
    blocks
        ``(kind, obj)`` tuples, kind in ``"heading"``, ``"text"``, ``"table"``, ``"figure"``
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


def analysis_report(
    y: Any,
    x: Any,
    *,
    strategy: Strategy | None = None,
    coint_window: int = 180,
    coint_step: int = 5,
    size: float = 0.05,
    periods_per_year: float | None = None,
) -> list[Block]:
    """Standard report blocks of a pair: hedge ratios, cointegration, the strategy, its backtest, a monitor.

    Hedge ratios and tests use log prices. The traded spread, z-score, positions and backtest are
    those of ``strategy`` (:meth:`pairs.Strategy.run` and :meth:`pairs.Strategy.backtest`), so the
    report shows the numbers of ``pairs signal`` / ``pairs backtest`` with the same strategy.

    Parameters
    ----------
    y, x
        Prices of the asset hedged and of the hedge (positive, aligned, no NaN).
    strategy
        The strategy traded; default ``pairs.Strategy()``.
    coint_window, coint_step, size
        Window, step and size of the rolling Engle-Granger test and breakdown monitor
        (:func:`pairs.coint.breakdown`).
    periods_per_year
        Annualisation of the backtest metrics (inferred from a DatetimeIndex when None).

    Returns
    -------
    list of Block
        Blocks for :func:`render_report` / :func:`write_report`.

    Examples
    --------
    >>> import pairs
    >>> prices = pairs.load_sample("binance_1d")[["ETH", "BTC"]].dropna().iloc[-400:]
    >>> blocks = analysis_report(prices["ETH"], prices["BTC"], coint_window=120)
    >>> [obj for kind, obj in blocks if kind == "heading"]  # doctest: +NORMALIZE_WHITESPACE
    ['Prices', 'Hedge ratios', 'Cointegration', 'Spread and signals', 'Backtest',
     'Cointegration monitor']
    """
    # Fail before seconds of computation when the plot extra is missing.
    _matplotlib()
    ys, xs = align_pair(y, x, positive=True, min_length=20)
    n = len(ys)
    if strategy is None:
        strategy = Strategy()
    elif not isinstance(strategy, Strategy):
        raise PairsError(f"strategy must be a pairs.Strategy or None; got {type(strategy).__name__}.")
    cwin = check_window("coint_window", coint_window, n, minimum=20)
    cstep = check_int("coint_step", coint_step, minimum=1)
    ly, lx = np.log(ys), np.log(xs)
    window = strategy.window

    ols = ols_hedge(ly, lx)
    rolling = rolling_hedge(ly, lx, window=window)
    kalman = kalman_hedge(ly, lx)
    fits: dict[str, Any] = {"OLS": ols, f"Rolling ({window})": rolling, "Kalman": kalman}
    run = strategy.run(ys, xs)
    z, position, spread = run.zscore, run.position, run.frame["spread"]
    result = run.backtest(periods_per_year=periods_per_year)
    hedge, zwin, fee_bps = strategy.hedge, strategy.z_window, strategy.fee_bps
    entry_z, exit_z, stop_z = strategy.rule.entry_z, strategy.rule.exit_z, strategy.rule.stop_z
    coint = engle_granger(ly, lx)
    monitor = breakdown(ly, lx, window=cwin, step=cstep, alpha=size)

    ratios = pd.DataFrame(
        {
            "beta": [_last(f.beta) for f in fits.values()],
            "alpha": [_last(f.alpha) for f in fits.values()],
            "estimate": ["full sample (looks ahead)", "last window", "last filtered"],
        },
        index=pd.Index(list(fits), name="hedge"),
    )
    lookahead = " It is a full-sample fit: the backtest looks ahead." if hedge == "ols" else ""
    stop = "no stop" if stop_z is None else f"stop at |z| >= {stop_z:g}"
    blocks: list[Block] = [
        (
            "text",
            f"{ys.name} hedged with {xs.name}: {n} bars from {ys.index[0]} to {ys.index[-1]}. "
            "Hedge ratios, cointegration tests and spreads use log prices; the backtest holds "
            f"beta * {ys.name} / {xs.name} units of {xs.name} per unit of {ys.name}.",
        ),
        ("heading", "Prices"),
        ("figure", plot_prices(ys, xs)),
        ("heading", "Hedge ratios"),
        ("figure", plot_hedge_ratios(fits)),
        ("table", ratios),
        ("table", ols),
        ("heading", "Cointegration"),
        ("table", coint),
        ("heading", "Spread and signals"),
        (
            "text",
            f"Traded spread: {hedge} hedge.{lookahead} Rolling z-score over {zwin} bars; enter when "
            f"|z| > {entry_z:g}, exit at {exit_z:g}, {stop}.",
        ),
        ("figure", plot_spread(spread, z, position, entry_z=entry_z, exit_z=exit_z)),
        ("heading", "Backtest"),
        ("text", f"Costs: {fee_bps:g} bps of traded notional."),
        ("figure", plot_equity(result)),
        ("table", result),
    ]
    if len(result.trades):
        blocks.append(("table", result.trades))
    blocks += [
        ("heading", "Cointegration monitor"),
        (
            "text",
            f"Engle-Granger test on rolling {cwin}-bar windows every {cstep} bars, and a CUSUM of "
            f"spread innovations; events when a cointegrated pair stops being so (size {size:g}).",
        ),
        ("figure", plot_rolling_coint(monitor, alpha=size)),
        ("table", monitor.events) if len(monitor.events) else ("text", "No breakdown event."),
    ]
    return blocks
