"""HTML report: verdict and strategy first, readable tables, HiDPI figures, atomic writes, bad inputs.

The standard report of the last 500 ETH/BTC daily bars is built once. Its numbers are checked
against the library objects they come from: the verdict and test tables against
:func:`pairs.coint.coint_report` (and the Engle-Granger statistic against statsmodels' ``coint``,
rtol 1e-5: the table shows 6 significant digits), the strategy rows against
``describe_lines``, the performance and trade summary against ``Strategy.backtest`` (formatted
to 0.1%), and, with the full-sample hedge and no costs, the total return against a closed form
of the dollar-hedged spread return ``p_{t-1} (r^y_t - beta r^x_t) / (1 + |beta|)``.
"""

from __future__ import annotations

import base64
import builtins
import os
import re
import struct
import sys
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from statsmodels.tsa.stattools import coint

from pairs import SignalRule, Strategy, load_sample, ols_hedge
from pairs._results import _fmt
from pairs.coint import coint_report
from pairs.coint._kernels import default_max_lag
from pairs.exceptions import DataError, InsufficientDataError, MissingDependencyError, PairsError
from pairs.report import analysis_report, render_report, write_report
from pairs.strategy._describe import describe_lines
from pairs.trading import signals, zscore

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IMG = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]*)"')
IMG_TAG = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]*)" width="(\d+)"')
VOID = {"meta", "img", "br", "hr", "link", "input"}
HEADINGS = [
    "Verdict",
    "Strategy",
    "Prices",
    "Hedge ratios",
    "Cointegration tests",
    "Spread and signals",
    "Backtest",
    "Cointegration monitor",
]
STRATEGY = Strategy(log_prices=True, fee_bps=10)


@pytest.fixture(scope="module")
def prices(btc_eth_daily: pd.DataFrame) -> pd.DataFrame:
    return btc_eth_daily[["ETH", "BTC"]].iloc[-500:]


@pytest.fixture(scope="module")
def blocks(prices: pd.DataFrame) -> list[Any]:
    return analysis_report(prices["ETH"], prices["BTC"], strategy=STRATEGY, coint_window=120)


@pytest.fixture(scope="module")
def report(blocks: list[Any], tmp_path_factory: pytest.TempPathFactory) -> str:
    path = write_report(tmp_path_factory.mktemp("report") / "eth_btc.html", "ETH/BTC <report>", blocks)
    assert path.is_file()
    return path.read_text(encoding="utf-8")


