"""Mean-reversion diagnostics of one series: ADF test, half-life, Hurst exponent, variance ratio."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
from scipy.special import gammaln, ndtr, ndtri

from pairs._results import ResultMixin
from pairs._typing import ArrayLike1D, HalfLifeMethod
from pairs._validation import as_series, check_choice, check_float, check_int, check_not_constant
from pairs.coint._bootstrap import adf_boot_stats, boot_crit, boot_pvalue, resolve_boot
from pairs.coint._critical import df_crit, df_pvalue
from pairs.coint._kernels import AUTOLAG_CODES, TREND_TERMS, adf_kernel, default_max_lag
from pairs.coint._median_unbiased import median_unbiased_phi
from pairs.data._align import infer_bar
from pairs.exceptions import DataError, InsufficientDataError, PairsError

__all__ = [
    "ADFResult",
    "HalfLifeResult",
    "HurstResult",
    "VarianceRatioResult",
    "adf",
    "half_life",
    "hurst",
    "variance_ratio",
]

Trend = Literal["n", "c", "ct", "ctt"]
Autolag = Literal["aic", "bic", "t-stat"]
_HALF_LIFE_METHODS: tuple[str, ...] = get_args(HalfLifeMethod)
PValueMethod = Literal["surface", "bootstrap"]


def resolve_lag_options(max_lag: Any, autolag: Any, n_obs: int, n_trend: int) -> int:
    """Validate ``autolag``/``max_lag`` for an ADF regression on ``n_obs`` values.

    Returns the maximum lag (:func:`~pairs.coint._kernels.default_max_lag` when ``max_lag`` is None). ``n_trend`` is the
    number of deterministic terms in the ADF regression itself. The bound is statsmodels'
    ``n_obs // 2 - n_trend - 1``, except that it also keeps one residual degree of freedom: without
    deterministic terms and with an even ``n_obs``, statsmodels' largest lag leaves none and its
    statistic is meaningless.
    """
    if autolag is not None:
        check_choice("autolag", autolag, [k for k in AUTOLAG_CODES if k is not None])
    limit = min(n_obs // 2 - n_trend - 1, (n_obs - 3 - n_trend) // 2)
    if limit < 0:
        raise InsufficientDataError(
            f"series must have at least {n_trend + 3} observations for {n_trend} deterministic "
            f"term(s); got {n_obs}."
        )
    if max_lag is None:
        return min(default_max_lag(n_obs, n_trend), limit)
    lag = check_int("max_lag", max_lag, minimum=0)
    if lag > limit:
        raise InsufficientDataError(
            f"max_lag must be <= {limit} for {n_obs} observations and {n_trend} deterministic term(s) "
            f"in the ADF regression; got {lag}."
        )
    return lag


@dataclass(frozen=True, repr=False)
class ADFResult(ResultMixin):
    """Augmented Dickey-Fuller test (null: unit root)."""

    stat: float
    pvalue: float
    crit_values: dict[str, float]
    lags: int
    n_obs: int
    icbest: float | None
    trend: str
    autolag: str | None
    max_lag: int
    pvalue_method: str = "surface"
    n_boot: int | None = None
    seed: int | None = None
    _title = "Augmented Dickey-Fuller test"


def adf(
    series: ArrayLike1D,
    *,
    trend: Trend = "c",
    max_lag: int | None = None,
    autolag: Autolag | None = "bic",
    pvalue: PValueMethod = "surface",
    n_boot: int = 499,
    seed: int = 0,
) -> ADFResult:
    """Augmented Dickey-Fuller unit-root test with finite-sample p-values.

    For a given ``max_lag`` and ``autolag`` the statistic, the lag chosen and ``n_obs`` equal
    ``statsmodels`` ``adfuller``'s. The p-value and critical values come from one simulated
    response surface in the regression's ``n_obs`` (:mod:`pairs.coint._critical`), so the
    statistic at the 5% critical value has p-value 0.05; statsmodels' p-values are asymptotic.
    The defaults (BIC over at most :func:`~pairs.coint._kernels.default_max_lag` lags) keep the
    size at nominal 5% within [0.03, 0.07] for 20 to 500 observations of iid Gaussian
    innovations (docs/statistics.md); under volatility clustering they over-reject (see ``pvalue``).

    Parameters
    ----------
    series
        The series to test (for a spread, use :func:`pairs.coint._engle_granger` instead:
        residuals of an estimated hedge need Engle-Granger critical values).
    trend
        Deterministic terms of the ADF regression: ``"n"``, ``"c"``, ``"ct"`` or ``"ctt"``.
    max_lag
        Largest number of lagged differences. Default ``min(floor(4 * (n / 100) ** 0.25),
        (n - 20) // 20)`` (Schwert's short rule, shorter on short windows; statsmodels uses
        ``ceil(12 * (n / 100) ** 0.25)``, pass it explicitly to reproduce statsmodels), bound
        ``n // 2 - n_trend - 1``, both further capped so the largest candidate keeps a residual
        degree of freedom (this differs from statsmodels only for ``trend="n"`` at an even
        ``n``, where statsmodels' largest lag gives a meaningless statistic).
    autolag
        ``"bic"`` (default), ``"aic"``, ``"t-stat"`` (lag search on a common sample, then
        refit), or ``None`` to use ``max_lag`` lags.
    pvalue
        ``"surface"`` (default): the finite-sample response surface, exact for iid errors.
        ``"bootstrap"``: a sieve wild bootstrap (:mod:`pairs.coint._bootstrap`) that keeps the
        volatility path of the data: under GARCH(1,1)-t(5) innovations its size at 5% stays in
        [0.03, 0.07] at n = 100 and 500, where the surface rejects 8-10% (docs/statistics.md).
        P-value and critical values then come from the ``n_boot`` bootstrap statistics.
    n_boot
        Bootstrap paths (at least 19), with ``pvalue="bootstrap"``.
    seed
        Seed of the bootstrap multipliers (a non-negative integer): the same seed, the same p-value.

    Returns
    -------
    ADFResult
        ``stat``, ``pvalue``, ``crit_values`` (``"1%"``, ``"5%"``, ``"10%"``), the ``lags``
        used, ``n_obs`` of the final regression, ``icbest`` (None without autolag), and the
        p-value method (``n_boot`` and ``seed`` None without the bootstrap).

    Examples
    --------
    >>> import numpy as np, pairs
    >>> btc = np.log(pairs.load_sample("binance_1d")["BTC"].dropna())
    >>> res = adf(btc)
    >>> bool(res.pvalue > 0.10), res.lags
    (True, 0)
    """
    s = as_series(series, "series", min_length=6)
    check_not_constant("series", s)
    check_choice("trend", trend, TREND_TERMS)
    lag = resolve_lag_options(max_lag, autolag, len(s), TREND_TERMS[trend])
    boot = resolve_boot(pvalue, n_boot, seed)
    out = adf_kernel(s.to_numpy(), lag, autolag, trend)
    if boot is None:
        p, crit = float(df_pvalue(out.stat, trend, 1, out.n_obs)), df_crit(trend, 1, out.n_obs)
    else:
        stats = adf_boot_stats(
            s.to_numpy(dtype=np.float64), lag, AUTOLAG_CODES[autolag], TREND_TERMS[trend], *boot
        )
        p, crit = boot_pvalue(out.stat, stats), boot_crit(stats)
    return ADFResult(
        stat=out.stat,
        pvalue=p,
        crit_values=crit,
        lags=out.lags,
        n_obs=out.n_obs,
        icbest=None if autolag is None else out.icbest,
        trend=trend,
        autolag=autolag,
        max_lag=lag,
        pvalue_method=pvalue,
        n_boot=None if boot is None else boot[0],
        seed=None if boot is None else boot[1],
    )


@dataclass(frozen=True, repr=False)
class HalfLifeResult(ResultMixin):
    """Half-life of mean reversion from ``diff(s)_t = lambda_ * s_{t-1} + intercept + e_t``.

    ``lambda_``, ``lambda_se`` and ``intercept`` are the OLS fit. With ``method="ols"``,
    ``bars`` is ``-ln 2 / ln(1 + lambda_)``, ``se`` its delta-method standard error and
    ``ci_lower``/``ci_upper`` the Wald interval of ``lambda_`` at ``ci_level`` mapped through
    the same (monotone) formula; with ``method="median_unbiased"`` they come from the
    median-unbiased AR(1) coefficient and its exact interval (see :func:`half_life`).
    """

    bars: float
    timedelta: pd.Timedelta | None
    lambda_: float
    intercept: float
    n_obs: int
    se: float
    ci_lower: float
    ci_upper: float
    ci_level: float
    lambda_se: float
    method: str = "ols"
    _title = "Half-life of mean reversion"


def _bar_length(index: pd.Index) -> pd.Timedelta | None:
    """Bar length when at least 90% of the spacings equal the most common one, else None."""
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 3:
        return None
    bar = infer_bar(index)
    regular = np.mean(np.asarray(index[1:] - index[:-1]) == bar.to_timedelta64())
    return bar if regular >= 0.9 else None


def _bars(lam: float) -> float:
    """``-ln 2 / ln|1 + lam|``: inf without mean reversion (``|1 + lam| >= 1``), 0 for ``lam = -1``."""
    phi = abs(1.0 + lam)
    if phi >= 1.0:
        return math.inf
    if phi == 0.0:
        return 0.0
    return -math.log(2.0) / math.log(phi)


def half_life(
    spread: ArrayLike1D, *, ci_level: float = 0.95, method: HalfLifeMethod = "ols"
) -> HalfLifeResult:
    """Half-life of mean reversion of a spread, in bars and (for regular time indexes) as time.

    OLS of ``diff(s)_t`` on ``[s_{t-1}, 1]`` gives ``lambda_``, so ``s`` is an AR(1) with
    ``phi = 1 + lambda_``, and a deviation halves after ``-ln(2) / ln(phi)`` bars (exact for
    the AR(1); the first-order ``-ln(2) / lambda_`` overstates it by 38% at one bar). For
    ``-1 < phi < 0`` (overshooting) the formula uses ``|phi|``; ``|phi| >= 1`` (no mean
    reversion) gives ``inf``.

    ``method="ols"`` (default): the half-life of the OLS ``phi``. Uncertainty (both from the
    OLS standard error of ``lambda_``, valid for a stationary spread with iid errors): ``se`` is
    the delta-method standard error ``ln 2 / (phi * ln(phi)**2) * se(lambda_)``; the interval
    ``[ci_lower, ci_upper]`` maps the Wald interval ``lambda_ +- z * se(lambda_)`` through the
    formula, so it is asymmetric like the half-life's distribution and its upper end is ``inf``
    when the interval of ``lambda_`` reaches 0. Near ``phi = 1`` (long half-lives) the OLS
    ``phi`` is biased down, so the half-life is too short, and the interval under-covers (about
    90% at ``phi = 0.98`` on 500 bars for a nominal 95%).

    ``method="median_unbiased"``: Andrews' (1993) median-unbiased ``phi`` and exact interval,
    from the simulated distribution of the OLS ``phi`` under a Gaussian AR(1) with a stationary
    start (10,000 series per point of a 50-point grid of ``phi``, fixed seed, so results are
    deterministic; the first call for a sample length simulates the table, a second or two for
    thousands of bars, later calls reuse it). ``bars`` is then median-unbiased (as likely above
    the true half-life as below) and the 95% interval covers close to 95% near the unit root
    (measured 94-95% at ``phi = 0.98`` on 500 bars and ``phi = 0.99`` on 100 bars, see
    docs/statistics.md); its upper end is ``inf`` when a unit root is not rejected. ``se`` is the
    delta-method one at the median-unbiased ``phi``; ``lambda_``, ``lambda_se`` and
    ``intercept`` stay the OLS fit's.

    Parameters
    ----------
    spread
        The spread (or any series); needs at least 4 values.
    ci_level
        Coverage of the confidence interval, in (0, 1).
    method
        ``"ols"`` or ``"median_unbiased"`` (see above).

    Returns
    -------
    HalfLifeResult
        ``bars``, ``timedelta`` (``bars`` times the bar length when the index is a
        DatetimeIndex whose spacings are at least 90% equal, else None), ``lambda_`` and its
        standard error, the ``intercept``, ``se`` and the interval.

    Examples
    --------
    >>> import numpy as np, pairs
    >>> prices = np.log(pairs.load_sample("binance_1d")[["BTC", "ETH"]].dropna())
    >>> hl = half_life(prices["ETH"] - prices["BTC"])
    >>> hl.bars > 100, hl.timedelta.days > 100, bool(hl.ci_lower < hl.bars < hl.ci_upper)
    (True, True, True)
    >>> recent = (prices["ETH"] - prices["BTC"]).iloc[-500:]  # OLS is biased toward fast reversion
    >>> round(half_life(recent).bars), half_life(recent, method="median_unbiased").bars
    (98, inf)
    """
    level = check_float("ci_level", ci_level, minimum=0.0, maximum=1.0, strict_min=True, strict_max=True)
    check_choice("method", method, _HALF_LIFE_METHODS)
    s = as_series(spread, "spread", min_length=4)
    check_not_constant("spread", s)
    values = s.to_numpy()
    lev = values[:-1]
    dy = np.diff(values)
    centred = lev - lev.mean()
    design = np.column_stack([centred, np.ones(len(lev))])
    coef, *_ = np.linalg.lstsq(design, dy, rcond=None)
    lam = float(coef[0])
    resid = dy - design @ coef
    sxx = float(centred @ centred)
    lam_se = math.sqrt(float(resid @ resid) / (len(dy) - 2) / sxx) if sxx > 0 else math.nan
    if method == "ols":
        lam_point = lam
        z = float(ndtri(0.5 + level / 2.0))
        lam_ends = (lam - z * lam_se, lam + z * lam_se)
    else:
        phi_mu, phi_lo, phi_hi = median_unbiased_phi(1.0 + lam, len(dy), level)
        lam_point, lam_ends = phi_mu - 1.0, (phi_lo - 1.0, phi_hi - 1.0)
    bars = _bars(lam_point)
    phi = abs(1.0 + lam_point)
    if math.isfinite(bars) and bars > 0.0:
        se = math.log(2.0) / (phi * math.log(phi) ** 2) * lam_se
    else:
        se = math.nan
    # The half-life grows with lambda_ on (-1, 0]: the upper end of lambda_ gives the upper end.
    ends = sorted(_bars(max(min(v, 0.0), -1.0)) for v in lam_ends)
    bar = _bar_length(s.index)
    delta = bar * bars if bar is not None and math.isfinite(bars) else None
    return HalfLifeResult(
        bars=bars,
        timedelta=delta,
        lambda_=lam,
        intercept=float(coef[1] - lam * lev.mean()),
        n_obs=len(dy),
        se=se,
        ci_lower=ends[0],
        ci_upper=ends[1],
        ci_level=level,
        lambda_se=lam_se,
        method=method,
    )


@dataclass(frozen=True, repr=False)
class HurstResult(ResultMixin):
    """Hurst exponent from a log-log fit of ``fluctuation`` (mean R/S or variance) on ``scales``."""

    hurst: float
    method: str
    scales: np.ndarray
    fluctuation: np.ndarray
    intercept: float
    n_obs: int
    _title = "Hurst exponent"


def _scales(lo: int, hi: int, count: int = 20) -> np.ndarray:
    return np.unique(np.floor(np.geomspace(lo, hi, count)).astype(np.int64))


def _expected_rs(size: int) -> float:
    """Anis-Lloyd expected R/S of ``size`` iid normal values, with Peters' (n - 1/2)/n factor."""
    i = np.arange(1, size)
    log_ratio = gammaln((size - 1) / 2) - gammaln(size / 2) - 0.5 * math.log(math.pi)
    return (size - 0.5) / size * math.exp(log_ratio) * float(np.sum(np.sqrt((size - i) / i)))


def _rescaled_range(increments: np.ndarray, scales: np.ndarray) -> np.ndarray:
    out = np.empty(len(scales))
    for i, size in enumerate(scales):
        chunks = increments[: (len(increments) // size) * size].reshape(-1, size)
        dev = chunks - chunks.mean(axis=1, keepdims=True)
        walk = np.cumsum(dev, axis=1)
        spread = walk.max(axis=1) - walk.min(axis=1)
        std = dev.std(axis=1)
        ok = std > 0
        out[i] = np.mean(spread[ok] / std[ok]) if ok.any() else np.nan
    return out


def hurst(
    series: ArrayLike1D,
    *,
    method: Literal["rs", "variance"] = "rs",
    min_scale: int = 8,
    max_scale: int | None = None,
) -> HurstResult:
    """Hurst exponent of a level series (prices or a spread): 0.5 random walk, < 0.5 mean reverting.

    Two estimators, each a log-log OLS slope over about 20 geometric scales in
    ``[min_scale, max_scale]``:

    * ``"rs"``: rescaled range of the increments, cut into non-overlapping blocks of ``scale``
      values, ``E[R/S] ~ scale ** H``, with the Anis-Lloyd-Peters small-sample correction:
      ``H = 0.5 + slope(log(R/S) - log(E_iid[R/S]))``, which removes the upward bias of the
      classical estimator in short blocks.
    * ``"variance"``: variance of the ``scale``-bar changes, ``Var(x_{t+s} - x_t) ~ s ** (2H)``,
      so ``H`` is half the slope.

    Both are noisy: for a 2000-bar random walk the standard deviation is about 0.02 (``"rs"``)
    and 0.03 (``"variance"``).

    Parameters
    ----------
    series
        Levels (not returns), at least 50 values.
    method
        ``"rs"`` or ``"variance"``.
    min_scale, max_scale
        Range of block sizes (``"rs"``) or lags (``"variance"``); ``max_scale`` defaults to
        ``n // 4`` for ``"rs"`` and ``max(n // 20, 10)`` for ``"variance"`` (long lags of an
        overlapping, demeaned variance are biased down).

    Returns
    -------
    HurstResult
        ``hurst``, the ``scales`` and ``fluctuation`` (mean R/S or variance) used in the fit.

    Examples
    --------
    >>> import numpy as np, pairs
    >>> btc = np.log(pairs.load_sample("binance_1d")["BTC"].dropna())
    >>> 0.4 < hurst(btc).hurst < 0.7
    True
    """
    check_choice("method", method, ("rs", "variance"))
    s = as_series(series, "series", min_length=50)
    check_not_constant("series", s)
    n = len(s)
    lo = check_int("min_scale", min_scale, minimum=2 if method == "variance" else 4)
    default_hi = n // 4 if method == "rs" else max(n // 20, 10)
    hi = default_hi if max_scale is None else check_int("max_scale", max_scale, maximum=n // 2)
    if hi <= lo:
        raise PairsError(f"max_scale must be > min_scale ({lo}) and <= n_obs // 2; got {hi}.")
    scales = _scales(lo, hi)
    values = s.to_numpy()
    if method == "rs":
        fluct = _rescaled_range(np.diff(values), scales)
        baseline = np.array([_expected_rs(int(size)) for size in scales])
    else:
        fluct = np.array([np.var(values[k:] - values[:-k]) for k in scales])
        baseline = np.ones(len(scales))
    ok = np.isfinite(fluct) & (fluct > 0)
    if ok.sum() < 3:
        raise InsufficientDataError(f"series must vary at 3 or more scales; got {int(ok.sum())}.")
    slope, intercept = np.polyfit(np.log(scales[ok]), np.log(fluct[ok] / baseline[ok]), 1)
    h = 0.5 + slope if method == "rs" else slope / 2.0
    return HurstResult(
        hurst=float(h), method=method, scales=scales, fluctuation=fluct, intercept=float(intercept), n_obs=n
    )


@dataclass(frozen=True, repr=False)
class VarianceRatioResult(ResultMixin):
    """Lo-MacKinlay variance-ratio test of a random walk."""

    stat: float
    pvalue: float
    vr: float
    lags: int
    n_obs: int
    trend: str
    overlap: bool
    robust: bool
    debiased: bool
    _title = "Variance-ratio test (null: random walk)"


def variance_ratio(
    series: ArrayLike1D,
    lags: int = 2,
    *,
    trend: Literal["n", "c"] = "c",
    overlap: bool = True,
    robust: bool = True,
    debiased: bool = True,
) -> VarianceRatioResult:
    """Lo-MacKinlay variance-ratio test, identical to ``arch.unitroot.VarianceRatio``.

    ``vr`` is the variance of ``lags``-bar changes over ``lags`` times the 1-bar variance:
    below 1 means mean reversion, above 1 momentum. The statistic is asymptotically normal
    under a random walk; the p-value is two-sided.

    Parameters
    ----------
    series
        Levels (e.g. log prices or a spread).
    lags
        Horizon of the long difference, at least 2.
    trend
        ``"c"`` allows a drift, ``"n"`` assumes mean-zero increments.
    overlap
        Use all overlapping ``lags``-bar changes; otherwise non-overlapping blocks, dropping the
        last ``(n - 1) % lags`` values.
    robust
        Heteroskedasticity-robust variance (overlap only), as arch.
    debiased
        Small-sample bias corrections (overlap only), as arch.

    Examples
    --------
    >>> import numpy as np, pairs
    >>> btc = np.log(pairs.load_sample("binance_1d")["BTC"].dropna())
    >>> res = variance_ratio(btc, 5)
    >>> bool(res.pvalue > 0.05), round(res.vr, 2)
    (True, 0.98)
    """
    q = check_int("lags", lags, minimum=2)
    check_choice("trend", trend, ("n", "c"))
    for name, flag in (("overlap", overlap), ("robust", robust), ("debiased", debiased)):
        if not isinstance(flag, (bool, np.bool_)):
            raise PairsError(f"{name} must be a bool; got {flag!r}.")
    need = q + 1 + int(debiased) if overlap else 2 * q
    s = as_series(series, "series", min_length=max(need, 3))
    check_not_constant("series", s)
    y = s.to_numpy()
    if not overlap and (len(y) - 1) % q:
        y = y[: len(y) - (len(y) - 1) % q]
    mu = (y[-1] - y[0]) / (len(y) - 1) if trend == "c" else 0.0
    dy = np.diff(y)
    nq = len(dy)
    sigma2_1 = np.sum((dy - mu) ** 2) / nq
    # A straight line has increments equal to their mean: the ratio would be 0/0.
    if not sigma2_1 > 1e-12 * np.mean(dy**2):
        raise DataError("series must have increments that vary; got a straight line.")
    if overlap:
        dq = y[q:] - y[:-q]
        sigma2_q = np.sum((dq - q * mu) ** 2) / (nq * q)
        if debiased:
            sigma2_1 *= nq / (nq - 1)
            sigma2_q *= (nq * q) / (q * (nq - q + 1) * (1 - q / nq))
        if robust:
            z2 = (dy - mu) ** 2
            scale = np.sum(z2) ** 2
            variance = sum(4 * (1 - k / q) ** 2 * nq * (z2[k:] @ z2[:-k]) / scale for k in range(1, q))
        else:
            variance = 2 * (2 * q - 1) * (q - 1) / (3 * q)
    else:
        dq = y[q::q] - y[:-q:q]
        sigma2_q = np.sum((dq - q * mu) ** 2) / nq
        variance = 2.0 * (q - 1)
    vr = float(sigma2_q / sigma2_1)
    stat = float(math.sqrt(nq) * (vr - 1) / math.sqrt(variance))
    return VarianceRatioResult(
        stat=stat,
        pvalue=float(2 - 2 * ndtr(abs(stat))),
        vr=vr,
        lags=q,
        n_obs=len(y),
        trend=trend,
        overlap=bool(overlap),
        robust=bool(robust),
        debiased=bool(debiased),
    )
