"""Issue #26 item 1: the Johansen default (``"li"``) holds its size on drifting and driftless prices.

Simulations are seeded; tolerances state the binomial error they allow for.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pairs.coint import johansen
from pairs.coint._critical import johansen_crit
from pairs.coint._johansen import _reduced_rank
from pairs.data import load_sample

# drift * sqrt(n) / sigma of the issue: 0 to the largest of the bundled coins.
DRIFTS = (0.0, 0.75, 1.5, 2.3)


def _walks(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    return np.cumsum(rng.standard_normal((n, k)), axis=0) + 5.0


def _drifted(walks: np.ndarray, drift: float) -> np.ndarray:
    """Add ``drift * sqrt(n) / sigma = drift`` (sigma = 1) to every column, alternating signs."""
    n, k = walks.shape
    signs = np.where(np.arange(k) % 2 == 0, 1.0, -1.0)
    return walks + np.arange(1.0, n + 1.0)[:, None] * (drift / np.sqrt(n)) * signs


def _trace_rejects(prices: np.ndarray, case: str, k_ar_diff: int = 1) -> bool:
    """Trace test of rank 0 at 5%: ``johansen(...).rank() > 0`` without building the result."""
    eig, _, t_obs = _reduced_rank(prices, case, k_ar_diff)
    crit_5 = np.sort(johansen_crit("trace", case, prices.shape[1]))[1]
    return bool(-t_obs * np.log1p(-eig).sum() > crit_5)


def test_bundled_coins_drift_as_the_docs_say():
    prices = np.log(load_sample("binance_1d"))
    ratios = []
    for coin in prices:
        ret = prices[coin].dropna().diff().dropna()
        ratios.append(abs(ret.mean()) * np.sqrt(len(ret)) / ret.std())
    assert np.median(ratios) == pytest.approx(0.74, abs=0.01)
    assert max(ratios) == pytest.approx(2.3, abs=0.01)


def test_default_is_li_and_its_statistics_do_not_depend_on_drift():
    rng = np.random.default_rng(260)
    for k in (2, 3):
        walks = _walks(rng, 250, k)
        base = johansen(pd.DataFrame(walks))
        assert base.deterministic == "li" and base.det_order is None
        for drift in DRIFTS[1:]:
            moved = johansen(pd.DataFrame(_drifted(walks, drift)))
            # Exact invariance: the unrestricted constant and the restricted trend absorb a drift.
            np.testing.assert_allclose(moved.trace_stat, base.trace_stat, rtol=1e-8)
            np.testing.assert_allclose(moved.max_eig_stat, base.max_eig_stat, rtol=1e-8)
        # The former default "ci" is not invariant: a drift moves its statistic.
        ci = johansen(pd.DataFrame(walks), deterministic="ci").trace_stat["r<=0"]
        ci_drift = johansen(pd.DataFrame(_drifted(walks, 2.3)), deterministic="ci").trace_stat["r<=0"]
        assert abs(ci_drift - ci) > 1e-3 * ci


@pytest.mark.slow
# (coins, k_ar_diff): a pair with VAR orders K = 2 and 3 (urca's K = k_ar_diff + 1), and 3 coins.
@pytest.mark.parametrize(("k", "k_ar_diff"), [(2, 1), (2, 2), (3, 1)])
@pytest.mark.parametrize("n", [250, 500])
def test_default_size_on_driftless_and_drifting_walks(k, k_ar_diff, n):
    reps = 1500
    rng = np.random.default_rng(2600 + 100 * k_ar_diff + 10 * k + n)
    case = johansen(pd.DataFrame(_walks(rng, n, k)), k_ar_diff=k_ar_diff).deterministic
    rejected = np.zeros((reps, len(DRIFTS)), dtype=bool)
    ci_rejected = 0
    for i in range(reps):
        walks = _walks(rng, n, k)
        rejected[i] = [_trace_rejects(_drifted(walks, d), case, k_ar_diff) for d in DRIFTS]
        if i < 500:
            ci_rejected += _trace_rejects(_drifted(walks, DRIFTS[-1]), "ci", k_ar_diff)
    sizes = rejected.mean(axis=0)
    # 1,500 draws per drift (common random numbers): binomial s.e. 0.56% at 5%, so
    # [0.03, 0.07] is more than 3.5 s.e. from 5%. Measured values: the table in
    # docs/statistics.md; identical across drifts since the statistic is invariant to them.
    assert ((sizes >= 0.03) & (sizes <= 0.07)).all(), sizes
    assert np.ptp(sizes) == 0.0
    # The former default "ci" at the largest drift (500 draws, s.e. <= 2.2%).
    assert ci_rejected / 500 > 0.15, ci_rejected / 500
