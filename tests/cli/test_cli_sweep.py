"""``pairs sweep``: the library's sweep on the command line, its verdicts in words, one-line errors."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pytest

import pairs
from pairs.cli._main import main
from pairs.cli._sweep import parse_grid

PNG = b"\x89PNG\r\n\x1a\n"
ARGS = ["sweep", "sample:ETH", "sample:BTC", "--hedge", "rolling", "--grid", "rule.entry_z=1.5,2,2.5"]
GRID = {"rule.entry_z": [1.5, 2, 2.5], "window": [30, 90]}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def library() -> pairs.SweepResult:
    prices = pairs.load_sample("binance_1d")[["ETH", "BTC"]].dropna()
    return pairs.sweep(pairs.Strategy(hedge="rolling"), GRID, prices["ETH"], prices["BTC"])


def test_json_equals_the_library(capsys: pytest.CaptureFixture[str], library: pairs.SweepResult) -> None:
    code, out, err = run(capsys, *ARGS, "--grid", "window=30,90", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["grid"] == GRID and data["n_points"] == 6
    table = library.table
    np.testing.assert_allclose([r["sharpe"] for r in data["table"]], table["sharpe"], rtol=0)
    assert [r["n_trades"] for r in data["table"]] == table["n_trades"].tolist()
    best = library.best()
    assert data["best"]["point"] == best.name
    assert (data["best"]["rule.entry_z"], data["best"]["window"]) == (best["rule.entry_z"], best["window"])
    dsr, pbo = library.deflated_sharpe(), library.probability_of_overfitting()
    assert data["deflated_sharpe"]["pvalue"] == pytest.approx(dsr.pvalue, rel=1e-12)
    assert data["probability_of_overfitting"]["pbo"] == pbo.pbo


def test_table_shows_the_best_point_with_its_deflated_sharpe_and_pbo_in_words(
    capsys: pytest.CaptureFixture[str], library: pairs.SweepResult, tmp_path: Path
) -> None:
    figure = tmp_path / "sweep.png"
    code, out, err = run(capsys, *ARGS, "--grid", "window=30,90", "--plot", str(figure))
    assert code == 0, err
    assert "Sweep of 6 points over 3065 bars" in out and "Best point by sharpe" in out
    dsr = library.deflated_sharpe()
    assert f"of 6 trials, the best in-sample Sharpe {dsr.sharpe_annualised:.2f} (annualised)" in out
    assert f"deflated Sharpe p = {dsr.pvalue:.2g}" in out
    assert f"(PBO = {library.probability_of_overfitting().pbo:.2f})" in out
    assert figure.read_bytes().startswith(PNG)


def test_grid_values_parse_as_json_with_none_and_tuples() -> None:
    grid = parse_grid(
        ["window=30,60", "rule.stop_z=null,3.5", "lot_size=[0.01,0.001],[0,0]", "sizing_mode=dollar_neutral"]
    )
    assert grid == {
        "window": [30, 60],
        "rule.stop_z": [None, 3.5],
        "lot_size": [(0.01, 0.001), (0, 0)],
        "sizing_mode": ["dollar_neutral"],
    }
    assert isinstance(grid["window"][0], int)


def test_execution_settings_are_grid_keys_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    extra = ["--capital", "10000", "--grid", "fill=close,next_close", "--grid", "leverage=0.5,1"]
    code, out, err = run(capsys, *ARGS, *extra, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["grid"]["fill"] == ["close", "next_close"] and data["grid"]["leverage"] == [0.5, 1]
    prices = pairs.load_sample("binance_1d")[["ETH", "BTC"]].dropna()
    grid = {"rule.entry_z": [1.5, 2, 2.5], "fill": ["close", "next_close"], "leverage": [0.5, 1.0]}
    strategy = pairs.Strategy(hedge="rolling", capital=10_000.0)
    table = pairs.sweep(strategy, grid, prices["ETH"], prices["BTC"]).table
    np.testing.assert_allclose([r["total_return"] for r in data["table"]], table["total_return"], rtol=0)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "--grid must be given at least once"),
        (["--grid", "window"], "--grid must be FIELD=V1,V2,..."),
        (["--grid", "window=30", "--grid", "window=60"], "--grid must name each field once"),
        (["--grid", "windows=30"], "grid keys must be Strategy fields"),
        (["--grid", "window=1,30"], "grid must give valid strategy settings; got {'window': 1}"),
        (
            ["--grid", "rule.entry_z=abc"],
            "grid must give valid strategy settings; got {'rule.entry_z': 'abc'}",
        ),
        (["--grid", "window=30", "--objective", "profit"], "argument --objective: invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    code, out, err = run(capsys, "sweep", "sample:ETH", "sample:BTC", *extra)
    assert code == 2 and out == ""
    assert err.startswith("pairs: error: ") and err.count("\n") == 1 and message in err


def test_report_with_a_grid_ends_with_the_sensitivity_section(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_file = tmp_path / "report.html"
    argv = ["report", "sample:ETH", "sample:BTC", "-o", str(out_file), "--coint-window", "120"]
    code, out, err = run(capsys, *argv, "--hedge", "rolling", "--grid", "window=30,90", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    page = out_file.read_text(encoding="utf-8")
    assert page.index("Parameter sensitivity") > page.index("Cointegration monitor")
    assert data["sweep"]["deflated Sharpe"].startswith("of 2 trials, the best in-sample Sharpe")
    assert html.escape(data["sweep"]["deflated Sharpe"]) in page
    code, out, err = run(capsys, *argv, "--grid", "window")
    assert code == 2 and err.startswith("pairs: error: --grid must be FIELD=V1,V2")
