"""The selection's spread statistics on every candidate of a window, against plain loops.

``Selection.select`` computes the half-life and zero crossings of all candidates at once, in blocks
of a few hundred kB; these tests cover windows of several blocks and spreads with exact zeros (the
rows whose crossings carry the sign over a zero), which real closes do not produce.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import pairs
from pairs import Selection


def _half_life(s: np.ndarray) -> float:
    """OLS of the difference on the demeaned lag and a constant, ``-ln 2 / ln|1 + lambda|``."""
    lag, diff = s[:-1], np.diff(s)
    design = np.column_stack([lag - lag.mean(), np.ones(lag.size)])
    lam = np.linalg.lstsq(design, diff, rcond=None)[0][0]
    return float(-np.log(2) / np.log(abs(1 + lam))) if abs(1 + lam) < 1 else np.inf


def _crossings(s: np.ndarray) -> int:
    """Sign changes of ``s`` minus its mean, zeros skipped."""
    signs = [v for v in np.sign(s - s.mean()) if v != 0]
    return sum(1 for a, b in itertools.pairwise(signs) if a != b)


@pytest.mark.parametrize("method", ["coint", "distance"])
def test_every_candidate_of_a_window_of_several_blocks(method):
    # 19 coins: 171 candidates of 720 bars, three blocks of the spread statistics.
    window = pairs.load_sample("binance_1h").iloc[300:1020]
    assert window.notna().all().all() and window.shape[1] == 19
    table = Selection(method=method, log=True).select(window)
    logs = np.log(window)
    assert len(table) == 171 and (table["reason"] != "missing prices").all()
    for row in table.itertuples():
        spread = (logs[row.y] - row.beta * logs[row.x] - row.alpha).to_numpy()
        assert row.half_life == pytest.approx(_half_life(spread), rel=1e-9), (row.y, row.x)
        assert row.crossings == _crossings(spread), (row.y, row.x)


def test_crossings_carry_the_sign_over_exact_zeros():
    idx = pd.date_range("2024-01-01", periods=64, freq="h", tz="UTC")
    rng = np.random.default_rng(5)
    base = 100.0 + np.cumsum(rng.integers(-2, 3, 64)).astype(float)
    # Integer gaps of mean exactly 0: the centred spread is exactly 0 on a third of the bars, some of
    # them between two negative bars (no crossing there; counting zeros as positive would add two).
    gap = np.tile([0.0, 1.0, 0.0, -1.0, 0.0, -1.0, 0.0, 1.0, 1.0, 0.0, -1.0, 0.0], 6)[:64]
    gap[-4:] = [0.0, 0.0, 1.0, -1.0]
    assert gap.sum() == 0 and gap[0] == 0
    steady = 200.0 + np.cumsum(rng.normal(0, 1, 64))
    frame = pd.DataFrame({"A": base + gap, "B": base, "C": steady}, index=idx)
    table = Selection(method="distance", top=3).select(frame)
    row = table[(table["y"] == "A") & (table["x"] == "B")].iloc[0]
    spread = (frame["A"] - row.beta * frame["B"] - row.alpha).to_numpy()
    assert row.beta == 1.0 and row.alpha == 0.0
    assert (spread - spread.mean() == 0).sum() > 20
    assert row.crossings == _crossings(spread) > 0
    for other in table.itertuples():
        s = (frame[other.y] - other.beta * frame[other.x] - other.alpha).to_numpy()
        assert other.crossings == _crossings(s)
