"""Universe scan: statsmodels reference on real data, multiple testing, backends, simulations, bad inputs.

Tolerances. The scan runs the same algorithm as statsmodels ``coint`` on each pair's common
history, so statistics agree to ``rtol=1e-8`` and p-values to ``atol=1e-8`` (observed ~1e-13), and
the chosen lag is identical. Against :func:`pairs.coint._engle_granger` (same kernel, same rows) the
numbers agree to ``rtol=1e-12``. Adjusted p-values must equal ``multipletests`` on the reported raw
p-values to ``rtol=1e-12``. Backends, ``n_jobs`` and ``batch_size`` must give bit-identical tables.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import json
import os
import sys
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom
from statsmodels.regression.linear_model import OLS
from statsmodels.stats.multitest import multipletests
from statsmodels.tools import add_constant
from statsmodels.tsa.stattools import adfuller, coint

import pairs
from pairs import ScanResult, scan, simulate_universe
from pairs.coint import engle_granger, half_life
from pairs.coint._kernels import default_max_lag
from pairs.exceptions import DataError, InsufficientDataError, MissingDependencyError, PairsError

COLUMNS = ["y", "x", "stat", "pvalue", "pvalue_adj", "significant", "direction"]
COLUMNS += ["beta", "alpha", "half_life", "lags", "n_obs"]
NUMBERS = ["stat", "pvalue", "beta", "alpha", "half_life", "lags", "n_obs"]


@contextlib.contextmanager
def _single_thread_blas() -> Iterator[None]:
    """Run statsmodels' small OLS fits on one OpenBLAS thread.

    On a loaded 2-core runner OpenBLAS threads spin against each other and one ``coint`` call
    goes from 0.1 s to several seconds; the reference loop below makes 78 of them.
    """
    libs = glob.glob(os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs", "*openblas*"))
    funcs = None
    for path in libs:
        lib = ctypes.CDLL(path)
        for suffix in (
            "scipy_openblas_{}_num_threads64_",
            "openblas_{}_num_threads64_",
            "openblas_{}_num_threads",
        ):
            if hasattr(lib, suffix.format("set")) and hasattr(lib, suffix.format("get")):
                funcs = getattr(lib, suffix.format("set")), getattr(lib, suffix.format("get"))
                break
    if funcs is None:
        yield
        return
    before = funcs[1]()
    funcs[0](1)
    try:
        yield
    finally:
        funcs[0](before)


@pytest.fixture(scope="module")
def log_prices() -> pd.DataFrame:
    """Daily Binance log closes of 13 coins (NaN before listing: SOL and BCH come last)."""
    return np.log(pairs.load_sample("binance_1d"))


@pytest.fixture(scope="module")
def base(log_prices: pd.DataFrame) -> ScanResult:
    return scan(log_prices, batch_size=9)


@pytest.fixture(scope="module")
def both(log_prices: pd.DataFrame) -> ScanResult:
    return scan(log_prices, direction="both")


def _pair(frame: pd.DataFrame, y: str, x: str) -> pd.DataFrame:
    return frame[[y, x]].dropna()


# --- reference: statsmodels on real data --------------------------------------------------------


def test_matches_statsmodels_coint_loop(log_prices, base):
    assert base.n_pairs == base.n_tested == 78 and base.n_skipped == 0
    cols = list(log_prices.columns)
    assert all(cols.index(y) < cols.index(x) for y, x in zip(base.table["y"], base.table["x"], strict=True))
    with _single_thread_blas():
        for row in base.table.itertuples():
            d = _pair(log_prices, row.y, row.x)
            # The statistic is statsmodels' with the same lag search (the default: BIC up to
            # default_max_lag); p-values are finite-sample (tests/coint/test_statistics.py).
            maxlag = default_max_lag(len(d), 0)
            stat, _, _ = coint(d[row.y], d[row.x], maxlag=maxlag, autolag="bic")
            ols = OLS(d[row.y], add_constant(d[row.x])).fit()
            assert row.n_obs == len(d)
            np.testing.assert_allclose(row.stat, stat, rtol=1e-8)
            np.testing.assert_allclose([row.alpha, row.beta], ols.params, rtol=1e-8)
        for row in base.table.head(8).itertuples():
            d = _pair(log_prices, row.y, row.x)
            resid = d[row.y] - row.alpha - row.beta * d[row.x]
            maxlag = default_max_lag(len(d), 0)
            ref = adfuller(resid.to_numpy(), maxlag=maxlag, regression="n", autolag="bic", result_object=True)
            assert row.lags == ref.lags


def test_matches_engle_granger_and_half_life(log_prices, base):
    for row in base.table.itertuples():
        d = _pair(log_prices, row.y, row.x)
        res = engle_granger(d[row.y], d[row.x])
        assert (row.lags, row.direction) == (res.lags, "y~x")
        got = [row.stat, row.pvalue, row.beta, row.alpha, row.half_life]
        np.testing.assert_allclose(
            got, [res.stat, res.pvalue, res.beta, res.alpha, half_life(res.spread).bars], rtol=1e-12
        )


def test_both_directions_match_engle_granger(log_prices, base, both):
    assert list(both.table.columns) == [*COLUMNS, "pvalue_forward", "pvalue_reverse"]
    forward = base.table.set_index(["y", "x"])["pvalue"]
    merged = both.table.join(forward.rename("p_yx"), on=["y", "x"])
    np.testing.assert_array_equal(merged["pvalue_forward"], merged["p_yx"])
    np.testing.assert_array_equal(
        merged["pvalue"], np.maximum(merged["pvalue_forward"], merged["pvalue_reverse"])
    )
    assert set(both.table["direction"]) == {"y~x", "x~y"}
    for row in both.table.itertuples():
        d = _pair(log_prices, row.y, row.x)
        res = engle_granger(d[row.y], d[row.x], direction="both")
        assert (row.direction, row.lags) == (res.direction, res.lags)
        np.testing.assert_allclose(
            [row.stat, row.pvalue, row.beta, row.alpha],
            [res.stat, res.pvalue, res.beta, res.alpha],
            rtol=1e-12,
        )
        np.testing.assert_allclose(row.pvalue_reverse, res.reverse.pvalue, rtol=1e-12)
    with _single_thread_blas():
        for row in both.table.head(3).itertuples():
            d = _pair(log_prices, row.y, row.x)
            maxlag = default_max_lag(len(d), 0)
            reverse = engle_granger(d[row.x], d[row.y])
            np.testing.assert_allclose(row.pvalue_reverse, reverse.pvalue, rtol=1e-12)
            np.testing.assert_allclose(
                reverse.stat, coint(d[row.x], d[row.y], maxlag=maxlag, autolag="bic")[0], rtol=1e-8
            )


@pytest.mark.parametrize(
    ("trend", "autolag", "max_lag"), [("ct", "bic", 5), ("n", None, 3), ("ctt", "t-stat", 6)]
)
def test_options_match_statsmodels(log_prices, trend, autolag, max_lag):
    prices = log_prices[["BTC", "ETH", "LTC"]]
    res = scan(prices, trend=trend, autolag=autolag, max_lag=max_lag)
    assert res.n_tested == 3
    # statsmodels builds raw t and t**2 columns for "ctt" and loses ~8 digits there.
    rtol, atol = (2e-8, 1e-8) if trend == "ctt" else (1e-8, 1e-8)
    with _single_thread_blas():
        for row in res.table.itertuples():
            d = _pair(prices, row.y, row.x)
            stat, _, _ = coint(d[row.y], d[row.x], trend=trend, maxlag=max_lag, autolag=autolag)
            np.testing.assert_allclose(row.stat, stat, rtol=rtol, atol=atol)
            ours = engle_granger(d[row.y], d[row.x], trend=trend, max_lag=max_lag, autolag=autolag)
            np.testing.assert_allclose(row.pvalue, ours.pvalue, rtol=1e-12)
            if autolag is None:
                assert row.lags == max_lag


# --- multiple testing, ordering, result object ---------------------------------------------------


@pytest.mark.parametrize("correction", ["fdr_bh", "bonferroni", "none"])
def test_correction_equals_multipletests(log_prices, base, correction):
    # A size just above the smallest adjusted p-value makes a pair significant, so the comparison
    # with the threshold bites. (On real data no Bonferroni-adjusted p-value of the 78 pairs is
    # below 1: the smallest p-value times 78 exceeds 1; then the size is 1 - 1e-9, nothing is
    # significant, and the test checks the adjusted values and that nothing passes.)
    p = base.table["pvalue"].to_numpy()
    adjusted = p if correction == "none" else multipletests(p, method=correction)[1]
    size = min(float(adjusted.min()) * 1.001, 1.0 - 1e-9)
    res = scan(log_prices, correction=correction, size=size)
    table = res.table
    np.testing.assert_array_equal(table["pvalue"], base.table["pvalue"])
    expected = (
        table["pvalue"].to_numpy()
        if correction == "none"
        else multipletests(table["pvalue"], method=correction)[1]
    )
    np.testing.assert_allclose(table["pvalue_adj"], expected, rtol=1e-12)
    np.testing.assert_array_equal(table["significant"], table["pvalue_adj"] < size)
    assert res.n_significant == int(table["significant"].sum())
    assert res.n_significant > 0 or adjusted.min() == 1.0
    assert table["pvalue"].is_monotonic_increasing


def test_result_object(base):
    assert list(base.table.columns) == COLUMNS
    assert base.table.index.equals(pd.RangeIndex(78))
    assert base.table["lags"].dtype == np.int64 and base.table["n_obs"].dtype == np.int64
    assert base.table["significant"].dtype == bool
    text = base.summary()
    top = base.table.iloc[0]
    assert "n_tested" in text and top["y"] in text and top["x"] in text
    assert json.loads(json.dumps(base.to_dict()))["n_tested"] == 78
    with pytest.raises(AttributeError):
        base.size = 0.1  # type: ignore[misc]


def test_min_overlap_skips_late_listings(log_prices, base):
    lengths = {c: int(log_prices[c].notna().sum()) for c in log_prices}
    assert lengths["SOL"] == 1975 and lengths["BCH"] == 2232
    assert scan(log_prices, min_overlap=1975).n_skipped == 0
    res = scan(log_prices, min_overlap=2233)
    late = {"SOL", "BCH"}
    assert res.n_skipped == len(res.skipped) == 23 and res.n_tested == 55
    assert all({y, x} & late for y, x in zip(res.skipped["y"], res.skipped["x"], strict=True))
    assert not any({y, x} & late for y, x in zip(res.table["y"], res.table["x"], strict=True))
    assert set(res.skipped["reason"]) == {"overlap"}
    for row in res.skipped.itertuples():
        assert row.n_obs == len(_pair(log_prices, row.y, row.x)) < 2233
    kept = res.table.set_index(["y", "x"])[NUMBERS]
    pd.testing.assert_frame_equal(kept, base.table.set_index(["y", "x"])[NUMBERS].loc[kept.index])


def test_constant_leg_is_skipped_as_degenerate(log_prices, base):
    prices = log_prices[["BTC", "ETH"]].assign(USDT=0.0)
    res = scan(prices)
    assert res.n_tested == 1 and res.n_skipped == 2
    assert list(res.skipped["reason"]) == ["degenerate", "degenerate"]
    expected = base.table.query("y == 'BTC' and x == 'ETH'")[NUMBERS].reset_index(drop=True)
    pd.testing.assert_frame_equal(res.table[NUMBERS], expected)


def test_interior_gaps_use_each_pairs_common_rows(log_prices):
    prices = log_prices[["BTC", "ETH", "LTC", "XRP", "DOGE"]].copy()
    rng = np.random.default_rng(0)
    for col in prices:
        prices.loc[prices.index[rng.choice(len(prices), 200, replace=False)], col] = np.nan
    prices["ETH"] = prices["ETH"].where(prices["BTC"].notna())  # two columns share one pattern
    res = scan(prices, direction="both")
    assert res.n_tested == 10 and len(set(res.table["n_obs"])) > 5
    for row in res.table.itertuples():
        d = _pair(prices, row.y, row.x)
        ref = engle_granger(d[row.y], d[row.x], direction="both")
        assert (row.n_obs, row.lags, row.direction) == (len(d), ref.lags, ref.direction)
        np.testing.assert_allclose(
            [row.stat, row.pvalue, row.beta], [ref.stat, ref.pvalue, ref.beta], rtol=1e-12
        )


def test_disjoint_histories_give_an_empty_table(log_prices):
    prices = log_prices[["BTC", "ETH"]].copy()
    prices.iloc[:1500, 0] = np.nan
    prices.iloc[1500:, 1] = np.nan
    res = scan(prices)
    assert (res.n_pairs, res.n_tested, res.n_skipped, res.n_significant) == (1, 0, 1, 0)
    assert list(res.table.columns) == COLUMNS and res.skipped["n_obs"].tolist() == [0]
    assert "n_tested" in res.summary()


# --- backends: identical numbers ---------------------------------------------------------------


def test_batch_size_and_n_jobs_do_not_change_results(log_prices, base):
    pd.testing.assert_frame_equal(scan(log_prices, batch_size=1).table, base.table, check_exact=True)
    pd.testing.assert_frame_equal(
        scan(log_prices, n_jobs=2, batch_size=10).table, base.table, check_exact=True
    )


def test_dask_backend_equals_local(log_prices, base):
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        res = scan(log_prices, backend="dask", client=client, batch_size=7)
        pd.testing.assert_frame_equal(res.table, base.table, check_exact=True)
        default = scan(log_prices, backend="dask")
        pd.testing.assert_frame_equal(default.table, base.table, check_exact=True)
        by_address = scan(log_prices, backend="dask", client=cluster.scheduler_address, direction="both")
        assert not client.status == "closed"
    both = scan(log_prices, direction="both")
    pd.testing.assert_frame_equal(by_address.table, both.table, check_exact=True)


def test_dask_missing_raises(log_prices, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(MissingDependencyError, match="dask"):
        scan(log_prices, backend="dask")


def test_progress_bar(log_prices, capsys, monkeypatch):
    scan(log_prices, progress=True)
    assert "scan" in capsys.readouterr().err
    scan(log_prices, progress=False)
    scan(log_prices)  # stderr is not a terminal under pytest
    assert capsys.readouterr().err == ""
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.raises(MissingDependencyError, match="progress"):
        scan(log_prices, progress=True)
    assert scan(log_prices).n_tested == 78


# --- simulations: size, power -------------------------------------------------------------------


def test_false_positive_rates_on_independent_random_walks():
    """Raw 5% tests reject ~5% of independent pairs; BH keeps family-wise false discoveries rare.

    Pairs of one universe that share a coin are dependent, so the binomial check counts only the
    disjoint pairs (C000, C001), (C002, C003), ... of 80 universes: 800 independent tests. The
    test's exact size at 400 bars is ~5.9% (MacKinnon's surface is asymptotic; measured on 20,000
    simulated pairs); the bound is the 99.9% binomial interval at 5%, which also holds at 5.9%.
    """
    raw = 0
    n_tests = 0
    universes_with_discovery = 0
    for seed in range(80):
        res = scan(simulate_universe(20, 400, seed=seed).prices, log=True)
        table = res.table
        disjoint = table[table["y"].str[1:].astype(int) % 2 == 0]
        disjoint = disjoint[disjoint["x"].str[1:].astype(int) == disjoint["y"].str[1:].astype(int) + 1]
        raw += int((disjoint["pvalue"] < 0.05).sum())
        n_tests += len(disjoint)
        universes_with_discovery += res.n_significant > 0
    assert n_tests == 800
    lo, hi = binom.interval(0.999, n_tests, 0.05)
    assert lo <= raw <= hi
    # Under the global null BH controls the family-wise error at 5%: ~4 of 80 universes expected.
    assert universes_with_discovery <= binom.ppf(0.999, 80, 0.05)


def test_planted_pairs_rank_first():
    uni = simulate_universe(30, 1000, n_cointegrated=4, half_life=5.0, seed=3)
    res = scan(uni.prices, log=True, correction="bonferroni")
    top = res.table.head(4)
    assert set(zip(top["y"], top["x"], strict=True)) == set(
        zip(uni.planted["y"], uni.planted["x"], strict=True)
    )
    # Bonferroni bounds the chance of any false discovery among the 431 free pairs at 5% (the
    # false-positive rates are tested on their own below); the planted pairs must all survive.
    assert top["significant"].all() and res.n_significant >= 4
    truth = uni.planted.set_index("y")
    # OLS is superconsistent: error ~ spread sd (0.04) / spread of log x (~0.5..1) / sqrt-ish factors.
    np.testing.assert_allclose(top.set_index("y")["beta"], truth.loc[top["y"], "beta"], atol=0.05)
    np.testing.assert_allclose(top["half_life"], 5.0, rtol=0.5)


def test_simulate_universe():
    uni = simulate_universe(6, 300, n_cointegrated=2, seed=7)
    again = simulate_universe(6, 300, n_cointegrated=2, seed=7)
    pd.testing.assert_frame_equal(uni.prices, again.prices)
    assert (uni.prices > 0).all().all() and uni.prices.index.is_monotonic_increasing
    logp = np.log(uni.prices)
    for row in uni.planted.itertuples():
        spread = logp[row.y] - row.alpha - row.beta * logp[row.x]
        assert spread.std() < 0.2 < logp[row.x].std()
    with pytest.raises(PairsError, match="n_cointegrated"):
        simulate_universe(5, 300, n_cointegrated=3)
    with pytest.raises(PairsError, match="half_life"):
        simulate_universe(5, 300, half_life=0.0)


# --- properties ----------------------------------------------------------------------------------


@settings(max_examples=8, deadline=None)
@given(st.lists(st.sampled_from(range(13)), min_size=2, max_size=5, unique=True))
def test_pair_results_do_not_depend_on_the_universe(log_prices, base, picks):
    cols = [log_prices.columns[i] for i in sorted(picks)]
    sub = scan(log_prices[cols], min_overlap=100).table.set_index(["y", "x"])[NUMBERS]
    pd.testing.assert_frame_equal(
        sub, base.table.set_index(["y", "x"])[NUMBERS].loc[sub.index], check_exact=True
    )


@settings(max_examples=8, deadline=None)
@given(st.floats(min_value=1e-3, max_value=1e3), st.floats(min_value=1e-3, max_value=1e3))
def test_price_units_do_not_change_the_test(log_prices, cy, cx):
    prices = np.exp(log_prices[["BTC", "LTC"]].dropna())
    ref = scan(prices, log=True).table.iloc[0]
    res = scan(prices * [cy, cx], log=True).table.iloc[0]
    np.testing.assert_allclose([res.stat, res.pvalue, res.beta], [ref.stat, ref.pvalue, ref.beta], rtol=1e-8)
    np.testing.assert_allclose(
        res.alpha, ref.alpha + np.log(cy) - ref.beta * np.log(cx), rtol=1e-8, atol=1e-8
    )
    assert res.lags == ref.lags


# --- bad inputs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"correction": "holm"}, PairsError, "correction"),
        ({"test": "johansen"}, PairsError, "test"),
        ({"backend": "spark"}, PairsError, "backend"),
        ({"direction": "x~y"}, PairsError, "direction"),
        ({"trend": "t"}, PairsError, "trend"),
        ({"autolag": "hqic"}, PairsError, "autolag"),
        ({"size": 0.0}, PairsError, "size"),
        ({"size": 1.0}, PairsError, "size"),
        ({"size": float("nan")}, PairsError, "size"),
        ({"min_overlap": 10}, PairsError, "min_overlap"),
        ({"max_lag": 49}, InsufficientDataError, "max_lag"),
        ({"max_lag": -1}, PairsError, "max_lag"),
        ({"n_jobs": 0}, PairsError, "n_jobs"),
        ({"batch_size": 0}, PairsError, "batch_size"),
        ({"progress": "yes"}, PairsError, "progress"),
        ({"log": "yes"}, PairsError, "log"),
        ({"client": "tcp://127.0.0.1:1"}, PairsError, "client"),
    ],
)
def test_bad_options(log_prices, kwargs, error, match):
    with pytest.raises(error, match=match):
        scan(log_prices, **kwargs)


def test_alpha_is_the_former_name_of_size(log_prices):
    # Renamed without a path before issue #22: accepted for one release, with a FutureWarning.
    frame = log_prices.iloc[:, :4]
    new = scan(frame, size=0.2)
    with pytest.warns(FutureWarning, match=r"alpha= was renamed size=.*pass size=0\.2"):
        old = scan(frame, alpha=0.2)
    assert old.size == new.size == 0.2
    pd.testing.assert_frame_equal(old.table, new.table)
    with pytest.raises(
        PairsError, match=r"^alpha must not be given with size .*got alpha=0\.2 and size=0\.01\."
    ):
        scan(frame, size=0.01, alpha=0.2)
    # size at its default counts as not given: passing a default explicitly changes nothing.
    with pytest.warns(FutureWarning, match="renamed"):
        assert scan(frame, size=0.05, alpha=0.2).size == 0.2
    with pytest.raises(PairsError, match="size"):
        with pytest.warns(FutureWarning):
            scan(frame, alpha=1.5)


def test_bad_prices(log_prices):
    with pytest.raises(DataError, match="prices"):
        scan(log_prices[["BTC"]])
    for obj in (log_prices.to_numpy(), log_prices["BTC"], [[1.0, 2.0], [3.0, 4.0]]):
        with pytest.raises(DataError, match="prices"):
            scan(obj)
    with pytest.raises(DataError, match="prices"):
        scan(log_prices, log=True)  # log prices of sub-dollar coins are negative
    with pytest.raises(DataError, match="prices"):
        scan(log_prices.replace(log_prices.iloc[5, 0], np.inf))
    with pytest.raises(DataError, match="prices"):
        scan(log_prices.iloc[::-1])
    with pytest.raises(DataError, match="prices"):
        scan(log_prices.assign(ETH=log_prices["ETH"].astype(str)))
    with pytest.raises(InsufficientDataError, match="min_overlap"):
        scan(log_prices.iloc[:50])


def test_dask_without_client_raises(log_prices):
    pytest.importorskip("distributed")
    with pytest.raises(PairsError, match="client"):
        scan(log_prices, backend="dask")
