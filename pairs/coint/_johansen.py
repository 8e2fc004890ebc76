"""Johansen cointegration rank test (trace and maximum-eigenvalue), via statsmodels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from statsmodels.tsa.vector_ar.vecm import coint_johansen

from pairs._results import ResultMixin
from pairs._validation import as_frame, check_choice, check_float, check_int, check_not_constant
from pairs.exceptions import DataError, InsufficientDataError, PairsError

__all__ = ["JohansenResult", "johansen"]

_LEVELS = ("90%", "95%", "99%")
_ALPHAS = {0.10: "90%", 0.05: "95%", 0.01: "99%"}
# Johansen's tables in statsmodels cover up to 12 variables.
_MAX_VARS = 12


def approx_pvalue(stat: float, crit: np.ndarray) -> float:
    """Approximate p-value of ``stat`` from its 90/95/99% critical values.

    ``log(p)`` is interpolated linearly in the statistic between the points
    ``(cv90, log 0.10)``, ``(cv95, log 0.05)``, ``(cv99, log 0.01)``. Outside that range the
    value is bounded: 0.10 means "0.10 or more", 0.01 means "0.01 or less".
    """
    logp = np.interp(stat, crit, np.log([0.10, 0.05, 0.01]))
    return float(np.clip(np.exp(logp), 0.01, 0.10))


@dataclass(frozen=True, repr=False)
class JohansenResult(ResultMixin):
    """Johansen test of the cointegration rank of a VECM.

    Rows ``"r<=i"`` test the null "rank at most i". ``trace_pvalue``/``max_eig_pvalue`` are
    approximate (see :func:`approx_pvalue`) and bounded to ``[0.01, 0.10]``.
    ``hedge_ratios`` is the leading eigenvector scaled so the first column's weight is 1:
    ``prices @ hedge_ratios`` is the most mean-reverting combination, so for two legs the
    hedge ratio of y on x is ``-hedge_ratios.iloc[1]``.
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
    det_order: int
    k_ar_diff: int
    n_obs: int
    _title = "Johansen cointegration test"

    def _summary_rows(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = [("det_order", self.det_order), ("k_ar_diff", self.k_ar_diff)]
        rows.append(("n_obs", self.n_obs))
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

    def rank(self, alpha: float = 0.05, test: Literal["trace", "max_eig"] = "trace") -> int:
        """Cointegration rank: the first ``r`` whose null "rank <= r" is not rejected.

        Parameters
        ----------
        alpha
            Test size: 0.10, 0.05 or 0.01 (the tabulated critical values).
        test
            ``"trace"`` or ``"max_eig"``.
        """
        check_choice("test", test, ("trace", "max_eig"))
        size = check_float("alpha", alpha)
        level = next((v for a, v in _ALPHAS.items() if abs(size - a) < 1e-12), None)
        if level is None:
            raise PairsError(f"alpha must be one of 0.1, 0.05, 0.01; got {alpha!r}.")
        stat, crit = (
            (self.trace_stat, self.trace_crit) if test == "trace" else (self.max_eig_stat, self.max_eig_crit)
        )
        rejected = (stat > crit[level]).to_numpy()
        return int(np.argmin(rejected)) if not rejected.all() else len(rejected)


def johansen(prices: Any, *, det_order: int = 0, k_ar_diff: int = 1) -> JohansenResult:
    """Johansen trace and maximum-eigenvalue tests, from ``statsmodels`` ``coint_johansen``.

    Parameters
    ----------
    prices
        DataFrame of 2 to 12 (log) price columns.
    det_order
        -1 no deterministic terms, 0 a constant, 1 a linear trend (statsmodels' convention).
    k_ar_diff
        Number of lagged differences in the VECM.

    Returns
    -------
    JohansenResult
        Statistics, critical values (columns ``"90%"``, ``"95%"``, ``"99%"``), approximate
        p-values, eigenvalues and eigenvectors (columns ordered by eigenvalue, largest first),
        the normalised ``hedge_ratios`` and :meth:`JohansenResult.rank`.

    Examples
    --------
    >>> import numpy as np, pairs
    >>> prices = np.log(pairs.load_sample("binance_1d")[["BTC", "ETH"]].dropna())
    >>> res = johansen(prices)
    >>> res.rank(), bool(res.trace_stat["r<=0"] < res.trace_crit.loc["r<=0", "90%"])
    (0, True)
    """
    det = check_int("det_order", det_order, minimum=-1, maximum=1)
    lags = check_int("k_ar_diff", k_ar_diff, minimum=0)
    frame = as_frame(prices, "prices", min_columns=2)
    k = frame.shape[1]
    if k > _MAX_VARS:
        raise PairsError(f"prices must have at most {_MAX_VARS} columns; got {k}.")
    check_not_constant("prices", frame)
    need = (k + 1) * (lags + 1) + 3
    if len(frame) < need:
        raise InsufficientDataError(
            f"prices must have at least {need} rows for {k} columns and k_ar_diff={lags}; got {len(frame)}."
        )
    try:
        res = coint_johansen(frame.to_numpy(), det, lags)
    except np.linalg.LinAlgError:
        raise DataError(
            "prices must not have collinear columns (one is a linear combination of the others); "
            "got a singular matrix."
        ) from None
    ranks = [f"r<={i}" for i in range(k)]
    vectors = [f"v{i + 1}" for i in range(k)]
    trace_crit = pd.DataFrame(res.cvt, index=ranks, columns=list(_LEVELS))
    max_crit = pd.DataFrame(res.cvm, index=ranks, columns=list(_LEVELS))
    trace = pd.Series(res.lr1, index=ranks, name="trace_stat")
    max_eig = pd.Series(res.lr2, index=ranks, name="max_eig_stat")
    evec = pd.DataFrame(res.evec, index=frame.columns, columns=vectors)
    return JohansenResult(
        trace_stat=trace,
        max_eig_stat=max_eig,
        trace_crit=trace_crit,
        max_eig_crit=max_crit,
        trace_pvalue=pd.Series(
            [approx_pvalue(s, c) for s, c in zip(res.lr1, res.cvt, strict=True)],
            index=ranks,
            name="trace_pvalue",
        ),
        max_eig_pvalue=pd.Series(
            [approx_pvalue(s, c) for s, c in zip(res.lr2, res.cvm, strict=True)],
            index=ranks,
            name="max_eig_pvalue",
        ),
        eigenvalues=pd.Series(res.eig, index=vectors, name="eigenvalue"),
        eigenvectors=evec,
        hedge_ratios=(evec["v1"] / evec["v1"].iloc[0]).rename("hedge_ratio"),
        det_order=det,
        k_ar_diff=lags,
        n_obs=int(res.rkt.shape[0]),
    )
