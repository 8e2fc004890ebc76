"""Figures of pairs.plot: artists drawn from real results, missing matplotlib, bad inputs.

Artists are checked against the objects they draw: line data equal to the result series
exactly (the figure stores the same float64 values), trade markers against the trades that
:func:`pairs.evaluation._backtest.backtest` reports for the same positions, and the drawdown against
``BacktestResult.max_drawdown`` (rtol 1e-12: the same peak convention, computed twice).
"""

from __future__ import annotations

import builtins
import io
import subprocess
import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

import pairs
from pairs import backtest, kalman_hedge, load_sample, ols_hedge, rolling_hedge
from pairs.coint import breakdown
from pairs.exceptions import DataError, MissingDependencyError, PairsError
from pairs.plot import (
    _trade_marks,
    plot_equity,
    plot_hedge_ratios,
    plot_prices,
    plot_rolling_coint,
    plot_spread,
)
from pairs.trading import signals, zscore


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return load_sample("binance_1d")[["ETH", "BTC", "LTC"]].dropna().iloc[-500:]


@pytest.fixture(scope="module")
def logs(prices: pd.DataFrame) -> pd.DataFrame:
    return np.log(prices)


@pytest.fixture(scope="module")
def strategy(prices: pd.DataFrame, logs: pd.DataFrame) -> dict[str, Any]:
    fit = rolling_hedge(logs["ETH"], logs["BTC"], window=30)
    z = zscore(fit.spread, window=30)
    pos = signals(z, entry_z=1.5, exit_z=0.25)
    units = fit.beta * prices["ETH"] / prices["BTC"]
    bt = backtest(prices["ETH"], prices["BTC"], beta=units, position=pos, fee_bps=10)
    return {"fit": fit, "z": z, "pos": pos, "bt": bt}


def _naive_utc(times: pd.Series | pd.Index) -> np.ndarray:
    return pd.DatetimeIndex(times).tz_convert(None).to_numpy()


def _labels(ax: Axes) -> list[str]:
    return [line.get_label() for line in ax.lines]


def _legend(ax: Axes) -> list[str]:
    legend = ax.get_legend()
    return [text.get_text() for text in legend.get_texts()]


def test_prices_normalised_to_one(prices: pd.DataFrame) -> None:
    fig = plot_prices(prices["ETH"], prices["BTC"])
    assert isinstance(fig, Figure) and isinstance(fig.canvas, FigureCanvasAgg)
    (ax,) = fig.axes
    assert _labels(ax) == ["ETH", "BTC"] == _legend(ax)
    for line, col in zip(ax.lines, ["ETH", "BTC"], strict=True):
        expected = (prices[col] / prices[col].iloc[0]).to_numpy()
        np.testing.assert_array_equal(line.get_ydata(), expected)
        np.testing.assert_array_equal(line.get_xdata(), _naive_utc(prices.index))
    assert ax.lines[0].get_ydata()[0] == 1.0
    assert ax.get_yscale() == "log" and "log scale" in ax.get_ylabel()
    assert plot_prices(prices["ETH"], prices["BTC"], log_scale=False).axes[0].get_yscale() == "linear"


def test_dollar_and_underscore_symbols_render(prices: pd.DataFrame, logs: pd.DataFrame) -> None:
    # Issue #13: "$BTC_$" is TeX math to matplotlib, and an invalid expression fails at draw.
    y, x = prices["ETH"].rename("$BTC_$"), prices["BTC"].rename("a_b^c$")
    res = breakdown(logs["ETH"], logs["BTC"], window=60, step=5, confirm=1)
    events = res.events.assign(kind="$x_$")
    figures = [
        plot_prices(y, x),
        plot_hedge_ratios({"$OLS_$": ols_hedge(np.log(y), np.log(x))}),
        plot_spread(y.rename("$s_$"), (y - y.mean()).rename("$z_$")),
        plot_rolling_coint(res.rolling, events),
    ]
    for fig in figures:
        FigureCanvasAgg(fig).print_png(io.BytesIO())
    assert _legend(figures[0].axes[0]) == ["$BTC_$", "a_b^c$"]
    assert _legend(figures[1].axes[0]) == ["$OLS_$"]
    assert _legend(figures[2].axes[0]) == ["$s_$"] and _legend(figures[2].axes[1])[0] == "$z_$"
    assert _legend(figures[3].axes[0])[-1] == "$x_$"


def test_time_axes_use_concise_dates(prices: pd.DataFrame) -> None:
    from matplotlib.dates import ConciseDateFormatter

    fig = plot_prices(prices["ETH"], prices["BTC"])
    assert isinstance(fig.axes[0].xaxis.get_major_formatter(), ConciseDateFormatter)
    fig = plot_prices(np.array([1.0, 2.0, 4.0]), np.array([2.0, 2.0, 1.0]))
    assert not isinstance(fig.axes[0].xaxis.get_major_formatter(), ConciseDateFormatter)


