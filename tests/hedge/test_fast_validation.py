"""The validation shortcut of the hedge estimators never accepts what align_pair refuses."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from pairs._validation import align_pair, clean_pair_values
from pairs.exceptions import PairsError

VALUES = st.sampled_from([1.0, 2.5, -3.0, 0.0, np.nan, np.inf, 1e5])


@st.composite
def pairs_of_series(draw: st.DrawFn) -> tuple[pd.Series, pd.Series, bool]:
    n = draw(st.integers(min_value=0, max_value=6))
    index = pd.date_range("2024-01-01", periods=n, freq="D", tz=draw(st.sampled_from([None, "UTC"])))
    if n and draw(st.booleans()):
        index = index[draw(st.permutations(range(n)))]
    if n > 1 and draw(st.booleans()):
        index = index[[0, *range(n - 1)]]
    y = pd.Series([draw(VALUES) for _ in range(n)], index=index, dtype="float64")
    x_index = index if draw(st.booleans()) else pd.date_range("2024-01-02", periods=n, freq="D", tz=index.tz)
    x = pd.Series([draw(VALUES) for _ in range(n)], index=x_index, dtype="float64")
    return y, x, draw(st.booleans())


@settings(max_examples=300, deadline=None)
@given(pairs_of_series(), st.booleans(), st.integers(min_value=1, max_value=4))
def test_shortcut_agrees_with_align_pair(
    case: tuple[pd.Series, pd.Series, bool], positive: bool, min_length: int
) -> None:
    y, x, allow_nan = case
    fast = clean_pair_values(y, x, allow_nan=allow_nan, positive=positive, min_length=min_length)
    if fast is None:
        return
    try:
        ys, xs = align_pair(y, x, allow_nan=allow_nan, positive=positive, min_length=min_length)
    except PairsError as exc:  # pragma: no cover - the failure this test exists to catch
        raise AssertionError(f"shortcut accepted what align_pair refuses: {exc}") from None
    np.testing.assert_array_equal(fast[0], ys.to_numpy())
    np.testing.assert_array_equal(fast[1], np.asarray(xs, dtype=float))
