"""Remarks on numbers that look wrong (pairs/_remarks.py): when they appear, and that their numbers are right.

The hedge remark rests on an identity: with an intercept, the OLS slopes of y on x and of x on y
multiply to the squared correlation. It is checked against numpy's ``corrcoef`` on real prices,
and the TLS slope against the bracket the remark describes (between ``b_yx`` and ``1 / b_xy``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from pairs import load_sample
from pairs._remarks import hedge_remark, window_remark
from pairs.hedge._ols import ols_hedge
from pairs.hedge._tls import tls_hedge


def test_hedge_remark_numbers_on_real_prices() -> None:
    prices = np.log(load_sample("binance_1d")[["BNB", "LTC"]].dropna())
    y, x = prices["BNB"], prices["LTC"]
    b_yx, b_xy = ols_hedge(y, x).beta, ols_hedge(x, y).beta
    r2 = np.corrcoef(y, x)[0, 1] ** 2
    assert b_yx * b_xy == pytest.approx(r2, rel=1e-10)
    tls = tls_hedge(y, x).beta
    # TLS lies between the two least-squares answers, as the remark says.
    assert b_yx < tls < 1 / b_xy
    text = hedge_remark(b_yx, b_xy, {"TLS": tls})
    assert text is not None
    assert text.startswith(f"The TLS ({tls:.3g}) hedge ratio is more than 2x off OLS ({b_yx:.3g})")
    assert f"x on y gives 1/{b_xy:.3g} = {1 / b_xy:.3g}" in text and f"(R^2 = {r2:.2g})" in text


def test_hedge_remark_only_when_estimates_disagree() -> None:
    assert hedge_remark(1.0, 0.9, {"TLS": 1.05, "Johansen": 1.9}) is None
    assert hedge_remark(1.0, 0.9, {"TLS": 1.05, "Johansen": 2.1}) is not None
    for odd in (-1.0, 0.0, math.nan, math.inf):
        text = hedge_remark(1.0, 0.9, {"Johansen": odd})
        assert text is not None and text.startswith("The Johansen")
    # Negatively correlated legs: no R^2 bracket to give.
    assert "not positively correlated" in str(hedge_remark(1.0, -0.2, {"TLS": 7.0}))


@pytest.mark.parametrize(
    ("window", "half_life", "expected"),
    [
        (60, 120.0, None),
        (60, 121.0, "The z-score window (60 bars) is 2.02x shorter than the spread's half-life (121 bars)"),
        (60, math.inf, "The spread shows no mean reversion"),
        (60, math.nan, "The spread shows no mean reversion"),
        (60, -5.0, "The spread shows no mean reversion"),
    ],
)
def test_window_remark(window: int, half_life: float, expected: str | None) -> None:
    text = window_remark(window, half_life)
    assert text == expected if expected is None else str(text).startswith(expected)
