"""deflated_sharpe and probability_of_overfitting: the papers' formulas written out, the paper's
worked example, simulations with a known truth, and bad input."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import pairs
from pairs import DataError, InsufficientDataError, PairsError

EULER = 0.5772156649015329  # Euler-Mascheroni constant


# --- deflated Sharpe: the formulas of Bailey & Lopez de Prado, written out ----------------------


def reference_dsr(r: np.ndarray, n_trials: int, variance: float) -> dict[str, float]:
    """PSR of Bailey & Lopez de Prado (2012) against SR0 of Bailey & Lopez de Prado (2014)."""
    sr = np.mean(r) / np.std(r, ddof=1)
    skew = stats.skew(r)
    kurt = stats.kurtosis(r, fisher=False)
    sr0 = math.sqrt(variance) * (
        (1 - EULER) * stats.norm.ppf(1 - 1 / n_trials) + EULER * stats.norm.ppf(1 - 1 / (n_trials * math.e))
    )
    z = (sr - sr0) * math.sqrt(len(r) - 1) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2)
    return {"sharpe": sr, "sr0": sr0, "skew": skew, "kurt": kurt, "dsr": stats.norm.cdf(z)}


# Twelve bars of four trials; the best by Sharpe is column 2.
SMALL = np.array(
    [
        [0.010, -0.004, 0.012, 0.000],
        [-0.006, 0.002, 0.003, 0.001],
        [0.004, 0.007, -0.001, -0.002],
        [0.002, -0.010, 0.009, 0.000],
        [-0.003, 0.004, 0.006, 0.003],
        [0.008, 0.001, -0.004, -0.001],
        [-0.001, -0.002, 0.011, 0.002],
        [0.005, 0.006, 0.002, 0.000],
        [-0.007, -0.003, 0.007, -0.004],
        [0.003, 0.005, -0.002, 0.001],
        [0.000, -0.001, 0.004, 0.002],
        [0.006, 0.002, 0.001, -0.001],
    ]
)


def test_dsr_reproduces_the_papers_worked_example() -> None:
    """Bailey & Lopez de Prado (2014): best of N = 100 trials, annualised SR 2.5 over T = 1250
    daily bars (250 a year), skewness -3, kurtosis 10, V[SR] annualised 0.5: DSR = 0.9004.

    Kurtosis 10 = 1 + skewness^2 is only reached by a two-point distribution, whose share of
    low points p solves 13 p^2 - 13 p + 1 = 0 (p = 0.08397...); 1250 bars hold 105 of them,
    which gives skewness -2.9994 and kurtosis 9.9965: the DSR still rounds to 0.9004.
    """
    n, k = 1250, 105
    low = np.r_[np.zeros(n - k), np.ones(k)]
    r = -(low - low.mean()) / low.std(ddof=1) + 2.5 / math.sqrt(250)  # std 1, per-bar SR 2.5/sqrt(250)
    res = pairs.deflated_sharpe(r, n_trials=100, sharpe_variance_per_bar=0.5 / 250, periods_per_year=250)
    assert round(res.deflated_sharpe, 4) == 0.9004
    assert res.sharpe_annualised == pytest.approx(2.5, rel=1e-12)
    assert res.skewness == pytest.approx(-2.9994, abs=1e-4) and res.kurtosis == pytest.approx(
        9.9965, abs=1e-4
    )
    # The exact moments of the example give the same four decimals through the formula.
    sr, sr0 = 2.5 / math.sqrt(250), res.expected_max_sharpe_per_bar
    exact = stats.norm.cdf((sr - sr0) * math.sqrt(1249) / math.sqrt(1 + 3 * sr + 9 / 4 * sr**2))
    assert round(exact, 4) == 0.9004
    # SR0 per bar: sqrt(0.5/250) (0.4228 * 2.3263 + 0.5772 * 2.6788) = 0.1132 (1.79 annualised).
    assert sr0 == pytest.approx(0.1132, abs=5e-5)
    assert res.pvalue == pytest.approx(1 - res.deflated_sharpe, abs=1e-15)


def test_dsr_of_a_matrix_equals_the_formula() -> None:
    sharpes = SMALL.mean(axis=0) / SMALL.std(axis=0, ddof=1)
    assert np.argmax(sharpes) == 2
    ref = reference_dsr(SMALL[:, 2], 4, np.var(sharpes, ddof=1))
    res = pairs.deflated_sharpe(SMALL, periods_per_year=365)
    assert res.trial == 2 and res.n_trials == 4 and res.n_obs == 12
    assert res.sharpe_per_bar == pytest.approx(ref["sharpe"], rel=1e-12)
    assert res.sharpe_annualised == pytest.approx(ref["sharpe"] * math.sqrt(365), rel=1e-12)
    assert res.expected_max_sharpe_per_bar == pytest.approx(ref["sr0"], rel=1e-12)
    assert res.expected_max_sharpe_annualised == pytest.approx(ref["sr0"] * math.sqrt(365), rel=1e-12)
    assert res.sharpe_variance_per_bar == pytest.approx(np.var(sharpes, ddof=1), rel=1e-12)
    assert res.skewness == pytest.approx(ref["skew"], rel=1e-12)
    assert res.kurtosis == pytest.approx(ref["kurt"], rel=1e-12)
    assert res.deflated_sharpe == pytest.approx(ref["dsr"], rel=1e-12)


def test_dsr_of_one_series_with_its_search_equals_the_matrix() -> None:
    sharpes = SMALL.mean(axis=0) / SMALL.std(axis=0, ddof=1)
    one = pairs.deflated_sharpe(SMALL[:, 2], n_trials=4, sharpe_variance_per_bar=np.var(sharpes, ddof=1))
    whole = pairs.deflated_sharpe(SMALL)
    assert one.deflated_sharpe == pytest.approx(whole.deflated_sharpe, rel=1e-12)
    assert one.trial is None and "the selected trial's Sharpe" in one.verdict


def test_dsr_with_more_trials_than_columns_and_a_chosen_trial() -> None:
    frame = pd.DataFrame(SMALL, columns=list("abcd"))
    res = pairs.deflated_sharpe(frame, trial="a", n_trials=90, sharpe_variance_per_bar=0.04)
    ref = reference_dsr(SMALL[:, 0], 90, 0.04)
    assert res.trial == "a" and res.n_trials == 90
    assert res.deflated_sharpe == pytest.approx(ref["dsr"], rel=1e-12)
    assert res.verdict.startswith("of 90 trials, the selected trial's Sharpe")
    by_position = pairs.deflated_sharpe(SMALL, trial=0, n_trials=90, sharpe_variance_per_bar=0.04)
    assert by_position.trial == 0 and by_position.deflated_sharpe == res.deflated_sharpe


def test_dsr_of_one_trial_is_the_psr_against_zero() -> None:
    r = SMALL[:, 2]
    res = pairs.deflated_sharpe(r, n_trials=1, sharpe_variance_per_bar=0.3)
    sr, g3, g4 = np.mean(r) / np.std(r, ddof=1), stats.skew(r), stats.kurtosis(r, fisher=False)
    psr0 = stats.norm.cdf(sr * math.sqrt(11) / math.sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr**2))
    assert res.expected_max_sharpe_per_bar == 0.0
    assert res.deflated_sharpe == pytest.approx(psr0, rel=1e-12)
    assert res.verdict.startswith("of 1 trial, ")


def test_a_trial_that_never_trades_has_sharpe_zero() -> None:
    flat = np.column_stack([SMALL[:, :3], np.zeros(12)])
    sharpes = np.r_[SMALL[:, :3].mean(axis=0) / SMALL[:, :3].std(axis=0, ddof=1), 0.0]
    res = pairs.deflated_sharpe(flat)
    assert res.sharpe_variance_per_bar == pytest.approx(np.var(sharpes, ddof=1), rel=1e-12)
    assert res.deflated_sharpe == pytest.approx(reference_dsr(SMALL[:, 2], 4, np.var(sharpes, ddof=1))["dsr"])


def test_dsr_annualises_with_the_bar_of_a_datetime_index() -> None:
    hourly = pd.DataFrame(SMALL, index=pd.date_range("2024-01-01", periods=12, freq="h", tz="UTC"))
    res = pairs.deflated_sharpe(hourly)
    assert res.periods_per_year == 365 * 24
    assert res.sharpe_annualised == pytest.approx(res.sharpe_per_bar * math.sqrt(8760), rel=1e-12)
    assert "(annualised)" in res.verdict
    bare = pairs.deflated_sharpe(SMALL)  # an array has no bar length: per-bar figures only
    assert bare.periods_per_year is None and bare.sharpe_annualised is None and "(per bar)" in bare.verdict
    assert bare.deflated_sharpe == res.deflated_sharpe  # units are for display only


def test_dsr_result_is_json_safe_and_summarised() -> None:
    res = pairs.deflated_sharpe(SMALL, periods_per_year=365)
    data = json.loads(json.dumps(res.to_dict()))
    assert data["n_trials"] == 4 and data["verdict"] == res.verdict
    assert "deflated_sharpe" in res.summary() and "Deflated Sharpe ratio" in res.summary()


# --- deflated Sharpe by simulation ------------------------------------------------------------


def test_dsr_does_not_find_skill_in_noise_where_the_plain_psr_does() -> None:
    """200 searches of 50 iid N(0, 1) trials over 500 bars.

    The best trial's plain PSR against 0 rejects at 5% when the largest of 50 Sharpes is
    1.645 standard errors above 0: probability 1 - 0.95^50 = 0.923 (the test allows 3 binomial
    standard errors, 0.057). The DSR rejects only when it is 1.645 standard errors above the
    expected maximum, 2.276 for N = 50: about 1 - Phi(3.92)^50 = 0.2%, so 200 searches give
    more than 2 false rejections (1%) with probability under 1%."""
    false_dsr = false_psr = 0
    for seed in range(200):
        noise = np.random.default_rng(seed).standard_normal((500, 50))
        res = pairs.deflated_sharpe(noise)
        false_dsr += res.pvalue < 0.05
        plain = pairs.deflated_sharpe(noise[:, res.trial], n_trials=1, sharpe_variance_per_bar=0.0)
        false_psr += plain.pvalue < 0.05
    assert false_dsr / 200 <= 0.01
    assert abs(false_psr / 200 - (1 - 0.95**50)) < 3 * math.sqrt(0.923 * 0.077 / 200)


def test_dsr_finds_a_planted_edge() -> None:
    """One trial of 50 has a true per-bar Sharpe 0.2 (3.8 annualised on daily bars): 1000 bars
    put it about 3 standard errors above the expected maximum of the others."""
    for seed in range(5):
        returns = np.random.default_rng(seed).standard_normal((1000, 50))
        returns[:, 7] += 0.2
        res = pairs.deflated_sharpe(returns, periods_per_year=365)
        assert res.trial == 7 and res.pvalue < 0.05 and res.significant
        assert "is unlikely to be luck" in res.verdict


def test_dsr_verdict_reads_for_a_trader() -> None:
    noise = np.random.default_rng(0).standard_normal((1000, 90)) * 0.01
    res = pairs.deflated_sharpe(noise, periods_per_year=365)
    assert res.verdict == (
        f"of 90 trials, the best in-sample Sharpe {res.sharpe_annualised:.2f} (annualised) is not "
        f"distinguishable from luck: deflated Sharpe p = {res.pvalue:.2g}; luck alone gives the best "
        f"of 90 a Sharpe of about {res.expected_max_sharpe_annualised:.2f}."
    )
    assert res.verdict == (  # as quoted in docs/overfitting.md
        "of 90 trials, the best in-sample Sharpe 1.24 (annualised) is not distinguishable from luck: "
        "deflated Sharpe p = 0.59; luck alone gives the best of 90 a Sharpe of about 1.38."
    )


# --- PBO: the CSCV of Bailey, Borwein, Lopez de Prado & Zhu, written out ----------------------


def test_pbo_by_hand_with_the_mean() -> None:
    # Bars (rows) x trials; the first bar is left out (5 bars, 2 blocks of 2).
    returns = np.array(
        [[100.0, -100.0, 7.0], [1.0, 0.0, 2.0], [3.0, 1.0, 0.0], [0.0, 2.0, 1.0], [-1.0, 4.0, 1.0]]
    )
    # Block means: block 0 (bars 1-2) [2, 0.5, 1]; block 1 (bars 3-4) [-0.5, 3, 1].
    # Split 0, in sample block 0: best trial 0 (2); out of sample [-0.5, 3, 1]: trial 0 ranks 1.
    # Split 1, in sample block 1: best trial 1 (3); out of sample [2, 0.5, 1]: trial 1 ranks 1.
    # w = 1 / (3 + 1) both times, logit = log(1/3) <= 0: PBO = 1.
    # Out of sample the chosen earn [-0.5, 0.5]: one loss in two. Line through (2, -0.5) and
    # (3, 0.5): slope 1, intercept -2.5.
    res = pairs.probability_of_overfitting(returns, n_splits=2, metric="mean")
    np.testing.assert_allclose(res.logits, [math.log(1 / 3)] * 2, rtol=1e-15)
    assert res.pbo == 1.0 and res.prob_oos_loss == 0.5
    np.testing.assert_array_equal(res.is_performance, [2.0, 3.0])
    np.testing.assert_array_equal(res.oos_performance, [-0.5, 0.5])
    assert res.degradation_slope == pytest.approx(1.0) and res.degradation_intercept == pytest.approx(-2.5)
    assert (res.n_obs, res.n_splits, res.n_combinations, res.n_trials) == (4, 2, 2, 3)


def test_pbo_counts_the_median_rank_as_overfit() -> None:
    # Block means: block 0 [3, 1, 2], block 1 [0, -1, 1]. Split 0 picks trial 0, which earns 0
    # out of sample: rank 2 of 3, w = 2 / 4 = 0.5, logit 0. Split 1 picks trial 2, which earns 2
    # out of sample: rank 2 again. logit <= 0 counts: PBO = 1.
    returns = np.array([[3.0, 1.0, 2.0], [3.0, 1.0, 2.0], [0.0, -1.0, 1.0], [0.0, -1.0, 1.0]])
    res = pairs.probability_of_overfitting(returns, n_splits=2, metric="mean")
    np.testing.assert_array_equal(res.logits, [0.0, 0.0])
    assert res.pbo == 1.0


def _perf(block: np.ndarray, metric: str) -> np.ndarray:
    mean = block.mean(axis=0)
    if metric == "mean":
        return mean
    std = block.std(axis=0, ddof=1)
    return np.array([m / s if s > 0 else 0.0 for m, s in zip(mean, std, strict=True)])


def reference_pbo(returns: np.ndarray, s: int, metric: str) -> dict[str, object]:
    """CSCV as the paper lists it: equal blocks, every half as in-sample, rank out of sample."""
    t, n = returns.shape
    m = returns[t % s :]
    blocks = np.split(m, s)
    logits, is_best, oos_best = [], [], []
    for combo in itertools.combinations(range(s), s // 2):
        j = np.concatenate([blocks[i] for i in combo])
        j_bar = np.concatenate([blocks[i] for i in range(s) if i not in combo])
        r, r_bar = _perf(j, metric), _perf(j_bar, metric)
        n_star = int(np.argmax(r))
        w = stats.rankdata(r_bar, method="average")[n_star] / (n + 1)
        logits.append(math.log(w / (1 - w)))
        is_best.append(r[n_star])
        oos_best.append(r_bar[n_star])
    fit = stats.linregress(is_best, oos_best)
    return {
        "logits": np.array(logits),
        "pbo": float(np.mean(np.array(logits) <= 0)),
        "is": np.array(is_best),
        "oos": np.array(oos_best),
        "slope": fit.slope,
        "intercept": fit.intercept,
        "loss": float(np.mean(np.array(oos_best) < 0)),
    }


def _matrix(seed: int, t: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    m = rng.standard_normal((t, n)) * 0.01 + rng.normal(0, 0.002, n)
    m[:, 1] = m[:, 0]  # a duplicate trial: ties in and out of sample
    m[: t // 2, 2] = 0.0  # flat over the first half: Sharpe 0 where a half holds only those bars
    return m


@pytest.mark.parametrize("metric", ["sharpe", "mean"])
@pytest.mark.parametrize(
    ("seed", "t", "n", "s"), [(0, 40, 5, 2), (1, 63, 6, 4), (2, 97, 7, 6), (3, 120, 10, 8)]
)
def test_pbo_equals_the_cscv_loop(metric: str, seed: int, t: int, n: int, s: int) -> None:
    returns = _matrix(seed, t, n)
    ref = reference_pbo(returns, s, metric)
    res = pairs.probability_of_overfitting(returns, n_splits=s, metric=metric)
    np.testing.assert_allclose(res.logits, ref["logits"], rtol=1e-12)
    assert res.pbo == ref["pbo"] and res.prob_oos_loss == ref["loss"]
    np.testing.assert_allclose(res.is_performance, ref["is"], rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(res.oos_performance, ref["oos"], rtol=1e-9, atol=1e-15)
    assert res.degradation_slope == pytest.approx(ref["slope"], rel=1e-9)
    assert res.degradation_intercept == pytest.approx(ref["intercept"], rel=1e-9, abs=1e-15)
    assert res.n_combinations == math.comb(s, s // 2) and res.n_obs == t - t % s


def test_pbo_flat_half_scores_zero_and_ties_take_the_average_rank() -> None:
    # Four trials over 4 bars, two blocks. Trial 3 is flat in block 0; trials 0 and 1 are copies.
    returns = np.array(
        [
            [0.01, 0.01, -0.02, 0.0],
            [0.03, 0.03, 0.00, 0.0],
            [-0.01, -0.01, 0.02, 0.05],
            [0.00, 0.00, 0.04, 0.01],
        ]
    )
    # Split 0 (in sample bars 0-1), Sharpes: [0.02/0.01414, same, -0.01/0.01414, 0] -> trial 0.
    # Out of sample (bars 2-3) Sharpes: [-0.005/0.00707, same, 0.03/0.01414, 0.03/0.02828]:
    # trials 0 and 1 tie for the lowest, average rank 1.5, w = 1.5 / 5.
    res = pairs.probability_of_overfitting(returns, n_splits=2)
    assert res.logits[0] == pytest.approx(math.log(0.3 / 0.7), rel=1e-15)
    assert res.is_performance[0] == pytest.approx(0.02 / (0.02 / math.sqrt(2)), rel=1e-12)


def test_pbo_result_is_json_safe_and_summarised() -> None:
    res = pairs.probability_of_overfitting(_matrix(0, 64, 4), n_splits=4)
    data = json.loads(json.dumps(res.to_dict()))
    assert len(data["logits"]) == 6 and data["pbo"] == res.pbo
    assert "pbo" in res.summary() and "logits" not in res.summary()
    assert res.verdict == (
        f"in {res.pbo:.0%} of 6 splits of the bars into halves, the in-sample best of 4 trials ranked at "
        f"or below the out-of-sample median (PBO = {res.pbo:.2f}); it lost out of sample in "
        f"{res.prob_oos_loss:.0%} of them."
    )


# --- PBO by simulation ------------------------------------------------------------------------


@pytest.mark.parametrize(("n_trials", "expected"), [(20, 0.5), (3, 2 / 3)])
def test_pbo_without_skill_is_one_half(n_trials: int, expected: float) -> None:
    """iid trials: the in-sample best's out-of-sample rank is uniform on 1..N, so a split has
    logit <= 0 (rank <= (N + 1) / 2) with probability 1/2 for an even N and (N + 1) / (2 N) for
    an odd one (2/3 for N = 3). Over 100 independent searches (400 bars, S = 10) the mean PBO
    is within 4 standard errors of it (the standard error estimated from the 100 PBOs)."""
    pbo = np.array(
        [
            pairs.probability_of_overfitting(
                np.random.default_rng(1000 + seed).standard_normal((400, n_trials)), 10
            ).pbo
            for seed in range(100)
        ]
    )
    se = pbo.std(ddof=1) / math.sqrt(pbo.size)
    assert 0.01 < se < 0.05
    assert abs(pbo.mean() - expected) < 4 * se


def test_pbo_finds_a_planted_edge() -> None:
    """One trial of 50 with a true per-bar Sharpe 0.2: it is the in-sample best and stays on top
    out of sample in nearly every split of 1000 bars into S = 16 blocks."""
    for seed in range(3):
        returns = np.random.default_rng(seed).standard_normal((1000, 50))
        returns[:, 7] += 0.2
        res = pairs.probability_of_overfitting(returns)
        assert res.n_combinations == 12_870
        assert res.pbo < 0.05 and res.prob_oos_loss < 0.05
        assert np.median(res.logits) == pytest.approx(math.log(50 / 1), rel=1e-12)  # rank 50 of 50


# --- bad input --------------------------------------------------------------------------------


def _raises(exc: type[PairsError], arg: str, call: object, *args: object, **kwargs: object) -> None:
    with pytest.raises(exc) as info:
        call(*args, **kwargs)  # type: ignore[operator]
    assert str(info.value).startswith(f"{arg} "), str(info.value)


GOOD = _matrix(0, 64, 4)


@pytest.mark.parametrize(
    ("kwargs", "exc", "arg"),
    [
        ({"returns": np.ones((4, 3, 2))}, DataError, "returns"),
        ({"returns": GOOD[:, :1]}, DataError, "returns"),
        ({"returns": GOOD[:, 0]}, DataError, "returns"),
        ({"returns": np.where(np.arange(64)[:, None] == 5, np.nan, GOOD)}, DataError, "returns"),
        ({"returns": np.where(np.arange(64)[:, None] == 5, np.inf, GOOD)}, DataError, "returns"),
        ({"returns": GOOD[:2]}, InsufficientDataError, "returns"),
        ({"returns": np.column_stack([GOOD, np.full(64, 0.01)])}, DataError, "returns"),
        ({"returns": GOOD, "n_splits": 5}, PairsError, "n_splits"),
        ({"returns": GOOD, "n_splits": 0}, PairsError, "n_splits"),
        ({"returns": GOOD, "n_splits": 26}, PairsError, "n_splits"),
        ({"returns": GOOD, "n_splits": 8.0}, PairsError, "n_splits"),
        ({"returns": GOOD[:30], "n_splits": 16}, InsufficientDataError, "n_splits"),
        ({"returns": GOOD, "metric": "sortino"}, PairsError, "metric"),
    ],
)
def test_pbo_bad_input(kwargs: dict[str, object], exc: type[PairsError], arg: str) -> None:
    _raises(exc, arg, pairs.probability_of_overfitting, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "exc", "arg"),
    [
        ({"returns": np.ones((4, 3, 2))}, DataError, "returns"),
        ({"returns": GOOD[:, :1]}, DataError, "returns"),
        ({"returns": np.where(np.arange(64)[:, None] == 5, np.nan, GOOD)}, DataError, "returns"),
        ({"returns": GOOD[:2]}, InsufficientDataError, "returns"),
        ({"returns": np.c_[-np.abs(GOOD[:, :3]), np.zeros(64)]}, DataError, "returns"),  # best is flat
        ({"returns": GOOD[:, 0]}, PairsError, "n_trials"),
        ({"returns": GOOD[:, 0], "n_trials": 10}, PairsError, "sharpe_variance_per_bar"),
        (
            {"returns": GOOD[:, 0], "n_trials": 10, "sharpe_variance_per_bar": -1.0},
            PairsError,
            "sharpe_variance_per_bar",
        ),
        ({"returns": GOOD[:, 0], "n_trials": 0, "sharpe_variance_per_bar": 0.1}, PairsError, "n_trials"),
        ({"returns": GOOD[:, 0], "n_trials": 2.5, "sharpe_variance_per_bar": 0.1}, PairsError, "n_trials"),
        ({"returns": np.zeros(64), "n_trials": 10, "sharpe_variance_per_bar": 0.1}, DataError, "returns"),
        (
            {"returns": GOOD[:, 0], "n_trials": 9, "sharpe_variance_per_bar": 0.1, "trial": 1},
            PairsError,
            "trial",
        ),
        ({"returns": GOOD, "trial": 4}, PairsError, "trial"),
        ({"returns": pd.DataFrame(GOOD, columns=list("abcd")), "trial": "e"}, PairsError, "trial"),
        ({"returns": pd.DataFrame(GOOD, columns=list("abcd")), "trial": ["a"]}, PairsError, "trial"),
        ({"returns": GOOD, "size": 1.0}, PairsError, "size"),
        ({"returns": GOOD, "periods_per_year": 0}, PairsError, "periods_per_year"),
    ],
)
def test_dsr_bad_input(kwargs: dict[str, object], exc: type[PairsError], arg: str) -> None:
    _raises(exc, arg, pairs.deflated_sharpe, **kwargs)