def test_prices_into_given_axes(prices: pd.DataFrame) -> None:
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_prices(prices["ETH"], prices["BTC"], ax=ax) is fig
    assert len(ax.lines) == 2


def test_prices_unnamed_arrays() -> None:
    fig = plot_prices(np.array([1.0, 2.0, 4.0]), np.array([2.0, 2.0, 1.0]))
    assert _labels(fig.axes[0]) == ["y", "x"]
    np.testing.assert_array_equal(fig.axes[0].lines[1].get_ydata(), [1.0, 1.0, 0.5])


def test_hedge_ratios_paths_and_constant(logs: pd.DataFrame) -> None:
    ols = ols_hedge(logs["ETH"], logs["BTC"])
    roll = rolling_hedge(logs["ETH"], logs["BTC"], window=60)
    kal = kalman_hedge(logs["ETH"], logs["BTC"], noise_units="log")
    fig = plot_hedge_ratios({"OLS": ols, "Rolling": roll, "Kalman": kal})
    (ax,) = fig.axes
    assert _labels(ax) == ["OLS", "Rolling", "Kalman"] == _legend(ax)
    # The full-sample beta is a horizontal line at its value.
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [ols.beta, ols.beta])
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), roll.beta.to_numpy())
    assert np.isnan(ax.lines[1].get_ydata()[:59]).all()
    np.testing.assert_array_equal(ax.lines[2].get_ydata(), kal.beta.to_numpy())
    assert len({line.get_color() for line in ax.lines}) == 3


def test_hedge_ratios_several_legs(logs: pd.DataFrame) -> None:
    legs = logs[["BTC", "LTC"]]
    ols = ols_hedge(logs["ETH"], legs)
    roll = rolling_hedge(logs["ETH"], legs, window=60)
    fig = plot_hedge_ratios({"OLS": ols, "Rolling": roll, "fixed": 0.5})
    ax = fig.axes[0]
    assert _labels(ax) == ["OLS [BTC]", "OLS [LTC]", "Rolling [BTC]", "Rolling [LTC]", "fixed"]
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), [ols.beta["LTC"]] * 2)
    np.testing.assert_array_equal(ax.lines[3].get_ydata(), roll.beta["LTC"].to_numpy())


def test_spread_markers_match_backtest_trades(strategy: dict[str, Any]) -> None:
    bt, z, pos, fit = strategy["bt"], strategy["z"], strategy["pos"], strategy["fit"]
    assert bt.n_trades >= 4  # a meaningful check needs several trades
    fig = plot_spread(fit.spread, z, pos, entry_z=1.5, exit_z=0.25)
    top, bottom = fig.axes
    assert _labels(top) == ["spread"]
    np.testing.assert_array_equal(top.lines[0].get_ydata(), fit.spread.to_numpy())
    labels = _labels(bottom)
    assert labels == [
        "zscore",
        "entry ±1.5",
        "_entry",
        "exit ±0.25",
        "_exit",
        "long entry",
        "short entry",
        "exit",
    ]
    assert _legend(bottom) == ["zscore", "entry ±1.5", "exit ±0.25", "long entry", "short entry", "exit"]
    assert [tuple(bottom.lines[k].get_ydata()) for k in range(1, 5)] == [
        (1.5, 1.5),
        (-1.5, -1.5),
        (0.25, 0.25),
        (-0.25, -0.25),
    ]
    marks = dict(zip(labels, bottom.lines, strict=True))
    trades = bt.trades
    for label, side in (("long entry", 1), ("short entry", -1)):
        expected = trades.loc[trades["side"] == side, "entry_time"]
        np.testing.assert_array_equal(marks[label].get_xdata(), _naive_utc(expected))
        np.testing.assert_array_equal(marks[label].get_ydata(), z.loc[expected].to_numpy())
    closed = trades["exit_time"].dropna()
    np.testing.assert_array_equal(marks["exit"].get_xdata(), _naive_utc(closed))
    assert not np.isnan(marks["exit"].get_ydata()).any()


def test_spread_without_position_and_zero_exit(strategy: dict[str, Any]) -> None:
    fig = plot_spread(strategy["fit"].spread, strategy["z"])
    assert _labels(fig.axes[1]) == ["zscore", "entry ±2", "_entry", "exit 0"]


def test_spread_flip_is_exit_and_entry() -> None:
    z = pd.Series([0.0, -2.5, 2.5, 1.0, 0.0, 3.0])
    pos = pd.Series([0.0, 1.0, -1.0, -1.0, 0.0, -1.0])
    fig = plot_spread(z, z, pos)
    marks = {line.get_label(): line.get_xdata().tolist() for line in fig.axes[1].lines[-3:]}
    assert marks == {"long entry": [1], "short entry": [2, 5], "exit": [2, 4]}


