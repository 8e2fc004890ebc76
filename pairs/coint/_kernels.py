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
    Engle-Granger of ``Y[:, j]`` on ``X[:, j]`` for every column ``j`` (``n_obs x n_pairs``).
``eg_rows(panel, rows, yi, xi, ntrend, max_lag, autolag, start=None) -> EgRows``
    Engle-Granger of ``panel[yi[k], start[k] + rows]`` on the legs
    ``panel[xi[k, :], start[k] + rows]`` for every ``k``, with the residuals: the one
    implementation of the test that every entry point (``eg_kernel``, ``eg_panel``, the rolling
    test) runs. ``start`` (default 0) slides windows along a panel of two series.
``eg_panel(panel, rows, yi, xi, ntrend, max_lag, autolag, start=None) -> EgPanel``
    ``eg_rows`` over many pairs, in chunks that bound the memory of the residuals, with the
    half-life of each residual instead of the residual: the universe-scan entry point.

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

Compiled code
-------------
Three compiled loops do the work: ``_coint_rows`` (cointegrating regressions), ``_adf_rows``
(ADF tests) and ``_half_lives``; the Engle-Granger steps between them are numpy. (A fourth,
``ar1_ols_slopes``, simulates the table of the median-unbiased half-life.) numba compiles a
kernel together with the code of every kernel it calls, and optimises and generates machine
code for that whole tree again at each level: a compiled Engle-Granger loop over calls of the
regression and of the ADF cost the two trees once more (about 2 s on an empty cache, issue
#15). For the same reason each loop over series is written inside its kernel, not around a
per-series kernel, and numpy calls inside kernels are written as loops (each is one more
compiled function). The loops also take their outputs and work arrays from their Python
callers (``_coint``, ``_adf``), and the regression its Legendre columns as a numpy table
(:func:`_legendre`; the ADF writes those of each lag's sample into a work array): each
allocation compiled inside a kernel costs its allocation and error paths, and a helper kernel
its own compilation (about 1 s of the first run's 9 s of compilation together).
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
    "EgPanel",
    "EgRows",
    "adf_batch",
    "adf_kernel",
    "default_max_lag",
    "eg_kernel",
    "eg_panel",
    "eg_rows",
    "eg_stat_batch",
    "half_lives",
]

TREND_TERMS: dict[str, int] = {"n": 0, "c": 1, "ct": 2, "ctt": 3}
AUTOLAG_CODES: dict[str | None, int] = {None: 0, "aic": 1, "bic": 2, "t-stat": 3}

# statsmodels' coint declares the pair collinear (stat -inf) when R^2 >= 1 - 100 * sqrt(eps).
_COLLINEAR_R2 = 1.0 - 100.0 * math.sqrt(np.finfo(float).eps)
# statsmodels' _autolag: 5% one-sided normal quantile for the "t-stat" rule.
_TSTAT_STOP = 1.6448536269514722
_LOG_2PI = math.log(2.0 * math.pi)
_LN2 = math.log(2.0)
# A pivot this small relative to the column's squared norm means a (numerically) singular design.
_SINGULAR = 1e-13
# Values (2 MB) per matrix of residuals when many regressions run in chunks.
_CHUNK_VALUES = 1 << 18


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


class EgRows(NamedTuple):
    """Engle-Granger of many regressions: one entry (``beta``, ``resid``: one row) per regression."""

    stat: np.ndarray
    lags: np.ndarray
    n_obs: np.ndarray
    icbest: np.ndarray
    beta: np.ndarray
    alpha: np.ndarray
    resid: np.ndarray


class EgPanel(NamedTuple):
    """Engle-Granger of many pairs of a panel, with the half-life of each residual."""

    stat: np.ndarray
    lags: np.ndarray
    n_obs: np.ndarray
    beta: np.ndarray
    alpha: np.ndarray
    half_life: np.ndarray


def default_max_lag(n_obs: int, n_trend: int) -> int:
    """Default maximum ADF lag for ``n_obs`` values: with BIC selection it keeps the size near nominal.

    ``min(floor(4 * (n_obs / 100) ** 0.25), (n_obs - 20) // 20, n_obs // 2 - n_trend - 1)``,
    never below 0.
    """
    schwert = math.floor(4.0 * (n_obs / 100.0) ** 0.25)
    return max(0, min(schwert, (n_obs - 20) // 20, n_obs // 2 - n_trend - 1))


def _legendre(width: int, ntrend: int) -> np.ndarray:
    """Deterministic columns spanning {1, t, t^2}[:ntrend] on ``width`` rows, ``ntrend x width``.

    Legendre polynomials on [-1, 1]: ``1``, ``u``, ``1.5 u^2 - 0.5``. Made in numpy for the
    regression kernels (one compiled function less on a first run); :func:`_adf_rows` writes
    the same numbers itself for each lag's sample.
    """
    out = np.empty((ntrend, width))
    if ntrend > 0:
        out[0] = 1.0
    if ntrend > 1:
        half = (width - 1) / 2.0 if width > 1 else 1.0
        u = (np.arange(width, dtype=np.int64) - (width - 1) / 2.0) / half
        out[1] = u
        if ntrend > 2:
            out[2] = 1.5 * u * u - 0.5
    return out


@njit(cache=True)
def _cholesky_upper(g: np.ndarray, r: np.ndarray, m: int) -> bool:
    """Upper Cholesky factor of the leading ``m x m`` block of an augmented cross-product
    ``[X | y]' [X | y]``, into the upper triangle of ``r``.

    ``False`` when ``X`` is (numerically) singular. The last pivot is ``sqrt(ssr)`` and may be 0.
    """
    for j in range(m):
        s = g[j, j]
        for k in range(j):
            s -= r[k, j] * r[k, j]
        if j == m - 1:
            r[j, j] = math.sqrt(s) if s > 0.0 else 0.0
            break
        if s <= _SINGULAR * g[j, j] or s <= 0.0:
            return False
        r[j, j] = math.sqrt(s)
        for i in range(j + 1, m):
            t = g[j, i]
            for k in range(j):
                t -= r[k, j] * r[k, i]
            r[j, i] = t / r[j, j]
    return True


@njit(cache=True)
def _coint_rows(
    panel: np.ndarray,
    rows: np.ndarray,
    start: np.ndarray,
    yi: np.ndarray,
    xi: np.ndarray,
    trend_cols: np.ndarray,
    beta: np.ndarray,
    alpha: np.ndarray,
    resid: np.ndarray,
    r2: np.ndarray,
    z: np.ndarray,
    xbar: np.ndarray,
    coef: np.ndarray,
    g: np.ndarray,
    r: np.ndarray,
) -> None:
    """OLS of ``y = panel[yi[k], start[k] + rows]`` on ``panel[xi[k, :], start[k] + rows]`` and deterministic terms.

    ``start`` is 0 for the pairs of a scan; it slides a window along two series for a rolling
    test (no copy of each window). ``trend_cols`` holds the deterministic columns
    (:func:`_legendre` of the window length, ``ntrend x len(rows)``). Fills
    ``(beta, alpha, resid, r2)``, one row or entry per ``k`` (``beta`` is
    ``n_regressions x n_legs``; :func:`_coint` allocates them and the work arrays), where ``alpha`` is the constant as statsmodels reports it with
    a trend ``t = 1..n`` (NaN without a constant) and ``r2`` is centred when a constant is
    present, uncentred otherwise. A constant leg gives NaN ``beta``; a constant ``y`` gives NaN
    ``r2`` (centring leaves rounding noise, so both are checked on the raw values).
    """
    m, k_legs = xi.shape
    n = rows.shape[0]
    ntrend = trend_cols.shape[0]
    k = k_legs + ntrend
    # Rows of z: the legs, the deterministic columns, y (raw values first, centred in place).
    for a in range(ntrend):
        for t in range(n):
            z[k_legs + a, t] = trend_cols[a, t]
    for q in range(m):
        # Element by element: fancy indexing, a reshape or a slice assignment each compile more
        # numba code (the last two its shape-error path, seconds on an empty cache).
        for t in range(n):
            z[k, t] = panel[yi[q], start[q] + rows[t]]
            resid[q, t] = np.nan
        alpha[q] = np.nan
        r2[q] = np.nan
        # Constant series are told on the raw values (the loops of numba's mean, written out).
        constant_leg = False
        for a in range(k_legs):
            beta[q, a] = np.nan
            s = 0.0
            varies = False
            for t in range(n):
                v = panel[xi[q, a], start[q] + rows[t]]
                z[a, t] = v
                s += v
                if t > 0 and v != z[a, 0]:
                    varies = True
            xbar[a] = s / n if ntrend > 0 else 0.0
            constant_leg = constant_leg or not varies
        if constant_leg:
            continue
        constant_y = True
        s = 0.0
        for t in range(n):
            s += z[k, t]
            if t > 0 and z[k, t] != z[k, 0]:
                constant_y = False
        ybar = s / n if ntrend > 0 else 0.0
        for a in range(k_legs):
            for t in range(n):
                z[a, t] -= xbar[a]
        for t in range(n):
            z[k, t] -= ybar
        for a in range(k + 1):
            for b in range(a, k + 1):
                acc = 0.0
                for t in range(n):
                    acc += z[a, t] * z[b, t]
                g[a, b] = acc
                g[b, a] = acc
        if not _cholesky_upper(g, r, k + 1):
            continue
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
            resid[q, t] = e
            ssr += e * e
        tss = 0.0
        for t in range(n):
            tss += z[k, t] * z[k, t]
        if tss > 0.0 and not constant_y:
            r2[q] = 1.0 - ssr / tss
        if ntrend > 0:
            # Deterministic part at t = 0 in statsmodels' trend 1..n, i.e. u0 on the Legendre scale.
            u0 = -(n + 1.0) / (n - 1.0)
            const = ybar
            for a in range(k_legs):
                const -= xbar[a] * coef[a]
            for b in range(ntrend):
                const += coef[k_legs + b] * (1.0 if b == 0 else (u0 if b == 1 else 1.5 * u0 * u0 - 0.5))
            alpha[q] = const
        for a in range(k_legs):
            beta[q, a] = coef[a]


def _coint_work(m: int, k_legs: int, n: int, ntrend: int) -> tuple[np.ndarray, ...]:
    """Outputs ``(beta, alpha, resid, r2)`` and work arrays of :func:`_coint_rows`."""
    k = k_legs + ntrend
    out = (np.empty((m, k_legs)), np.empty(m), np.empty((m, n)), np.empty(m))
    work = (
        np.empty((k + 1, n)),
        np.empty(k_legs),
        np.empty(k),
        np.empty((k + 1, k + 1)),
        np.empty((k + 1, k + 1)),
    )
    return out + work


def _coint(
    panel: np.ndarray, rows: np.ndarray, start: np.ndarray, yi: np.ndarray, xi: np.ndarray, ntrend: int
) -> tuple[np.ndarray, ...]:
    """:func:`_coint_rows` with a trend of ``ntrend`` terms: ``(beta, alpha, resid, r2)``."""
    n = rows.shape[0]
    arrays = _coint_work(xi.shape[0], xi.shape[1], n, ntrend)
    _coint_rows(panel, rows, start, yi, xi, _legendre(n, ntrend), *arrays)
    return arrays[:4]


@njit(cache=True)
def _adf_rows(
    xs: np.ndarray,
    max_lag: int,
    autolag: int,
    ntrend: int,
    det: np.ndarray,
    stat: np.ndarray,
    lags: np.ndarray,
    n_obs: np.ndarray,
    icbest: np.ndarray,
    x: np.ndarray,
    d: np.ndarray,
    g: np.ndarray,
    r: np.ndarray,
    lag: np.ndarray,
    pos: np.ndarray,
    ssr: np.ndarray,
) -> None:
    """ADF of each row of ``xs`` as statsmodels ``adfuller`` into ``stat``, ``lags``, ``n_obs``, ``icbest``.

    The other arrays are work space (:func:`_adf` allocates them all).

    Each test runs through one cross-product and one Cholesky factor per pass: the lag
    selection on the common sample of ``max_lag`` (level column first), then the refit of the
    chosen lag on its own sample (level last: the statistic is its t-value). Rows are
    ``t = p .. n - 2`` for lag ``p``: ``dy = d[t]``, level ``x[t]``, lag ``j`` is ``d[t - j]``.
    ``det`` (``ntrend x (n - 1)``) receives the deterministic columns of each pass's sample, the
    numbers of :func:`_legendre` of its size (a table of every lag's columns would take
    ``max_lag`` times the memory of the series).
    """
    m, n = xs.shape
    big_n = n - 1
    for q in range(m):
        # A constant is in the model: shifting the level and the differences is absorbed by it
        # (means as numba's ndarray.mean, the same sequential sums).
        xm = 0.0
        dm = 0.0
        for t in range(n):
            x[t] = xs[q, t]
            xm += x[t]
        for t in range(big_n):
            d[t] = xs[q, t + 1] - xs[q, t]
            dm += d[t]
        if ntrend > 0:
            xm /= n
            dm /= big_n
            for t in range(n):
                x[t] -= xm
            for t in range(big_n):
                d[t] -= dm
        p = max_lag
        ic = np.nan
        select = autolag > 0
        while True:
            nobs = big_n - p
            k1 = ntrend + p + 2
            # Column of dy (last), then of lags 1..p: after the level, or before it in the refit.
            pos[0] = k1 - 1
            for j in range(1, p + 1):
                pos[j] = ntrend + j if select else ntrend + j - 1
            lev = ntrend if select else ntrend + p
            for j in range(p + 1):
                s = 0.0
                for t in range(p, big_n):
                    s += d[t] * d[t - j]
                lag[0, j] = s
            for i in range(p):
                for j in range(i, p):
                    lag[i + 1, j + 1] = (
                        lag[i, j] + d[p - 1 - i] * d[p - 1 - j] - d[big_n - 1 - i] * d[big_n - 1 - j]
                    )
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
            # _legendre(nobs, ntrend), element by element (the same operations, the same bits).
            mid = (nobs - 1) / 2.0
            half = mid if nobs > 1 else 1.0
            for u in range(nobs):
                if ntrend > 0:
                    det[0, u] = 1.0
                if ntrend > 1:
                    v = (u - mid) / half
                    det[1, u] = v
                    if ntrend > 2:
                        det[2, u] = 1.5 * v * v - 0.5
            for a in range(ntrend):
                for b in range(a, ntrend):
                    s = 0.0
                    for u in range(nobs):
                        s += det[a, u] * det[b, u]
                    g[a, b] = s
                    g[b, a] = s
                s = 0.0
                for u in range(nobs):
                    s += det[a, u] * x[p + u]
                g[a, lev] = s
                g[lev, a] = s
                for j in range(p + 1):
                    s = 0.0
                    for u in range(nobs):
                        s += det[a, u] * d[p + u - j]
                    g[a, pos[j]] = s
                    g[pos[j], a] = s
            ok = _cholesky_upper(g, r, k1)
            k = ntrend + 1 + p
            if not select:
                break
            if not ok or r[k, k] == 0.0 or nobs <= k:
                break
            ssr[k] = r[k, k] * r[k, k]
            for j in range(k - 1, -1, -1):
                ssr[j] = ssr[j + 1] + r[j, k] * r[j, k]
            first = ntrend + 1
            if autolag == 3:
                for kk in range(k, first - 1, -1):
                    tval = abs(r[kk - 1, k]) / math.sqrt(ssr[kk] / (nobs - kk))
                    ic = tval
                    p = kk - first
                    if tval >= _TSTAT_STOP:
                        break
            else:
                penalty = 2.0 if autolag == 1 else math.log(nobs)
                for kk in range(first, k + 1):
                    llf = -0.5 * nobs * (_LOG_2PI + math.log(ssr[kk] / nobs) + 1.0)
                    crit = -2.0 * llf + penalty * kk
                    if kk == first or crit < ic:
                        ic = crit
                        p = kk - first
            select = False
        lags[q] = p
        n_obs[q] = nobs
        icbest[q] = ic
        stat[q] = np.nan
        # A singular lag search reports no statistic; statsmodels' lag bound allows zero residual
        # degrees of freedom (no t-value) without a trend.
        if select or not ok or r[k, k] == 0.0 or nobs <= k:
            continue
        stat[q] = r[k - 1, k] / math.sqrt(r[k, k] * r[k, k] / (nobs - k))


def _adf(xs: np.ndarray, max_lag: int, autolag: int, ntrend: int) -> tuple[np.ndarray, ...]:
    """:func:`_adf_rows` of the rows of ``xs``: ``(stat, lags, n_obs, icbest)``."""
    m, n = xs.shape
    det = np.empty((ntrend, n - 1))
    out = (np.empty(m), np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64), np.empty(m))
    size = ntrend + max_lag + 2
    work = (np.empty(n), np.empty(n - 1), np.empty((size, size)), np.empty((size, size)))
    lag_work = (np.empty((max_lag + 1, max_lag + 1)), np.empty(max_lag + 1, dtype=np.int64), np.empty(size))
    _adf_rows(xs, max_lag, autolag, ntrend, det, *out, *work, *lag_work)
    return out


def half_lives(s: np.ndarray) -> np.ndarray:
    """Half-life of each row of ``s``, ``-ln 2 / ln|1 + lambda|`` from the OLS of ``diff`` on ``[lag, 1]``.

    As :func:`pairs.coint.half_life`: ``inf`` when ``|1 + lambda| >= 1``, NaN for a constant row.
    """
    out = np.empty(s.shape[0])
    _half_lives(s, out)
    return out


@njit(cache=True)
def _half_lives(s: np.ndarray, out: np.ndarray) -> None:
    m, big_n = s.shape
    n = big_n - 1
    for q in range(m):
        mean = 0.0
        for t in range(n):
            mean += s[q, t]
        mean /= n
        sxy = 0.0
        sxx = 0.0
        for t in range(n):
            c = s[q, t] - mean
            sxy += c * (s[q, t + 1] - s[q, t])
            sxx += c * c
        if sxx == 0.0:
            out[q] = np.nan
            continue
        phi = abs(1.0 + sxy / sxx)
        out[q] = np.inf if phi >= 1.0 else (0.0 if phi == 0.0 else -_LN2 / math.log(phi))


@njit(cache=True)
def ar1_ols_slopes(phis: np.ndarray, n_obs: int, reps: int, rng: np.random.Generator) -> np.ndarray:
    """OLS slope of ``y_t`` on ``[1, y_{t-1}]`` (``n_obs`` regression rows) of simulated AR(1) series.

    Row ``g`` holds ``reps`` slopes for ``phi = phis[g]``: Gaussian innovations, ``y_0`` from the
    stationary distribution (0 at ``phi = 1``, where the intercept makes the start irrelevant).
    Series ``i`` uses the same innovations (drawn from ``rng``) for every ``phi``, so each
    quantile is a smooth function of ``phi``.
    """
    n_phi = phis.shape[0]
    out = np.empty((n_phi, reps))
    start = np.empty(n_phi)
    for g in range(n_phi):
        start[g] = 1.0 / math.sqrt(1.0 - phis[g] * phis[g]) if phis[g] < 1.0 else 0.0
    y = np.empty(n_phi)
    sx = np.empty(n_phi)
    sy = np.empty(n_phi)
    sxx = np.empty(n_phi)
    sxy = np.empty(n_phi)
    for i in range(reps):
        e = rng.standard_normal(n_obs + 1)
        for g in range(n_phi):
            y[g] = e[0] * start[g]
            sx[g] = sy[g] = sxx[g] = sxy[g] = 0.0
        # The inner loop runs across phi (independent chains), which the compiler vectorises.
        for t in range(1, n_obs + 1):
            et = e[t]
            for g in range(n_phi):
                prev = y[g]
                nxt = phis[g] * prev + et
                sx[g] += prev
                sy[g] += nxt
                sxx[g] += prev * prev
                sxy[g] += prev * nxt
                y[g] = nxt
        for g in range(n_phi):
            out[g, i] = (sxy[g] - sx[g] * sy[g] / n_obs) / (sxx[g] - sx[g] * sx[g] / n_obs)
    return out


def _pvalues(stats: np.ndarray, trend: str, n_vars: int, n_obs: np.ndarray | int) -> np.ndarray:
    """Finite-sample p-values (:func:`pairs.coint._critical.df_pvalue`) element-wise; NaN stays NaN."""
    stats = np.asarray(stats, dtype=np.float64)
    nobs = np.nan_to_num(np.asarray(n_obs, dtype=np.float64), nan=0.0).astype(np.int64)
    return df_pvalue(stats, trend, n_vars, nobs)


def _c_array(a: np.ndarray) -> np.ndarray:
    # Writable C arrays (a copy of pandas' read-only views only when needed): one compiled
    # signature per kernel.
    return np.require(a, np.float64, ["C", "W"])


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
    stat, lags, nobs, icbest = _adf(
        _c_array(x)[None, :], int(max_lag), AUTOLAG_CODES[autolag], TREND_TERMS[regression]
    )
    return AdfOut(float(stat[0]), int(lags[0]), int(nobs[0]), float(icbest[0]))


def adf_batch(X: np.ndarray, max_lag: int, autolag: str | None = "aic", regression: str = "c") -> AdfBatch:
    """ADF statistics of every column of ``X`` (``n_obs x n_series``); see the module docstring."""
    xt = _c_array(np.asarray(X, dtype=np.float64).T)
    return AdfBatch(*_adf(xt, int(max_lag), AUTOLAG_CODES[autolag], TREND_TERMS[regression]))


def eg_rows(
    panel: np.ndarray,
    rows: np.ndarray,
    yi: np.ndarray,
    xi: np.ndarray,
    ntrend: int,
    max_lag: int,
    autolag: int,
    start: np.ndarray | None = None,
) -> EgRows:
    """Engle-Granger of ``panel[yi[k], rows]`` on ``panel[xi[k, :], rows]`` as statsmodels ``coint``, each ``k``.

    ``panel`` is a writable C-contiguous float64 ``(n_series, n_bars)`` array, ``rows`` the bars
    used (int64), ``xi`` a ``(n_regressions, n_legs)`` int64 array; ``ntrend`` and ``autolag``
    are codes (:data:`TREND_TERMS`, :data:`AUTOLAG_CODES`); ``start`` (int64, default 0) shifts
    the rows of each regression. The ADF of the residual has no deterministic terms. A constant
    leg, a singular design or a constant dependent series (possible inside a rolling window)
    has no test (NaN, lag 0); statsmodels would report ``-inf`` (p = 0) for the last. A perfect
    fit (R^2 at statsmodels' collinearity bound) is ``-inf``, as statsmodels reports it.
    """
    if start is None:
        start = np.zeros(yi.shape[0], dtype=np.int64)
    beta, alpha, resid, r2 = _coint(panel, rows, start, yi, xi, ntrend)
    # Every residual is tested and the degenerate ones (rare) are overwritten: cheaper than a
    # copy of the others (a NaN residual runs through the ADF as NaN).
    stat, lags, nobs, icbest = _adf(resid, max_lag, autolag, 0)
    singular = np.isnan(r2) | np.isnan(beta).any(axis=1)
    untested = singular | (r2 >= _COLLINEAR_R2)
    if untested.any():
        stat[untested] = np.where(singular[untested], np.nan, -np.inf)
        lags[untested] = 0
        nobs[untested] = resid.shape[1] - 1
        icbest[untested] = np.nan
    return EgRows(stat, lags, nobs, icbest, beta, alpha, resid)


def eg_panel(
    panel: np.ndarray,
    rows: np.ndarray,
    yi: np.ndarray,
    xi: np.ndarray,
    ntrend: int,
    max_lag: int,
    autolag: int,
    start: np.ndarray | None = None,
) -> EgPanel:
    """:func:`eg_rows` of many pairs, in chunks of about 2 MB of residuals, with their half-lives."""
    m = yi.shape[0]
    if start is None:
        start = np.zeros(m, dtype=np.int64)
    step = max(1, _CHUNK_VALUES // max(1, rows.shape[0]))
    parts = []
    for lo in range(0, max(m, 1), step):
        part = slice(lo, lo + step)
        out = eg_rows(panel, rows, yi[part], xi[part], ntrend, max_lag, autolag, start[part])
        parts.append((out.stat, out.lags, out.n_obs, out.beta, out.alpha, half_lives(out.resid)))
    if len(parts) == 1:
        return EgPanel(*parts[0])
    return EgPanel(*(np.concatenate(column) for column in zip(*parts, strict=True)))


def eg_kernel(
    y: np.ndarray, x: np.ndarray, max_lag: int, autolag: str | None = "aic", trend: str = "c"
) -> EgOut:
    """Engle-Granger test of ``y`` on the legs ``x``; see the module docstring."""
    legs = np.asarray(x, dtype=np.float64)
    legs = legs[None, :] if legs.ndim == 1 else legs.T
    # One pair of a panel [y; legs]: the scan's code path, on a new writable C array.
    panel = np.vstack([np.asarray(y, dtype=np.float64)[None, :], legs])
    n_vars, n = panel.shape
    out = eg_rows(
        panel,
        np.arange(n, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
        np.arange(1, n_vars, dtype=np.int64)[None, :],
        TREND_TERMS[trend],
        int(max_lag),
        AUTOLAG_CODES[autolag],
    )
    pvalue = float(_pvalues(out.stat, trend, n_vars, out.n_obs)[0])
    return EgOut(
        float(out.stat[0]),
        pvalue,
        int(out.lags[0]),
        int(out.n_obs[0]),
        float(out.icbest[0]),
        out.beta[0],
        float(out.alpha[0]),
        out.resid[0],
    )


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
    yt = np.asarray(Y, dtype=np.float64).T
    m, n = yt.shape
    panel = np.vstack([yt, np.asarray(X, dtype=np.float64).T])
    lag = default_max_lag(n, 0) if max_lag is None else int(max_lag)
    pairs = np.arange(m, dtype=np.int64)
    out = eg_panel(
        panel,
        np.arange(n, dtype=np.int64),
        pairs,
        (pairs + m)[:, None],
        TREND_TERMS[trend],
        lag,
        AUTOLAG_CODES[autolag],
    )
    return EgBatch(out.stat, _pvalues(out.stat, trend, 2, out.n_obs), out.lags, out.beta[:, 0], out.alpha)


def _rolling_pairs(y: np.ndarray, x: np.ndarray, m: int) -> tuple[np.ndarray, ...]:
    """The panel ``[y; x]`` and ``m`` pairs ``(yi, xi)`` of it (row 0 on row 1), windows picked by ``start``."""
    panel = np.vstack([np.asarray(y, dtype=np.float64), np.asarray(x, dtype=np.float64)])
    return panel, np.zeros(m, dtype=np.int64), np.ones((m, 1), dtype=np.int64)


def _rolling_eg(
    y: np.ndarray, x: np.ndarray, window: int, step: int, ntrend: int, max_lag: int, autolag: int
) -> tuple[np.ndarray, ...]:
    """Engle-Granger on ``[e - window + 1, e]`` for ends ``e = window - 1, window - 1 + step, ...``."""
    n = y.shape[0]
    stat, lags, beta, alpha = (np.full(n, np.nan) for _ in range(4))
    ends = np.arange(window - 1, n, step, dtype=np.int64)
    panel, yi, xi = _rolling_pairs(y, x, len(ends))
    rows = np.arange(window, dtype=np.int64)
    out = eg_panel(panel, rows, yi, xi, ntrend, max_lag, autolag, ends - window + 1)
    stat[ends], lags[ends], beta[ends], alpha[ends] = out.stat, out.lags, out.beta[:, 0], out.alpha
    return stat, lags, beta, alpha


def _rolling_adf_spread(
    y: np.ndarray, x: np.ndarray, window: int, step: int, ntrend: int, max_lag: int, autolag: int
) -> tuple[np.ndarray, ...]:
    """ADF of ``y - beta * x`` on each window, ``beta`` fitted (with a constant) on the window before."""
    n = y.shape[0]
    stat, lags, beta, alpha = (np.full(n, np.nan) for _ in range(4))
    every_end = np.arange(2 * window - 1, n, step, dtype=np.int64)
    size = max(1, _CHUNK_VALUES // window)
    panel, yi, xi = _rolling_pairs(y, x, min(size, len(every_end)))
    rows = np.arange(window, dtype=np.int64)
    windows = np.lib.stride_tricks.sliding_window_view
    for lo in range(0, len(every_end), size):
        ends = every_end[lo : lo + size]
        m = len(ends)
        b, a, _, _ = _coint(panel, rows, ends - 2 * window + 1, yi[:m], xi[:m], 1)
        fitted = ~np.isnan(b[:, 0])
        ends, b, a = ends[fitted], b[fitted, 0], a[fitted]
        if len(ends):
            first = ends - window + 1
            hedge = windows(panel[1], window)[first]
            hedge *= b[:, None]
            spread = windows(panel[0], window)[first]
            spread -= hedge
            stat[ends], lags[ends], _, _ = _adf(spread, max_lag, autolag, ntrend)
            beta[ends], alpha[ends] = b, a
    return stat, lags, beta, alpha


def _spread_cusum(
    y: np.ndarray, x: np.ndarray, window: int, drift: float, threshold: float
) -> tuple[np.ndarray, ...]:
    """Two-sided Page CUSUM of standardised one-step spread innovations (:func:`_cusum_rows`)."""
    trend_cols = _legendre(window, 1)
    return _cusum_rows(y, x, window, drift, threshold, trend_cols, *_coint_work(1, 1, window, 1))


@njit(cache=True)
def _cusum_rows(
    y: np.ndarray,
    x: np.ndarray,
    window: int,
    drift: float,
    threshold: float,
    trend_cols: np.ndarray,
    b: np.ndarray,
    a: np.ndarray,
    resid: np.ndarray,
    r2: np.ndarray,
    z: np.ndarray,
    xbar: np.ndarray,
    coef: np.ndarray,
    g: np.ndarray,
    r: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Two-sided Page CUSUM of standardised one-step spread innovations.

    At bar ``t`` the hedge (OLS with a constant) and an AR(1) of its spread are fitted on the
    previous ``window`` bars only; the innovation is ``(s_t - c - phi * s_{t-1}) / sigma``.
    Accumulators reset after an alarm (``+1`` upper, ``-1`` lower). ``trend_cols`` and the
    arrays after it are those of :func:`_coint_rows` for one regression of ``window`` bars.
    """
    n = y.shape[0]
    innov = np.full(n, np.nan)
    upper = np.full(n, np.nan)
    lower = np.full(n, np.nan)
    alarm = np.zeros(n, dtype=np.int8)
    panel = np.empty((2, n))
    for t in range(n):
        panel[0, t] = y[t]
        panel[1, t] = x[t]
    rows = np.arange(window)
    start = np.zeros(1, dtype=np.int64)
    yi = np.zeros(1, dtype=np.int64)
    xi = np.ones((1, 1), dtype=np.int64)
    cpos = 0.0
    cneg = 0.0
    for t in range(window, n):
        # The previous ``window`` bars.
        start[0] = t - window
        _coint_rows(panel, rows, start, yi, xi, trend_cols, b, a, resid, r2, z, xbar, coef, g, r)
        s = resid[0]
        e = np.nan
        if not (np.isnan(b[0, 0]) or np.isnan(r2[0])):
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
                    now = y[t] - a[0] - b[0, 0] * x[t]
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
