"""Phillips-Ouliaris tests against arch, the published tables and a simulation under the null.

Tolerances. Same algorithm as arch (``arch.unitroot.cointegration.phillips_ouliaris``): the
statistic and the automatic bandwidth to ``rtol=1e-10`` for trends ``n``, ``c``, ``ct``; with
``ctt`` arch builds raw ``t`` and ``t**2`` columns (values up to 1e7) and loses digits, so
``rtol=1e-7`` there. P-values and critical values come from different simulations (ours:
finite-sample response surfaces, 80,000 draws per sample size; arch's: response surfaces of 25
million draws with asymptotic p-value polynomials): critical values agree within 3% and p-values
within 0.02 where arch's p-value lies in [0.001, 0.30].
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from arch.unitroot._phillips_ouliaris import phillips_ouliaris_cv, phillips_ouliaris_pval
from arch.unitroot.cointegration import phillips_ouliaris as arch_po

import pairs
from pairs.coint import engle_granger, phillips_ouliaris
from pairs.coint._critical import PROBS, _po_quantiles, po_crit, po_pvalue
from pairs.exceptions import DataError, InsufficientDataError, PairsError

TESTS = ["Za", "Zt", "Pu", "Pz"]
KERNELS = ["bartlett", "parzen", "quadratic-spectral"]


def _arch(y: pd.Series, x: pd.Series | pd.DataFrame, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return arch_po(y, x, **kw)


@pytest.fixture(scope="module")
def data(crude_log, btc_eth, log_prices):
    three = log_prices[["SOL", "ETH", "BTC"]].dropna()
    return {
        "crude": (crude_log["WTI"], crude_log["Brent"]),
        "btc_eth": (btc_eth["ETH"], btc_eth["BTC"]),
        "two_legs": (three["SOL"], three[["ETH", "BTC"]]),
    }


@pytest.mark.parametrize("name", ["crude", "btc_eth", "two_legs"])
@pytest.mark.parametrize("trend", ["n", "c", "ct", "ctt"])
@pytest.mark.parametrize("test_type", TESTS)
def test_statistic_and_bandwidth_equal_arch(data, name, trend, test_type):
    y, x = data[name]
    rtol = 1e-7 if trend == "ctt" else 1e-10
    for kernel in KERNELS:
        for bandwidth in (None, 0.0, 3.5):
            ref = _arch(y, x, trend=trend, test_type=test_type, kernel=kernel, bandwidth=bandwidth)
            res = phillips_ouliaris(
                y, x, trend=trend, test_type=test_type, kernel=kernel, bandwidth=bandwidth
            )
            np.testing.assert_allclose(res.stat, ref.stat, rtol=rtol, err_msg=f"{kernel} {bandwidth}")
            np.testing.assert_allclose(res.bandwidth, ref.bandwidth, rtol=rtol)
    # The cointegrating regression is arch's (and engle_granger's) first step.
    np.testing.assert_allclose(res.spread.to_numpy(), ref.resid.to_numpy(), rtol=0, atol=rtol * 10)


@pytest.mark.parametrize("name", ["crude", "btc_eth"])
@pytest.mark.parametrize("trend", ["n", "c", "ct"])
@pytest.mark.parametrize("test_type", TESTS)
def test_pvalues_and_critical_values_agree_with_arch_on_real_data(data, name, trend, test_type):
    y, x = data[name]
    ref = _arch(y, x, trend=trend, test_type=test_type)
    res = phillips_ouliaris(y, x, trend=trend, test_type=test_type)
    for level in (1, 5, 10):
        np.testing.assert_allclose(res.crit_values[f"{level}%"], ref.critical_values[level], rtol=0.015)
    if 0.001 <= ref.pvalue <= 0.30:
        assert abs(res.pvalue - ref.pvalue) <= 0.02


def test_critical_values_agree_with_arch_tables():
    """Every statistic, trend and N = 2..12: within 1.5% at n = 250, 1,000, 5,000, 3.5% at n = 100."""
    for test_type in TESTS:
        for trend in ("n", "c", "ct", "ctt"):
            for n_vars in range(2, 13):
                for n_obs, rtol in ((100, 0.035), (250, 0.015), (1000, 0.015), (5000, 0.015)):
                    ref = phillips_ouliaris_cv(test_type, trend, n_vars, n_obs)
                    ours = po_crit(test_type, trend, n_vars, n_obs)
                    got = [ours[f"{level}%"] for level in (1, 5, 10)]
                    np.testing.assert_allclose(got, [ref[level] for level in (1, 5, 10)], rtol=rtol)


@pytest.mark.parametrize("test_type", TESTS)
def test_small_pvalues_agree_with_arch_asymptotic_pvalues(test_type):
    """At n = 5,000, over the tabulated levels 0.1% ... 10%, one and two legs.

    arch's p-values are polynomials fitted to the whole asymptotic distribution: in the 10-30%
    range they drift from both tables (up to 0.03), and for Pz with many legs arch's polynomial
    misbehaves (off by up to 0.8), so only the rejection region is compared.
    """
    tol = 0.015 if test_type == "Pz" else 0.006
    for trend in ("n", "c", "ct"):
        for n_vars in (2, 3):
            crit = _po_quantiles(test_type, trend, n_vars, 5000)
            sign = 1.0 if test_type in ("Za", "Zt") else -1.0
            for prob, q in zip(PROBS, crit, strict=True):
                if 0.001 <= prob <= 0.10:
                    ours = po_pvalue(sign * q, test_type, trend, n_vars, 5000)
                    assert ours == pytest.approx(prob, abs=1e-12)
                    assert abs(phillips_ouliaris_pval(sign * q, test_type, trend, n_vars) - ours) <= tol


# Phillips and Ouliaris (1990), Tables II (P-u) and III (P-z), asymptotic 10%/5%/1% critical
# values for one to five regressors, as transcribed in R's urca::ca.po.
PO_1990 = {
    ("Pu", "n"): [(20.3933, 25.9711, 38.3413), (26.7022, 32.9392, 46.4097), (33.5359, 40.1220, 55.7341)],
    ("Pu", "c"): [(27.8536, 33.7130, 48.0021), (33.6955, 40.5252, 53.8731), (39.6949, 46.7281, 63.4128)],
    ("Pu", "ct"): [(41.2488, 48.8439, 65.1714), (46.1061, 53.8300, 69.2629), (52.0015, 60.2384, 78.3470)],
    ("Pz", "c"): [(47.5877, 55.2202, 71.9273), (80.2034, 89.7619, 109.4525), (120.3035, 132.2207, 153.4504)],
    ("Pz", "ct"): [
        (71.9586, 81.3812, 102.0167),
        (113.4929, 124.3933, 145.8644),
        (163.1050, 175.9902, 201.0905),
    ],
}


@pytest.mark.parametrize("key", sorted(PO_1990))
def test_large_sample_critical_values_agree_with_phillips_ouliaris_1990(key):
    """PO's own tables (Pz without trend is defined differently there and is left out).

    Their 1990 simulation is far smaller than arch's or ours (which agree within 1%): within 2.5%
    at 10% and 5%, 4% at 1%.
    """
    test_type, trend = key
    for regressors, (c10, c5, c1) in enumerate(PO_1990[key], start=1):
        ours = po_crit(test_type, trend, regressors + 1, 5000)
        got = np.array([ours["10%"], ours["5%"], ours["1%"]])
        assert np.all(np.abs(got / np.array([c10, c5, c1]) - 1) <= [0.025, 0.025, 0.04])


@pytest.mark.parametrize("test_type", TESTS)
def test_pvalue_at_critical_value_is_the_level(test_type):
    for trend, n_vars, n_obs in (("c", 2, 250), ("ct", 4, 90), ("n", 12, 1000)):
        crit = po_crit(test_type, trend, n_vars, n_obs)
        for level in ("1%", "5%", "10%"):
            p = po_pvalue(crit[level], test_type, trend, n_vars, n_obs)
            assert p == pytest.approx(float(level[:-1]) / 100, abs=1e-12)


def test_zt_at_bandwidth_zero_is_the_scaled_engle_granger_ratio(btc_eth):
    """The identity behind reusing the Engle-Granger table: Zt = t_DF * sqrt(n / (n - 2))."""
    y, x = btc_eth["ETH"], btc_eth["BTC"]
    n = len(y)
    for trend in ("n", "c", "ct"):
        eg = engle_granger(y, x, trend=trend, max_lag=0, autolag=None)
        po = phillips_ouliaris(y, x, trend=trend, test_type="Zt", bandwidth=0)
        assert po.stat == pytest.approx(eg.stat * np.sqrt(n / (n - 2)), rel=1e-10)
        assert po.beta == pytest.approx(eg.beta, rel=1e-12)
        assert po.pvalue == pytest.approx(eg.pvalue, abs=1e-12)


def test_pz_does_not_depend_on_which_series_is_y(crude_log):
    y, x = crude_log["WTI"], crude_log["Brent"]
    for trend in ("n", "c", "ct"):
        a = phillips_ouliaris(y, x, trend=trend, test_type="Pz")
        b = phillips_ouliaris(x, y, trend=trend, test_type="Pz")
        assert a.stat == pytest.approx(b.stat, rel=1e-12)


@pytest.mark.parametrize("test_type", TESTS)
def test_statistic_is_invariant_to_units_and_offsets(crude_log, test_type):
    """Shifted series, or both in other units: the same statistic; one leg rescaled alone changes
    the automatic bandwidth of Pu and Pz only (it is chosen on the sum of the VAR residuals, as arch)."""
    y, x = crude_log["WTI"], crude_log["Brent"]
    base = phillips_ouliaris(y, x, test_type=test_type)
    moved = phillips_ouliaris(3.0 * y - 2.0, 3.0 * x + 7.0, test_type=test_type)
    assert moved.stat == pytest.approx(base.stat, rel=1e-8)
    assert moved.bandwidth == pytest.approx(base.bandwidth, rel=1e-8)
    fixed = phillips_ouliaris(y, x, test_type=test_type, bandwidth=4.0)
    for bandwidth in (4.0, None):
        alone = phillips_ouliaris(y, 0.5 * x, test_type=test_type, bandwidth=bandwidth)
        ref = fixed if bandwidth is not None else base
        same = bandwidth is not None or test_type in ("Za", "Zt")
        assert (alone.stat == pytest.approx(ref.stat, rel=1e-8)) is same


def test_crude_oil_is_cointegrated_and_btc_eth_is_not(crude_log, btc_eth):
    for test_type in TESTS:
        assert phillips_ouliaris(crude_log["WTI"], crude_log["Brent"], test_type=test_type).pvalue < 0.01
        assert phillips_ouliaris(btc_eth["ETH"], btc_eth["BTC"], test_type=test_type).pvalue > 0.10


def test_result_object(crude_log):
    res = phillips_ouliaris(crude_log["WTI"], crude_log["Brent"], test_type="Pu", kernel="parzen")
    assert set(res.crit_values) == {"1%", "5%", "10%"}
    # Pu rejects for large values: the 1% critical value is the largest.
    assert res.crit_values["1%"] > res.crit_values["5%"] > res.crit_values["10%"]
    text = res.summary()
    assert "Phillips-Ouliaris" in text and "crit_values[5%]" in text and "bandwidth" in text
    out = json.loads(json.dumps(res.to_dict()))
    assert out["test_type"] == "Pu" and out["kernel"] == "parzen" and out["n_obs"] == len(crude_log)
    assert res.spread.index.equals(crude_log.index)


def _bad(**kw):
    rng = np.random.default_rng(0)
    base = {
        "y": pd.Series(rng.standard_normal(100).cumsum()),
        "x": pd.Series(rng.standard_normal(100).cumsum()),
    }
    base.update(kw)
    return base


@pytest.mark.parametrize(
    ("kwargs", "exc", "arg"),
    [
        ({"test_type": "zt"}, PairsError, "test_type"),
        ({"kernel": "qs"}, PairsError, "kernel"),
        ({"trend": "t"}, PairsError, "trend"),
        ({"bandwidth": -1.0}, PairsError, "bandwidth"),
        ({"bandwidth": "3"}, PairsError, "bandwidth"),
        ({"bandwidth": np.nan}, PairsError, "bandwidth"),
        (
            {"y": pd.Series(np.arange(15.0) ** 1.5), "x": pd.Series(np.arange(15.0))},
            InsufficientDataError,
            "y",
        ),
        ({"x": pd.DataFrame(np.random.default_rng(1).standard_normal((100, 12)).cumsum(0))}, PairsError, "x"),
    ],
)
def test_bad_input(kwargs, exc, arg):
    with pytest.raises(exc, match=rf"^{arg} "):
        phillips_ouliaris(**_bad(**kwargs))


def test_exact_fit_is_refused():
    x = pd.Series(np.random.default_rng(2).standard_normal(100).cumsum())
    with pytest.raises(DataError, match=r"^x must not fit y exactly"):
        phillips_ouliaris(1.0 + 2.0 * x, x)


@pytest.mark.slow
def test_size_near_nominal_under_independent_random_walks():
    """Rejection rate at 5% with the defaults (Bartlett, automatic bandwidth), 1,000 seeded draws."""
    rng = np.random.default_rng(20261124)
    n, reps = 200, 1000
    rejections = dict.fromkeys(TESTS, 0)
    for _ in range(reps):
        walks = rng.standard_normal((n, 2)).cumsum(axis=0)
        y, x = pd.Series(walks[:, 0]), pd.Series(walks[:, 1])
        for test_type in TESTS:
            rejections[test_type] += phillips_ouliaris(y, x, test_type=test_type).pvalue < 0.05
    rates = {k: v / reps for k, v in rejections.items()}
    assert all(0.025 <= r <= 0.08 for r in rates.values()), rates


def test_public_api():
    assert pairs.phillips_ouliaris is phillips_ouliaris
    assert pairs.PhillipsOuliarisResult is type(phillips_ouliaris(*_bad().values()))
