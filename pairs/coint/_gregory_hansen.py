"""Gregory-Hansen (1996) cointegration test with one structural break at an unknown date."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from pairs._results import ResultMixin
from pairs._typing import ArrayLike1D, ArrayLike2D
from pairs._validation import align_pair, check_choice, check_float, check_not_constant
from pairs.coint._kernels import _legendre, adf_batch
from pairs.coint._stationarity import Autolag, resolve_lag_options
from pairs.exceptions import InsufficientDataError, PairsError

__all__ = ["GregoryHansenResult", "gregory_hansen"]

GHModel = Literal["c", "ct", "cs", "rs"]
_MODELS = ("c", "ct", "cs", "rs")
# ADF* critical values (1%, 5%, 10%) for m = 1..4 regressors: models C, C/T and C/S from
# Gregory and Hansen (1996a), Table 1; the regime and trend shift from Gregory and Hansen
# (1996b), Table 1. Trimming 15% in both.
_GH_TABLE: dict[str, tuple[tuple[float, float, float], ...]] = {
    "c": ((-5.13, -4.61, -4.34), (-5.44, -4.92, -4.69), (-5.77, -5.28, -5.02), (-6.05, -5.56, -5.31)),
    "ct": ((-5.45, -4.99, -4.72), (-5.80, -5.29, -5.03), (-6.05, -5.57, -5.33), (-6.36, -5.83, -5.59)),
    "cs": ((-5.47, -4.95, -4.68), (-5.97, -5.50, -5.23), (-6.51, -6.00, -5.75), (-6.92, -6.41, -6.17)),
    "rs": ((-6.02, -5.50, -5.24), (-6.45, -5.96, -5.72), (-6.89, -6.32, -6.16), (-7.31, -6.84, -6.58)),
}
_MAX_LEGS = 4
# Residual values computed at once: bounds the memory of a chunk of breaks (8 MB).
_CHUNK_VALUES = 1 << 20


@dataclass(frozen=True, repr=False)
class GregoryHansenResult(ResultMixin):
    """Gregory-Hansen test (null: no cointegration; alternative: cointegration with one break).

    ``stat`` is the smallest ADF statistic over the candidate breaks (ADF*), reached at
    ``break_date`` (the first bar of the new regime; ``break_index`` is its position);
    ``stats`` holds the ADF statistic of every candidate break. ``pvalue`` is None: the
    published tables give the critical values only.
    """

    stat: float
    pvalue: float | None
    crit_values: dict[str, float]
    break_date: Any
    break_index: int
    lags: int
    n_obs: int
    model: str
    trim: float
    autolag: str | None
    max_lag: int
    stats: pd.Series
    _title = "Gregory-Hansen cointegration test with a structural break"


def _residuals(y: np.ndarray, legs: np.ndarray, model: str, breaks: np.ndarray) -> np.ndarray:
    """Residuals (``len(breaks) x n``) of the OLS of ``y`` on the model's columns for each break.

    Frisch-Waugh: with ``Q`` an orthonormal basis of the columns every break shares and ``W`` the
    columns that switch on at the break ``b`` (``D_b W``, ``D_b`` the regime indicator), the
    residual is that of ``M y`` on ``M D_b W = D_b W - Q S_b``, where ``S_b = Q' D_b W`` is a
    suffix sum over ``t >= b``. Every cross-product is such a sum, so all breaks cost
    ``O(n (k + p))`` each, with ``p x p`` systems only (``p`` switching columns).
    """
    n = y.shape[0]
    # Centred legs and a Legendre trend: the same column spaces, better conditioned.
    xc = legs - legs.mean(axis=0)
    xc = xc / np.sqrt((xc**2).mean(axis=0))
    base = [np.ones(n), *xc.T]
    trend = _legendre(n, 2)[1]
    fixed = np.column_stack(base + ([trend] if model in ("ct", "rs") else []))
    switch = np.column_stack({"c": base[:1], "ct": base[:1], "cs": base, "rs": [*base, trend]}[model])
    q = np.linalg.qr(fixed)[0]
    ym = y - q @ (q.T @ y)

    def suffix(terms: np.ndarray) -> np.ndarray:
        """``sum_{t >= b} terms[t]`` for every break ``b``."""
        return np.cumsum(terms[::-1], axis=0)[::-1][breaks]

    s = suffix(q[:, :, None] * switch[:, None, :])
    gram = suffix(switch[:, :, None] * switch[:, None, :]) - s.transpose(0, 2, 1) @ s
    coef = np.linalg.solve(gram, suffix(switch * ym[:, None])[..., None])[..., 0]
    regime = np.arange(n)[None, :] >= breaks[:, None]
    return ym - regime * (coef @ switch.T) + np.einsum("bk,nk->bn", np.einsum("bkp,bp->bk", s, coef), q)


def gregory_hansen(
    y: ArrayLike1D,
    x: ArrayLike1D | ArrayLike2D,
    *,
    model: GHModel = "c",
    trim: float = 0.15,
    max_lag: int | None = None,
    autolag: Autolag | None = "bic",
) -> GregoryHansenResult:
    """Gregory-Hansen cointegration test allowing one structural break at an unknown date.

    For every candidate break ``b`` (the first bar of the new regime) in the trimmed range
    ``[floor(trim * n), n - floor(trim * n)]``, ``y`` is regressed by OLS on ``x`` and the
    columns of ``model``, with ``d_t = 1{t >= b}``:

    * ``"c"``, level shift (C): ``1, d_t, x_t``;
    * ``"ct"``, level shift with trend (C/T): ``1, d_t, t, x_t``;
    * ``"cs"``, regime shift (C/S): ``1, d_t, x_t, d_t x_t``;
    * ``"rs"``, regime and trend shift: ``1, d_t, t, d_t t, x_t, d_t x_t``.

    An ADF test without deterministic terms (the Engle-Granger second step) is run on each
    residual; ``stat`` is the smallest statistic (ADF*), and its break is the estimated one.
    For a given ``max_lag`` and ``autolag``, the statistic equals a loop of statsmodels OLS and
    ``adfuller`` over the breaks. Critical values (1%, 5%, 10%, for up to 4 legs) are the
    asymptotic ones of Gregory and Hansen (1996a, Table 1; 1996b for ``"rs"``), tabulated for
    ``trim=0.15``; there is no p-value (``pvalue`` is None). The size by simulation is in
    docs/statistics.md.

    Parameters
    ----------
    y
        The asset hedged (log prices).
    x
        The hedge: a Series, or a DataFrame of up to 4 legs.
    model
        ``"c"`` (default), ``"ct"``, ``"cs"`` or ``"rs"`` (above).
    trim
        Fraction of the sample excluded at each end from the candidate breaks, in (0, 0.5).
    max_lag
        Largest ADF lag; default and bound as in :func:`pairs.coint.engle_granger`.
    autolag
        ADF lag selection at each break: ``"bic"`` (default), ``"aic"``, ``"t-stat"``, or None
        for ``max_lag`` lags.

    Returns
    -------
    GregoryHansenResult

    Examples
    --------
    >>> import numpy as np, pairs
    >>> prices = np.log(pairs.load_sample("binance_1d")[["BTC", "ETH"]].dropna())
    >>> res = gregory_hansen(prices["ETH"], prices["BTC"], model="cs")
    >>> bool(res.stat > res.crit_values["5%"]), res.crit_values["5%"]
    (True, -4.95)
    """
    check_choice("model", model, _MODELS)
    cut = check_float("trim", trim, minimum=0.0, maximum=0.5, strict_min=True, strict_max=True)
    ys, xs = align_pair(y, x, allow_frame_x=True, min_length=20)
    check_not_constant("y", ys)
    check_not_constant("x", xs)
    legs = xs if isinstance(xs, pd.DataFrame) else xs.to_frame()
    m = legs.shape[1]
    if m > _MAX_LEGS:
        raise PairsError(f"x must have at most {_MAX_LEGS} columns (tabulated critical values); got {m}.")
    n = len(ys)
    lo = math.floor(cut * n)
    # Each regime needs more bars than its own columns (the "rs" model: 2 + m).
    need = (1 if model in ("c", "ct") else 2 + m) + 2
    if lo < need:
        raise InsufficientDataError(
            f"trim must leave at least {need} observations in each regime; got {lo} of {n} observations."
        )
    lag = resolve_lag_options(max_lag, autolag, n, 0)
    breaks = np.arange(lo, n - lo + 1)
    yv, xv = ys.to_numpy(), legs.to_numpy()
    step = max(1, _CHUNK_VALUES // n)
    parts = [
        adf_batch(_residuals(yv, xv, model, breaks[i : i + step]).T, lag, autolag, "n")
        for i in range(0, breaks.shape[0], step)
    ]
    stat = np.concatenate([p.stat for p in parts])
    best = int(np.argmin(stat))
    lags = int(np.concatenate([p.lags for p in parts])[best])
    nobs = int(np.concatenate([p.n_obs for p in parts])[best])
    levels = ("1%", "5%", "10%")
    return GregoryHansenResult(
        stat=float(stat[best]),
        pvalue=None,
        crit_values=dict(zip(levels, _GH_TABLE[model][m - 1], strict=True)),
        break_date=ys.index[breaks[best]],
        break_index=int(breaks[best]),
        lags=lags,
        n_obs=nobs,
        model=model,
        trim=cut,
        autolag=autolag,
        max_lag=lag,
        stats=pd.Series(stat, index=ys.index[breaks], name="adf"),
    )
