"""The command line: outputs parsed back and checked against the library; user errors exit 2.

Numbers printed as JSON or CSV are Python float reprs, which round-trip exactly, so they must
equal the library's own results computed here (rtol 1e-12 covers nothing but that contract;
the CLI runs the same functions). Table outputs are checked for their rows and headings.
Most tests call ``main(argv)`` in-process; a few run the installed console script and
``python -m pairs`` in a subprocess.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess
import sys
from html import unescape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yfinance

import pairs
from pairs import (
    backtest,
    kalman_hedge,
    load_sample,
    load_yfinance,
    ols_hedge,
    read_prices,
    rolling_hedge,
    scan,
)
from pairs._results import _fmt
from pairs.cli._main import main
from pairs.coint import coint_report, engle_granger
from pairs.data import align
from pairs.strategy import Strategy
from pairs.trading import RuleState, SignalRule, signals, size_legs, step_rule, zscore

DATA = Path(__file__).resolve().parents[1] / "fixtures"
PNG = b"\x89PNG\r\n\x1a\n"
IMG = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]*)"')
RTOL = 1e-12
COMMANDS = ["demo", "fit", "test", "scan", "signal", "backtest", "report"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = run(capsys, *argv, "--format", "json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture(scope="module")
def daily() -> pd.DataFrame:
    return load_sample("binance_1d")


@pytest.fixture(scope="module")
def eth_btc(daily: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    pair = np.log(daily[["ETH", "BTC"]].dropna())
    return pair["ETH"], pair["BTC"]


def write_binance_csv(path: Path, series: pd.Series) -> Path:
    """A Binance-layout CSV (open time, OHLCV) whose close is ``series``."""
    frame = pd.DataFrame(
        {"open": series, "high": series, "low": series, "close": series, "volume": 1.0},
        index=series.index.strftime("%Y-%m-%d"),
    )
    frame.to_csv(path, index_label="timestamp")
    return path


def series_close(a: Any, b: Any) -> None:
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=RTOL, atol=0)


# --- fit ---------------------------------------------------------------------------------------


def test_fit_ols_json_equals_library(capsys: pytest.CaptureFixture[str], eth_btc: Any) -> None:
    out = run_json(capsys, "fit", "sample:ETH", "sample:BTC", "--log")
    ref = ols_hedge(*eth_btc)
    assert out["data"] == {
        "y": "ETH",
        "x": "BTC",
        "n_obs": 3065,
        "start": "2017-08-17T00:00:00+00:00",
        "end": "2026-01-06T00:00:00+00:00",
        "gaps": 0,
        "missing_bars": 0,
    }
    assert out["method"] == "ols" and out["log"] is True
    for key in ("beta", "alpha", "r_squared", "beta_se", "alpha_se"):
        assert out[key] == pytest.approx(float(getattr(ref, key)), rel=RTOL), key


def test_fit_csv_files_align_and_report_gaps(capsys: pytest.CaptureFixture[str]) -> None:
    # Real yfinance exports: ETH starts in 2017, BTC in 2014; alignment keeps common days.
    out = run_json(capsys, "fit", str(DATA / "ETH-USD.csv"), str(DATA / "BTC-USD.csv"), "--method", "tls")
    prices, gaps = align(read_prices(DATA / "ETH-USD.csv"), read_prices(DATA / "BTC-USD.csv"))
    assert out["data"]["n_obs"] == len(prices) and out["data"]["gaps"] == len(gaps)
    assert (out["data"]["y"], out["data"]["x"]) == ("ETH-USD", "BTC-USD")
    from pairs.hedge._tls import tls_hedge

    assert out["beta"] == pytest.approx(tls_hedge(prices["ETH-USD"], prices["BTC-USD"]).beta, rel=RTOL)


def test_fit_rolling_csv_series_equals_library(
    capsys: pytest.CaptureFixture[str], daily: pd.DataFrame
) -> None:
    code, out, err = run(
        capsys,
        "fit",
        "sample:ETH",
        "sample:BTC",
        "--method",
        "rolling",
        "--window",
        "45",
        "--on",
        "log_returns",
        "--format",
        "csv",
    )
    assert code == 0, err
    got = pd.read_csv(io.StringIO(out), index_col=0)
    pair = daily[["ETH", "BTC"]].dropna()
    ref = rolling_hedge(pair["ETH"], pair["BTC"], window=45, on="log_returns")
    assert list(got.columns) == ["beta", "alpha", "spread"] and len(got) == len(pair)
    for name in ("beta", "alpha", "spread"):
        series_close(got[name], getattr(ref, name))


def test_fit_kalman_json_and_table(capsys: pytest.CaptureFixture[str], eth_btc: Any) -> None:
    out = run_json(
        capsys, "fit", "sample:ETH", "sample:BTC", "--log", "--method", "kalman", "--delta", "1e-5"
    )
    ref = kalman_hedge(*eth_btc, noise_units="log", delta=1e-5)
    assert out["beta"] == pytest.approx(float(ref.beta.iloc[-1]), rel=RTOL)
    assert out["loglik"] == pytest.approx(ref.loglik, rel=RTOL) and out["delta"] == 1e-5
    assert out["noise_units"] == "log"
    code, text, _ = run(capsys, "fit", "sample:ETH", "sample:BTC", "--log", "--method", "kalman")
    assert code == 0
    assert "ETH on BTC (log prices): 3065 common bars" in text
    default = kalman_hedge(*eth_btc, noise_units="log")  # the units of Strategy(log_prices=True)
    assert re.search(
        rf"^beta \(latest\)\s+{re.escape(_fmt(float(default.beta.iloc[-1])))}$", text, re.MULTILINE
    )


def test_fit_yfinance_from_cache(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def recorded(ticker: str, **_: Any) -> pd.DataFrame:
        return pd.read_csv(DATA / f"{ticker}.csv", index_col="Date", parse_dates=True)

    monkeypatch.setattr(yfinance, "download", recorded)
    cached = load_yfinance(["ETH-USD", "BTC-USD"], start="2019-01-01", end="2021-01-01", cache_dir=tmp_path)

    def offline(*_: Any, **__: Any) -> None:
        raise AssertionError("network used although the cache covers the span")

    monkeypatch.setattr(yfinance, "download", offline)
    out = run_json(
        capsys,
        "fit",
        "--yf",
        "ETH-USD",
        "BTC-USD",
        "--start",
        "2019-01-01",
        "--end",
        "2021-01-01",
        "--cache-dir",
        str(tmp_path),
        "--log",
    )
    prices = np.log(cached.dropna())
    assert out["data"]["n_obs"] == len(prices) == 731
    assert out["beta"] == pytest.approx(ols_hedge(prices["ETH-USD"], prices["BTC-USD"]).beta, rel=RTOL)


# --- test and scan -----------------------------------------------------------------------------


def test_test_json_equals_library(capsys: pytest.CaptureFixture[str], eth_btc: Any) -> None:
    out = run_json(capsys, "test", "sample:ETH", "sample:BTC", "--log")
    y, x = eth_btc
    ref = json.loads(json.dumps(coint_report(y, x).to_dict()))
    for key, value in ref.items():
        assert out[key] == value, key
    assert out["cointegrated"] is False and out["verdict"] == "not cointegrated"
    # The battery's numbers are those of the individual tests.
    eg = engle_granger(y, x, direction="both")
    assert json.dumps(out).count(repr(eg.forward.stat)[:10]) >= 1


def test_test_table_verdict(capsys: pytest.CaptureFixture[str], daily: pd.DataFrame) -> None:
    code, text, _ = run(capsys, "test", "sample:BNB", "sample:ETH", "--log")
    assert code == 0
    pair = np.log(daily[["BNB", "ETH"]].dropna())
    report = coint_report(pair["BNB"], pair["ETH"])
    assert report.summary() in text
    assert text.splitlines()[0].startswith("BNB on ETH (log prices)")
    assert code == 0 and run(capsys, "test", "sample:BNB", "sample:ETH", "--log", "--size", "0.01")[0] == 0


def test_scan_outputs_equal_library(capsys: pytest.CaptureFixture[str], daily: pd.DataFrame) -> None:
    argv = ["scan", "sample:binance_1d", "--log", "--min-overlap", "1000", "--top", "5"]
    out = run_json(capsys, *argv)
    ref = scan(daily, log=True, min_overlap=1000)
    assert (out["n_series"], out["n_tested"], out["n_significant"]) == (13, 78, ref.n_significant)
    assert [(p["y"], p["x"]) for p in out["pairs"]] == list(
        zip(ref.table["y"][:5], ref.table["x"][:5], strict=True)
    )
    series_close([p["pvalue_adj"] for p in out["pairs"]], ref.table["pvalue_adj"][:5])
    code, text, _ = run(capsys, *argv, "--format", "csv")
    table = pd.read_csv(io.StringIO(text), index_col="rank")
    assert code == 0 and list(table.index) == [1, 2, 3, 4, 5]
    series_close(table["stat"], ref.table["stat"][:5])
    code, text, _ = run(capsys, *argv)
    assert code == 0 and f"{ref.n_significant} significant pair(s)" in text
    first = ref.table.iloc[0]
    assert re.search(rf"^1\s+{first['y']}\s+{first['x']}\s+{first['stat']:.4g}", text, re.MULTILINE)


def test_scan_folder_of_csv_files(
    capsys: pytest.CaptureFixture[str], daily: pd.DataFrame, tmp_path: Path
) -> None:
    for coin in ("BTC", "ETH", "LTC"):
        write_binance_csv(tmp_path / f"{coin}USDT_1d.csv", daily[coin].dropna().iloc[-400:])
    # A second LTCUSDT file with no common history: kept apart under its file name, then skipped.
    write_binance_csv(tmp_path / "LTCUSDT_early.csv", daily["LTC"].dropna().iloc[:200])
    (tmp_path / "notes.txt").write_text("not a price file")
    out = run_json(capsys, "scan", str(tmp_path), "--log", "--top", "0")
    ref = scan(np.log(daily[["BTC", "ETH", "LTC"]].iloc[-400:]), min_overlap=100)
    assert (out["n_series"], out["n_pairs"], out["n_tested"]) == (4, 6, 3)
    assert {s["x"] for s in out["skipped"]} | {s["y"] for s in out["skipped"]} >= {
        "LTCUSDT_early",
        "LTCUSDT_1d",
    }
    series_close(sorted(p["pvalue"] for p in out["pairs"]), sorted(ref.table["pvalue"]))


# --- signal and backtest -----------------------------------------------------------------------


def kalman_reference(y: pd.Series, x: pd.Series, delta: float, rule: SignalRule) -> pd.DataFrame:
    """Batch signals computed directly with the library's pieces: the strategy's relative-units
    Kalman filter (kalman_hedge on log prices minus their first value), rolling z-score of the
    spread over 60 bars, signals + step_rule."""
    ly, lx = np.log(y), np.log(x)
    fit = kalman_hedge(
        ly - ly.iloc[0], lx - lx.iloc[0], noise_units="raw", delta=delta, obs_var=1e-3, initial_state_cov=1.0
    )
    beta = fit.beta
    alpha = fit.alpha + ly.iloc[0] - fit.beta * lx.iloc[0]
    z = zscore(fit.spread, window=60)
    state, actions = RuleState(), []
    for value in z:
        state, action = step_rule(state, float(value), rule)
        actions.append(action)
    position = signals(z, rule=rule)
    return pd.DataFrame(
        {
            "beta": beta,
            "alpha": alpha,
            "spread": fit.spread,
            "zscore": z,
            "position": position,
            "action": actions,
        }
    )


def test_signal_files_equal_batch_functions(
    capsys: pytest.CaptureFixture[str], daily: pd.DataFrame, tmp_path: Path
) -> None:
    argv = ["signal", "sample:ETH", "sample:BTC", "--log", "--delta", "1e-5", "--entry-z", "1.5"]
    code, text, err = run(capsys, *argv, "-o", str(tmp_path / "s.json"))
    assert code == 0, err
    assert "Last 5 bars:" in text and "Wrote 3065 rows" in text
    assert main([*argv, "-o", str(tmp_path / "s.csv")]) == 0
    pair = daily[["ETH", "BTC"]].dropna()
    ref = kalman_reference(pair["ETH"], pair["BTC"], 1e-5, SignalRule(entry_z=1.5))
    rows = json.loads((tmp_path / "s.json").read_text())
    frame = pd.read_csv(tmp_path / "s.csv", index_col="timestamp")
    assert rows[0]["timestamp"] == "2017-08-17T00:00:00+00:00" and len(rows) == len(frame) == len(pair)
    assert (ref["action"] != "hold").sum() > 20
    for name in ("beta", "alpha", "spread", "zscore"):
        series_close([r[name] for r in rows], ref[name])
        series_close(frame[name], ref[name])
    assert [r["position"] for r in rows] == ref["position"].astype(int).tolist()
    assert [r["action"] for r in rows] == frame["action"].tolist() == ref["action"].tolist()
    assert all(r["y_units"] is None for r in rows)


def test_signal_rolling_with_sizing(capsys: pytest.CaptureFixture[str], daily: pd.DataFrame) -> None:
    code, text, err = run(
        capsys,
        "signal",
        "sample:ETH",
        "sample:BTC",
        "--hedge",
        "rolling",
        "--window",
        "40",
        "--stop-z",
        "3.5",
        "--capital",
        "10000",
        "--format",
        "csv",
    )
    assert code == 0, err
    got = pd.read_csv(io.StringIO(text), index_col="timestamp")
    pair = daily[["ETH", "BTC"]].dropna()
    fit = rolling_hedge(pair["ETH"], pair["BTC"], window=40)
    z = zscore(fit.spread, window=40)
    position = signals(z, stop_z=3.5)
    legs = size_legs(position, fit.beta, pair["ETH"], pair["BTC"], capital=10_000)
    series_close(got["zscore"], z)
    assert got["position"].tolist() == position.astype(int).tolist()
    series_close(got["y_units"], legs["y_units"])
    series_close(got["x_units"], legs["x_units"])
    assert "stop" in set(got["action"])


def test_backtest_json_equals_library(capsys: pytest.CaptureFixture[str], daily: pd.DataFrame) -> None:
    out = run_json(
        capsys,
        "backtest",
        "sample:BNB",
        "sample:ETH",
        "--log",
        "--hedge",
        "rolling",
        "--window",
        "60",
        "--fee-bps",
        "10",
        "--slippage-bps",
        "5",
    )
    pair = daily[["BNB", "ETH"]].dropna()
    y, x = pair["BNB"], pair["ETH"]
    fit = rolling_hedge(np.log(y), np.log(x), window=60)
    ref = backtest(
        y,
        x,
        beta=fit.beta * y / x,
        position=signals(zscore(fit.spread, window=60)),
        fee_bps=10,
        slippage_bps=5,
    )
    for key in ("apr", "sharpe", "sortino", "max_drawdown"):
        assert out["metrics"][key] == pytest.approx(getattr(ref, key), rel=RTOL), key
    assert out["metrics"]["n_trades"] == ref.n_trades == len(out["trades"])
    assert out["strategy"]["slippage_bps"] == 5.0 and out["convention"] == "gross_exposure"


def test_backtest_ols_says_it_looks_ahead(capsys: pytest.CaptureFixture[str]) -> None:
    code, text, _ = run(capsys, "backtest", "sample:ETH", "sample:BTC", "--log", "--hedge", "ols")
    assert code == 0
    assert "Sharpe" in text and "look ahead" in text


# --- demo and report ---------------------------------------------------------------------------


def test_demo_json_is_honest_and_consistent(
    capsys: pytest.CaptureFixture[str], daily: pd.DataFrame, tmp_path: Path
) -> None:
    html_path = tmp_path / "demo.html"
    out = run_json(capsys, "demo", "--report", str(html_path))
    ref = scan(daily, log=True, min_overlap=1000)
    best = ref.table.iloc[0]
    screen = out["screen"]
    assert screen["n_tested"] == ref.n_tested and screen["n_significant"] == ref.n_significant == 0
    assert (out["pair"]["y"], out["pair"]["x"]) == (best["y"], best["x"])
    # The single-pair test of the best pair is the screen's own test of it.
    assert out["tests"]["engle_granger"][0]["pvalue"] == pytest.approx(best["pvalue"], rel=1e-9)
    assert out["verdict"].startswith("no cointegrated pair among 78 after correction")
    assert [h["hedge"] for h in out["hedges"]][:2] == ["OLS", "TLS"]
    y, x = np.log(daily[best["y"]].dropna()), np.log(daily[best["x"]].dropna())
    y, x = y.align(x, join="inner")
    assert out["hedges"][0]["beta"] == pytest.approx(ols_hedge(y, x).beta, rel=RTOL)
    html = html_path.read_text(encoding="utf-8")
    images = [base64.b64decode(m) for m in IMG.findall(html)]
    assert len(images) >= 4 and all(img.startswith(PNG) and len(img) > 1000 for img in images)
    bt = out["backtest"]
    # The report shows the demo's own backtest (same strategy, same numbers).
    assert f"<th>Sharpe ratio</th><td>{bt['sharpe']:.2f}</td>" in html
    assert f"<th>max drawdown</th><td>{bt['max_drawdown']:.1%}</td>" in html
    assert f"<th>backtest total return</th><td>{bt['total_return']:+.1%}</td>" in html
    assert f"{best['y']} / {best['x']}" in html
    # The report of the best of 78 screened pairs says so, with the screen's adjusted p-value.
    assert (
        f"Picked from 78 screened pairs: after the fdr_bh correction for them its adjusted p-value is "
        f"{best['pvalue_adj']:.3g}, NOT significant at 5%." in html
    )
    # Remarks on the numbers that look wrong, written from those numbers: TLS and Johansen far
    # from OLS because the legs are weakly correlated (R^2 from numpy), the z-score window
    # much shorter than the half-life.
    tls = out["hedges"][1]["beta"]
    r2 = np.corrcoef(y, x)[0, 1] ** 2
    assert tls > 2 * out["hedges"][0]["beta"] and r2 < 0.5
    hedges = out["remarks"]["hedges"]
    ols_beta, jo_beta = out["hedges"][0]["beta"], out["tests"]["johansen"]["beta"]
    johansen_far = not 0.5 < jo_beta / ols_beta < 2.0  # the remark names the estimators > 2x off OLS
    named = (
        f"The TLS ({tls:.3g}) and Johansen ({jo_beta:.3g})" if johansen_far else f"The TLS ({tls:.3g}) hedge"
    )
    assert hedges.startswith(named)
    assert f"(R^2 = {r2:.2g})" in hedges
    # Section 5: the rotation is the API's Portfolio on the hourly sample's last year.
    book = pairs.Portfolio.from_dict(out["portfolio"]["spec"])
    rotation = book.backtest(pairs.load_sample("binance_1h").iloc[-24 * 365 :])
    summary = out["portfolio"]["summary"]
    assert summary["final equity"] == pytest.approx(float(rotation.equity.iloc[-1]), rel=1e-12)
    costs = float(rotation.costs[["fees", "slippage", "funding"]].to_numpy().sum())
    pnl = float(rotation.equity.iloc[-1]) - book.capital
    assert f"P&L {pnl:+,.2f} after costs" in out["portfolio"]["verdict"]
    assert f"{pnl + costs:+,.2f} before costs" in out["portfolio"]["verdict"]
    half_life = out["tests"]["spread"]["half_life_bars"]
    assert half_life > 120
    assert out["remarks"]["window"].startswith(
        f"The z-score window (60 bars) is {half_life / 60:.3g}x shorter than the spread's half-life"
    )
    # The report comments the same numbers (it shows the Johansen beta, not TLS).
    shown = unescape(html)
    assert out["remarks"]["window"] in shown
    remark = f"The Johansen ({jo_beta:.3g}) hedge ratio is more than 2x off OLS"
    assert (remark in shown) == johansen_far


def test_demo_table_is_readable(capsys: pytest.CaptureFixture[str]) -> None:
    code, text, err = run(capsys, "demo")
    assert code == 0 and err == ""
    headings = ("1. Screening", "2. Hedge ratios", "3. Cointegration tests", "4. Signals and backtest")
    for heading in (*headings, "5. A portfolio of pairs, rotated weekly"):
        assert heading in text
    assert "No pair is significant after the fdr_bh correction" in text
    assert "NOT evidence" in text
    verdict = [line for line in text.splitlines() if line.startswith("Verdict:")]
    assert len(verdict) == 2 and "no cointegrated pair" in verdict[0]
    assert "after costs" in verdict[1] and "before costs" in verdict[1]
    assert max(len(line) for line in text.splitlines()) <= 100


def test_report_command_on_csv_files(
    capsys: pytest.CaptureFixture[str], daily: pd.DataFrame, tmp_path: Path
) -> None:
    pair = daily[["ETH", "BTC"]].dropna().iloc[-400:]
    y = write_binance_csv(tmp_path / "ETHUSDT_1d.csv", pair["ETH"])
    x = write_binance_csv(tmp_path / "BTCUSDT_1d.csv", pair["BTC"])
    target = tmp_path / "report.html"
    code, text, err = run(capsys, "report", str(y), str(x), "-o", str(target), "--coint-window", "120")
    assert code == 0, err
    assert text.startswith(f"Wrote {target}") and "400 common bars" in text
    html = target.read_text(encoding="utf-8")
    images = [base64.b64decode(m) for m in IMG.findall(html)]
    assert len(images) >= 4 and all(img.startswith(PNG) and len(img) > 1000 for img in images)
    # One choice of prices for the whole report: the default strategy trades prices as given,
    # so the hedge ratios are of prices; with --log every section uses log prices.
    beta = ols_hedge(pair["ETH"], pair["BTC"]).beta
    assert f"<th>OLS</th><td>{_fmt(beta)}</td>" in html
    assert "Every section uses prices as given" in html and "(prices)" in text
    assert "ETHUSDT / BTCUSDT: pair analysis" in html
    code, text, err = run(
        capsys, "report", str(y), str(x), "-o", str(target), "--coint-window", "120", "--log"
    )
    assert code == 0, err
    html = target.read_text(encoding="utf-8")
    log_beta = ols_hedge(np.log(pair["ETH"]), np.log(pair["BTC"])).beta
    assert f"<th>OLS</th><td>{_fmt(log_beta)}</td>" in html and "(log prices)" in text
    assert "Every section uses log prices" in html


# --- errors and help ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bad")
    (folder / "nan.csv").write_text("Date,Close\n2020-01-01,1.5\n2020-01-02,nan\n2020-01-03,1.7\n")
    (folder / "odd.csv").write_text("foo,bar\n1,2\n")
    (folder / "short.csv").write_text("Date,Close\n2020-01-01,1.5\n2020-01-02,1.6\n2020-01-03,1.7\n")
    (folder / "empty").mkdir()
    return folder


ERRORS = [
    (["fit", "{d}/missing.csv", "sample:BTC"], "missing.csv"),
    (["fit", "{d}/odd.csv", "sample:BTC"], "layouts"),
    (["fit", "sample:ETH", "sample:BTC", "--layout", "bogus"], "--layout"),
    (["fit", "sample:ETH", "sample:BTC", "--method", "bogus"], "--method"),
    (["fit", "sample:ETH", "sample:BTC", "--method", "rolling", "--window", "5000"], "window"),
    (["fit", "sample:ETH", "sample:BTC", "--window", "30"], "window"),
    (["fit", "sample:ETH", "sample:BTC", "--method", "kalman", "--delta", "2"], "delta"),
    (["fit", "{d}/nan.csv", "sample:BTC"], "nan.csv"),
    (["fit", "sample:NOPE", "sample:BTC"], "sample:NOPE"),
    (["fit", "sample:binance_1d", "sample:BTC"], "one series"),
    (["fit", "sample:ETH", "sample:ETH"], "two different series"),
    (["test", "sample:ETH", "{d}/short.csv"], "observations"),
    (["fit", "sample:ETH"], "X"),
    (["test", "sample:ETH", "sample:BTC", "--alpha", "0.2"], "--alpha"),
    (["scan", "{d}/empty"], "csv"),
    (["scan", "sample:binance_1d", "--min-overlap", "5"], "min_overlap"),
    (["signal", "sample:ETH", "sample:BTC", "-o", "{d}/out.txt"], "csv or .json"),
    (["signal", "sample:ETH", "sample:BTC", "-o", "{d}/no/such/dir/out.csv"], "no/such/dir"),
    (["signal", "sample:ETH", "sample:BTC", "--entry-z", "-1"], "entry_z"),
    (["signal", "sample:ETH", "sample:BTC", "--zscore", "ewm"], "zscore_halflife"),
    (["signal", "sample:ETH", "sample:BTC", "--state", "{d}/s.json"], "--follow"),
    (["signal"], "Y and X"),
    (["backtest", "sample:ETH", "sample:BTC", "--fee-bps", "-1"], "fee_bps"),
    (["report", "sample:ETH", "sample:BTC", "-o", "{d}/no/such/dir/r.html"], "directory"),
    (["report", "sample:ETH", "sample:BTC"], "--output"),
    ([], "COMMAND"),
]


@pytest.mark.parametrize(("argv", "needle"), ERRORS, ids=[" ".join(a) or "none" for a, _ in ERRORS])
def test_user_errors_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], bad_files: Path, argv: list[str], needle: str
) -> None:
    code, out, err = run(capsys, *[a.replace("{d}", str(bad_files)) for a in argv])
    assert code == 2 and out == ""
    assert err.startswith("pairs: error: ") and err.count("\n") == 1, err
    assert needle in err and "Traceback" not in err


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_examples(capsys: pytest.CaptureFixture[str], command: str) -> None:
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    assert f"usage: pairs {command}" in out and "examples:" in out and f"  pairs {command} " in out


def test_top_level_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0 and all(command in out for command in COMMANDS)
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("pairs ")


# --- installed entry points --------------------------------------------------------------------


def console_script() -> list[str]:
    """The installed ``pairs`` script next to this interpreter, else ``python -m pairs``."""
    found = shutil.which(
        "pairs", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    )
    return [found] if found else [sys.executable, "-m", "pairs"]


def test_console_script_json_round_trip(eth_btc: Any) -> None:
    proc = subprocess.run(
        [*console_script(), "fit", "sample:ETH", "sample:BTC", "--log", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["beta"] == pytest.approx(ols_hedge(*eth_btc).beta, rel=RTOL)


def test_python_m_pairs_user_error_has_no_traceback(bad_files: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pairs", "test", str(bad_files / "nan.csv"), "sample:BTC"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("pairs: error: path ") and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr


def test_backtest_execution_flags_equal_the_strategy(
    capsys: pytest.CaptureFixture[str], daily: pd.DataFrame
) -> None:
    flags = ["--capital", "10000", "--fill", "next_close", "--leverage", "1", "--maker-share", "0.5"]
    out = run_json(capsys, "backtest", "sample:ETH", "sample:BTC", "--log", *flags, "--maker-fee-bps", "-1")
    pair = daily[["ETH", "BTC"]].dropna()
    strategy = Strategy(
        log_prices=True,
        capital=10_000.0,
        fill="next_close",
        leverage=1.0,
        maker_share=0.5,
        maker_fee_bps=-1.0,
    )
    ref = strategy.backtest(pair["ETH"], pair["BTC"])
    assert out["metrics"]["sharpe"] == pytest.approx(ref.sharpe, rel=RTOL)
    assert out["strategy"]["fill"] == "next_close" and out["strategy"]["leverage"] == 1.0
    code, text, _ = run(capsys, "strategy", "--fill", "2")
    assert code == 0 and json.loads(text)["fill"] == 2
    code, _, err = run(capsys, "backtest", "sample:ETH", "sample:BTC", "--fill", "tomorrow")
    assert code == 2 and "fill must be one of" in err
