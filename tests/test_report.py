"""HTML report: self-contained document, embedded PNGs, numbers, atomic writes, bad inputs.

The standard report of the last 500 ETH/BTC daily bars is built once. Its numbers are checked
against independent computations: the OLS hedge table against ``ols_hedge`` formatted as
``summary()`` prints it (exact string match), the Engle-Granger statistic and p-value against
statsmodels' ``coint`` (rtol 1e-5: the table shows 6 significant digits), and, with the
full-sample hedge and no costs, the backtest's total return against a closed form of the
dollar-hedged spread return ``p_{t-1} (r^y_t - beta r^x_t) / (1 + |beta|)`` (rtol 1e-5, same
reason), which checks the conversion of the log-price beta to units of ``x``.
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

from pairs import load_sample
from pairs._results import _fmt
from pairs.exceptions import DataError, InsufficientDataError, MissingDependencyError, PairsError
from pairs.hedge._ols import ols_hedge
from pairs.report import analysis_report, render_report, write_report
from pairs.trading import signals, zscore

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IMG = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]*)"')
VOID = {"meta", "img", "br", "hr", "link", "input"}
HEADINGS = [
    "Prices",
    "Hedge ratios",
    "Cointegration",
    "Spread and signals",
    "Backtest",
    "Cointegration monitor",
]


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return load_sample("binance_1d")[["ETH", "BTC"]].dropna().iloc[-500:]


@pytest.fixture(scope="module")
def report(prices: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> str:
    blocks = analysis_report(prices["ETH"], prices["BTC"], window=60, coint_window=120, fee_bps=10)
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
    match = re.compile(rf"<th>{re.escape(label)}</th><td>([^<]*)</td>").search(doc, start)
    assert match is not None, label
    return unescape(match.group(1))


def _png_size(data: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_report_is_well_formed(report: str) -> None:
    assert report.startswith("<!DOCTYPE html>")
    checker = _parse(report)
    assert checker.errors == [] and checker.stack == []
    assert checker.tags.count("table") >= 5
    assert "<title>ETH/BTC &lt;report&gt;</title>" in report
    headings = re.findall(r"<h2>([^<]*)</h2>", report)
    assert headings == HEADINGS


def test_report_embeds_png_figures(report: str) -> None:
    images = IMG.findall(report)
    assert len(images) == 5 == report.count("<img ")
    for encoded in images:
        data = base64.b64decode(encoded, validate=True)
        assert data.startswith(PNG_SIGNATURE)
        assert len(data) > 1024
        assert _png_size(data) in {(640, 280), (640, 400)}


def test_report_has_no_external_resource(report: str) -> None:
    assert "http://" not in report and "https://" not in report
    assert "<script" not in report and "<link" not in report and "url(" not in report
    assert "@import" not in report
    sources = re.findall(r'(?:src|href)="([^"]*)"', report)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)


def test_report_hedge_table_matches_ols(report: str, prices: pd.DataFrame) -> None:
    ols = ols_hedge(np.log(prices["ETH"]), np.log(prices["BTC"]))
    rows = ols._summary_rows()
    assert any(label == "beta" for label, _ in rows)
    for label, value in rows:
        assert _cell(report, label, after="<caption>Hedge ratio</caption>") == _fmt(value)
    ratios = report[report.index("<th>hedge</th>") :]
    assert re.search(rf"<th>OLS</th><td>{re.escape(_fmt(ols.beta))}</td>", ratios)


def test_report_cointegration_matches_statsmodels(report: str, prices: pd.DataFrame) -> None:
    stat, pvalue, crit = coint(np.log(prices["ETH"]), np.log(prices["BTC"]), trend="c", autolag="aic")
    caption = "<caption>Engle-Granger cointegration test</caption>"
    np.testing.assert_allclose(float(_cell(report, "stat", caption)), stat, rtol=1e-5)
    np.testing.assert_allclose(float(_cell(report, "pvalue", caption)), pvalue, rtol=1e-5)
    np.testing.assert_allclose(float(_cell(report, "crit_values[5%]", caption)), crit[1], rtol=1e-5)


def test_report_backtest_total_return_closed_form(prices: pd.DataFrame) -> None:
    y, x = prices["ETH"], prices["BTC"]
    blocks = analysis_report(y, x, window=60, coint_window=120, fee_bps=0, hedge="ols", entry_z=1.5)
    doc = render_report("ols", blocks)
    beta = ols_hedge(np.log(y), np.log(x)).beta
    z = zscore(ols_hedge(np.log(y), np.log(x)).spread, window=60)
    held = signals(z, entry_z=1.5).shift(1, fill_value=0.0)
    assert (held != 0).sum() > 50
    r = held * (y.pct_change().fillna(0.0) - beta * x.pct_change().fillna(0.0)) / (1 + abs(beta))
    total = float(np.prod(1.0 + r.to_numpy()) - 1.0)
    np.testing.assert_allclose(float(_cell(doc, "total_return", "<caption>Backtest")), total, rtol=1e-5)
    assert "full-sample fit: the backtest looks ahead" in doc


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
    assert "<tr><th>r1</th><td>1.5</td><td>x&lt;y</td></tr><tr><th>r2</th><td>nan</td>" in doc
    assert "<thead><tr><th>v</th></tr></thead><tbody><tr><td>1</td></tr>" in doc
    assert _parse(doc).errors == []


def test_render_figure_and_png_bytes() -> None:
    fig = Figure(figsize=(2.0, 1.0), dpi=50)
    fig.add_subplot().set_title("tiny")
    doc = render_report("F", [("figure", fig)])
    (encoded,) = IMG.findall(doc)
    data = base64.b64decode(encoded)
    assert data.startswith(PNG_SIGNATURE) and _png_size(data) == (100, 50)
    assert 'alt="tiny"' in doc
    again = render_report("F", [("figure", data)])
    assert IMG.findall(again) == [encoded]


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
        ({"hedge": "tls"}, PairsError, "hedge must be one of"),
        ({"zscore_window": 1}, PairsError, "zscore_window must be an integer >= 2"),
        ({"coint_window": 10}, PairsError, "coint_window must be an integer >= 20"),
        ({"coint_window": 501}, InsufficientDataError, "coint_window must be <="),
        ({"coint_step": 0}, PairsError, "coint_step must be an integer >= 1"),
        ({"window": 1000}, InsufficientDataError, "window must be <="),
        ({"entry_z": -1.0}, PairsError, "entry_z"),
        ({"fee_bps": -1.0}, PairsError, "fee_bps"),
        ({"alpha": 2.0}, PairsError, "alpha"),
        ({"delta": 0.0}, PairsError, "delta"),
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
