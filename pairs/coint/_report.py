"""The cointegration battery of one pair and its verdict: :func:`coint_report`.

One place decides whether a pair is cointegrated, for the CLI (``pairs test``, ``pairs demo``),
the HTML report and notebooks: Engle-Granger in both directions, Johansen's trace and
maximum-eigenvalue tests, and the ADF, half-life and Hurst exponent of the Engle-Granger spread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from pairs._results import ResultMixin, Summary, _fmt, json_safe
from pairs._typing import ArrayLike1D
from pairs._validation import align_pair, check_choice, check_float, check_int, renamed_attribute
from pairs.coint._engle_granger import EngleGrangerResult, engle_granger
from pairs.coint._johansen import _DET_ORDER_CASE, johansen
from pairs.coint._stationarity import Trend, adf, half_life, hurst
from pairs.exceptions import PairsError

__all__ = ["CointReport", "Verdict", "coint_report"]

Verdict = Literal["cointegrated", "mixed evidence", "not cointegrated"]

# The tabulated sizes: Engle-Granger critical values and Johansen's tables cover these only.
_SIZES = (0.01, 0.05, 0.1)
_EG_COLUMNS = {
    "stat": "ADF stat",
    "pvalue": "p-value",
    "crit": "crit",
    "beta": "beta",
    "alpha": "intercept",
    "lags": "lags",
}
_CASE_LABELS = {
    "n": "no deterministic terms",
    "ci": "restricted constant",
    "co": "constant",
    "li": "restricted trend",
    "lo": "constant and trend",
}
_NOTE = (
    "Engle-Granger and Johansen: null of no cointegration. The spread's ADF p-value uses "
    "Dickey-Fuller tables, too lenient for an estimated spread: rely on Engle-Granger. "
    "Hurst exponent: 0.5 for a random walk, below 0.5 when mean reverting."
)


@dataclass(frozen=True, repr=False, eq=False)
class CointReport(ResultMixin):
    """The cointegration tests of one pair and the verdict they support.

    Attributes
    ----------
    y_name, x_name
        Names of the two series (``"y"``/``"x"`` when unnamed).
    size
        Test size of every decision (0.01, 0.05 or 0.1).
    trend
        Deterministic terms of the Engle-Granger regressions.
    n_obs
        Number of bars tested.
    engle_granger
        One row per direction (index ``"Y ~ X"`` and ``"X ~ Y"``): ``stat``, ``pvalue``,
        ``crit`` (the critical value at ``size``), ``beta``, ``alpha`` (intercept), ``lags``.
    johansen
        One row per null (``"r<=0"``, ``"r<=1"``): ``trace``, ``trace_crit``,
        ``trace_pvalue``, ``max_eig``, ``max_eig_crit``, ``max_eig_pvalue`` (crit at ``size``).
    johansen_rank
        Rank from the trace test at ``size``.
    johansen_beta
        Hedge ratio of y on x from Johansen's leading eigenvector.
    deterministic, k_ar_diff
        Johansen options (default ``"li"``: a trend restricted to the relation and an
        unrestricted constant, whose size does not depend on the prices' drift).
    spread_beta, spread_alpha
        The Engle-Granger y ~ x regression; the spread is ``y - spread_alpha - spread_beta * x``.
    adf_stat, adf_pvalue, adf_lags
        ADF test of that spread (Dickey-Fuller p-value, lenient for an estimated spread).
    half_life_bars, half_life
        Half-life of mean reversion of the spread in bars, and as time (None without a regular
        DatetimeIndex or without mean reversion).
    hurst
        Hurst exponent of the spread.
    cointegrated
        True when both Engle-Granger directions reject at ``size`` and the Johansen rank is at
        least 1.
    verdict
        ``"cointegrated"`` (all tests agree), ``"mixed evidence"`` (some reject) or
        ``"not cointegrated"`` (none rejects).
    n_screened
        Number of pairs screened to choose this one, when it was (None otherwise).
    caveat
        The multiple-testing caveat when ``n_screened > 1``, else None.
    """

    y_name: str
    x_name: str
    size: float
    trend: str
    n_obs: int
    engle_granger: pd.DataFrame
    johansen: pd.DataFrame
    johansen_rank: int
    johansen_beta: float
    deterministic: str
    k_ar_diff: int
    spread_beta: float
    spread_alpha: float
    adf_stat: float
    adf_pvalue: float
    adf_lags: int
    half_life_bars: float
    half_life: pd.Timedelta | None
    hurst: float
    cointegrated: bool
    verdict: Verdict
    n_screened: int | None
    caveat: str | None
    _title = "Cointegration tests"
    # Former attribute: statsmodels' det_order code of the Johansen case (None: it has none).
    det_order = renamed_attribute(
        "deterministic", "det_order", {case: code for code, case in _DET_ORDER_CASE.items()}.get
    )

    def _summary_rows(self) -> list[tuple[str, Any]]:
        fwd, rev = self.engle_granger["pvalue"].items()
        return [
            ("verdict", self.verdict),
            (f"Engle-Granger p-value, {fwd[0]}", fwd[1]),
            (f"Engle-Granger p-value, {rev[0]}", rev[1]),
            (f"Johansen rank at {self.size:.0%}", self.johansen_rank),
            ("spread half-life", self.half_life_text),
            ("spread Hurst exponent", self.hurst),
            *([("caveat", self.caveat)] if self.caveat else []),
        ]

    @property
    def headline(self) -> str:
        """One sentence: the verdict at ``size`` and the p-values behind it."""
        ps = ", ".join(f"{p:.3g} ({d})" for d, p in self.engle_granger["pvalue"].items())
        return (
            f"{self.y_name} / {self.x_name}: {self.verdict} at {self.size:.0%} "
            f"(Engle-Granger p = {ps}; Johansen rank {self.johansen_rank})."
        )

    @property
    def spread_definition(self) -> str:
        """The tested spread as a formula of the two names."""
        sign = "-" if self.spread_alpha >= 0 else "+"
        return (
            f"{self.y_name} - {_fmt(self.spread_beta)} * {self.x_name} {sign} {_fmt(abs(self.spread_alpha))}"
        )

    @property
    def half_life_text(self) -> str:
        """The half-life in bars and, when known, in days (``"inf"``: no mean reversion)."""
        if not math.isfinite(self.half_life_bars):
            return "inf (no mean reversion)"
        text = f"{self.half_life_bars:.3g} bars"
        if self.half_life is not None:
            text += f" = {self.half_life / pd.Timedelta(days=1):.3g} days"
        return text

    def tables(self) -> list[tuple[str, pd.DataFrame]]:
        """``(caption, table)`` pairs with human column labels (for the CLI and the HTML report)."""
        crit = f"{self.size:.0%} crit"
        eg = self.engle_granger.rename(columns={**_EG_COLUMNS, "crit": f"{self.size:.0%} critical value"})
        eg.index.name = "regression"
        jo = self.johansen.rename(
            columns={
                "trace": "trace stat",
                "trace_crit": f"trace {crit}",
                "trace_pvalue": "trace p",
                "max_eig": "max-eig stat",
                "max_eig_crit": f"max-eig {crit}",
                "max_eig_pvalue": "max-eig p",
            },
            index={"r<=0": "rank 0 (none)", "r<=1": "rank <= 1"},
        )
        jo.index.name = "null hypothesis"
        spread = pd.DataFrame(
            {
                "value": [
                    _fmt(self.adf_stat),
                    _fmt(self.adf_pvalue),
                    str(self.adf_lags),
                    self.half_life_text,
                    _fmt(self.hurst),
                ]
            },
            index=pd.Index(
                ["ADF stat", "ADF p-value", "ADF lags", "half-life", "Hurst exponent"], name="statistic"
            ),
        )
        return [
            ("Engle-Granger, both directions", eg),
            (
                f"Johansen ({_CASE_LABELS.get(self.deterministic, self.deterministic)}, "
                f"{self.k_ar_diff} lagged difference(s)): rank "
                f"{self.johansen_rank} at {self.size:.0%}, implied beta {_fmt(self.johansen_beta)}",
                jo,
            ),
            (f"Spread = {self.spread_definition}", spread),
        ]

    def summary(self) -> str:
        """The verdict first, then the three tables and how to read them."""
        parts = [f"Verdict: {self.headline}"]
        if self.caveat:
            parts.append(f"Caveat: {self.caveat}")
        for caption, table in self.tables():
            shown = table.map(lambda v: v if isinstance(v, str) else _fmt(v))
            parts += ["", caption, shown.to_string()]
        parts += ["", _NOTE]
        return Summary("\n".join(parts))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe nested dict (``json.dumps`` works; NaN and inf become None)."""
        out = {
            "y": self.y_name,
            "x": self.x_name,
            "size": self.size,
            "trend": self.trend,
            "n_obs": self.n_obs,
            "engle_granger": [
                {"direction": d, **row} for d, row in self.engle_granger.to_dict("index").items()
            ],
            "johansen": {
                "deterministic": self.deterministic,
                "k_ar_diff": self.k_ar_diff,
                "rank": self.johansen_rank,
                "beta": self.johansen_beta,
                "tests": [{"null": n, **row} for n, row in self.johansen.to_dict("index").items()],
            },
            "spread": {
                "definition": self.spread_definition,
                "beta": self.spread_beta,
                "alpha": self.spread_alpha,
                "adf_stat": self.adf_stat,
                "adf_pvalue": self.adf_pvalue,
                "adf_lags": self.adf_lags,
                "half_life_bars": self.half_life_bars,
                "half_life_days": None if self.half_life is None else self.half_life / pd.Timedelta(days=1),
                "hurst": self.hurst,
            },
            "cointegrated": self.cointegrated,
            "verdict": self.verdict,
            "headline": self.headline,
            "n_screened": self.n_screened,
            "caveat": self.caveat,
        }
        return json_safe(out)  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"CointReport({self.headline!r})"


def _crit_column(columns: pd.Index, size: float) -> str:
    # Johansen's tables are keyed by size ("5%") or by confidence level ("95%").
    key = f"{size:.0%}"
    return key if key in columns else f"{1 - size:.0%}"


def _caveat(n_screened: int, size: float, worst_p: float) -> str:
    adjusted = min(1.0, n_screened * worst_p)
    survives = "survives" if adjusted < size else "does not survive"
    return (
        f"this pair was chosen from {n_screened} screened pairs, and these single-pair p-values are not "
        f"corrected for that choice: about {n_screened * size:.3g} pairs pass at {size:.0%} by chance "
        f"alone. The larger Engle-Granger p-value {survives} a Bonferroni correction "
        f"(min(1, {n_screened} x {worst_p:.3g}) = {adjusted:.3g})."
    )


def coint_report(
    y: ArrayLike1D,
    x: ArrayLike1D,
    *,
    size: float = 0.05,
    trend: Trend = "c",
    k_ar_diff: int = 1,
    n_screened: int | None = None,
) -> CointReport:
    """Test a pair for cointegration with every test of :mod:`pairs.coint`, and conclude.

    Runs :func:`engle_granger` in both directions (y ~ x and x ~ y), :func:`johansen` (its
    default ``"li"`` case, ``k_ar_diff`` lagged differences), and :func:`adf`, :func:`half_life` and
    :func:`hurst` on the Engle-Granger spread ``y - alpha - beta * x``. The pair is
    ``"cointegrated"`` when both Engle-Granger directions and the Johansen trace test reject
    "no cointegration" at ``size``, ``"not cointegrated"`` when none does, and ``"mixed
    evidence"`` otherwise.

    Parameters
    ----------
    y, x
        The two (usually log) price series on one index, no NaN.
    size
        Test size: 0.01, 0.05 or 0.1 (the tabulated critical values).
    trend
        Deterministic terms of the Engle-Granger regressions: ``"n"``, ``"c"``, ``"ct"``, ``"ctt"``.
    k_ar_diff
        Lagged differences of Johansen's VECM.
    n_screened
        When the pair was picked from a screen of this many pairs, the report carries a
        multiple-testing caveat (its p-values are single-pair p-values).

    Returns
    -------
    CointReport
        The tables, the verdict, ``summary()`` and ``to_dict()``.

    Examples
    --------
    >>> import numpy as np, pairs
    >>> prices = np.log(pairs.load_sample("binance_1d")[["ETH", "BTC"]].dropna())
    >>> report = coint_report(prices["ETH"], prices["BTC"])
    >>> report.verdict, report.cointegrated
    ('not cointegrated', False)
    """
    level = check_float("size", size)
    if not any(abs(level - s) < 1e-12 for s in _SIZES):
        raise PairsError(f"size must be one of 0.01, 0.05, 0.1; got {size!r}.")
    level = next(s for s in _SIZES if abs(level - s) < 1e-12)
    check_choice("trend", trend, ("n", "c", "ct", "ctt"))
    lags = check_int("k_ar_diff", k_ar_diff, minimum=0)
    screened = None if n_screened is None else check_int("n_screened", n_screened, minimum=1)
    ys, x_series = align_pair(y, x, min_length=20)
    xs = cast(pd.Series, x_series)
    yn, xn = str(ys.name), str(xs.name)
    if yn == xn:
        yn, xn = f"{yn} (y)", f"{xn} (x)"

    eg = engle_granger(ys, xs, direction="both", trend=trend)
    # direction="both" always fills forward (y ~ x) and reverse (x ~ y).
    fwd, rev = cast(EngleGrangerResult, eg.forward), cast(EngleGrangerResult, eg.reverse)
    key = f"{level:.0%}"
    eg_table = pd.DataFrame(
        [
            [sub.stat, sub.pvalue, sub.crit_values[key], float(sub.beta), sub.alpha, sub.lags]  # type: ignore[arg-type]
            for sub in (fwd, rev)
        ],
        columns=list(_EG_COLUMNS),
        index=pd.Index([f"{yn} ~ {xn}", f"{xn} ~ {yn}"], name="direction"),
    )

    jo = johansen(pd.DataFrame({yn: ys.to_numpy(), xn: xs.to_numpy()}, index=ys.index), k_ar_diff=lags)
    rank = jo.rank(level)
    tcol, mcol = _crit_column(jo.trace_crit.columns, level), _crit_column(jo.max_eig_crit.columns, level)
    jo_table = pd.DataFrame(
        {
            "trace": jo.trace_stat,
            "trace_crit": jo.trace_crit[tcol],
            "trace_pvalue": jo.trace_pvalue,
            "max_eig": jo.max_eig_stat,
            "max_eig_crit": jo.max_eig_crit[mcol],
            "max_eig_pvalue": jo.max_eig_pvalue,
        }
    ).astype(float)
    jo_table.index.name = "null"

    spread = fwd.spread
    stationarity = adf(spread)
    hl = half_life(spread)
    pvalues = [fwd.pvalue, rev.pvalue]
    n_reject = sum(p < level for p in pvalues) + (rank >= 1)
    verdict: Verdict = (
        "cointegrated" if n_reject == 3 else "not cointegrated" if n_reject == 0 else "mixed evidence"
    )
    return CointReport(
        y_name=yn,
        x_name=xn,
        size=level,
        trend=trend,
        n_obs=len(ys),
        engle_granger=eg_table,
        johansen=jo_table,
        johansen_rank=rank,
        johansen_beta=-float(jo.hedge_ratios.iloc[1]),
        deterministic=jo.deterministic,
        k_ar_diff=jo.k_ar_diff,
        spread_beta=float(fwd.beta),  # type: ignore[arg-type]
        spread_alpha=float(fwd.alpha),
        adf_stat=stationarity.stat,
        adf_pvalue=stationarity.pvalue,
        adf_lags=stationarity.lags,
        half_life_bars=hl.bars,
        half_life=hl.timedelta,
        hurst=hurst(spread).hurst,
        cointegrated=verdict == "cointegrated",
        verdict=verdict,
        n_screened=screened,
        caveat=None if screened is None or screened < 2 else _caveat(screened, level, float(np.max(pvalues))),
    )
