"""Numba kernels of the hedge estimators: the Kalman filter and rolling/expanding/EWM OLS.

Kalman filter
-------------
The model is a random-walk state ``s_t = (beta_t, alpha_t)`` with transition covariance
``Q`` and the scalar observation ``y_t = beta_t x_t + alpha_t + e_t``, ``Var(e_t) = r``.
The 2x2 algebra is written out in scalars (``P`` is kept as its three distinct entries
``p00, p01, p11``) so one bar costs a few dozen flops and no allocation.

:func:`kalman_step` is the single source of truth: the batch kernels loop over it, and a
streaming engine calls it once per bar, so both produce bit-identical numbers.
Inputs are trusted: validation happens in :mod:`pairs.hedge._kalman`.

Rolling, expanding and EWM OLS
------------------------------
The kernels keep weighted means and *centred* co-moments of ``(x_1..x_k, y)`` and update
them with Welford/West steps (add a bar, remove a bar, decay all weights), so each bar
costs O(k^2) and BTC-sized prices never meet the ``sum(x^2) - n mean^2`` cancellation of
raw sums. Removing bars lets rounding drift accumulate, so a rolling window is recomputed
exactly (two passes) every ``window`` bars: O(n k^2) in total. With several legs the
centred normal equations still square the condition number of co-moving legs, so rolling
fits add one refinement step from the window's data (O(n window k) in total).

The single-hedge case has its own scalar kernel: the generic array version runs several
times slower per bar, and one hedge is what most callers (and the benchmarks) use.
Inputs are trusted: validation happens in :mod:`pairs.hedge.rolling`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pairs._numba_cache import njit

__all__ = [
    "SINGULAR_RTOL",
    "centred_add",
    "centred_remove",
    "kalman_filter",
    "kalman_loglik",
    "kalman_step",
    "moving_ols",
    "rolling_ols_step",
    "window_moments",
]

_LOG_2PI = math.log(2.0 * math.pi)


@njit(cache=True)
def kalman_step(
    beta: float,
    alpha: float,
    p00: float,
    p01: float,
    p11: float,
    y: float,
    x: float,
    q00: float,
    q01: float,
    q11: float,
    r: float,
    first: bool,
) -> tuple[float, float, float, float, float, float, float, float]:
    """Advance the filter by one bar.

    Parameters
    ----------
    beta, alpha, p00, p01, p11
        Filtered state mean and covariance after the previous bar or, when ``first``,
        the prior at this bar.
    y, x
        This bar's observation; NaN in either makes the bar prediction-only.
    q00, q01, q11
        Transition covariance ``Q``.
    r
        Observation variance, > 0.
    first
        True for the first bar of a series: no prediction step (pykalman's convention).

    Returns
    -------
    tuple of float
        ``(beta, alpha, p00, p01, p11, innovation, innovation_var, loglik)``: the filtered
        state after this bar, the one-step-ahead innovation and its variance (NaN on a
        prediction-only bar) and the bar's Gaussian log-likelihood (0 on such a bar).
    """
    if not first:
        p00 += q00
        p01 += q01
        p11 += q11
    if math.isnan(y) or math.isnan(x):
        return beta, alpha, p00, p01, p11, math.nan, math.nan, 0.0
    # g = P H' with H = [x, 1]; s = H P H' + r
    g0 = p00 * x + p01
    g1 = p01 * x + p11
    s = x * g0 + g1 + r
    e = y - (beta * x + alpha)
    k0 = g0 / s
    k1 = g1 / s
    beta += k0 * e
    alpha += k1 * e
    # Joseph-free form P - K H P, as pykalman, so the two agree to rounding.
    p00 -= k0 * g0
    p01 -= k0 * g1
    p11 -= k1 * g1
    loglik = -0.5 * (_LOG_2PI + math.log(s) + e * e / s)
    return beta, alpha, p00, p01, p11, e, s, loglik


def kalman_filter(
    y: np.ndarray,
    x: np.ndarray,
    beta0: float,
    alpha0: float,
    p00: float,
    p01: float,
    p11: float,
    q00: float,
    q01: float,
    q11: float,
    r: float,
) -> tuple[np.ndarray, float, float, float, float]:
    """Run the filter over a series from the prior ``(beta0, alpha0, P0)`` at the first bar.

    Returns ``(paths, loglik, p00, p01, p11)``: ``paths`` is a ``(6, n)`` array of the filtered
    ``beta``, ``alpha``, the ``spread`` ``y - beta x - alpha``, the innovation, its variance
    and the z-score ``innovation / sqrt(innovation_var)`` (one block, so the caller slices six
    views out of one allocation), then the total log-likelihood and the final state covariance.
    The block is allocated here: an allocation compiled into the loop costs compilation time.
    """
    paths = np.empty((6, y.shape[0]))
    return (paths, *_kalman_paths(y, x, beta0, alpha0, p00, p01, p11, q00, q01, q11, r, paths))


@njit(cache=True)
def _kalman_paths(
    y: np.ndarray,
    x: np.ndarray,
    beta0: float,
    alpha0: float,
    p00: float,
    p01: float,
    p11: float,
    q00: float,
    q01: float,
    q11: float,
    r: float,
    paths: np.ndarray,
) -> tuple[float, float, float, float]:
    """The loop of :func:`kalman_filter`, into ``paths``: ``(loglik, p00, p01, p11)``."""
    n = y.shape[0]
    beta, alpha = beta0, alpha0
    total = 0.0
    for t in range(n):
        beta, alpha, p00, p01, p11, e, s, ll = kalman_step(
            beta, alpha, p00, p01, p11, y[t], x[t], q00, q01, q11, r, t == 0
        )
        paths[0, t] = beta
        paths[1, t] = alpha
        paths[2, t] = y[t] - beta * x[t] - alpha
        paths[3, t] = e
        paths[4, t] = s
        paths[5, t] = e / math.sqrt(s)
        total += ll
    return total, p00, p01, p11


@njit(cache=True)
def kalman_loglik(
    y: np.ndarray,
    x: np.ndarray,
    beta0: float,
    alpha0: float,
    p00: float,
    p01: float,
    p11: float,
    q00: float,
    q01: float,
    q11: float,
    r: float,
) -> float:
    """Total innovation log-likelihood only: the objective of the MLE, without output arrays."""
    beta, alpha = beta0, alpha0
    total = 0.0
    for t in range(y.shape[0]):
        beta, alpha, p00, p01, p11, _, _, ll = kalman_step(
            beta, alpha, p00, p01, p11, y[t], x[t], q00, q01, q11, r, t == 0
        )
        total += ll
    return total


def to_relative(values: Any, ref: float, log: bool) -> Any:
    """Prices (or log prices) relative to the first bar's ``ref`` (see :mod:`pairs.hedge._kalman_units`).

    Plain Python, one definition for both paths: numpy runs it on the batch's arrays, and the
    stream's step compiles it on scalars (inlined), so a replay equals the batch bit for bit.
    """
    return values - ref if log else values / ref


def from_relative(
    beta: Any, alpha: Any, spread: Any, ref_y: float, ref_x: float, log: bool
) -> tuple[Any, Any, Any]:
    """``(beta, alpha, spread)`` of the relative fit in the units of the input (arrays or
    scalars, as :func:`to_relative`)."""
    if log:
        return beta, alpha + ref_y - beta * ref_x, spread
    return beta * (ref_y / ref_x), alpha * ref_y, spread * ref_y


# A pivot this small relative to the leg's raw second moment means the window's legs are
# (numerically) constant or collinear: no unique fit, report NaN.
SINGULAR_RTOL = 1e-13


def moving_ols(
    yt: np.ndarray,
    xt: np.ndarray,
    start: int,
    window: int,
    decay: float,
    min_periods: int,
    intercept: bool,
    refine: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Least squares of ``yt`` on the columns of ``xt`` over samples ending at each ``t >= start``.

    The sample ending at ``t`` holds bars ``max(start, t - window + 1) .. t`` with weight
    ``decay ** (t - s)`` on bar ``s``: ``window >= n`` with ``decay = 1`` is expanding, and
    ``decay < 1`` with an unbounded window is exponential weighting. Bars whose sample has
    fewer than ``min_periods`` observations, or a singular design, are NaN. Returns ``beta``
    (n, k), ``alpha``, ``r_squared`` (centred with an intercept, uncentred without) and
    ``spread = yt - beta . xt - alpha`` (n,). ``refine`` (several legs, unweighted windows)
    adds one O(window) refinement step per bar, so nearly collinear legs keep QR accuracy.

    The dispatch stays in Python so that a single hedge compiles only :func:`_single`: one
    compiled caller of both kernels took about 8 s to compile on first use.
    """
    if xt.shape[1] == 1:
        beta1, alpha, r_squared, spread = _single(yt, xt[:, 0], start, window, decay, min_periods, intercept)
        return beta1.reshape(-1, 1), alpha, r_squared, spread
    return _multi(yt, xt, start, window, decay, min_periods, intercept, refine)


@njit(cache=True, inline="always")
def centred_add(
    weight: float, mx: float, my: float, cxx: float, cxy: float, cyy: float, x: float, y: float
) -> tuple[float, float, float, float, float, float]:
    """Add ``(x, y)`` to the means and centred cross-products of ``weight`` observations (Welford).

    Centred sums keep full precision on BTC-sized prices, where raw sums of squares cancel.
    Shared by the batch kernels here and the streaming rolling hedge (:func:`rolling_ols_step`).
    """
    dx = x - mx
    dy = y - my
    inv = 1.0 / (weight + 1.0)
    mx += dx * inv
    my += dy * inv
    f = weight * inv
    return weight + 1.0, mx, my, cxx + f * dx * dx, cxy + f * dx * dy, cyy + f * dy * dy


@njit(cache=True, inline="always")
def centred_remove(
    weight: float, mx: float, my: float, cxx: float, cxy: float, cyy: float, x: float, y: float
) -> tuple[float, float, float, float, float, float]:
    """Take ``(x, y)`` out of the sums of :func:`centred_add`: Welford's update run backwards."""
    dx = x - mx
    dy = y - my
    inv = 1.0 / (weight - 1.0)
    mx -= dx * inv
    my -= dy * inv
    f = weight * inv
    return weight - 1.0, mx, my, cxx - f * dx * dx, cxy - f * dx * dy, cyy - f * dy * dy


@njit(cache=True, inline="always")
def window_moments(
    xw: np.ndarray, yw: np.ndarray, first: int
) -> tuple[float, float, float, float, float, float]:
    """``(weight, mean_x, mean_y, cxx, cxy, cyy)`` of a whole window in two passes, oldest value
    first: ``xw[first:]``, then ``xw[:first]`` (a ring buffer; ``first=0`` for a plain window).
    The exact refresh that :func:`moments_step` runs every ``window`` bars."""
    n = xw.shape[0]
    sx = 0.0
    sy = 0.0
    for i in range(first, n):
        sx += xw[i]
        sy += yw[i]
    for i in range(first):
        sx += xw[i]
        sy += yw[i]
    mx = sx / n
    my = sy / n
    cxx = cxy = cyy = 0.0
    for i in range(first, n):
        dx = xw[i] - mx
        dy = yw[i] - my
        cxx += dx * dx
        cxy += dx * dy
        cyy += dy * dy
    for i in range(first):
        dx = xw[i] - mx
        dy = yw[i] - my
        cxx += dx * dx
        cxy += dx * dy
        cyy += dy * dy
    return float(n), mx, my, cxx, cxy, cyy


Moments = tuple[float, float, float, float, float, float]
"""``(weight, mean_x, mean_y, cxx, cxy, cyy)``: the state of the single-leg moving OLS."""


@njit(cache=True, inline="always")
def moments_step(
    m: Moments,
    offset: int,
    window: int,
    decay: float,
    xw: np.ndarray,
    yw: np.ndarray,
    first: int,
    x_old: float,
    y_old: float,
    x: float,
    y: float,
) -> Moments:
    """The moving moments ``m`` advanced by bar ``offset`` (0 for the first bar): the one
    recursion of the single-leg moving OLS, batch (:func:`_single`) and stream
    (:func:`rolling_ols_step`).

    ``(x, y)`` enters; ``(x_old, y_old)``, the bar ``window`` bars back, leaves once the window
    is full; then the weights decay. Every ``window`` bars the moments are recomputed from the
    window (``xw``, ``yw`` from ``first`` on, the new bar included), so rounding never
    accumulates.
    """
    if offset >= window and (offset + 1) % window == 0:
        return window_moments(xw, yw, first)
    weight, mx, my, cxx, cxy, cyy = m
    if offset >= window:
        weight, mx, my, cxx, cxy, cyy = centred_remove(weight, mx, my, cxx, cxy, cyy, x_old, y_old)
    if decay != 1.0:
        weight *= decay
        cxx *= decay
        cxy *= decay
        cyy *= decay
    return centred_add(weight, mx, my, cxx, cxy, cyy, x, y)


@njit(cache=True, inline="always")
def moments_fit(m: Moments, intercept: bool) -> tuple[float, float, float]:
    """``(beta, alpha, r_squared)`` of the moments of :func:`moments_step`; NaN for a singular
    window (a constant ``x``). R-squared is centred with an intercept, uncentred without."""
    weight, mx, my, cxx, cxy, cyy = m
    raw = 0.0 if intercept else weight
    sxx = cxx + raw * mx * mx
    if not sxx > SINGULAR_RTOL * (cxx + weight * mx * mx):
        return math.nan, math.nan, math.nan
    sxy = cxy + raw * mx * my
    b = sxy / sxx
    a = my - b * mx if intercept else 0.0
    syy = cyy + raw * my * my
    return b, a, b * sxy / syy if syy > 0.0 else math.nan


@njit(cache=True)
def _single(
    yt: np.ndarray,
    xt: np.ndarray,
    start: int,
    window: int,
    decay: float,
    min_periods: int,
    intercept: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = yt.shape[0]
    # np.empty and a loop: np.full compiles its own overloads (a second np.empty among them).
    # Allocated here, not by the caller: outputs passed in may alias the inputs for LLVM,
    # which then keeps this loop about 1.7x slower.
    beta = np.empty(n)
    alpha = np.empty(n)
    r_squared = np.empty(n)
    spread = np.empty(n)
    for t in range(n):
        beta[t] = alpha[t] = r_squared[t] = spread[t] = np.nan
    m = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    for t in range(start, n):
        offset = t - start
        lo = max(start, t - window + 1)
        old = max(t - window, 0)  # read only once the window is full (offset >= window)
        m = moments_step(
            m, offset, window, decay, xt[lo : t + 1], yt[lo : t + 1], 0, xt[old], yt[old], xt[t], yt[t]
        )
        if offset + 1 < min_periods or window < min_periods:
            continue
        b, a, r2 = moments_fit(m, intercept)
        if math.isnan(b):
            continue
        beta[t] = b
        alpha[t] = a
        spread[t] = yt[t] - b * xt[t] - a
        r_squared[t] = r2
    return beta, alpha, r_squared, spread


@njit(cache=True)
def _load(yt: np.ndarray, xt: np.ndarray, t: int, z: np.ndarray) -> None:
    k = xt.shape[1]
    for i in range(k):
        z[i] = xt[t, i]
    z[k] = yt[t]


@njit(cache=True)
def _update(
    z: np.ndarray, weight: float, sign: float, mean: np.ndarray, com: np.ndarray, d: np.ndarray
) -> float:
    """Add (``sign=1``) or remove (``sign=-1``) a unit-weight bar ``z``; return the new weight."""
    new_weight = weight + sign
    inv = 1.0 / new_weight
    p = z.shape[0]
    for i in range(p):
        d[i] = z[i] - mean[i]
        mean[i] += sign * d[i] * inv
    # (weight / new_weight) d d' keeps com exactly symmetric.
    f = sign * weight * inv
    for i in range(p):
        for j in range(p):
            com[i, j] += f * d[i] * d[j]
    return new_weight


@njit(cache=True)
def _recompute(
    yt: np.ndarray, xt: np.ndarray, lo: int, hi: int, mean: np.ndarray, com: np.ndarray, z: np.ndarray
) -> float:
    p = mean.shape[0]
    mean[:] = 0.0
    com[:, :] = 0.0
    for t in range(lo, hi):
        _load(yt, xt, t, z)
        for i in range(p):
            mean[i] += z[i]
    for i in range(p):
        mean[i] /= hi - lo
    for t in range(lo, hi):
        _load(yt, xt, t, z)
        for i in range(p):
            z[i] -= mean[i]
        for i in range(p):
            for j in range(p):
                com[i, j] += z[i] * z[j]
    return float(hi - lo)


@njit(cache=True)
def _cholesky(a: np.ndarray, scale: np.ndarray) -> bool:
    """Overwrite the lower triangle of SPD ``a`` with its Cholesky factor; False if singular."""
    k = a.shape[0]
    for j in range(k):
        s = a[j, j]
        for m in range(j):
            s -= a[j, m] * a[j, m]
        if not s > SINGULAR_RTOL * scale[j]:
            return False
        a[j, j] = np.sqrt(s)
        for i in range(j + 1, k):
            s = a[i, j]
            for m in range(j):
                s -= a[i, m] * a[j, m]
            a[i, j] = s / a[j, j]
    return True


@njit(cache=True)
def _cholesky_apply(factor: np.ndarray, rhs: np.ndarray, out: np.ndarray) -> None:
    """Solve ``L L' out = rhs`` given the factor ``L`` from :func:`_cholesky`."""
    k = rhs.shape[0]
    for i in range(k):
        s = rhs[i]
        for m in range(i):
            s -= factor[i, m] * out[m]
        out[i] = s / factor[i, i]
    for i in range(k - 1, -1, -1):
        s = out[i]
        for m in range(i + 1, k):
            s -= factor[m, i] * out[m]
        out[i] = s / factor[i, i]


@njit(cache=True)
def _refine(
    yt: np.ndarray,
    xt: np.ndarray,
    lo: int,
    hi: int,
    shift: np.ndarray,
    factor: np.ndarray,
    coef: np.ndarray,
    grad: np.ndarray,
    step: np.ndarray,
) -> None:
    """One step of iterative refinement with residuals computed from the window's data.

    Normal equations lose accuracy like cond(X)^2 when legs co-move; correcting ``coef`` by
    ``(X'X)^{-1} X'(y - X coef)``, with ``X'r`` summed from the data (centred by ``shift``),
    brings the error back to about cond(X) * eps, as a QR solve would give.
    """
    k = coef.shape[0]
    grad[:] = 0.0
    for s in range(lo, hi):
        r = yt[s] - shift[k]
        for i in range(k):
            r -= coef[i] * (xt[s, i] - shift[i])
        for i in range(k):
            grad[i] += (xt[s, i] - shift[i]) * r
    _cholesky_apply(factor, grad, step)
    for i in range(k):
        coef[i] += step[i]


@njit(cache=True)
def _multi(
    yt: np.ndarray,
    xt: np.ndarray,
    start: int,
    window: int,
    decay: float,
    min_periods: int,
    intercept: bool,
    refine: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n, k = xt.shape
    p = k + 1
    beta = np.full((n, k), np.nan)
    alpha = np.full(n, np.nan)
    r_squared = np.full(n, np.nan)
    spread = np.full(n, np.nan)
    mean = np.zeros(p)
    com = np.zeros((p, p))
    z = np.empty(p)
    d = np.empty(p)
    a = np.empty((k, k))
    b = np.empty(k)
    scale = np.empty(k)
    coef = np.empty(k)
    shift = np.empty(p)
    grad = np.empty(k)
    step = np.empty(k)
    weight = 0.0
    for t in range(start, n):
        offset = t - start
        if offset >= window and (offset + 1) % window == 0:
            weight = _recompute(yt, xt, t - window + 1, t + 1, mean, com, z)
        else:
            if offset >= window:
                _load(yt, xt, t - window, z)
                weight = _update(z, weight, -1.0, mean, com, d)
            if decay != 1.0:
                weight *= decay
                com *= decay
            _load(yt, xt, t, z)
            weight = _update(z, weight, 1.0, mean, com, d)
        if min(offset + 1, window) < min_periods:
            continue
        raw = 0.0 if intercept else weight
        for i in range(k):
            for j in range(k):
                a[i, j] = com[i, j] + raw * mean[i] * mean[j]
            b[i] = com[i, k] + raw * mean[i] * mean[k]
            scale[i] = com[i, i] + weight * mean[i] * mean[i]
        if not _cholesky(a, scale):
            continue
        _cholesky_apply(a, b, coef)
        if refine:
            for i in range(p):
                shift[i] = mean[i] if intercept else 0.0
            _refine(yt, xt, max(start, t - window + 1), t + 1, shift, a, coef, grad, step)
        fitted = 0.0
        level = mean[k] if intercept else 0.0
        resid = yt[t]
        for i in range(k):
            fitted += coef[i] * b[i]
            if intercept:
                level -= coef[i] * mean[i]
            resid -= coef[i] * xt[t, i]
            beta[t, i] = coef[i]
        alpha[t] = level
        spread[t] = resid - level
        total = com[k, k] + raw * mean[k] * mean[k]
        if total > 0.0:
            r_squared[t] = fitted / total
    return beta, alpha, r_squared, spread


@njit(cache=True)
def rolling_ols_step(
    stats: np.ndarray, ybuf: np.ndarray, xbuf: np.ndarray, t: int, y: float, x: float
) -> tuple[float, float]:
    """One bar of the rolling OLS of the streaming engine (ring buffers ``ybuf``, ``xbuf``).

    :func:`moments_step` and :func:`moments_fit` as :func:`_single` runs them with start=0,
    decay=1, an intercept and min_periods=window, so a replay reproduces :func:`moving_ols` bit
    for bit.
    """
    window = ybuf.shape[0]
    slot = t % window
    x_old, y_old = xbuf[slot], ybuf[slot]
    ybuf[slot] = y
    xbuf[slot] = x
    m = (stats[0], stats[1], stats[2], stats[3], stats[4], stats[5])
    # The window oldest first starts at the slot after this bar's.
    m = moments_step(m, t, window, 1.0, xbuf, ybuf, (slot + 1) % window, x_old, y_old, x, y)
    stats[0], stats[1], stats[2], stats[3], stats[4], stats[5] = m
    if t + 1 < window:
        return math.nan, math.nan
    beta, alpha, _ = moments_fit(m, True)
    return beta, alpha


@njit(cache=True)
def kalman_smoother(
    y: np.ndarray,
    x: np.ndarray,
    beta0: float,
    alpha0: float,
    p00: float,
    p01: float,
    p11: float,
    q00: float,
    q01: float,
    q11: float,
    r: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Rauch-Tung-Striebel smoother of the random-walk hedge model (pykalman's ``smooth``).

    Returns ``(means, covs, gains, loglik)``: smoothed ``(beta, alpha)`` per bar (``n x 2``),
    smoothed covariances as ``(p00, p01, p11)`` per bar (``n x 3``), the smoother gains
    ``J_t = P_{t|t} P_{t+1|t}^{-1}`` (``n - 1 x 4``, row-major 2x2) and the filter's
    log-likelihood. The forward pass is :func:`kalman_step`, so it is the filter of
    :func:`kalman_filter` exactly.
    """
    n = y.shape[0]
    means = np.empty((n, 2))
    covs = np.empty((n, 3))
    gains = np.zeros((max(n - 1, 0), 4))
    beta, alpha = beta0, alpha0
    total = 0.0
    for t in range(n):
        beta, alpha, p00, p01, p11, _, _, ll = kalman_step(
            beta, alpha, p00, p01, p11, y[t], x[t], q00, q01, q11, r, t == 0
        )
        means[t, 0] = beta
        means[t, 1] = alpha
        covs[t, 0] = p00
        covs[t, 1] = p01
        covs[t, 2] = p11
        total += ll
    for t in range(n - 2, -1, -1):
        f00, f01, f11 = covs[t, 0], covs[t, 1], covs[t, 2]
        # Predicted covariance of bar t + 1 (identity transition) and its inverse.
        a, b, c = f00 + q00, f01 + q01, f11 + q11
        det = a * c - b * b
        i00, i01, i11 = c / det, -b / det, a / det
        j00 = f00 * i00 + f01 * i01
        j01 = f00 * i01 + f01 * i11
        j10 = f01 * i00 + f11 * i01
        j11 = f01 * i01 + f11 * i11
        gains[t, 0], gains[t, 1], gains[t, 2], gains[t, 3] = j00, j01, j10, j11
        d0 = means[t + 1, 0] - means[t, 0]
        d1 = means[t + 1, 1] - means[t, 1]
        means[t, 0] += j00 * d0 + j01 * d1
        means[t, 1] += j10 * d0 + j11 * d1
        # P_s[t] = P_f[t] + J (P_s[t+1] - P_pred[t+1]) J'
        e00 = covs[t + 1, 0] - a
        e01 = covs[t + 1, 1] - b
        e11 = covs[t + 1, 2] - c
        m00 = j00 * e00 + j01 * e01
        m01 = j00 * e01 + j01 * e11
        m10 = j10 * e00 + j11 * e01
        m11 = j10 * e01 + j11 * e11
        covs[t, 0] = f00 + m00 * j00 + m01 * j01
        covs[t, 1] = f01 + m00 * j10 + m01 * j11
        covs[t, 2] = f11 + m10 * j10 + m11 * j11
    return means, covs, gains, total


@njit(cache=True)
def kalman_em_step(
    y: np.ndarray,
    x: np.ndarray,
    beta0: float,
    alpha0: float,
    p00: float,
    p01: float,
    p11: float,
    q00: float,
    q01: float,
    q11: float,
    r: float,
) -> tuple[float, float, float, float, float]:
    """One EM iteration over ``Q`` and ``r`` (pykalman's M-steps): ``(q00, q01, q11, r, loglik)``.

    ``loglik`` is the log-likelihood of the parameters passed in (computed by the E-step's filter).
    """
    n = y.shape[0]
    means, covs, gains, total = kalman_smoother(y, x, beta0, alpha0, p00, p01, p11, q00, q01, q11, r)
    s00 = 0.0
    s01 = 0.0
    s11 = 0.0
    for t in range(n - 1):
        d0 = means[t + 1, 0] - means[t, 0]
        d1 = means[t + 1, 1] - means[t, 1]
        # Cov(s_{t+1}, s_t) = P_s[t+1] J_t'
        c00 = covs[t + 1, 0] * gains[t, 0] + covs[t + 1, 1] * gains[t, 1]
        c01 = covs[t + 1, 0] * gains[t, 2] + covs[t + 1, 1] * gains[t, 3]
        c10 = covs[t + 1, 1] * gains[t, 0] + covs[t + 1, 2] * gains[t, 1]
        c11 = covs[t + 1, 1] * gains[t, 2] + covs[t + 1, 2] * gains[t, 3]
        s00 += d0 * d0 + covs[t, 0] + covs[t + 1, 0] - c00 - c00
        s01 += d0 * d1 + covs[t, 1] + covs[t + 1, 1] - c01 - c10
        s11 += d1 * d1 + covs[t, 2] + covs[t + 1, 2] - c11 - c11
    obs = 0
    rr = 0.0
    for t in range(n):
        if math.isnan(y[t]) or math.isnan(x[t]):
            continue
        e = y[t] - x[t] * means[t, 0] - means[t, 1]
        rr += e * e + x[t] * x[t] * covs[t, 0] + 2.0 * x[t] * covs[t, 1] + covs[t, 2]
        obs += 1
    scale = 1.0 / (n - 1) if n > 1 else 1.0
    return s00 * scale, s01 * scale, s11 * scale, rr / obs if obs > 0 else r, total


@njit(cache=True)
def kalman_em(
    y: np.ndarray,
    x: np.ndarray,
    beta0: float,
    alpha0: float,
    p00: float,
    p01: float,
    p11: float,
    q00: float,
    q01: float,
    q11: float,
    r: float,
    max_iter: int,
    tol: float,
) -> tuple[float, float, float, float, np.ndarray, bool]:
    """EM over ``Q`` and ``r`` until the log-likelihood gains less than ``tol * (1 + |loglik|)``.

    Returns ``(q00, q01, q11, r, loglik_path, converged)``; ``loglik_path[i]`` is the
    log-likelihood before iteration ``i`` (``tol = 0`` runs exactly ``max_iter`` iterations).
    """
    path = np.empty(max_iter)
    converged = False
    done = 0
    for i in range(max_iter):
        q00, q01, q11, r, ll = kalman_em_step(y, x, beta0, alpha0, p00, p01, p11, q00, q01, q11, r)
        path[i] = ll
        done = i + 1
        if tol > 0.0 and i > 0 and abs(ll - path[i - 1]) <= tol * (1.0 + abs(ll)):
            converged = True
            break
    return q00, q01, q11, r, path[:done], converged