def test_spread_into_given_axes(strategy: dict[str, Any]) -> None:
    fig = Figure()
    axes = fig.subplots(1, 2)
    assert plot_spread(strategy["fit"].spread, strategy["z"], ax=list(axes)) is fig
    assert [len(ax.lines) for ax in axes] == [1, 4]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([-1.0, 0.0, 1.0]), min_size=2, max_size=40))
def test_trade_marks_match_backtest(sides: list[float]) -> None:
    index = pd.date_range("2024-01-01", periods=len(sides), freq="D")
    pos = pd.Series(sides, index=index)
    prices = pd.Series(np.linspace(10.0, 20.0, len(sides)), index=index)
    trades = backtest(prices, prices * 2.0, beta=0.5, position=pos).trades
    marks = _trade_marks(pos)
    assert index[marks["long entry"]].equals(pd.DatetimeIndex(trades.loc[trades.side == 1, "entry_time"]))
    assert index[marks["short entry"]].equals(pd.DatetimeIndex(trades.loc[trades.side == -1, "entry_time"]))
    assert index[marks["exit"]].equals(pd.DatetimeIndex(trades["exit_time"].dropna()))


def test_equity_and_drawdown(strategy: dict[str, Any]) -> None:
    bt = strategy["bt"]
    fig = plot_equity(bt)
    top, bottom = fig.axes
    np.testing.assert_array_equal(top.lines[0].get_ydata(), bt.equity.to_numpy())
    drawdown = bottom.lines[0].get_ydata()
    assert bt.max_drawdown > 0
    np.testing.assert_allclose(-drawdown.min(), bt.max_drawdown, rtol=1e-12)
    assert (drawdown <= 0).all()
    assert len(bottom.collections) == 1 and isinstance(bottom.collections[0], PolyCollection)


def test_equity_from_series_counts_start_as_peak() -> None:
    fig = plot_equity(pd.Series([0.9, 0.95, 1.2, 0.6]))
    np.testing.assert_allclose(fig.axes[1].lines[0].get_ydata(), [-0.1, -0.05, 0.0, -0.5], rtol=1e-15)


def test_rolling_coint_with_breakdown(logs: pd.DataFrame) -> None:
    res = breakdown(logs["ETH"], logs["BTC"], window=60, step=5, confirm=1)
    assert len(res.events) >= 1
    fig = plot_rolling_coint(res, size=res.size)
    ax = fig.axes[0]
    assert len(ax.lines) == 2 + len(res.events)
    tested = res.rolling["pvalue"].dropna()
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), tested.to_numpy())
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), _naive_utc(tested.index))
    assert tuple(ax.lines[1].get_ydata()) == (0.05, 0.05)
    event_x = [line.get_xdata()[0] for line in ax.lines[2:]]
    np.testing.assert_array_equal(event_x, _naive_utc(res.events["timestamp"]))
    kinds = list(dict.fromkeys(res.events["kind"]))
    assert _legend(ax) == ["p-value", "test size 0.05", *kinds]


def test_rolling_coint_table_and_timestamps(logs: pd.DataFrame) -> None:
    res = breakdown(logs["ETH"], logs["BTC"], window=60, step=5)
    times = [str(t) for t in logs.index[[100, 300]]]
    fig = plot_rolling_coint(res.rolling, times, size=0.1)
    ax = fig.axes[0]
    assert len(ax.lines) == 4
    assert _legend(ax) == ["p-value", "test size 0.1", "breakdown"]
    assert plot_rolling_coint(res.rolling["pvalue"]).axes[0].lines[0].get_label() == "p-value"


