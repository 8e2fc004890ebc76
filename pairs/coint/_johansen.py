"""Johansen cointegration rank test (trace and maximum-eigenvalue) with the five deterministic cases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from pairs._results import ResultMixin
from pairs._typing import ArrayLike2D
from pairs._validation import (
    as_frame,
    check_choice,
    check_float,
    check_int,
    check_not_constant,
    renamed_option,
)
from pairs.coint._critical import johansen_crit, johansen_pvalue
from pairs.exceptions import DataError, InsufficientDataError, PairsError

__all__ = ["JohansenResult", "johansen"]

Deterministic = Literal["n", "co", "ci", "lo", "li"]
_CASES: tuple[str, ...] = ("n", "co", "ci", "lo", "li")
# statsmodels' coint_johansen det_order: -1 none, 0 unrestricted constant, 1 unrestricted trend.
_DET_ORDER_CASE = {-1: "n", 0: "co", 1: "lo"}
_LEVELS = ("1%", "5%", "10%")
_LEVEL_INDEX = pd.Index(list(_LEVELS), dtype=object)
# The simulated tables cover up to 12 stochastic trends.
_MAX_VARS = 12


@dataclass(frozen=True, repr=False)
class JohansenResult(ResultMixin):
    """Johansen test of the cointegration rank of a VECM.

    Rows ``"r<=i"`` test the null "rank at most i". Critical values have columns ``"1%"``,
    ``"5%"``, ``"10%"`` (test sizes) and come from the same simulated table as the p-values,
    so a statistic equal to the 5% critical value has p-value 0.05 (p-values are not clipped).
    ``hedge_ratios`` is the leading eigenvector (price rows only) scaled so the first column's
    weight is 1: ``prices @ hedge_ratios`` is the most mean-reverting combination, so for two
    legs the hedge ratio of y on x is ``-hedge_ratios.iloc[1]``.
    """

    trace_stat: pd.Series
    max_eig_stat: pd.Series
    trace_crit: pd.DataFrame
    max_eig_crit: pd.DataFrame
    trace_pvalue: pd.Series
    max_eig_pvalue: pd.Series
    eigenvalues: pd.Series
    eigenvectors: pd.DataFrame
    hedge_ratios: pd.Series
    deterministic: str
    det_order: int | None
    k_ar_diff: int
    n_obs: int
    _title = "Johansen cointegration test"

    def _summary_rows(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = [
            ("deterministic", self.deterministic),
            ("k_ar_diff", self.k_ar_diff),
            ("n_obs", self.n_obs),
        ]
        for label in self.trace_stat.index:
            rows += [
                (f"trace[{label}]", self.trace_stat[label]),
                (f"trace_pvalue[{label}]", self.trace_pvalue[label]),
                (f"max_eig[{label}]", self.max_eig_stat[label]),
                (f"max_eig_pvalue[{label}]", self.max_eig_pvalue[label]),
            ]
        rows += [(f"hedge_ratios[{name}]", value) for name, value in self.hedge_ratios.items()]
        rows.append(("rank (trace, 5%)", self.rank()))
        return rows

    def rank(
        self, size: float = 0.05, test: Literal["trace", "max_eig"] = "trace", *, alpha: float | None = None
    ) -> int:
        """Cointegration rank: the first ``r`` whose null "rank <= r" is not rejected at ``size``.

        Parameters
        ----------
        size
            Test size in (0, 1); a null is rejected when its p-value is below ``size`` (for
            0.01, 0.05 and 0.10 this is exactly "statistic above the critical value").
        test
            ``"trace"`` or ``"max_eig"``.
        alpha
            Deprecated: the former name of ``size``, accepted with a ``FutureWarning`` until the
            next release.
        """
        check_choice("test", test, ("trace", "max_eig"))
        size = renamed_option("size", size, "alpha", alpha, 0.05)
        size = check_float("size", size, minimum=0.0, maximum=1.0, strict_min=True, strict_max=True)
        stat, crit, pvalue = (
            (self.trace_stat, self.trace_crit, self.trace_pvalue)
            if test == "trace"
            else (self.max_eig_stat, self.max_eig_crit, self.max_eig_pvalue)
        )
        key = f"{size:.0%}"
        if key in crit.columns and abs(size - float(key[:-1]) / 100) < 1e-12:
            rejected = (stat > crit[key]).to_numpy()
        else:
            rejected = (pvalue < size).to_numpy()
        return int(np.argmin(rejected)) if not rejected.all() else len(rejected)


def _resolve_case(deterministic: Any, det_order: Any) -> tuple[str, int | None]:
    if det_order is not None:
        det = check_int("det_order", det_order, minimum=-1, maximum=1)
        case = _DET_ORDER_CASE[det]
        if deterministic is not None and deterministic != case:
            raise PairsError(
                f"det_order must agree with deterministic ({det} means {case!r}); got "
                f"det_order={det} with deterministic={deterministic!r}."
            )
        return case, det
    if deterministic is None:
        return "li", None
    check_choice("deterministic", deterministic, _CASES)
    inverse = {v: k for k, v in _DET_ORDER_CASE.items()}
    return str(deterministic), inverse.get(str(deterministic))


def _residual(a: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Residuals of the columns of ``a`` on ``z``, by the normal equations (``z`` is well scaled)."""
    if z.shape[1] == 0:
        return a
    return a - z @ np.linalg.solve(z.T @ z, z.T @ a)


