"""Renamed options and attributes keep their former name for one release (issue #22).

``alpha`` once meant a test size in some places and an intercept in others; the test size is now
``size`` everywhere (and ``CointReport.det_order`` became ``deterministic``). Each former name
still works: it gives the result of the new name plus a ``FutureWarning`` naming both, and
giving both names with different values is refused naming both. ``scan(alpha=)`` has its own
test in tests/screening/test_scan.py.

Not given a path: the scan table's intercept column ``alpha_`` (now ``alpha``). A DataFrame
column cannot warn when read, a duplicate column would put two names on one meaning in every
table and CSV the CLI writes, and the one reader of scan tables in pairs
(``StreamBook.from_scan``) takes only a ``ScanResult`` built by the current ``scan``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest

from pairs import load_sample, scan
from pairs.coint import breakdown, coint_report, johansen
from pairs.exceptions import PairsError
from pairs.plot import plot_rolling_coint
from pairs.report import analysis_report

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return load_sample("binance_1d")[["ETH", "BTC", "LTC"]].dropna().iloc[-400:]


def _same(a: Any, b: Any) -> None:
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    else:
        assert a == b


def _options(prices: pd.DataFrame) -> list[tuple[str, Callable[..., Any], Callable[[Any], Any]]]:
    ly, lx = np.log(prices["ETH"]), np.log(prices["BTC"])
    jo = johansen(np.log(prices[["ETH", "BTC", "LTC"]]))

    def report_text(blocks: list[Any]) -> list[Any]:
        # Figures are new objects on every call; everything else must be identical.
        return [
            (obj[0], obj[1].to_string())
            if isinstance(obj, tuple) and isinstance(obj[1], pd.DataFrame)
            else obj
            for kind, obj in blocks
            if kind != "figure"
        ]

    def figure_size_line(fig: Any) -> Any:
        return [tuple(line.get_ydata()) for line in fig.axes[0].lines if line.get_linestyle() == "--"]

    monitor = breakdown(ly, lx, window=120, step=10)
    return [
        ("breakdown", lambda **kw: breakdown(ly, lx, window=120, step=10, **kw), lambda r: r.events),
        ("JohansenResult.rank", lambda **kw: jo.rank(**kw), lambda r: r),
        ("plot_rolling_coint", lambda **kw: plot_rolling_coint(monitor, **kw), figure_size_line),
        (
            "analysis_report",
            lambda **kw: analysis_report(prices["ETH"], prices["BTC"], coint_window=120, coint_step=20, **kw),
            report_text,
        ),
    ]


@pytest.mark.parametrize(
    "index", range(4), ids=["breakdown", "rank", "plot_rolling_coint", "analysis_report"]
)
def test_alpha_is_the_former_name_of_size(prices: pd.DataFrame, index: int) -> None:
    _, call, key = _options(prices)[index]
    new = call(size=0.1)
    with pytest.warns(FutureWarning, match=r"^alpha= was renamed size=.*pass size=0\.1\.$") as record:
        old = call(alpha=0.1)
    # The warning points at the caller (this file), not at pairs' internals.
    assert all(w.filename == __file__ for w in record)
    _same(key(old), key(new))
    with pytest.raises(
        PairsError, match=r"^alpha must not be given with size .*got alpha=0\.1 and size=0\.01\."
    ):
        call(size=0.01, alpha=0.1)


def test_renamed_attributes(prices: pd.DataFrame) -> None:
    ly, lx = np.log(prices["ETH"]), np.log(prices["BTC"])
    results = [
        (breakdown(ly, lx, window=120, step=10, size=0.1), "alpha", 0.1),
        (scan(np.log(prices), size=0.1), "alpha", 0.1),
    ]
    for res, old, value in results:
        with pytest.warns(FutureWarning, match=rf"^{type(res).__name__}\.{old} was renamed \.size "):
            assert getattr(res, old) == res.size == value
        # The new name and the rest of the result do not warn.
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res.to_dict()
            res.summary()
            res._repr_html_()
    # det_order was statsmodels' code of the Johansen case: 0 a constant outside the relation,
    # None for the restricted trend (the default) and the restricted constant, which
    # statsmodels' codes do not cover.
    report = coint_report(ly, lx)
    with pytest.warns(FutureWarning, match=r"^CointReport\.det_order was renamed \.deterministic "):
        assert report.det_order is None
    assert report.deterministic == "li"
    co = report.__class__(**{**report.__dict__, "deterministic": "co"})
    with pytest.warns(FutureWarning):
        assert co.det_order == 0
