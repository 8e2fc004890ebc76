"""What a notebook shows: every public result's HTML table and a bare ``summary()``.

``_repr_html_`` is parsed back with :mod:`html.parser` and compared with the rows of
``summary()`` (for the results whose summary is that table, the text rebuilt from the HTML rows
must be ``summary()`` exactly). IPython's own :class:`DisplayFormatter` (what Jupyter runs on a
cell's value) is checked to pick the HTML table for a result and the text itself for a summary.
"""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import numpy as np
import pandas as pd
import pytest

import pairs
from pairs._results import ResultMixin, _fmt, format_table


class _Tables(HTMLParser):
    """Tables of an HTML fragment: caption and rows of cell texts (entities decoded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[dict[str, Any]] = []
        self._text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append({"caption": None, "rows": []})
        elif tag == "tr":
            self.tables[-1]["rows"].append([])
        elif tag in ("th", "td", "caption"):
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td", "caption") and self._text is not None:
            text = "".join(self._text)
            if tag == "caption":
                self.tables[-1]["caption"] = text
            else:
                self.tables[-1]["rows"][-1].append(text)
            self._text = None


def tables(fragment: str) -> list[dict[str, Any]]:
    parser = _Tables()
    parser.feed(fragment)
    parser.close()
    return parser.tables


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return pairs.load_sample("binance_1d")[["ETH", "BTC", "LTC"]].dropna().iloc[-400:]


def _signal(p: pd.DataFrame) -> Any:
    engine = pairs.StreamEngine(pairs.Strategy(log_prices=True))
    engine.warmup(p["ETH"].iloc[:-1], p["BTC"].iloc[:-1])
    return engine.update(float(p["ETH"].iloc[-1]), float(p["BTC"].iloc[-1]), p.index[-1])


# One instance of every public result class, built from the bundled data.
def _portfolio_signal(p: pd.DataFrame) -> Any:
    live = pairs.Portfolio(
        pairs.Strategy(hedge="rolling", window=30), pairs.Selection(top=2), formation=200, trading=100
    ).stream(list(p.columns))
    for ts, row in p.iloc[:230].iterrows():
        signal = live.update(row, ts)
    return signal


FACTORIES: dict[str, Callable[[pd.DataFrame], Any]] = {
    "ADFResult": lambda p: pairs.adf(np.log(p["ETH"])),
    "BacktestResult": lambda p: pairs.Strategy(log_prices=True).run(p["ETH"], p["BTC"]).backtest(),
    "BertramResult": lambda p: pairs.bertram_thresholds(np.log(p["ETH"]) - np.log(p["BTC"]), cost=0.002),
    "BreakdownResult": lambda p: pairs.breakdown(np.log(p["ETH"]), np.log(p["BTC"]), window=120, step=20),
    "CheckResult": lambda p: pairs.check_strategy(
        pairs.Strategy(log_prices=True), p["ETH"], p["BTC"], cuts=5
    ),
    "CointReport": lambda p: pairs.coint_report(np.log(p["ETH"]), np.log(p["BTC"]), n_screened=10),
    "DeflatedSharpeResult": lambda p: pairs.deflated_sharpe(np.log(p[["ETH", "BTC"]]).diff().dropna()),
    "EngleGrangerResult": lambda p: pairs.engle_granger(np.log(p["ETH"]), np.log(p["BTC"])),
    "GregoryHansenResult": lambda p: pairs.gregory_hansen(np.log(p["ETH"]), np.log(p["BTC"])),
    "HalfLifeResult": lambda p: pairs.half_life(np.log(p["ETH"]) - np.log(p["BTC"])),
    "HedgeEffectiveness": lambda p: pairs.hedge_effectiveness(p["ETH"], p["BTC"], 1.0),
    "HedgeResult": lambda p: pairs.ols_hedge(np.log(p["ETH"]), np.log(p["BTC"])),
    "HurstResult": lambda p: pairs.hurst(np.log(p["ETH"])),
    "JohansenResult": lambda p: pairs.johansen(np.log(p[["ETH", "BTC"]])),
    "KSSResult": lambda p: pairs.kss(np.log(p["ETH"])),
    "KalmanResult": lambda p: pairs.kalman_hedge(np.log(p["ETH"]), np.log(p["BTC"]), noise_units="log"),
    "Order": lambda p: pairs.Order("ETH", "buy", 0.5, False, "y"),
    "OverfittingResult": lambda p: pairs.probability_of_overfitting(
        np.log(p[["ETH", "BTC", "LTC"]]).diff().dropna(), n_splits=4
    ),
    "PhillipsOuliarisResult": lambda p: pairs.phillips_ouliaris(np.log(p["ETH"]), np.log(p["BTC"])),
    "PortfolioResult": lambda p: pairs.Portfolio(
        pairs.Strategy(hedge="rolling", window=30), pairs.Selection(top=2), formation=200, trading=100
    ).backtest(p),
    "PortfolioSignal": lambda p: _portfolio_signal(p),
    "ScanResult": lambda p: pairs.scan(p, log=True),
    "Signal": _signal,
    "SimulatedUniverse": lambda p: pairs.simulate_universe(4, 200, n_cointegrated=1, seed=1),
    "StrategyResult": lambda p: pairs.Strategy(log_prices=True).run(p["ETH"], p["BTC"]),
    "SweepResult": lambda p: pairs.sweep(
        pairs.Strategy(hedge="rolling"), {"window": [30, 60], "rule.entry_z": [1.5, 2.0]}, p["ETH"], p["BTC"]
    ),
    "VarianceRatioResult": lambda p: pairs.variance_ratio(np.log(p["ETH"]), 4),
    "WalkForwardResult": lambda p: pairs.walk_forward(p["ETH"], p["BTC"], train=200, test=100),
}


@pytest.fixture(scope="module")
def results(prices: pd.DataFrame) -> dict[str, Any]:
    return {name: make(prices) for name, make in FACTORIES.items()}


def _subclasses(cls: type) -> set[type]:
    return {c for sub in cls.__subclasses__() for c in (sub, *_subclasses(sub))}


def test_every_public_result_class_is_covered() -> None:
    exported = {
        name
        for name in pairs.__all__
        if isinstance(getattr(pairs, name), type) and issubclass(getattr(pairs, name), ResultMixin)
    }
    defined = {c.__name__ for c in _subclasses(ResultMixin) if not c.__name__.startswith("_")}
    assert exported == defined == set(FACTORIES)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_html_table_holds_the_summary_rows(results: dict[str, Any], name: str) -> None:
    result = results[name]
    assert type(result).__name__ == name
    summary = result.summary()
    rows = [(label, _fmt(value)) for label, value in result._summary_rows()]
    first, *rest = tables(result._repr_html_())
    assert first["caption"] == type(result)._title
    assert [tuple(row) for row in first["rows"]] == rows and rows
    if type(result).summary is ResultMixin.summary:
        # summary() is this table as text: rebuilt from the HTML, it is the same string.
        assert format_table(first["rows"], title=first["caption"]) == summary
        assert rest == []
    else:
        assert all(value in summary for _, value in rows)
    if name == "ScanResult":
        (top,) = rest
        head = result.table.head(10)
        assert top["rows"][0][:2] == ["y", "x"]
        assert [row[:2] for row in top["rows"][1:]] == head[["y", "x"]].to_numpy().tolist()


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_summary_repr_is_its_text(results: dict[str, Any], name: str) -> None:
    summary = results[name].summary()
    assert isinstance(summary, str) and "\n" in summary
    assert repr(summary) == str(summary) and str(summary) == summary


@pytest.mark.parametrize("name", ["CointReport", "EngleGrangerResult", "ScanResult"])
def test_ipython_shows_the_table_and_the_summary_text(results: dict[str, Any], name: str) -> None:
    formatters = pytest.importorskip("IPython.core.formatters")
    display = formatters.DisplayFormatter()
    result = results[name]
    data, _ = display.format(result)
    assert data["text/html"] == result._repr_html_()
    data, _ = display.format(result.summary())
    assert data == {"text/plain": str(result.summary())}
    data, _ = display.format(pairs.Strategy().summary())
    assert data == {"text/plain": str(pairs.Strategy().summary())}


def test_names_and_values_are_escaped(prices: pd.DataFrame) -> None:
    y = np.log(prices["ETH"]).rename('<b>A&B</b>"')
    x = np.log(prices["BTC"]).rename("<script>alert(1)</script>")
    report = pairs.coint_report(y, x)
    html = report._repr_html_()
    assert "<b>" not in html and "<script>" not in html
    labels = [row[0] for row in tables(html)[0]["rows"]]
    assert f"Engle-Granger p-value, {y.name} ~ {x.name}" in labels
    scan = pairs.scan(pd.concat([y, x], axis=1))
    html = scan._repr_html_()
    assert "<script>" not in html and "<b>" not in html
    assert tables(html)[1]["rows"][1][:2] == [y.name, x.name]
