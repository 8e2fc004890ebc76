"""One-line remarks on numbers that look wrong but are not: written from the numbers themselves.

The demo and the HTML report print hedge ratios, half-lives and windows side by side. Some
combinations look like bugs to a new reader (a TLS beta seven times the OLS one; a 60-bar
window against a 317-bar half-life) and are in fact what the data says. Each function returns
the sentence that says why, or None when there is nothing to explain.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

__all__ = ["FACTOR", "hedge_remark", "window_remark"]

# Two estimates "disagree" when one is more than FACTOR times the other (or of another sign).
FACTOR = 2.0


def _far(a: float, b: float) -> bool:
    if not (math.isfinite(a) and math.isfinite(b)) or a * b <= 0:
        return True
    return max(a / b, b / a) > FACTOR


def hedge_remark(beta_yx: float, beta_xy: float, others: Mapping[str, float]) -> str | None:
    """Why full-sample estimators that treat both legs alike (``others``: TLS, Johansen) are far from OLS.

    ``beta_yx`` is the OLS slope of y on x and ``beta_xy`` that of x on y (both with an
    intercept), so ``beta_yx * beta_xy`` is the squared correlation R^2 of the two series and
    ``beta_yx`` and ``1 / beta_xy`` are the two least-squares answers to "units of x per unit
    of y". They differ by the factor ``1 / R^2``: a weak correlation leaves the hedge ratio
    undetermined, and an estimator that weighs both legs (TLS, Johansen's eigenvector) may land
    anywhere near or between them.
    """
    far = {name: b for name, b in others.items() if _far(b, beta_yx)}
    if not far:
        return None
    listed = " and ".join(f"{name} ({b:.3g})" for name, b in far.items())
    verb = "is" if len(far) == 1 else "are"
    head = (
        f"The {listed} hedge ratio{'s' * (len(far) > 1)} {verb} more than {FACTOR:g}x off OLS ({beta_yx:.3g})"
    )
    r2 = beta_yx * beta_xy
    if not (math.isfinite(r2) and 0 < r2 <= 1):
        return (
            f"{head}: the two legs are not positively correlated over the sample, so no hedge ratio is "
            "determined."
        )
    return (
        f"{head}, and that is the data, not a bug: regressing y on x "
        f"gives {beta_yx:.3g}, x on y gives 1/{beta_xy:.3g} = {1 / beta_xy:.3g}, a factor 1/R^2 = "
        f"{1 / r2:.3g} apart because the legs share little variation over the sample (R^2 = {r2:.2g}). "
        f"{' and '.join(far)} treat{'s' * (len(far) == 1)} both legs alike and can land anywhere near that "
        f"range, so on prices that are not robustly cointegrated {'it is' if len(far) == 1 else 'they are'} "
        "unstable: no hedge ratio here is reliable."
    )


def window_remark(window: int, half_life_bars: float, what: str = "z-score window") -> str | None:
    """Say so when a rolling ``window`` is much shorter than the spread's half-life (or it has none)."""
    if not math.isfinite(half_life_bars) or half_life_bars <= 0:
        return (
            f"The spread shows no mean reversion (no finite half-life), so no {what} ({window} bars) "
            "matches its dynamics: a rolling z-score then measures drift, not reversion."
        )
    if half_life_bars <= FACTOR * window:
        return None
    return (
        f"The {what} ({window} bars) is {half_life_bars / window:.3g}x shorter than the spread's "
        f"half-life ({half_life_bars:.3g} bars): the z-score compares the spread with its last {window} "
        "bars while a deviation takes that half-life to halve, so it trades short-term noise around a "
        "slowly moving level rather than the reversion the tests measure."
    )
