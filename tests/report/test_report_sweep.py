"""HTML report of a sweep: the parameter-sensitivity section, its verdicts and its table, from the SweepResult."""

from __future__ import annotations

import html

import pandas as pd
import pytest

import pairs
from pairs.exceptions import PairsError
from pairs.report import analysis_report, render_report, sweep_blocks

GRID = {"window": [20, 40, 80], "rule.entry_z": [1.5, 2.0], "rule.stop_z": [None, 3.5]}


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return pairs.load_sample("binance_1d")[["ETH", "BTC"]].dropna().iloc[-500:]


@pytest.fixture(scope="module")
def search(prices: pd.DataFrame) -> pairs.SweepResult:
    return pairs.sweep(
        pairs.Strategy(hedge="rolling"), GRID, prices["ETH"], prices["BTC"], objective="sortino"
    )


def test_analysis_report_ends_with_the_sensitivity_of_a_sweep(
    prices: pd.DataFrame, search: pairs.SweepResult
) -> None:
    blocks = analysis_report(prices["ETH"], prices["BTC"], coint_window=120, sweep=search)
    headings = [obj for kind, obj in blocks if kind == "heading"]
    assert headings[-1] == "Parameter sensitivity" and headings.count("Parameter sensitivity") == 1
    section = blocks[next(i for i, (_, obj) in enumerate(blocks) if obj == "Parameter sensitivity") :]
    page = render_report("sweep", section)
    assert html.escape(search.deflated_sharpe().verdict) in page
    assert html.escape(search.probability_of_overfitting().verdict) in page
    assert "12 settings backtested over the same 500 bars" in page
    assert page.count("<img") == 1


def test_the_top_table_is_the_sweep_table_ranked_by_its_objective(search: pairs.SweepResult) -> None:
    caption, table = dict(sweep_blocks(search, top=4))["table"]
    assert caption == "Top 4 settings by sortino"
    expected = search.table.nlargest(4, "sortino")
    pd.testing.assert_frame_equal(table, expected)


def test_sweep_blocks_bad_input(search: pairs.SweepResult) -> None:
    with pytest.raises(PairsError, match=r"sweep must be a pairs\.SweepResult"):
        sweep_blocks(search.table)  # type: ignore[arg-type]
    with pytest.raises(PairsError, match="top must be"):
        sweep_blocks(search, top=0)