def test_no_pyplot_state() -> None:
    code = (
        "import sys, numpy as np\n"
        "from pairs.plot import plot_prices\n"
        "fig = plot_prices(np.array([1.0, 2.0]), np.array([2.0, 3.0]))\n"
        "print('matplotlib.pyplot' in sys.modules, type(fig.canvas).__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "FigureCanvasAgg"]


def test_figure_displays_in_ipython_without_the_inline_backend(prices: pd.DataFrame) -> None:
    # A notebook without `%matplotlib inline` (pyplot never imported) has no formatter for
    # Figure: before _repr_png_, a returned figure showed as "<Figure size 640x280 with 1 Axes>".
    formatters = pytest.importorskip("IPython.core.formatters")
    fig = plot_prices(prices["ETH"], prices["BTC"])
    data, metadata = formatters.DisplayFormatter().format(fig)
    png = data["image/png"]
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    # Rendered at twice the figure's pixels (IHDR width, height), shown at its own size.
    width, height = (round(v) for v in fig.get_size_inches() * fig.dpi)
    assert (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")) == (2 * width, 2 * height)
    assert metadata["image/png"] == {"width": width, "height": height}
    # With the inline backend active, its formatter for Figure wins: one image, its settings.
    inline = formatters.DisplayFormatter()
    inline.formatters["image/png"].for_type(Figure, lambda figure: b"inline backend")
    assert inline.format(fig)[0]["image/png"] == b"inline backend"


@pytest.fixture
def no_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(builtins, "__import__", fake_import)


@pytest.mark.usefixtures("no_matplotlib")
@pytest.mark.parametrize(
    "draw",
    [
        lambda s: plot_prices(s, s * 2),
        lambda s: plot_hedge_ratios({"OLS": 1.0}),
        lambda s: plot_spread(s, s),
        lambda s: plot_equity(s),
        lambda s: plot_rolling_coint(s / 10),
    ],
    ids=["prices", "hedge_ratios", "spread", "equity", "rolling_coint"],
)
def test_missing_matplotlib(draw: Any) -> None:
    s = pd.Series([1.0, 2.0, 3.0])
    with pytest.raises(MissingDependencyError, match=r"pip install 'pairs\[plot\]'") as info:
        draw(s)
    assert isinstance(info.value, ImportError) and isinstance(info.value, PairsError)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda p: plot_prices(p["ETH"].where(p["ETH"] > 2000), p["BTC"]),
            DataError,
            "y must not contain NaN",
        ),
        (lambda p: plot_prices(p["ETH"], -p["BTC"]), DataError, "x must be strictly positive"),
        (lambda p: plot_prices(p["ETH"], p["BTC"].iloc[1:]), DataError, "x must have the same length"),
        (lambda p: plot_prices(p["ETH"], p["BTC"], ax="top"), PairsError, "ax must be a matplotlib Axes"),
        (lambda p: plot_hedge_ratios({}), PairsError, "results must be a non-empty mapping"),
        (lambda p: plot_hedge_ratios([1.0]), PairsError, "results must be"),
        (lambda p: plot_hedge_ratios({"bad": "x"}), PairsError, r"results\['bad'\] must be a hedge result"),
        (lambda p: plot_hedge_ratios({"inf": np.inf}), PairsError, r"results\['inf'\].beta must be a finite"),
        (lambda p: plot_spread(p["ETH"], p["BTC"].iloc[1:]), DataError, "zscore index must equal"),
        (lambda p: plot_spread(p["ETH"], p["BTC"], p["LTC"].iloc[:-1]), DataError, "position index"),
        (lambda p: plot_spread(p["ETH"], p["BTC"], entry_z=0), PairsError, "entry_z must be > 0"),
        (lambda p: plot_spread(p["ETH"], p["BTC"], exit_z=np.nan), PairsError, "exit_z must be a finite"),
        (lambda p: plot_spread(p["ETH"].iloc[::-1], p["BTC"]), DataError, "spread index must be sorted"),
        (
            lambda p: plot_spread(p["ETH"], p["BTC"], ax=Figure().add_subplot()),
            PairsError,
            "ax must be a pair",
        ),
        (lambda p: plot_equity(object()), DataError, r"backtest.equity must be a pandas Series"),
        (
            lambda p: plot_equity(p["ETH"].where(p["ETH"] > 2000)),
            DataError,
            "backtest.equity must not contain",
        ),
        (lambda p: plot_rolling_coint(p), PairsError, "rolling must have a 'pvalue' column"),
        (lambda p: plot_rolling_coint(p["ETH"], size=1.5), PairsError, "size must be < 1"),
        (lambda p: plot_prices(p["ETH"], p["BTC"], log_scale="yes"), PairsError, "log_scale must be"),
        (lambda p: plot_rolling_coint(p["ETH"], p), PairsError, "events must have a 'timestamp' column"),
        (lambda p: plot_rolling_coint(p["ETH"], 3), PairsError, "events must be a breakdown result"),
        (lambda p: plot_rolling_coint(p["ETH"], ["not a time"]), DataError, "events must hold timestamps"),
    ],
)
def test_bad_inputs(prices: pd.DataFrame, call: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call(prices)


def test_equity_of_an_account_draws_down_from_its_capital(prices: pd.DataFrame) -> None:
    # An account's equity is in currency: its drawdown starts from the capital, as max_drawdown.
    strategy = pairs.Strategy(log_prices=True, capital=10_000.0, sizing_mode="dollar_neutral")
    result = strategy.backtest(prices["ETH"], prices["BTC"])
    fig = plot_equity(result)
    drawdown = fig.axes[1].lines[0].get_ydata()
    np.testing.assert_allclose(-drawdown.min(), result.max_drawdown, rtol=1e-12)
    assert fig.axes[0].lines[1].get_ydata()[0] == 10_000.0  # the reference line is the capital
