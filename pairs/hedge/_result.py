"""Result object shared by the static and moving-window hedge-ratio estimators."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pairs._results import ResultMixin

__all__ = ["STATIC_METHODS", "HedgeResult"]

# Full-sample fits: their coefficients are constants, not time series.
STATIC_METHODS = ("ols", "tls")


def _last_valid(name: str, obj: pd.Series | pd.DataFrame) -> list[tuple[str, Any]]:
    """Rows ``name[last]`` (or ``name[last leg]`` per column) holding the last non-NaN value."""
    columns = (
        [(f"{name}[last]", obj)]
        if isinstance(obj, pd.Series)
        else [(f"{name}[last {col}]", obj[col]) for col in obj.columns]
    )
    rows: list[tuple[str, Any]] = []
    for label, series in columns:
        valid = series.dropna()
        rows.append((label, valid.iloc[-1] if len(valid) else np.nan))
    return rows


@dataclass(frozen=True, repr=False)
class HedgeResult(ResultMixin):
    """A fitted hedge ratio: ``spread = y' - beta * x' - alpha`` on the representation ``on``.

    Attributes
    ----------
    method
        ``"ols"``, ``"tls"``, ``"rolling"``, ``"expanding"`` or ``"ewm"``.
    on
        Representation the regression ran on: ``"levels"`` (prices ``y, x``), ``"diff"``
        (``y_t - y_{t-1}``), ``"returns"`` (``y_t / y_{t-1} - 1``) or ``"log_returns"``.
    beta
        Static fit: a float for a single hedge ``x``, a Series indexed by leg name for a
        DataFrame ``x``. Moving fits: a Series (DataFrame, one column per leg) aligned to
        the input index, NaN during warm-up; the value at ``t`` uses bars up to ``t`` only.
    alpha
        Intercept, same shape as ``beta`` for one leg (``0.0``, or zeros after warm-up,
        without intercept).
    spread
        ``y'_t - beta . x'_t - alpha`` where ``'`` is the representation ``on``, a Series
        aligned to the input index (NaN at the first bar for changes, and during warm-up).
        For moving fits the coefficients of the fit ending at ``t`` are used.
    r_squared
        Centred R-squared with an intercept, uncentred (``1 - SSR / sum(y'^2)``) without,
        as statsmodels reports it; a Series for moving fits.
    n_obs
        Number of usable observations of the representation (input length, minus one for changes).
    params
        Options the estimator ran with (``intercept``, ``window``, ``halflife``...).
    beta_se, alpha_se
        Classical (homoskedastic) standard errors of static OLS fits; ``None`` otherwise.
    """

    method: str
    on: str
    beta: float | pd.Series | pd.DataFrame
    alpha: float | pd.Series
    spread: pd.Series
    r_squared: float | pd.Series
    n_obs: int
    params: dict[str, Any] = field(default_factory=dict)
    beta_se: float | pd.Series | None = None
    alpha_se: float | None = None

    _title = "Hedge ratio"

    @property
    def beta_tstat(self) -> float | pd.Series | None:
        """``beta / beta_se`` (``None`` when no standard error is available)."""
        if self.beta_se is None:
            return None
        return self.beta / self.beta_se  # type: ignore[operator,return-value]

    @property
    def alpha_tstat(self) -> float | None:
        """``alpha / alpha_se`` (``None`` when no standard error is available)."""
        if self.alpha_se is None:
            return None
        return float(self.alpha) / self.alpha_se  # type: ignore[arg-type]

    def _summary_rows(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = [("method", self.method), ("on", self.on), ("n_obs", self.n_obs)]
        rows += [(k, v) for k, v in self.params.items()]
        static = self.method in STATIC_METHODS
        for name in ("beta", "alpha", "r_squared"):
            value = getattr(self, name)
            if isinstance(value, pd.Series) and static:
                rows += [(f"{name}[{k}]", v) for k, v in value.items()]
            elif isinstance(value, (pd.Series, pd.DataFrame)):
                rows += _last_valid(name, value)
            else:
                rows.append((name, value))
        if self.beta_se is not None:
            se = self.beta_se
            items = se.items() if isinstance(se, pd.Series) else [("", se)]
            tstat = self.beta_tstat
            for key, value in items:
                suffix = f"[{key}]" if key != "" else ""
                t = tstat[key] if isinstance(tstat, pd.Series) else tstat
                rows += [(f"beta_se{suffix}", value), (f"beta_tstat{suffix}", t)]
        if self.alpha_se is not None:
            rows += [("alpha_se", self.alpha_se), ("alpha_tstat", self.alpha_tstat)]
        return rows