class _TagChecker(HTMLParser):
    """Records tag nesting errors; void elements need no end tag."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
        else:
            self.stack.pop()


def _parse(doc: str) -> _TagChecker:
    checker = _TagChecker()
    checker.feed(doc)
    checker.close()
    return checker


def _cell(doc: str, label: str, after: str = "") -> str:
    """The value cell of the first ``<th>label</th><td>...</td>`` row after ``after``."""
    start = doc.index(after) if after else 0
    match = re.compile(rf"<th>{re.escape(label)}</th><td[^>]*>([^<]*)</td>").search(doc, start)
    assert match is not None, label
    return unescape(match.group(1))


def _png_size(data: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _section(doc: str, heading: str) -> str:
    start = doc.index(f"<h2>{heading}</h2>")
    end = doc.find("<h2>", start + 1)
    return doc[start : end if end >= 0 else len(doc)]


def test_report_is_well_formed(report: str) -> None:
    assert report.startswith("<!DOCTYPE html>")
    checker = _parse(report)
    assert checker.errors == [] and checker.stack == []
    assert checker.tags.count("table") >= 8
    assert "<title>ETH/BTC &lt;report&gt;</title>" in report
    headings = re.findall(r"<h2>([^<]*)</h2>", report)
    assert headings == HEADINGS


def test_report_opens_with_the_verdict(report: str, blocks: list[Any], prices: pd.DataFrame) -> None:
    verdict = coint_report(np.log(prices["ETH"]), np.log(prices["BTC"]))
    assert blocks[:2] == [("heading", "Verdict"), ("note", verdict.headline)]
    body = report[report.index("<body>") :]
    first = re.search(r"<h2>([^<]*)</h2>\s*<p class=\"note\">([^<]*)</p>", body)
    assert first is not None and first.group(1) == "Verdict" and body.index("<h2>") == first.start()
    assert unescape(first.group(2)) == verdict.headline
    assert verdict.verdict == "not cointegrated" and "not cointegrated at 5%" in first.group(2)
    glance = _section(report, "Verdict")
    assert _cell(glance, "cointegration") == "not cointegrated at 5%"
    assert (
        _cell(glance, "Engle-Granger p-value, ETH ~ BTC") == f"{verdict.engle_granger['pvalue'].iloc[0]:.3g}"
    )


def test_report_shows_the_strategy(report: str) -> None:
    section = _section(report, "Strategy")
    assert "<caption>Strategy traded</caption>" in section
    rows = describe_lines(STRATEGY)
    assert [label for label, _ in rows] == ["hedge", "z-score", "rule", "sizing", "costs", "fills"]
    for label, text in rows:
        assert _cell(section, label) == text
    assert "500 daily bars from 2024-08-25 to 2026-01-06" in unescape(section)


def test_report_uses_human_labels(report: str) -> None:
    for dump in ("crit_values", "icbest", "r&lt;=0", "r<=0", "n_obs", "max_drawdown", "total_return"):
        assert dump not in report, dump
    tests = _section(report, "Cointegration tests")
    for label in ("Engle-Granger, both directions", "5% critical value", "rank 0 (none)", "Hurst exponent"):
        assert label in unescape(tests), label


def test_report_cointegration_matches_library_and_statsmodels(report: str, prices: pd.DataFrame) -> None:
    ly, lx = np.log(prices["ETH"]), np.log(prices["BTC"])
    verdict = coint_report(ly, lx)
    row = re.search(r"<tr><th>ETH ~ BTC</th>((?:<td[^>]*>[^<]*</td>)+)</tr>", report)
    assert row is not None
    cells = [unescape(c) for c in re.findall(r"<td[^>]*>([^<]*)</td>", row.group(1))]
    expected = verdict.engle_granger.loc["ETH ~ BTC"]
    assert cells == [_fmt(v) if not isinstance(v, (int, np.integer)) else str(v) for v in expected]
    # The statistic is statsmodels' with the same lag search (the default: BIC, short maximum);
    # p-values and critical values are finite-sample (tests/coint/test_statistics.py).
    stat = coint(ly, lx, trend="c", autolag="bic", maxlag=default_max_lag(len(ly), 0))[0]
    np.testing.assert_allclose(float(cells[0]), stat, rtol=1e-5)


def test_report_trade_summary(report: str, prices: pd.DataFrame) -> None:
    bt = STRATEGY.backtest(prices["ETH"], prices["BTC"])
    trades = bt.trades
    assert len(trades) > 10
    section = _section(report, "Backtest")
    assert _cell(section, "total return") == f"{bt.total_return:+.1%}"
    assert _cell(section, "round trips").startswith(f"{len(trades)} (")
    assert _cell(section, "win rate") == f"{(trades['return'] > 0).mean():.1%}"
    assert _cell(section, "best trade") == f"{trades['return'].max():+.1%}"
    assert _cell(section, "worst trade") == f"{trades['return'].min():+.1%}"
    assert _cell(section, "average return per trade") == f"{trades['return'].mean():+.1%}"
    days = trades["bars"].mean()
    assert _cell(section, "average holding") == f"{days:.3g} day" + ("" if days == 1 else "s")
    assert f"<caption>Last 10 of {len(trades)} trades</caption>" in section
    last = section[section.index("<caption>Last 10") :]
    last = last[: last.index("</table>")]
    assert last.count("<tr>") == 11  # header + 10 trades
    entry = trades["entry_time"].iloc[-1].strftime("%Y-%m-%d")
    assert f'<th>{len(trades)}</th><td class="w">{entry}</td>' in last


def test_daily_timestamps_are_dates(report: str) -> None:
    assert "00:00:00" not in report and "+00:00" not in report


def test_intraday_timestamps_show_the_time(prices: pd.DataFrame) -> None:
    hourly = prices.set_axis(pd.date_range("2025-01-01 09:00", periods=len(prices), freq="h", tz="UTC"))
    blocks = analysis_report(hourly["ETH"], hourly["BTC"], strategy=STRATEGY, coint_window=120)
    doc = render_report("hourly", blocks)
    assert "500 hourly bars from 2025-01-01 09:00 UTC to 2025-01-22 04:00 UTC" in unescape(doc)
    assert re.search(r"<td[^>]*>2025-01-\d\d \d\d:00 UTC</td>", doc)
    assert _cell(doc, "average holding").endswith(("hour", "hours", "day", "days"))


def test_report_figures_are_hidpi_and_prices_log_scale(report: str, blocks: list[Any]) -> None:
    figures = [obj for kind, obj in blocks if kind == "figure"]
    assert len(figures) == 5 == report.count("<img ")
    tags = IMG_TAG.findall(report)
    assert len(tags) == 5
    for (encoded, width), fig in zip(tags, figures, strict=True):
        data = base64.b64decode(encoded, validate=True)
        assert data.startswith(PNG_SIGNATURE)
        png_w, png_h = _png_size(data)
        # Rendered at 200 dpi, displayed at 100 CSS px per inch: two device pixels per CSS pixel.
        assert int(width) == round(fig.get_figwidth() * 100)
        assert png_w == pytest.approx(2 * int(width), abs=1)
        assert png_h == pytest.approx(fig.get_figheight() * 200, abs=1)
    prices_fig = blocks[blocks.index(("heading", "Prices")) + 1][1]
    assert prices_fig.axes[0].get_yscale() == "log"


def test_report_with_dollar_underscore_symbols(prices: pd.DataFrame, tmp_path: Path) -> None:
    # Issue #13: matplotlib would parse "$BTC_$" as TeX and fail while drawing.
    y, x = prices["ETH"].rename("$ETH_$"), prices["BTC"].rename("$BTC_$")
    blocks = analysis_report(y, x, strategy=STRATEGY, coint_window=120)
    doc = write_report(tmp_path / "r.html", "$ETH_$ / $BTC_$", blocks).read_text(encoding="utf-8")
    assert doc.count("<img ") == 5 and "$ETH_$ / $BTC_$: not cointegrated" in doc


def test_report_has_no_external_resource(report: str) -> None:
    assert "http://" not in report and "https://" not in report
    assert "<script" not in report and "<link" not in report and "url(" not in report
    assert "@import" not in report
    sources = re.findall(r'(?:src|href)="([^"]*)"', report)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)


def test_report_hedge_table_matches_ols(report: str, prices: pd.DataFrame) -> None:
    ols = ols_hedge(np.log(prices["ETH"]), np.log(prices["BTC"]))
    ratios = report[report.index("<caption>Latest hedge ratios</caption>") :]
    assert re.search(
        rf"<th>OLS</th><td>{re.escape(_fmt(ols.beta))}</td><td>{re.escape(_fmt(ols.alpha))}</td>", ratios
    )


def test_report_backtest_total_return_closed_form(prices: pd.DataFrame) -> None:
    y, x = prices["ETH"], prices["BTC"]
    strategy = Strategy(hedge="ols", log_prices=True, window=60, fee_bps=0, rule=SignalRule(entry_z=1.5))
    doc = render_report("ols", analysis_report(y, x, strategy=strategy, coint_window=120))
    beta = ols_hedge(np.log(y), np.log(x)).beta
    z = zscore(ols_hedge(np.log(y), np.log(x)).spread, window=60)
    held = signals(z, entry_z=1.5).shift(1, fill_value=0.0)
    assert (held != 0).sum() > 50
    r = held * (y.pct_change().fillna(0.0) - beta * x.pct_change().fillna(0.0)) / (1 + abs(beta))
    total = float(np.prod(1.0 + r.to_numpy()) - 1.0)
    assert _cell(doc, "total return", "<caption>Performance") == f"{total:+.1%}"
    assert "looks ahead" in doc


def test_render_blocks_and_escaping() -> None:
    frame = pd.DataFrame({"a": [1.5, np.nan], "b": ["x<y", "z"]}, index=pd.Index(["r1", "r2"], name="row"))
    doc = render_report(
        "T",
        [
            ("heading", "A & B"),
            ("text", "first <b>\n\nsecond"),
            ("table", {"beta": 1234567.0, "n": 3}),
            ("table", pd.Series([0.5], index=["k"], name="S")),
            ("table", frame),
            ("table", pd.DataFrame({"v": [1, 2]})),
        ],
    )
    assert "<h2>A &amp; B</h2>" in doc
    assert "<p>first &lt;b&gt;</p><p>second</p>" in doc
    assert "<th>beta</th><td>1.2346e+06</td>" in doc and "<th>n</th><td>3</td>" in doc
    assert "<caption>S</caption><tbody><tr><th>k</th><td>0.5</td></tr>" in doc
    assert "<thead><tr><th>row</th><th>a</th><th>b</th></tr></thead>" in doc
    assert '<tr><th>r1</th><td>1.5</td><td class="w">x&lt;y</td></tr><tr><th>r2</th><td>nan</td>' in doc
    assert "<thead><tr><th>v</th></tr></thead><tbody><tr><td>1</td></tr>" in doc
    assert _parse(doc).errors == []


def test_render_figure_and_png_bytes() -> None:
    fig = Figure(figsize=(2.0, 1.0), dpi=50)
    fig.add_subplot().set_title("tiny")
    doc = render_report("F", [("figure", fig), ("note", "a <b>"), ("table", ("cap", {"k": "v"}))])
    (encoded,) = IMG.findall(doc)
    data = base64.b64decode(encoded)
    assert data.startswith(PNG_SIGNATURE) and _png_size(data) == (400, 200)
    assert 'width="200" alt="tiny"' in doc
    assert '<p class="note">a &lt;b&gt;</p>' in doc
    assert '<table><caption>cap</caption><tbody><tr><th>k</th><td class="w">v</td></tr>' in doc
    again = render_report("F", [("figure", data)])
    assert (
        IMG.findall(again) == [encoded] and "<img src" in again and " width=" not in again.split("<body>")[1]
    )


def test_write_report_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "r.html"
    write_report(target, "one", [("text", "first")])
    assert "<p>first</p>" in target.read_text(encoding="utf-8")
    assert target.stat().st_mode & 0o644 == 0o644
    write_report(str(target), "two", [("text", "second")])
    assert "<p>second</p>" in target.read_text(encoding="utf-8")

    def failing_replace(src: Any, dst: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        write_report(target, "three", [("text", "third")])
    assert "<p>second</p>" in target.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_write_report_bad_block_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(PairsError, match=r"blocks\[1\] kind"):
        write_report(tmp_path / "r.html", "t", [("text", "ok"), ("image", "x")])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("title", "blocks", "match"),
    [
        (3, [], "title must be a str"),
        ("t", [("heading", "h", "extra")], r"blocks\[0\] must be a \(kind, object\) tuple"),
        ("t", ["text"], r"blocks\[0\] must be a \(kind, object\) tuple"),
        ("t", [("text", "a"), ("bogus", "b")], r"blocks\[1\] kind must be one of"),
        ("t", [("heading", 3)], r"blocks\[0\] must hold a str for kind 'heading'"),
        ("t", [("table", 3.0)], r"blocks\[0\] must be a result object, a mapping"),
        ("t", [("figure", "fig")], r"blocks\[0\] must be a matplotlib Figure or PNG bytes"),
        ("t", [("figure", b"GIF89a")], r"blocks\[0\] must be PNG data"),
    ],
)
def test_render_bad_blocks(title: Any, blocks: Any, match: str) -> None:
    with pytest.raises(PairsError, match=match):
        render_report(title, blocks)


def test_write_report_bad_path(tmp_path: Path) -> None:
    with pytest.raises(PairsError, match="path must be in an existing directory"):
        write_report(tmp_path / "missing" / "r.html", "t", [])
    with pytest.raises(PairsError, match="path must be a file path"):
        write_report(3, "t", [])  # type: ignore[arg-type]


def test_analysis_report_without_matplotlib(prices: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(MissingDependencyError, match=r"pairs\[plot\]"):
        analysis_report(prices["ETH"], prices["BTC"], coint_window=120)


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"strategy": {"hedge": "rolling"}}, PairsError, "strategy must be a pairs.Strategy or None"),
        ({"coint_window": 10}, PairsError, "coint_window must be an integer >= 20"),
        ({"coint_window": 501}, InsufficientDataError, "coint_window must be <="),
        ({"coint_step": 0}, PairsError, "coint_step must be an integer >= 1"),
        ({"size": 0.2}, PairsError, "size must be one of 0.01, 0.05, 0.1"),
        ({"strategy": Strategy(hedge="rolling", window=1000)}, InsufficientDataError, "window"),
        (
            {"strategy": Strategy(capital=1e4, fill="next_open")},
            PairsError,
            "strategy must not fill at 'next_open' in a report",
        ),
    ],
)
def test_analysis_report_bad_options(
    prices: pd.DataFrame, options: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        analysis_report(prices["ETH"], prices["BTC"], **{"coint_window": 120, **options})


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda p: (p["ETH"].where(p["ETH"] > 2000), p["BTC"]), DataError, "y must not contain NaN"),
        (lambda p: (p["ETH"], p["BTC"] - 1e6), DataError, "x must be strictly positive"),
        (lambda p: (p["ETH"], p["BTC"].shift(1, freq="D")), DataError, "x index must equal y index"),
        (lambda p: (p["ETH"].iloc[::-1], p["BTC"].iloc[::-1]), DataError, "y index must be sorted"),
        (
            lambda p: (p["ETH"].iloc[:10], p["BTC"].iloc[:10]),
            InsufficientDataError,
            "y must have at least 20",
        ),
    ],
)
def test_analysis_report_bad_prices(
    prices: pd.DataFrame, make: Any, error: type[Exception], match: str
) -> None:
    y, x = make(prices)
    with pytest.raises(error, match=match):
        analysis_report(y, x, coint_window=120)


# --- one choice of prices, and a pair picked from a screen (issue #22) ---------------------------


@pytest.fixture(scope="module")
def screened(prices: pd.DataFrame) -> tuple[Any, list[Any]]:
    from pairs import scan

    universe = load_sample("binance_1d")[["ETH", "BTC", "LTC", "XRP", "BNB"]].dropna().iloc[-500:]
    res = scan(universe, log=True, size=0.05)
    best = res.table.iloc[0]
    y, x = str(best["y"]), str(best["x"])
    return res, analysis_report(universe[y], universe[x], strategy=STRATEGY, coint_window=120, scan=res)


def test_report_of_a_screened_pair_states_the_screen(screened: tuple[Any, list[Any]]) -> None:
    from statsmodels.stats.multitest import multipletests

    res, blocks = screened
    # The adjusted p-value of the best pair, recomputed from the scan's raw p-values.
    adjusted = multipletests(res.table["pvalue"], method="fdr_bh")[1][0]
    note = blocks[1][1]
    verdict = "significant" if adjusted < 0.05 else "NOT significant"
    assert note.startswith(
        f"Picked from {res.n_tested} screened pairs: after the fdr_bh correction for them its adjusted "
        f"p-value is {adjusted:.3g}, {verdict} at 5%. Single-pair tests, not corrected for the screen: "
    )
    glance = next(obj for kind, obj in blocks if kind == "table" and obj[0] == "At a glance")[1]
    assert glance["pairs screened"] == str(res.n_tested) == "10"
    assert glance["adjusted p-value (fdr_bh)"] == f"{adjusted:.3g}"
    assert glance["cointegration"].endswith("(single pair, not corrected for the screen)")
    text = blocks[2][1]
    assert text.startswith("Taken alone: ") and f"chosen from {res.n_tested} screened pairs" in text


def test_report_of_a_screened_pair_refuses_a_scan_that_does_not_fit(
    prices: pd.DataFrame, screened: tuple[Any, list[Any]]
) -> None:
    from pairs import scan

    res, _ = screened
    others = scan(np.log(load_sample("binance_1d")[["LTC", "XRP", "BNB"]].dropna().iloc[-500:]))
    cases = [
        (
            {"scan": others},
            r"^scan must contain the pair ETH/BTC; got a scan of 3 tested pairs without it\.$",
        ),
        (
            {"scan": res.table},
            r"^scan must be a pairs\.ScanResult \(from pairs\.scan\) or None; got DataFrame\.$",
        ),
    ]
    for options, match in cases:
        with pytest.raises(PairsError, match=match):
            analysis_report(prices["ETH"], prices["BTC"], strategy=STRATEGY, coint_window=120, **options)


def test_report_uses_the_strategy_prices_everywhere(prices: pd.DataFrame, blocks: list[Any]) -> None:
    # Raw-price strategy: the tests and the hedge table are of prices, as the backtest trades.
    raw = analysis_report(prices["ETH"], prices["BTC"], strategy=Strategy(fee_bps=10), coint_window=120)
    expected = coint_report(prices["ETH"], prices["BTC"]).headline
    assert raw[1] == ("note", expected) and expected != blocks[1][1]
    ratios = next(obj for kind, obj in raw if kind == "table" and obj[0] == "Latest hedge ratios")[1]
    assert ratios.loc["OLS", "beta"] == pytest.approx(ols_hedge(prices["ETH"], prices["BTC"]).beta, rel=1e-12)
    texts = " ".join(obj for kind, obj in raw if kind == "text")
    assert "Every section uses prices as given, as the strategy trades them (log_prices=False)" in texts
    assert "y = intercept + beta * x + spread" in texts and "log y" not in texts
    logged = " ".join(obj for kind, obj in blocks if kind == "text")
    assert "Every section uses log prices, as the strategy trades them (log_prices=True)" in logged