def _reduced_rank(levels: np.ndarray, case: str, lags: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Eigenvalues (descending) and eigenvectors (columns, ``beta' S11 beta = I``) of the VECM."""
    n, k = levels.shape
    dx = np.diff(levels, axis=0)
    t_obs = n - 1 - lags
    dep = dx[lags:]
    lev = levels[lags:-1]
    short = [dx[lags - j : n - 1 - j] for j in range(1, lags + 1)]
    # The trend on [0, 1] keeps the normal equations as well conditioned as the differences.
    trend = np.arange(1.0, t_obs + 1.0)[:, None] / t_obs
    ones = np.ones((t_obs, 1))
    if case in ("co", "li"):
        short.append(ones)
    elif case == "lo":
        short += [ones, trend]
    if case == "ci":
        lev = np.hstack([lev, ones])
    elif case == "li":
        lev = np.hstack([lev, trend])
    z = np.hstack(short) if short else np.empty((t_obs, 0))
    both = _residual(np.hstack([dep, lev]), z)
    r0, r1 = both[:, :k], both[:, k:]
    s00 = r0.T @ r0 / t_obs
    s01 = r0.T @ r1 / t_obs
    s11 = r1.T @ r1 / t_obs
    chol = np.linalg.cholesky(s11)
    # L^-1 S10 S00^-1 S01 L^-T with S11 = L L': symmetric, same eigenvalues as S11^-1 S10 S00^-1 S01.
    mat = np.linalg.solve(chol, np.linalg.solve(chol, s01.T @ np.linalg.solve(s00, s01)).T)
    eig, vec = np.linalg.eigh((mat + mat.T) / 2.0)
    order = np.argsort(eig)[::-1]
    beta = np.linalg.solve(chol.T, vec[:, order])
    # statsmodels' sign convention: the first non-zero entry of the eigenvector matrix is positive.
    nonzero = beta.flat[np.flatnonzero(beta.ravel())[:1]]
    if nonzero.size and nonzero[0] < 0:
        beta = -beta
    return np.clip(eig[order][:k], 0.0, 1.0 - 1e-16), beta[:k, :k], t_obs


def johansen(
    prices: ArrayLike2D,
    *,
    det_order: int | None = None,
    k_ar_diff: int = 1,
    deterministic: Deterministic | None = None,
) -> JohansenResult:
    """Johansen trace and maximum-eigenvalue tests of the cointegration rank.

    The VECM is ``dY_t = Pi Y_{t-1} + Gamma_1 dY_{t-1} + ... + Gamma_k dY_{t-k} + D_t + e_t``
    with the deterministic terms ``D_t`` of ``deterministic``, named as in statsmodels' ``VECM``:

    * ``"n"``: none (Johansen's case 1; prices with mean 0 and no drift).
    * ``"ci"``: a constant restricted to the cointegrating relation (case 2): prices without
      drift, a spread with a non-zero mean.
    * ``"co"``: an unrestricted constant (case 3): prices that drift, a spread with a mean.
    * ``"li"`` (default): a linear trend restricted to the cointegrating relation, unrestricted
      constant (case 4): prices with or without drift, a spread with a mean (and possibly a trend).
    * ``"lo"``: an unrestricted constant and linear trend (case 5): quadratic trends in prices.

    ``det_order`` is statsmodels' ``coint_johansen`` argument, kept as a synonym: ``-1`` is
    ``"n"`` and ``0`` is ``"co"`` (statistics identical to ``coint_johansen``), ``1`` is
    ``"lo"`` (``coint_johansen`` detrends the levels over the whole sample and only demeans
    the differences, an approximation of ``"lo"``, so its statistics differ slightly).

    Critical values and p-values come from simulated asymptotic distributions (40,000 draws,
    1,000 observations; see docs/statistics.md): within about 1% of
    MacKinnon-Haug-Michelis (1999) at the 5% level. The statistics of ``"li"`` do not depend on
    the drift of the prices (its constant and restricted trend absorb it), so it is the default: coins drift (drift times ``sqrt(n)`` over the volatility: 0.74 in median on
    the bundled coins, up to 2.3). On independent random walks with such drifts ``"li"``
    rejects 4.7-6.3% at nominal 5% (2 coins with 1 or 2 lagged differences, 3 coins with 1;
    250 and 500 bars), while ``"ci"`` rejects 48-60% at the largest drift and ``"co"`` about 10%
    on driftless prices. Use ``"ci"`` only
    when the prices have no drift.

    Changed after 0.1.0 (issue #26): the default was ``"ci"``; pass ``deterministic="ci"`` for
    the former results.

    Parameters
    ----------
    prices
        DataFrame of 2 to 12 (log) price columns.
    det_order
        -1, 0 or 1 as in statsmodels (see above); None to use ``deterministic``.
    k_ar_diff
        Number of lagged differences in the VECM.
    deterministic
        ``"n"``, ``"co"``, ``"ci"``, ``"lo"`` or ``"li"``; default ``"li"`` (or the case of
        ``det_order`` when given).

    Returns
    -------
    JohansenResult
        Statistics, critical values (columns ``"1%"``, ``"5%"``, ``"10%"``), p-values,
        eigenvalues and eigenvectors (columns ordered by eigenvalue, largest first), the
        normalised ``hedge_ratios`` and :meth:`JohansenResult.rank`.

    Examples
    --------
    >>> import numpy as np, pairs
    >>> prices = np.log(pairs.load_sample("binance_1d")[["BTC", "ETH"]].dropna())
    >>> res = johansen(prices)
    >>> res.deterministic, res.rank(), bool(res.trace_pvalue["r<=0"] > 0.10)
    ('li', 0, True)
    """
    case, det = _resolve_case(deterministic, det_order)
    lags = check_int("k_ar_diff", k_ar_diff, minimum=0)
    frame = as_frame(prices, "prices", min_columns=2)
    k = frame.shape[1]
    if k > _MAX_VARS:
        raise PairsError(f"prices must have at most {_MAX_VARS} columns; got {k}.")
    values = frame.to_numpy(dtype=np.float64)
    if (values.max(axis=0) == values.min(axis=0)).any():
        check_not_constant("prices", frame)  # raises its usual message
    need = (k + 1) * (lags + 1) + 3
    if len(frame) < need:
        raise InsufficientDataError(
            f"prices must have at least {need} rows for {k} columns and k_ar_diff={lags}; got {len(frame)}."
        )
    try:
        eig, vec, t_obs = _reduced_rank(values, case, lags)
    except np.linalg.LinAlgError:
        raise DataError(
            "prices must not have collinear columns (one is a linear combination of the others); "
            "got a singular matrix."
        ) from None
    # Result building is most of the cost on two coins: one Index per axis, arrays not copied.
    ranks = pd.Index([f"r<={i}" for i in range(k)], dtype=object)
    vectors = pd.Index([f"v{i + 1}" for i in range(k)], dtype=object)
    columns = frame.columns
    log1m = np.log1p(-eig)
    trace = -t_obs * np.cumsum(log1m[::-1])[::-1]
    max_eig = -t_obs * log1m
    trends = k - np.arange(k)
    tables = {}
    for test, stats in (("trace", trace), ("maxeig", max_eig)):
        crit = np.array([johansen_crit(test, case, int(m))[::-1] for m in trends])
        pvals = np.array(
            [johansen_pvalue(float(s), test, case, int(m)) for s, m in zip(stats, trends, strict=True)]
        )
        tables[test] = (pd.DataFrame(crit, index=ranks, columns=_LEVEL_INDEX, copy=False), pvals)
    evec = pd.DataFrame(vec, index=columns, columns=vectors, copy=False)
    return JohansenResult(
        trace_stat=pd.Series(trace, index=ranks, name="trace_stat", copy=False),
        max_eig_stat=pd.Series(max_eig, index=ranks, name="max_eig_stat", copy=False),
        trace_crit=tables["trace"][0],
        max_eig_crit=tables["maxeig"][0],
        trace_pvalue=pd.Series(tables["trace"][1], index=ranks, name="trace_pvalue", copy=False),
        max_eig_pvalue=pd.Series(tables["maxeig"][1], index=ranks, name="max_eig_pvalue", copy=False),
        eigenvalues=pd.Series(eig, index=vectors, name="eigenvalue", copy=False),
        eigenvectors=evec,
        hedge_ratios=pd.Series(vec[:, 0] / vec[0, 0], index=columns, name="hedge_ratio", copy=False),
        deterministic=case,
        det_order=det,
        k_ar_diff=lags,
        n_obs=t_obs,
    )
