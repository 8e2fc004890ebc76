"""Fast core of the ADF and Engle-Granger tests, shared by every public test and scanner.

The public functions (:func:`pairs.coint.adf`, :func:`pairs.coint._engle_granger`,
:func:`pairs.coint.rolling_coint`, :func:`pairs.coint.breakdown`) and the universe scanner all
run through the numba functions below, which reproduce ``statsmodels.tsa.stattools.adfuller``
and ``coint`` exactly (same samples, same information criteria, same chosen lag; statistics
agree to rounding, about 1e-10).

Kernel API (inputs are trusted: validate at the public boundary)
-----------------------------------------------------------------
``default_max_lag(n_obs, n_trend)``
    Schwert's short rule ``floor(4 * (n_obs / 100) ** 0.25)``, at most ``(n_obs - 20) // 20`` on
    short windows and at most ``n_obs // 2 - n_trend - 1`` (smaller than statsmodels'
    ``ceil(12 * (n_obs / 100) ** 0.25)``, which over-rejects on short windows; see
    docs/statistics.md).
``adf_kernel(x, max_lag, autolag="aic", regression="c") -> AdfOut(stat, lags, n_obs, icbest)``
    ADF statistic of one 1-d float64 series.
``adf_batch(X, max_lag, autolag="aic", regression="c") -> AdfBatch(stat, lags, n_obs, icbest)``
    One ADF per column of ``X`` (``n_obs x n_series``).
``eg_kernel(y, x, max_lag, autolag="aic", trend="c") -> EgOut``
    Engle-Granger of ``y`` on the legs ``x`` (1-d, or 2-d ``n_obs x n_legs``): statistic,
    finite-sample p-value (``N = n_legs + 1``), lag, ADF sample size, icbest, beta, alpha and the
    residual series tested.
``eg_stat_batch(Y, X, max_lag=None, autolag="bic", trend="c") -> EgBatch(stat, pvalue, lags, beta, alpha)``
    Engle-Granger of ``Y[:, j]`` on ``X[:, j]`` for every column ``j`` (``n_obs x n_pairs``),
    in one compiled loop: the universe-scan entry point.

``autolag`` is ``"aic"``, ``"bic"``, ``"t-stat"`` or ``None`` (use ``max_lag`` lags);
``regression``/``trend`` is ``"n"``, ``"c"``, ``"ct"`` or ``"ctt"``.

Algorithm
---------
statsmodels fits one OLS per candidate lag ``0..max_lag`` on the common sample of the largest
lag, picks the lag, then refits that lag on its own (longer) sample. Here the candidate models
are nested column prefixes of one design ``[deterministic, level, lag 1..max_lag]``, so a single
Cholesky factor ``R`` of the augmented cross-product ``[X | y]' [X | y]`` gives every candidate:
with ``z = R[:K, K]``, the residual sum of squares of the first ``k`` columns is
``R[K, K]**2 + sum(z[k:]**2)`` and the t-value of column ``k - 1`` is ``z[k - 1] / s_k``. The
lag-block of the cross-product is Toeplitz-like: its first row costs O(n * max_lag) and every
other entry O(1) by a recurrence along the diagonals, so a test costs O(n * max_lag) instead of
max_lag + 1 least-squares fits. The
deterministic columns are Legendre polynomials of time and, when a constant is present, the
data are centred first: both leave the column space (hence every statistic) unchanged and keep
the cross-product well conditioned.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from pairs._numba_cache import njit
from pairs.coint._critical import df_pvalue

__all__ = [
    "AUTOLAG_CODES",
    "TREND_TERMS",
    "AdfBatch",
    "AdfOut",
    "EgBatch",
    "EgOut",
    "adf_batch",
    "adf_kernel",
    "default_max_lag",
    "eg_kernel",
    "eg_stat_batch",
]

TREND_TERMS: dict[str, int] = {"n": 0, "c": 1, "ct": 2, "ctt": 3}
AUTOLAG_CODES: dict[str | None, int] = {None: 0, "aic": 1, "bic": 2, "t-stat": 3}

# statsmodels' coint declares the pair collinear (stat -inf) when R^2 >= 1 - 100 * sqrt(eps).
_COLLINEAR_R2 = 1.0 - 100.0 * math.sqrt(np.finfo(float).eps)
# statsmodels' _autolag: 5% one-sided normal quantile for the "t-stat" rule.
_TSTAT_STOP = 1.6448536269514722
_LOG_2PI = math.log(2.0 * math.pi)
# A pivot this small relative to the column's squared norm means a (numerically) singular design.
_SINGULAR = 1e-13


class AdfOut(NamedTuple):
    """ADF kernel output for one series."""

    stat: float
    lags: int
    n_obs: int
    icbest: float


class AdfBatch(NamedTuple):
    """ADF kernel output, one entry per series."""

    stat: np.ndarray
    lags: np.ndarray
    n_obs: np.ndarray
    icbest: np.ndarray


class EgOut(NamedTuple):
    """Engle-Granger kernel output for one regression."""

    stat: float
    pvalue: float
    lags: int
    n_obs: int
    icbest: float
    beta: np.ndarray
    alpha: float
    resid: np.ndarray


class EgBatch(NamedTuple):
    """Engle-Granger batch output, one entry per pair."""

    stat: np.ndarray
    pvalue: np.ndarray
    lags: np.ndarray
    beta: np.ndarray
    alpha: np.ndarray


def default_max_lag(n_obs: int, n_trend: int) -> int:
    """Default maximum ADF lag for ``n_obs`` values: with BIC selection it keeps the size near nominal.

    ``min(floor(4 * (n_obs / 100) ** 0.25), (n_obs - 20) // 20, n_obs // 2 - n_trend - 1)``,
    never below 0.
    """
    schwert = math.floor(4.0 * (n_obs / 100.0) ** 0.25)
    return max(0, min(schwert, (n_obs - 20) // 20, n_obs // 2 - n_trend - 1))


@njit(cache=True)
def _legendre(nobs: int, ntrend: int) -> np.ndarray:
    """Deterministic columns spanning {1, t, t^2}[:ntrend], as Legendre polynomials on [-1, 1]."""
    out = np.empty((ntrend, nobs))
    half = (nobs - 1) / 2.0 if nobs > 1 else 1.0
    for r in range(nobs):
        u = (r - (nobs - 1) / 2.0) / half
        if ntrend > 0:
            out[0, r] = 1.0
        if ntrend > 1:
            out[1, r] = u
        if ntrend > 2:
            out[2, r] = 1.5 * u * u - 0.5
    return out


@njit(cache=True)
def _cholesky_upper(g: np.ndarray) -> tuple[np.ndarray, bool]:
    """Upper Cholesky factor of an augmented cross-product ``[X | y]' [X | y]``.

    ``False`` when ``X`` is (numerically) singular. The last pivot is ``sqrt(ssr)`` and may be 0.
    """
    m = g.shape[0]
    r = np.zeros((m, m))
    for j in range(m):
        s = g[j, j]
        for k in range(j):
            s -= r[k, j] * r[k, j]
        if j == m - 1:
            r[j, j] = math.sqrt(s) if s > 0.0 else 0.0
            break
        if s <= _SINGULAR * g[j, j] or s <= 0.0:
            return r, False
        r[j, j] = math.sqrt(s)
        for i in range(j + 1, m):
            t = g[j, i]
            for k in range(j):
                t -= r[k, j] * r[k, i]
            r[j, i] = t / r[j, j]
    return r, True


@njit(cache=True)
def _adf_gram(x: np.ndarray, d: np.ndarray, p: int, ntrend: int, level_last: bool) -> np.ndarray:
    """Cross-product of ``[deterministic, level, lags 1..p, dy]`` on the sample of lag ``p``.

    Rows are ``t = p .. len(d) - 1``: ``dy = d[t]``, level ``x[t]``, lag ``j`` is ``d[t - j]``.
    With ``level_last`` the level column moves after the lags (statsmodels' refit, where the
    statistic is the t-value of the level, read from the last column of the factor).
    """
    big_n = d.shape[0]
    nobs = big_n - p
    k1 = ntrend + p + 2
    g = np.empty((k1, k1))
    pos = np.empty(p + 1, dtype=np.int64)
    pos[0] = k1 - 1
    for j in range(1, p + 1):
        pos[j] = ntrend + j - 1 if level_last else ntrend + j
    lev = ntrend + p if level_last else ntrend

    lag = np.empty((p + 1, p + 1))
    for j in range(p + 1):
        s = 0.0
        for t in range(p, big_n):
            s += d[t] * d[t - j]
        lag[0, j] = s
    for i in range(p):
        for j in range(i, p):
            lag[i + 1, j + 1] = lag[i, j] + d[p - 1 - i] * d[p - 1 - j] - d[big_n - 1 - i] * d[big_n - 1 - j]
    for i in range(p + 1):
        for j in range(i, p + 1):
            g[pos[i], pos[j]] = lag[i, j]
            g[pos[j], pos[i]] = lag[i, j]

    for j in range(p + 1):
        s = 0.0
        for t in range(p, big_n):
            s += x[t] * d[t - j]
        g[lev, pos[j]] = s
        g[pos[j], lev] = s
    s = 0.0
    for t in range(p, big_n):
        s += x[t] * x[t]
    g[lev, lev] = s

    det = _legendre(nobs, ntrend)
    for a in range(ntrend):
        for b in range(a, ntrend):
            s = 0.0
            for r in range(nobs):
                s += det[a, r] * det[b, r]
            g[a, b] = s
            g[b, a] = s
        s = 0.0
        for r in range(nobs):
            s += det[a, r] * x[p + r]
        g[a, lev] = s
        g[lev, a] = s
        for j in range(p + 1):
            s = 0.0
            for r in range(nobs):
                s += det[a, r] * d[p + r - j]
            g[a, pos[j]] = s
            g[pos[j], a] = s
    return g


@njit(cache=True)
def _adf_core(x: np.ndarray, max_lag: int, autolag: int, ntrend: int) -> tuple[float, int, int, float]:
    """ADF of ``x`` as statsmodels ``adfuller``: returns ``(stat, lags, n_obs, icbest)``."""
    n = x.shape[0]
    d = np.empty(n - 1)
    for t in range(n - 1):
        d[t] = x[t + 1] - x[t]
    xs = x.copy()
    if ntrend > 0:
        # A constant is in the model: shifting the level and the differences is absorbed by it.
        xs -= xs.mean()
        d -= d.mean()
    big_n = n - 1
    used = max_lag
    icbest = np.nan
    if autolag > 0:
        g = _adf_gram(xs, d, max_lag, ntrend, np.bool_(False))  # typed: one compilation, not one per literal
        r, ok = _cholesky_upper(g)
        k = ntrend + 1 + max_lag
        if not ok or r[k, k] == 0.0 or big_n - max_lag <= k:
            return np.nan, max_lag, big_n - max_lag, np.nan
        nobs = big_n - max_lag
        ssr = np.empty(k + 1)
        ssr[k] = r[k, k] * r[k, k]
        for j in range(k - 1, -1, -1):
            ssr[j] = ssr[j + 1] + r[j, k] * r[j, k]
        first = ntrend + 1
        if autolag == 3:
            used = max_lag
            for kk in range(k, first - 1, -1):
                tval = abs(r[kk - 1, k]) / math.sqrt(ssr[kk] / (nobs - kk))
                icbest = tval
                used = kk - first
                if tval >= _TSTAT_STOP:
                    break
        else:
            penalty = 2.0 if autolag == 1 else math.log(nobs)
            for kk in range(first, k + 1):
                llf = -0.5 * nobs * (_LOG_2PI + math.log(ssr[kk] / nobs) + 1.0)
                ic = -2.0 * llf + penalty * kk
                if kk == first or ic < icbest:
                    icbest = ic
                    used = kk - first
    g = _adf_gram(xs, d, used, ntrend, np.bool_(True))
    r, ok = _cholesky_upper(g)
    nobs = big_n - used
    k = ntrend + 1 + used
    # statsmodels' lag bound allows zero residual degrees of freedom (no t-value) without a trend.
    if not ok or r[k, k] == 0.0 or nobs <= k:
        return np.nan, used, nobs, icbest
    sigma = math.sqrt(r[k, k] * r[k, k] / (nobs - k))
    return r[k - 1, k] / sigma, used, nobs, icbest


@njit(cache=True)
def _coint_regression(
    y: np.ndarray, legs: np.ndarray, ntrend: int
) -> tuple[np.ndarray, float, np.ndarray, float]:
    """OLS of ``y`` on ``legs`` (``n_legs x n``) plus deterministic terms.

    Returns ``(beta, alpha, resid, r2)`` where ``alpha`` is the constant as statsmodels reports
    it with a trend ``t = 1..n`` (NaN without a constant) and ``r2`` is centred when a constant
    is present, uncentred otherwise. A constant leg gives NaN ``beta``; a constant ``y`` gives
    NaN ``r2`` (centring leaves rounding noise, so both are checked on the raw values).
    """
    k_legs, n = legs.shape
    k = k_legs + ntrend
    for a in range(k_legs):
        if legs[a].min() == legs[a].max():
            return np.full(k_legs, np.nan), np.nan, np.full(n, np.nan), np.nan
    z = np.empty((k + 1, n))
    ybar = y.mean() if ntrend > 0 else 0.0
    xbar = np.zeros(k_legs)
    for a in range(k_legs):
        if ntrend > 0:
            xbar[a] = legs[a].mean()
        for t in range(n):
            z[a, t] = legs[a, t] - xbar[a]
    # Element by element: a slice assignment compiles numba's shape-error path (seconds, cold).
    trend_cols = _legendre(n, ntrend)
    for a in range(ntrend):
        for t in range(n):
            z[k_legs + a, t] = trend_cols[a, t]
    for t in range(n):
        z[k, t] = y[t] - ybar
    g = np.empty((k + 1, k + 1))
    for a in range(k + 1):
        for b in range(a, k + 1):
            acc = 0.0
            for t in range(n):
                acc += z[a, t] * z[b, t]
            g[a, b] = acc
            g[b, a] = acc
    r, ok = _cholesky_upper(g)
    coef = np.full(k, np.nan)
    resid = np.full(n, np.nan)
    if not ok:
        return coef[:k_legs].copy(), np.nan, resid, np.nan
    for i in range(k - 1, -1, -1):
        s = r[i, k]
        for j in range(i + 1, k):
            s -= r[i, j] * coef[j]
        coef[i] = s / r[i, i]
    ssr = 0.0
    for t in range(n):
        e = z[k, t]
        for a in range(k):
            e -= z[a, t] * coef[a]
        resid[t] = e
        ssr += e * e
    tss = 0.0
    for t in range(n):
        tss += z[k, t] * z[k, t]
    r2 = 1.0 - ssr / tss if tss > 0.0 and y.min() != y.max() else np.nan
    alpha = np.nan
    if ntrend > 0:
        # Deterministic part at t = 0 in statsmodels' trend 1..n, i.e. u0 on the Legendre scale.
        u0 = -(n + 1.0) / (n - 1.0)
        basis = np.array([1.0, u0, 1.5 * u0 * u0 - 0.5])
        alpha = ybar
        for a in range(k_legs):
            alpha -= xbar[a] * coef[a]
        for b in range(ntrend):
            alpha += coef[k_legs + b] * basis[b]
    return coef[:k_legs].copy(), alpha, resid, r2


@njit(cache=True)
def _eg_core(
    y: np.ndarray, legs: np.ndarray, ntrend: int, max_lag: int, autolag: int
) -> tuple[float, int, int, float, np.ndarray, float, np.ndarray]:
    """Engle-Granger as statsmodels ``coint``: ``(stat, lags, n_obs, icbest, beta, alpha, resid)``."""
    beta, alpha, resid, r2 = _coint_regression(y, legs, ntrend)
    # A singular design or a constant dependent series (possible inside a rolling window) has no
    # test; statsmodels would report -inf (p = 0) for the latter.
    if np.isnan(beta).any() or np.isnan(r2):
        return np.nan, 0, y.shape[0] - 1, np.nan, beta, alpha, resid
    if r2 >= _COLLINEAR_R2:
        return -np.inf, 0, y.shape[0] - 1, np.nan, beta, alpha, resid
    # int(...) keeps numba from compiling a second, literal-argument specialisation.
    stat, used, nobs, icbest = _adf_core(resid, max_lag, autolag, int(0))  # noqa: UP018, RUF046
    return stat, used, nobs, icbest, beta, alpha, resid


@njit(cache=True)
def _adf_batch(xt: np.ndarray, max_lag: int, autolag: int, ntrend: int) -> tuple[np.ndarray, ...]:
    m = xt.shape[0]
    stat = np.empty(m)
    lags = np.empty(m, dtype=np.int64)
    nobs = np.empty(m, dtype=np.int64)
    icbest = np.empty(m)
    for j in range(m):
        stat[j], lags[j], nobs[j], icbest[j] = _adf_core(xt[j], max_lag, autolag, ntrend)
    return stat, lags, nobs, icbest


@njit(cache=True)
def _eg_batch(
    yt: np.ndarray, xt: np.ndarray, ntrend: int, max_lag: int, autolag: int
) -> tuple[np.ndarray, ...]:
    m = yt.shape[0]
    stat = np.empty(m)
    lags = np.empty(m, dtype=np.int64)
    beta = np.empty(m)
    alpha = np.empty(m)
    for j in range(m):
        out = _eg_core(yt[j], xt[j : j + 1], ntrend, max_lag, autolag)
        stat[j], lags[j], beta[j], alpha[j] = out[0], out[1], out[4][0], out[5]
    return stat, lags, beta, alpha


def _pvalues(stats: np.ndarray, trend: str, n_vars: int, n_obs: np.ndarray | int) -> np.ndarray:
    """Finite-sample p-values (:func:`pairs.coint._critical.df_pvalue`) element-wise; NaN stays NaN."""
    stats = np.asarray(stats, dtype=np.float64)
    nobs = np.nan_to_num(np.asarray(n_obs, dtype=np.float64), nan=0.0).astype(np.int64)
    return df_pvalue(stats, trend, n_vars, nobs)


def adf_kernel(x: np.ndarray, max_lag: int, autolag: str | None = "aic", regression: str = "c") -> AdfOut:
    """ADF statistic of one series; see the module docstring.

    Examples
    --------
    >>> import numpy as np, pairs
    >>> btc = np.log(pairs.load_sample("binance_1d")["BTC"].dropna().to_numpy())
    >>> out = adf_kernel(btc, default_max_lag(len(btc), 1), "aic", "c")
    >>> round(out.stat, 4), out.lags, out.n_obs
    (-1.2138, 2, 3062)
    """
    # Writable C arrays (a copy of pandas' read-only views): one compiled signature per kernel.
    stat, lags, nobs, icbest = _adf_core(
        np.require(x, np.float64, ["C", "W"]),
        int(max_lag),
        AUTOLAG_CODES[autolag],
        TREND_TERMS[regression],
    )
    return AdfOut(float(stat), int(lags), int(nobs), float(icbest))


def adf_batch(X: np.ndarray, max_lag: int, autolag: str | None = "aic", regression: str = "c") -> AdfBatch:
    """ADF statistics of every column of ``X`` (``n_obs x n_series``); see the module docstring."""
    xt = np.ascontiguousarray(np.asarray(X, dtype=np.float64).T)
    return AdfBatch(*_adf_batch(xt, int(max_lag), AUTOLAG_CODES[autolag], TREND_TERMS[regression]))


def eg_kernel(
    y: np.ndarray, x: np.ndarray, max_lag: int, autolag: str | None = "aic", trend: str = "c"
) -> EgOut:
    """Engle-Granger test of ``y`` on the legs ``x``; see the module docstring."""
    legs = np.asarray(x, dtype=np.float64)
    legs = np.require(legs[None, :] if legs.ndim == 1 else legs.T, np.float64, ["C", "W"])
    stat, lags, nobs, icbest, beta, alpha, resid = _eg_core(
        np.require(y, np.float64, ["C", "W"]),
        legs,
        TREND_TERMS[trend],
        int(max_lag),
        AUTOLAG_CODES[autolag],
    )
    pvalue = float(_pvalues(np.array([stat]), trend, legs.shape[0] + 1, nobs)[0])
    return EgOut(float(stat), pvalue, int(lags), int(nobs), float(icbest), beta, float(alpha), resid)


def eg_stat_batch(
    Y: np.ndarray,
    X: np.ndarray,
    max_lag: int | None = None,
    autolag: str | None = "bic",
    trend: str = "c",
) -> EgBatch:
    """Engle-Granger of ``Y[:, j]`` on ``X[:, j]`` for every pair ``j``; see the module docstring.

    Examples
    --------
    >>> import numpy as np, pairs
    >>> logp = np.log(pairs.load_sample("binance_1d")[["BTC", "ETH", "LTC"]].dropna().to_numpy())
    >>> out = eg_stat_batch(logp[:, [1, 2]], logp[:, [0, 0]])
    >>> out.pvalue.round(3), out.lags
    (array([0.762, 0.038]), array([0, 1]))
    """
    yt = np.ascontiguousarray(np.asarray(Y, dtype=np.float64).T)
    xt = np.ascontiguousarray(np.asarray(X, dtype=np.float64).T)
    lag = default_max_lag(yt.shape[1], 0) if max_lag is None else int(max_lag)
    stat, lags, beta, alpha = _eg_batch(yt, xt, TREND_TERMS[trend], lag, AUTOLAG_CODES[autolag])
    return EgBatch(stat, _pvalues(stat, trend, 2, yt.shape[1] - 1 - lags), lags, beta, alpha)


@njit(cache=True)
def _rolling_eg(
    y: np.ndarray, x: np.ndarray, window: int, step: int, ntrend: int, max_lag: int, autolag: int
) -> tuple[np.ndarray, ...]:
    """Engle-Granger on ``[e - window + 1, e]`` for ends ``e = window - 1, window - 1 + step, ...``."""
    n = y.shape[0]
    stat = np.full(n, np.nan)
    lags = np.full(n, np.nan)
    beta = np.full(n, np.nan)
    alpha = np.full(n, np.nan)
    legs = np.empty((1, window))
    for end in range(window - 1, n, step):
        start = end - window + 1
        legs[0, :] = x[start : end + 1]
        out = _eg_core(y[start : end + 1].copy(), legs, ntrend, max_lag, autolag)
        stat[end], lags[end], beta[end], alpha[end] = out[0], out[1], out[4][0], out[5]
    return stat, lags, beta, alpha


@njit(cache=True)
def _rolling_adf_spread(
    y: np.ndarray, x: np.ndarray, window: int, step: int, ntrend: int, max_lag: int, autolag: int
) -> tuple[np.ndarray, ...]:
    """ADF of ``y - beta * x`` on each window, ``beta`` fitted (with a constant) on the window before."""
    n = y.shape[0]
    stat = np.full(n, np.nan)
    lags = np.full(n, np.nan)
    beta = np.full(n, np.nan)
    alpha = np.full(n, np.nan)
    legs = np.empty((1, window))
    for end in range(2 * window - 1, n, step):
        start = end - window + 1
        legs[0, :] = x[start - window : start]
        b, a, _, _ = _coint_regression(y[start - window : start].copy(), legs, int(1))  # noqa: UP018, RUF046
        if np.isnan(b[0]):
            continue
        spread = y[start : end + 1] - b[0] * x[start : end + 1]
        out = _adf_core(spread, max_lag, autolag, ntrend)
        stat[end], lags[end], beta[end], alpha[end] = out[0], out[1], b[0], a
    return stat, lags, beta, alpha


@njit(cache=True)
def _spread_cusum(
    y: np.ndarray, x: np.ndarray, window: int, drift: float, threshold: float
) -> tuple[np.ndarray, ...]:
    """Two-sided Page CUSUM of standardised one-step spread innovations.

    At bar ``t`` the hedge (OLS with a constant) and an AR(1) of its spread are fitted on the
    previous ``window`` bars only; the innovation is ``(s_t - c - phi * s_{t-1}) / sigma``.
    Accumulators reset after an alarm (``+1`` upper, ``-1`` lower).
    """
    n = y.shape[0]
    innov = np.full(n, np.nan)
    upper = np.full(n, np.nan)
    lower = np.full(n, np.nan)
    alarm = np.zeros(n, dtype=np.int8)
    legs = np.empty((1, window))
    cpos = 0.0
    cneg = 0.0
    for t in range(window, n):
        legs[0, :] = x[t - window : t]
        b, a, s, r2 = _coint_regression(y[t - window : t].copy(), legs, int(1))  # noqa: UP018, RUF046
        e = np.nan
        if not (np.isnan(b[0]) or np.isnan(r2)):
            m = window - 1
            mx = s[:-1].mean()
            my = s[1:].mean()
            sxx = 0.0
            sxy = 0.0
            for i in range(m):
                sxx += (s[i] - mx) ** 2
                sxy += (s[i] - mx) * (s[i + 1] - my)
            if sxx > 0.0:
                phi = sxy / sxx
                c = my - phi * mx
                ssr = 0.0
                for i in range(m):
                    ssr += (s[i + 1] - c - phi * s[i]) ** 2
                if ssr > 0.0:
                    now = y[t] - a - b[0] * x[t]
                    e = (now - c - phi * s[m]) / math.sqrt(ssr / (m - 2))
        if not np.isnan(e):
            cpos = max(0.0, cpos + e - drift)
            cneg = max(0.0, cneg - e - drift)
            innov[t] = e
        upper[t] = cpos
        lower[t] = cneg
        if cpos > threshold:
            alarm[t] = 1
        elif cneg > threshold:
            alarm[t] = -1
        if alarm[t] != 0:
            cpos = 0.0
            cneg = 0.0
    return innov, upper, lower, alarm
