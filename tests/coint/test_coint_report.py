"""coint_report: one battery, one verdict.

The statistics themselves are checked against statsmodels/arch elsewhere (test_coint_reference);
here the report must carry exactly the numbers of the individual public functions (rtol 0: the
same calls), conclude "cointegrated" on a known cointegrated pair (Brent/WTI monthly, arch's
bundled data, Engle-Granger p ~ 2e-5 both ways) and "not cointegrated" on ETH/BTC daily, round
trip through JSON, and reject bad input naming the argument.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

import pairs
from pairs.coint import CointReport, adf, coint_report, engle_granger, half_life, hurst, johansen
from pairs.exceptions import DataError, InsufficientDataError, PairsError


@pytest.fixture(scope="module")
def eth_btc(btc_eth_daily: pd.DataFrame) -> pd.DataFrame:
    return np.log(btc_eth_daily[["ETH", "BTC"]])


@pytest.fixture(scope="module")
def eth_report(eth_btc: pd.DataFrame) -> CointReport:
    return coint_report(eth_btc["ETH"], eth_btc["BTC"])


def test_public_names() -> None:
    assert pairs.coint_report is coint_report and pairs.CointReport is CointReport


def test_numbers_equal_the_individual_functions(eth_btc: pd.DataFrame, eth_report: CointReport) -> None:
    y, x = eth_btc["ETH"], eth_btc["BTC"]
    eg = engle_granger(y, x, direction="both")
    assert eg.forward is not None and eg.reverse is not None
    for row, sub in zip(eth_report.engle_granger.itertuples(), (eg.forward, eg.reverse), strict=True):
        assert (row.stat, row.pvalue, row.crit, row.beta, row.alpha, row.lags) == (
            sub.stat,
            sub.pvalue,
            sub.crit_values["5%"],
            sub.beta,
            sub.alpha,
            sub.lags,
        )
    assert list(eth_report.engle_granger.index) == ["ETH ~ BTC", "BTC ~ ETH"]
    jo = johansen(eth_btc, k_ar_diff=1)
    pd.testing.assert_series_equal(eth_report.johansen["trace"], jo.trace_stat, check_names=False)
    pd.testing.assert_series_equal(
        eth_report.johansen["max_eig_pvalue"], jo.max_eig_pvalue, check_names=False
    )
    assert eth_report.johansen_rank == jo.rank(0.05)
    assert eth_report.johansen_beta == -jo.hedge_ratios.iloc[1]
    spread = eg.forward.spread
    assert (eth_report.spread_beta, eth_report.spread_alpha) == (eg.forward.beta, eg.forward.alpha)
    assert (eth_report.adf_stat, eth_report.adf_pvalue) == (adf(spread).stat, adf(spread).pvalue)
    assert eth_report.half_life_bars == half_life(spread).bars
    assert eth_report.half_life == half_life(spread).timedelta
    assert eth_report.hurst == hurst(spread).hurst
    assert eth_report.n_obs == len(eth_btc)


def test_eth_btc_is_not_cointegrated(eth_report: CointReport) -> None:
    assert eth_report.verdict == "not cointegrated" and eth_report.cointegrated is False
    assert (eth_report.engle_granger["pvalue"] > 0.05).all() and eth_report.johansen_rank == 0
    assert eth_report.caveat is None


def test_brent_wti_is_cointegrated(crude_log: pd.DataFrame) -> None:
    report = coint_report(crude_log["Brent"], crude_log["WTI"])
    assert report.verdict == "cointegrated" and report.cointegrated is True
    assert (report.engle_granger["pvalue"] < 0.01).all() and report.johansen_rank == 1
    assert report.headline.startswith("Brent / WTI: cointegrated at 5% (Engle-Granger p = ")
    # Monthly bars 15th to 15th: irregular spacing, so no half-life in days.
    assert 1 < report.half_life_bars < 12 and report.half_life is None


def test_mixed_evidence_when_only_some_tests_reject() -> None:
    # LTC/ADA at 5%: Engle-Granger p = 0.027 (LTC ~ ADA) and 0.33 (ADA ~ LTC); Johansen rank 0.
    prices = np.log(pairs.load_sample("binance_1d")[["LTC", "ADA"]].dropna())
    report = coint_report(prices["LTC"], prices["ADA"], size=0.05)
    assert list(report.engle_granger["pvalue"] < 0.05) == [True, False] and report.johansen_rank == 0
    assert report.verdict == "mixed evidence" and report.cointegrated is False


def test_size_picks_the_critical_values(crude_log: pd.DataFrame) -> None:
    report = coint_report(crude_log["Brent"], crude_log["WTI"], size=0.01)
    eg = engle_granger(crude_log["Brent"], crude_log["WTI"])
    assert report.engle_granger["crit"].iloc[0] == eg.crit_values["1%"]
    assert report.size == 0.01 and "at 1%" in report.headline
    assert (report.johansen["trace_crit"] > johansen(crude_log).trace_crit.min(axis=1)).all()


def test_summary_opens_with_the_verdict(eth_report: CointReport) -> None:
    text = eth_report.summary()
    lines = text.splitlines()
    assert lines[0] == f"Verdict: {eth_report.headline}"
    assert "not cointegrated at 5%" in lines[0]
    for label in ("Engle-Granger, both directions", "Johansen", "Spread = ETH - 1.05308 * BTC", "Hurst"):
        assert label in text, label
    for dump in ("crit_values", "icbest", "r<=0"):
        assert dump not in text, dump
    assert "half-life" in text and "days" in text


def test_multiple_testing_caveat(eth_btc: pd.DataFrame) -> None:
    report = coint_report(eth_btc["ETH"], eth_btc["BTC"], n_screened=78)
    assert report.n_screened == 78 and report.caveat is not None
    assert "chosen from 78 screened pairs" in report.caveat and "about 3.9 pairs" in report.caveat
    assert "does not survive a Bonferroni correction" in report.caveat
    assert report.summary().splitlines()[1] == f"Caveat: {report.caveat}"
    assert coint_report(eth_btc["ETH"], eth_btc["BTC"], n_screened=1).caveat is None


def test_caveat_says_when_bonferroni_survives(crude_log: pd.DataFrame) -> None:
    report = coint_report(crude_log["Brent"], crude_log["WTI"], n_screened=10)
    assert report.caveat is not None and "survives a Bonferroni correction" in report.caveat
    assert "does not" not in report.caveat


def test_json_round_trip(eth_btc: pd.DataFrame) -> None:
    report = coint_report(eth_btc["ETH"], eth_btc["BTC"], n_screened=78)
    data = report.to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert data["verdict"] == "not cointegrated" and data["cointegrated"] is False
    assert data["size"] == 0.05 and data["n_screened"] == 78 and data["caveat"] == report.caveat
    fwd, rev = data["engle_granger"]
    assert fwd["direction"] == "ETH ~ BTC" and fwd["pvalue"] == report.engle_granger["pvalue"].iloc[0]
    assert rev["beta"] == report.engle_granger["beta"].iloc[1]
    assert data["johansen"]["tests"][0]["null"] == "r<=0"
    assert data["johansen"]["rank"] == report.johansen_rank
    assert data["spread"]["half_life_days"] == pytest.approx(report.half_life / pd.Timedelta(days=1))
    assert data["spread"]["hurst"] == report.hurst


def test_no_mean_reversion_is_json_safe() -> None:
    # Two independent random walks: a spread with no mean reversion may give an infinite
    # half-life, which must serialise as null.
    rng = np.random.default_rng(3)
    walk = pd.DataFrame(rng.standard_normal((300, 2)).cumsum(axis=0), columns=["a", "b"])
    report = coint_report(walk["a"], walk["b"])
    data = report.to_dict()
    json.dumps(data, allow_nan=False)
    assert report.half_life is None
    if not math.isfinite(report.half_life_bars):
        assert data["spread"]["half_life_bars"] is None


def test_unnamed_and_same_named_series(eth_btc: pd.DataFrame) -> None:
    report = coint_report(eth_btc["ETH"].to_numpy(), eth_btc["BTC"].to_numpy())
    assert (report.y_name, report.x_name) == ("y", "x")
    same = coint_report(eth_btc["ETH"].rename("close"), eth_btc["BTC"].rename("close"))
    assert list(same.engle_granger.index) == ["close (y) ~ close (x)", "close (x) ~ close (y)"]


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"size": 0.2}, PairsError, r"^size must be one of 0.01, 0.05, 0.1; got 0.2\."),
        ({"size": "5%"}, PairsError, "^size must be"),
        ({"trend": "t"}, PairsError, "^trend must be one of"),
        ({"k_ar_diff": -1}, PairsError, "^k_ar_diff must be"),
        ({"n_screened": 0}, PairsError, "^n_screened must be"),
        ({"n_screened": 2.5}, PairsError, "^n_screened must be"),
    ],
)
def test_bad_options(
    eth_btc: pd.DataFrame, options: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        coint_report(eth_btc["ETH"], eth_btc["BTC"], **options)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda p: (p["ETH"].where(p["ETH"] > 5), p["BTC"]), DataError, "^y must not contain NaN"),
        (lambda p: (p["ETH"], p["BTC"].shift(1, freq="D")), DataError, "^x index must equal y index"),
        (
            lambda p: (p["ETH"].iloc[:10], p["BTC"].iloc[:10]),
            InsufficientDataError,
            "^y must have at least 20",
        ),
        (lambda p: (p["ETH"], "BTC"), PairsError, "^x must be"),
    ],
)
def test_bad_prices(eth_btc: pd.DataFrame, make: Any, error: type[Exception], match: str) -> None:
    y, x = make(eth_btc)
    with pytest.raises(error, match=match):
        coint_report(y, x)
