"""Every script in examples/ runs offline in a subprocess, exits 0 and prints its key result.

``05_yfinance.py`` needs Yahoo Finance data: the test fills a cache folder first, with
``yfinance.download`` replaced by real yfinance CSV exports from tests/data, then runs the
example with ``PAIRS_CACHE_DIR`` pointing there, so it reads the cache and needs no network.
"""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yfinance

from pairs import load_yfinance

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
DATA = ROOT / "tests" / "fixtures"
KEY_LINES = {
    "01_hedge_ratios.py": "Kalman filter",
    "02_cointegration_and_screening.py": "remain significant after the correction",
    "03_signals_and_backtest.py": "Walk-forward over",
    "04_streaming_bot.py": "Bot processed 730 bars across 2 processes",
    "05_yfinance.py": "Engle-Granger p-values: ETH~BTC",
    "06_parameter_sweep.py": "Walk-forward choice over 30 folds",
}


def test_every_example_is_checked() -> None:
    assert [p.name for p in EXAMPLES] == sorted(KEY_LINES)


@pytest.fixture
def yfinance_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache folder holding exactly what 05_yfinance.py asks for."""
    constants = runpy.run_path(str(ROOT / "examples" / "05_yfinance.py"), run_name="example_constants")

    def recorded(ticker: str, **_: Any) -> pd.DataFrame:
        return pd.read_csv(DATA / f"{ticker}.csv", index_col="Date", parse_dates=True)

    monkeypatch.setattr(yfinance, "download", recorded)
    load_yfinance(constants["TICKERS"], start=constants["START"], end=constants["END"], cache_dir=tmp_path)
    return tmp_path


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path: Path, request: pytest.FixtureRequest) -> None:
    env = dict(os.environ)
    if path.name == "05_yfinance.py":
        env["PAIRS_CACHE_DIR"] = str(request.getfixturevalue("yfinance_cache"))
    proc = subprocess.run(
        [sys.executable, str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert KEY_LINES[path.name] in proc.stdout
    assert "Traceback" not in proc.stderr
    if path.name == "05_yfinance.py":
        assert f"cache: {env['PAIRS_CACHE_DIR']}" in proc.stdout
