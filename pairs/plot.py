"""Matplotlib figures of a pair analysis (the ``plot`` extra).

matplotlib is imported inside each function, so ``import pairs`` works without it. Figures are
built on :class:`matplotlib.figure.Figure` with an Agg canvas, never through ``pyplot``: making
one changes no global state (backend, current figure) of an interactive session. A returned
figure shows as its image when evaluated in a notebook cell (no ``%matplotlib inline`` needed;
it is a Figure subclass with ``_repr_png_``); save it with ``fig.savefig(path)``.

Every function takes an optional ``ax`` to draw into (one Axes, or a pair of Axes for the
two-panel figures) and returns the :class:`~matplotlib.figure.Figure` drawn on. Names from the
data (series names, labels) are drawn as plain text: a symbol such as ``$BTC_$`` is not parsed
as TeX math. Time axes use matplotlib's concise date labels.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pairs._validation import align_pair, as_series, check_float, renamed_option
from pairs.exceptions import DataError, MissingDependencyError, PairsError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "plot_equity",
    "plot_hedge_ratios",
    "plot_portfolio",
    "plot_prices",
    "plot_rolling_coint",
    "plot_spread",
    "plot_sweep",
]

_FIGSIZE = (8.0, 3.5)
_FIGSIZE_2 = (8.0, 5.0)
_DPI = 80


def _matplotlib() -> tuple[Any, Any, Any]:
    """``(Figure, FigureCanvasAgg, Axes)`` classes, or a MissingDependencyError naming the extra.

    ``Figure`` is :class:`pairs._figure.Figure`, a matplotlib Figure that displays in IPython.
    """
    try:
        from matplotlib.axes import Axes
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        from pairs._figure import Figure
    except ImportError as exc:
        raise MissingDependencyError(
            "matplotlib is required for plotting; install with pip install 'pairs[plot]'"
        ) from exc
    return Figure, FigureCanvasAgg, Axes


def _new_figure(figsize: tuple[float, float]) -> Figure:
    figure_cls, canvas_cls, _ = _matplotlib()
    fig = figure_cls(figsize=figsize, dpi=_DPI, layout="constrained")
    canvas_cls(fig)
    return fig  # type: ignore[no-any-return]


def _one_axes(ax: Any) -> Axes:
    _, _, axes_cls = _matplotlib()
    if ax is None:
        return _new_figure(_FIGSIZE).add_subplot()
    if not isinstance(ax, axes_cls):
        raise PairsError(f"ax must be a matplotlib Axes or None; got {type(ax).__name__}.")
    return ax


def _root(ax: Axes) -> Figure:
    # Axes in a subfigure: the Figure that saves and displays is the outermost one.
    fig = ax.figure
    while fig.figure is not fig:
        fig = fig.figure
    return fig  # type: ignore[return-value]


def _two_axes(ax: Any) -> tuple[Axes, Axes]:
    if ax is None:
        top, bottom = _new_figure(_FIGSIZE_2).subplots(
            2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]}
        )
        return top, bottom
    if not isinstance(ax, Sequence) or len(ax) != 2:
        raise PairsError(f"ax must be a pair of matplotlib Axes or None; got {type(ax).__name__}.")
    return _one_axes(ax[0]), _one_axes(ax[1])


def _x(index: pd.Index) -> np.ndarray:
    # matplotlib converts datetime64 of any unit itself; a timezone-aware index is shown in UTC.
    if isinstance(index, pd.DatetimeIndex) and index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    return index.to_numpy()


def _label(series: pd.Series, default: str) -> str:
    return default if series.name is None else str(series.name)


def _legend(axes: Axes, **options: Any) -> None:
    """A legend whose entries are plain text: user names like ``$BTC_$`` are not TeX math."""
    legend = axes.legend(**options)
    for text in legend.get_texts():
        text.set_parse_math(False)


def _date_axis(axes: Axes, index: pd.Index) -> None:
    """Concise date ticks (year, then months/days, times only when the span is intraday)."""
    if isinstance(index, pd.DatetimeIndex):
        from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

        locator = AutoDateLocator()
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def plot_prices(y: Any, x: Any, *, log_scale: bool = True, ax: Axes | None = None) -> Figure:
    """Both price paths normalised to 1 at the first bar, on a log scale by default.

    Parameters
    ----------
    y, x
        Prices of the asset hedged and of the hedge (positive, aligned, no NaN).
    log_scale
        Logarithmic y axis (default): equal distances are equal percentage moves, so legs
        that grew 100-fold stay readable.
    ax
        Axes to draw into; a new figure when None.

    Returns
    -------
    matplotlib.figure.Figure
        One line per leg, labelled with the series names (``"y"``/``"x"`` when unnamed).

    Examples
    --------
    >>> from pairs import load_sample
    >>> prices = load_sample("binance_1d")[["ETH", "BTC"]].dropna()
    >>> fig = plot_prices(prices["ETH"], prices["BTC"])
    >>> [line.get_label() for line in fig.axes[0].lines], fig.axes[0].get_yscale()
    (['ETH', 'BTC'], 'log')
    """
    ys, xs = align_pair(y, x, positive=True)
    if not isinstance(log_scale, bool):
        raise PairsError(f"log_scale must be True or False; got {log_scale!r}.")
    axes = _one_axes(ax)
    for series in (ys, xs):
        axes.plot(_x(series.index), (series / series.iloc[0]).to_numpy(), lw=1.0, label=str(series.name))
    if log_scale:
        axes.set_yscale("log")
    axes.set_ylabel("price / first price" + (" (log scale)" if log_scale else ""))
    axes.set_title("Normalised prices")
    _legend(axes, loc="best")
    _date_axis(axes, ys.index)
    return _root(axes)


def _beta_parts(name: str, result: Any) -> list[tuple[str, Any]]:
    beta = getattr(result, "beta", result)
    if isinstance(beta, pd.DataFrame):
        return [(f"{name} [{col}]", beta[col]) for col in beta.columns]
    if isinstance(beta, pd.Series):
        if pd.api.types.is_object_dtype(beta.index) or pd.api.types.is_string_dtype(beta.index):
            # A static fit on several legs: one constant per leg name.
            return [(f"{name} [{leg}]", check_float(f"results[{name!r}].beta", v)) for leg, v in beta.items()]
        return [(name, as_series(beta, f"results[{name!r}].beta", allow_nan=True, min_length=1))]
    if isinstance(beta, numbers.Real) and not isinstance(beta, bool):
        return [(name, check_float(f"results[{name!r}].beta", beta))]
    raise PairsError(
        f"results[{name!r}] must be a hedge result with a beta (float, Series or DataFrame); "
        f"got {type(result).__name__}."
    )


def plot_hedge_ratios(results: Mapping[str, Any], *, ax: Axes | None = None) -> Figure:
    """Hedge-ratio paths of several estimators on one axes.

    Parameters
    ----------
    results
        Label -> hedge result (any object with a ``beta`` attribute, or the beta itself). A
        Series beta is drawn as a path (gaps for its NaN warm-up); a float beta, from a
        full-sample fit, as a horizontal line; a DataFrame (several legs) as one path per leg.
    ax
        Axes to draw into; a new figure when None.

    Returns
    -------
    matplotlib.figure.Figure
        One line per estimator (and leg), labelled with the keys of ``results``.

    Examples
    --------
    >>> import numpy as np
    >>> from pairs import load_sample
    >>> from pairs.hedge._ols import ols_hedge
    >>> from pairs.hedge._rolling import rolling_hedge
    >>> prices = np.log(load_sample("binance_1d")[["ETH", "BTC"]].dropna())
    >>> fig = plot_hedge_ratios({"OLS": ols_hedge(prices["ETH"], prices["BTC"]),
    ...                          "Rolling": rolling_hedge(prices["ETH"], prices["BTC"], window=90)})
    >>> [line.get_label() for line in fig.axes[0].lines]
    ['OLS', 'Rolling']
    """
    if not isinstance(results, Mapping) or not results:
        raise PairsError(f"results must be a non-empty mapping of label -> hedge result; got {results!r}.")
    parts = [part for name, result in results.items() for part in _beta_parts(str(name), result)]
    axes = _one_axes(ax)
    for k, (label, beta) in enumerate(parts):
        if isinstance(beta, pd.Series):
            axes.plot(_x(beta.index), beta.to_numpy(), lw=1.0, color=f"C{k}", label=label)
        else:
            axes.axhline(beta, lw=1.0, ls="--", color=f"C{k}", label=label)
    axes.set_ylabel("beta")
    axes.set_title("Hedge ratios")
    _legend(axes, loc="best")
    for _, beta in parts:
        if isinstance(beta, pd.Series):
            _date_axis(axes, beta.index)
            break
    return _root(axes)


def _trade_marks(position: pd.Series) -> dict[str, np.ndarray]:
    """Bars where a trade opens (by side) or closes; a flip both closes and opens."""
    side = np.sign(position.to_numpy())
    prev = np.concatenate(([0.0], side[:-1]))
    change = side != prev
    return {
        "long entry": np.flatnonzero(change & (side > 0)),
        "short entry": np.flatnonzero(change & (side < 0)),
        "exit": np.flatnonzero(change & (prev != 0)),
    }


_MARKERS = {"long entry": ("^", "tab:green"), "short entry": ("v", "tab:red"), "exit": ("o", "black")}


def plot_spread(
    spread: Any,
    zscore: Any,
    position: Any = None,
    *,
    entry_z: float = 2.0,
    exit_z: float = 0.0,
    ax: Sequence[Axes] | None = None,
) -> Figure:
    """Spread (top) and z-score with entry/exit bands and trade markers (bottom).

    Parameters
    ----------
    spread, zscore
        Series on one index (NaN allowed, e.g. during warm-up).
    position
        Optional position per bar (+1/-1/0, e.g. from :func:`pairs.trading.signals`) on the
        same index: entries are marked ``^`` (long) / ``v`` (short) and exits ``o`` on the
        z-score; a flip is an exit and an entry on the same bar.
    entry_z, exit_z
        Band levels drawn at ``+-entry_z`` and ``+-exit_z`` (one line when ``exit_z`` is 0).
    ax
        Pair of Axes (spread, z-score) to draw into; a new figure when None.

    Returns
    -------
    matplotlib.figure.Figure
        On the z-score axes: the z-score line, the band lines and, with ``position``, one
        marker line per kind (``"long entry"``, ``"short entry"``, ``"exit"``) holding one
        point per event.

    Examples
    --------
    >>> import pandas as pd
    >>> z = pd.Series([0.0, -2.5, -1.0, 0.2, 2.6, 1.0, -0.1])
    >>> pos = pd.Series([0.0, 1.0, 1.0, 0.0, -1.0, -1.0, 0.0])
    >>> fig = plot_spread(z * 3.0, z, pos)
    >>> [(line.get_label(), len(line.get_xdata())) for line in fig.axes[1].lines[-3:]]
    [('long entry', 1), ('short entry', 1), ('exit', 2)]
    """
    s = as_series(spread, "spread", allow_nan=True, min_length=1)
    z = as_series(zscore, "zscore", allow_nan=True, min_length=1)
    if len(z) != len(s) or not z.index.equals(s.index):
        raise DataError("zscore index must equal spread index; got misaligned indexes.")
    entry = check_float("entry_z", entry_z, minimum=0.0, strict_min=True)
    exit_ = check_float("exit_z", exit_z)
    pos = None
    if position is not None:
        pos = as_series(position, "position", min_length=1)
        if len(pos) != len(z) or not pos.index.equals(z.index):
            raise DataError("position index must equal zscore index; got misaligned indexes.")
    top, bottom = _two_axes(ax)
    t = _x(s.index)
    top.plot(t, s.to_numpy(), lw=1.0, color="tab:blue", label=_label(s, "spread"))
    top.set_ylabel("spread")
    top.set_title("Spread and z-score")
    _legend(top, loc="best")

    zv = z.to_numpy()
    bottom.plot(t, zv, lw=1.0, color="tab:blue", label=_label(z, "zscore"))
    for level, label in ((entry, f"entry ±{entry:g}"), (-entry, "_entry")):
        bottom.axhline(level, lw=0.8, ls="--", color="tab:red", label=label)
    exit_levels = [exit_] if exit_ == 0 else [abs(exit_), -abs(exit_)]
    exit_label = "exit 0" if exit_ == 0 else f"exit ±{abs(exit_):g}"
    for k, level in enumerate(exit_levels):
        bottom.axhline(level, lw=0.8, ls=":", color="grey", label=exit_label if k == 0 else "_exit")
    if pos is not None:
        for label, bars in _trade_marks(pos).items():
            marker, color = _MARKERS[label]
            bottom.plot(t[bars], zv[bars], ls="none", marker=marker, color=color, ms=6, label=label)
    bottom.set_ylabel("z-score")
    # Outside the axes: with markers and bands, no corner of the z-score panel is empty.
    _legend(bottom, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    _date_axis(bottom, s.index)
    return _root(bottom)


def plot_equity(backtest: Any, *, ax: Sequence[Axes] | None = None) -> Figure:
    """Equity curve (top) and drawdown from the running peak (bottom).

    Parameters
    ----------
    backtest
        A backtest result (any object with an ``equity`` Series, e.g.
        :class:`pairs.evaluation._backtest.BacktestResult`) or the equity Series itself.
    ax
        Pair of Axes (equity, drawdown) to draw into; a new figure when None.

    Returns
    -------
    matplotlib.figure.Figure
        Top: the equity line. Bottom: the drawdown ``equity / peak - 1`` (<= 0, the starting
        capital counting as a peak, as :attr:`BacktestResult.max_drawdown`: 1 for a return on
        gross exposure, ``capital`` for an account in currency), line and fill.

    Examples
    --------
    >>> import pandas as pd
    >>> fig = plot_equity(pd.Series([1.0, 1.1, 0.99, 1.2]))
    >>> fig.axes[1].lines[0].get_ydata().round(2).tolist()
    [0.0, 0.0, -0.1, 0.0]
    """
    equity = as_series(getattr(backtest, "equity", backtest), "backtest.equity", min_length=1)
    values = equity.to_numpy()
    start = float(getattr(backtest, "capital", None) or 1.0)
    peak = np.maximum.accumulate(np.maximum(values, start))
    drawdown = values / peak - 1.0
    top, bottom = _two_axes(ax)
    t = _x(equity.index)
    top.plot(t, values, lw=1.0, color="tab:blue", label="equity")
    top.axhline(start, lw=0.8, ls=":", color="grey")
    top.set_ylabel("equity")
    top.set_title("Equity and drawdown")
    _legend(top, loc="best")
    bottom.plot(t, drawdown, lw=0.8, color="tab:red", label="drawdown")
    bottom.fill_between(t, drawdown, 0.0, color="tab:red", alpha=0.3)
    bottom.set_ylabel("drawdown")
    _date_axis(bottom, equity.index)
    return _root(bottom)


def _event_times(events: Any) -> tuple[pd.Index, np.ndarray]:
    """Event timestamps and kinds from a breakdown result, an events table or timestamps."""
    if not isinstance(events, (pd.Series, pd.DataFrame)):
        events = getattr(events, "events", events)
    if isinstance(events, pd.DataFrame):
        if "timestamp" not in events.columns:
            raise PairsError(f"events must have a 'timestamp' column; got columns {list(events.columns)!r}.")
        times = pd.Index(events["timestamp"])
        kinds = events["kind"].astype(str).to_numpy() if "kind" in events.columns else None
    elif isinstance(events, (pd.Series, pd.Index, Sequence, np.ndarray)) and not isinstance(events, str):
        times = pd.Index(events)
        kinds = None
    else:
        raise PairsError(
            f"events must be a breakdown result, a DataFrame with a 'timestamp' column or a sequence "
            f"of timestamps; got {type(events).__name__}."
        )
    if len(times) and times.hasnans:
        raise DataError("events must have a timestamp for every event; got a missing one.")
    return times, np.full(len(times), "breakdown") if kinds is None else kinds


def plot_rolling_coint(
    rolling: Any,
    events: Any = None,
    *,
    size: float = 0.05,
    ax: Axes | None = None,
    alpha: float | None = None,
) -> Figure:
    """Rolling cointegration p-value with the test size and breakdown events.

    Parameters
    ----------
    rolling
        Output of :func:`pairs.coint.rolling_coint` (a DataFrame with a ``pvalue`` column, NaN
        during warm-up and between steps), a p-value Series, or a
        :class:`pairs.coint.BreakdownResult` (its ``rolling`` table and, unless ``events`` is
        given, its ``events``).
    events
        Breakdown events: :func:`pairs.coint.breakdown` output, its ``events`` table (columns
        ``timestamp`` and ``kind``) or a sequence of timestamps; each is drawn as a vertical
        line, coloured and labelled by kind.
    size
        Test size drawn as a horizontal line, in (0, 1).
    ax
        Axes to draw into; a new figure when None.
    alpha
        Deprecated: the former name of ``size``, accepted with a ``FutureWarning`` until the
        next release.

    Returns
    -------
    matplotlib.figure.Figure
        The p-value path (tested window ends only), the ``size`` line, then one vertical line
        per event.

    Examples
    --------
    >>> import numpy as np, pairs
    >>> from pairs.coint import breakdown
    >>> prices = np.log(pairs.load_sample("binance_1d")[["ETH", "BTC"]].dropna())
    >>> res = breakdown(prices["ETH"], prices["BTC"], window=180, step=10)
    >>> fig = plot_rolling_coint(res)
    >>> len(fig.axes[0].lines) == 2 + len(res.events)
    True
    """
    size = renamed_option("size", size, "alpha", alpha, 0.05)
    level = check_float("size", size, minimum=0.0, maximum=1.0, strict_min=True, strict_max=True)
    table = rolling
    if not isinstance(rolling, (pd.Series, pd.DataFrame)):
        table = getattr(rolling, "rolling", rolling)
        if events is None:
            events = getattr(rolling, "events", None)
    if isinstance(table, pd.DataFrame):
        if "pvalue" not in table.columns:
            raise PairsError(f"rolling must have a 'pvalue' column; got columns {list(table.columns)!r}.")
        table = table["pvalue"]
    pvalue = as_series(table, "rolling pvalue", allow_nan=True, min_length=1).dropna()
    axes = _one_axes(ax)
    # Stepped tests leave NaN between window ends: drawn over the tested bars only.
    axes.plot(
        _x(pvalue.index), pvalue.to_numpy(), lw=1.0, marker=".", ms=3, color="tab:blue", label="p-value"
    )
    axes.axhline(level, lw=0.8, ls="--", color="grey", label=f"test size {level:g}")
    if events is not None:
        times, kinds = _event_times(events)
        if isinstance(pvalue.index, pd.DatetimeIndex) and not isinstance(times, pd.DatetimeIndex):
            try:
                times = pd.DatetimeIndex(times)
            except (TypeError, ValueError) as exc:
                raise DataError(f"events must hold timestamps; got {list(times[:3])!r}.") from exc
        colors = {"coint_lost": "tab:red", "cusum": "tab:orange"}
        seen: set[str] = set()
        for when, kind in zip(_x(times), kinds, strict=True):
            axes.axvline(
                when, lw=0.8, color=colors.get(kind, "tab:purple"), label=kind if kind not in seen else "_"
            )
            seen.add(kind)
    axes.set_ylim(0.0, 1.0)
    axes.set_ylabel("p-value")
    axes.set_title("Rolling cointegration test")
    _legend(axes, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    _date_axis(axes, pvalue.index)
    return _root(axes)


def plot_portfolio(result: Any) -> Figure:
    """Equity, drawdown and leverage of a portfolio backtest (:class:`pairs.PortfolioResult`).

    Returns
    -------
    matplotlib.figure.Figure
        Equity (top) and drawdown (middle) as :func:`plot_equity`, and the gross exposure over
        equity after each bar (bottom) with the cap ``leverage`` dotted.

    Examples
    --------
    >>> import pairs
    >>> book = pairs.Portfolio(pairs.Strategy(hedge="rolling", window=48), pairs.Selection(top=2),
    ...                        formation=240, trading=168)
    >>> fig = plot_portfolio(book.backtest(pairs.load_sample("binance_1h").iloc[:1200, :6]))
    >>> len(fig.axes)
    3
    """
    fig = _new_figure((8.0, 6.5))
    top, middle, bottom = fig.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2, 2]})
    plot_equity(result, ax=(top, middle))
    lev = result.exposure["leverage"]
    bottom.plot(_x(lev.index), lev.to_numpy(), lw=0.8, color="tab:purple", label="gross / equity")
    bottom.axhline(result.portfolio.leverage, lw=0.8, ls=":", color="grey", label="cap")
    bottom.set_ylabel("leverage")
    _legend(bottom, loc="best")
    _date_axis(bottom, lev.index)
    return fig


def plot_sweep(
    result: Any,
    *,
    x: str | None = None,
    y: str | None = None,
    objective: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Heatmap of a parameter sweep: ``objective`` over two grid keys, best over the others.

    Parameters
    ----------
    result
        A :class:`~pairs.SweepResult`.
    x, y
        Grid keys of the columns and rows (default the first two keys).
    objective
        A column of ``result.table`` among :data:`pairs.evaluation._sweep.OBJECTIVES`
        (default the sweep's objective).
    ax
        Axes to draw into; a new figure when None.

    Returns
    -------
    matplotlib.figure.Figure
        One cell per pair of values of ``x`` and ``y``, coloured and labelled with
        :meth:`~pairs.SweepResult.sensitivity` (NaN cells blank).

    Examples
    --------
    >>> import pairs
    >>> prices = pairs.load_sample("binance_1d")[["BTC", "ETH"]].dropna()
    >>> res = pairs.sweep(pairs.Strategy(hedge="rolling"), {"window": [30, 60], "rule.entry_z": [1.5, 2.0]},
    ...                   prices["BTC"], prices["ETH"])
    >>> fig = plot_sweep(res)
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['30', '60']
    """
    from pairs.evaluation import SweepResult

    if not isinstance(result, SweepResult):
        raise PairsError(f"result must be a pairs.SweepResult; got {type(result).__name__}.")
    objective = result._objective(objective)
    table = result.sensitivity(x, y, objective=objective)
    axes = _one_axes(ax)
    values = table.to_numpy(dtype=float)
    image = axes.imshow(values, aspect="auto", origin="lower", cmap="viridis")
    axes.set_xticks(range(values.shape[1]), [str(v) for v in table.columns])
    axes.set_yticks(range(values.shape[0]), [str(v) for v in table.index])
    for label in (*axes.get_xticklabels(), *axes.get_yticklabels()):
        label.set_parse_math(False)
    axes.set_xlabel(str(table.columns.name), parse_math=False)
    axes.set_ylabel("" if table.index.name is None else str(table.index.name), parse_math=False)
    if values.size <= 400:
        for (i, j), v in np.ndenumerate(values):
            if np.isfinite(v):
                axes.text(j, i, f"{v:.2g}", ha="center", va="center", color="white", fontsize=8)
    axes.set_title(f"{objective} by parameter (best over the other keys)")
    _root(axes).colorbar(image, ax=axes, label=objective)
    return _root(axes)
