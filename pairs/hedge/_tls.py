"""Static hedge ratio by total least squares (orthogonal regression)."""

from __future__ import annotations

import math

import pandas as pd

from pairs._typing import ArrayLike1D
from pairs._validation import check_flag
from pairs.exceptions import DataError
from pairs.hedge._result import HedgeResult
from pairs.hedge._transform import On, prepare_pair

__all__ = ["tls_hedge"]


def tls_hedge(y: ArrayLike1D, x: ArrayLike1D, *, intercept: bool = True, on: On = "levels") -> HedgeResult:
    """Total-least-squares hedge ratio: the line minimising squared *perpendicular* distances.

    Unlike OLS, TLS treats ``y`` and ``x`` symmetrically: swapping them gives exactly the
    reciprocal ratio, so the hedge does not depend on which leg is called ``y``. It is not
    scale invariant, though: the representation ``on`` should put both legs on comparable
    scales (returns, or prices of similar magnitude).

    Parameters
    ----------
    y, x
        Prices of the asset hedged and of the hedge (Series or 1-d arrays; one hedge only).
    intercept
        Fit a line through the means (default) or through the origin.
    on
        ``"levels"``, ``"diff"``, ``"returns"`` or ``"log_returns"`` (see
        :mod:`pairs.hedge._transform`).

    Returns
    -------
    HedgeResult
        ``beta`` and ``alpha`` floats, ``spread = y' - beta x' - alpha`` aligned to the input
        index, and ``r_squared = 1 - sum(spread^2) / sum(y'^2)`` (``y'`` centred with an
        intercept), the share of ``y``'s variation the line explains (at most the OLS one).

    Notes
    -----
    With centred (or raw, without intercept) moments ``Sxx, Syy, Sxy`` the slope is the
    principal axis ``(d + sqrt(d^2 + 4 Sxy^2)) / (2 Sxy)``, ``d = Syy - Sxx``, evaluated in
    the form that avoids cancellation.

    Examples
    --------
    >>> from pairs import load_sample
    >>> prices = load_sample("binance_1d")[["BTC", "ETH"]].dropna()
    >>> res = tls_hedge(prices["BTC"], prices["ETH"], on="log_returns")
    >>> back = tls_hedge(prices["ETH"], prices["BTC"], on="log_returns")
    >>> round(res.beta, 4), round(res.beta * back.beta, 12)
    (0.7265, 1.0)
    """
    intercept = check_flag("intercept", intercept)
    prep = prepare_pair(y, x, on, allow_frame_x=False)
    yv = prep.yt[prep.offset :]
    xv = prep.xt[prep.offset :, 0]
    mean_y = float(yv.mean()) if intercept else 0.0
    mean_x = float(xv.mean()) if intercept else 0.0
    yc, xc = yv - mean_y, xv - mean_x
    sxx, syy, sxy = float(xc @ xc), float(yc @ yc), float(xc @ yc)
    d = syy - sxx
    h = math.hypot(d, 2.0 * sxy)
    if sxy == 0.0 and d >= 0.0:
        raise DataError("x must co-move with y for a total-least-squares fit; got zero cross-product.")
    beta = (d + h) / (2.0 * sxy) if d >= 0.0 else 2.0 * sxy / (h - d)
    alpha = mean_y - beta * mean_x
    resid = yc - beta * xc
    return HedgeResult(
        method="tls",
        on=on,
        beta=beta,
        alpha=alpha,
        spread=pd.Series(prep.yt - beta * prep.xt[:, 0] - alpha, index=prep.index, name="spread"),
        r_squared=1.0 - float(resid @ resid) / syy,
        n_obs=prep.n_obs,
        params={"intercept": intercept},
    )
