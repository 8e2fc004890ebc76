"""O(1)-per-bar hedge ratios and z-scores behind :class:`pairs.stream._engine.StreamEngine`.

Every class keeps its running statistics in a small ``float64`` vector (plus a ring buffer
for windows) that one ``@njit`` step updates in place, so a bar costs one compiled call.
The steps perform the floating-point operations of the batch kernels they mirror, in the
same order, so replaying a history reproduces the batch numbers:

* :class:`KalmanHedge` calls :func:`~pairs.hedge._kalman.kalman_step`, the kernel that
  :func:`~pairs.hedge._kalman.kalman_hedge` loops over (bit-identical).
* :class:`RollingHedge` is :func:`~pairs.hedge._rolling.rolling_hedge` on levels with an
  intercept and ``min_periods=window``: Welford add/remove updates of centred co-moments
  with the batch kernel's two-pass refresh every ``window`` bars (bit-identical).
* :class:`ExpandingZScore` and :class:`EwmZScore` are ``pairs.trading._zscore`` with
  ``method="expanding"`` / ``"ewm"`` (bit-identical: those recursions are one-pass already).
* :class:`RollingZScore` is ``zscore(method="rolling")``, which recomputes every window in
  two passes. Here Welford add/remove updates on deviations from a recent value, refreshed
  exactly every ``window`` bars, agree to about 1e-13, and an exact change tracker
  reproduces the batch rule "every value in the window equal: NaN".

A refresh is O(window) compiled work once every ``window`` bars: O(1) amortised and well
under a microsecond for windows of a few hundred bars. ``state()`` returns plain Python data
(floats may be NaN) and ``restore(state, where)`` reads it back exactly, raising
:class:`~pairs.exceptions.StateError` naming ``where`` on malformed input; JSON encoding of
non-finite floats is :func:`encode_floats` / :func:`read_float`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pairs.exceptions import StateError
from pairs.hedge._kernels import kalman_step, rolling_ols_step
from pairs.strategy._steps import from_relative
from pairs.stream._state import check_keys, read_float, read_floats, read_int
from pairs.trading._kernels import (
    EWM_START,
    EXPANDING_START,
    ROLLING_START,
    ewm_alpha,
    ewm_z_step,
    expanding_z_step,
    rolling_z_step,
)

__all__ = [
    "EwmZScore",
    "ExpandingZScore",
    "FixedHedge",
    "KalmanHedge",
    "RollingHedge",
    "RollingZScore",
]


def _ring_state(buf: np.ndarray, bars: int) -> list[float]:
    """Buffered values oldest first (the slot of bar ``t`` is ``t % len(buf)``)."""
    window = len(buf)
    if bars < window:
        return buf[:bars].tolist()
    head = bars % window
    return buf[head:].tolist() + buf[:head].tolist()


def _ring_restore(buf: np.ndarray, bars: int, values: list[float]) -> None:
    window = len(buf)
    buf[:] = 0.0
    start = bars - len(values)
    for i, value in enumerate(values):
        buf[(start + i) % window] = value


class _Stats:
    """A statistic held in a ``float64`` vector whose entries are named by ``_names``."""

    __slots__ = ("stats",)
    _names: tuple[str, ...] = ()
    stats: np.ndarray

    def state(self) -> dict[str, Any]:
        return dict(zip(self._names, self.stats.tolist(), strict=True))

    def restore(self, state: dict[str, Any], where: str) -> None:
        check_keys(state, self._names, where)
        self.stats[:] = [read_float(state, name, where) for name in self._names]


class _Windowed(_Stats):
    """A statistic over the last ``window`` bars: adds ring buffers and a bar count."""

    __slots__ = ("bars", "bufs", "window")
    _buffers: tuple[str, ...] = ()

    def __init__(self, window: int) -> None:
        self.window = window
        self.bars = 0
        self.stats = np.zeros(len(self._names))
        self.bufs = [np.zeros(window) for _ in self._buffers]

    def state(self) -> dict[str, Any]:
        out: dict[str, Any] = {"bars": self.bars, **super().state()}
        for name, buf in zip(self._buffers, self.bufs, strict=True):
            out[name] = _ring_state(buf, self.bars)
        return out

    def restore(self, state: dict[str, Any], where: str) -> None:
        check_keys(state, ("bars", *self._names, *self._buffers), where)
        bars = read_int(state, "bars", where)
        kept = min(bars, self.window)
        values = [read_floats(state, name, kept, where) for name in self._buffers]
        super().restore({name: state[name] for name in self._names}, where)
        for buf, vals in zip(self.bufs, values, strict=True):
            _ring_restore(buf, bars, vals)
        self.bars = bars


class RollingHedge(_Windowed):
    """OLS of ``y`` on ``x`` with an intercept over the last ``window`` bars, current bar included.

    ``beta`` and ``alpha`` are NaN for the first ``window - 1`` bars and when the window's
    ``x`` is numerically constant.
    """

    __slots__ = ()
    _names = ("weight", "mean_x", "mean_y", "cxx", "cxy", "cyy")
    _buffers = ("y", "x")

    def update(self, y: float, x: float) -> tuple[float, float, float, float]:
        """Return ``(beta, alpha, spread, nan)`` after this bar (no innovation z-score)."""
        beta, alpha = rolling_ols_step(self.stats, self.bufs[0], self.bufs[1], self.bars, y, x)
        self.bars += 1
        return beta, alpha, y - beta * x - alpha, math.nan


class RollingZScore(_Windowed):
    """``(s_t - mean) / std`` (``ddof=1``) over the last ``window`` bars, as ``zscore(method="rolling")``.

    NaN values are skipped; the z-score is NaN until the window holds ``window`` observed
    values, at NaN values and when every value in the window is equal.
    """

    __slots__ = ()
    _names = ("ref", "count", "mean", "m2", "last_value", "last_bar", "change_bar", "before_change_bar")
    _buffers = ("values",)

    def __init__(self, window: int) -> None:
        super().__init__(window)
        self.stats[:] = ROLLING_START

    def update(self, value: float) -> float:
        out = rolling_z_step(self.stats, self.bufs[0], self.bars, value, self.window)
        self.bars += 1
        return out


class ExpandingZScore(_Stats):
    """``(s_t - mean) / std`` over every bar so far, as ``zscore(method="expanding")``."""

    __slots__ = ()
    _names = ("ref", "count", "mean", "m2", "same")

    def __init__(self) -> None:
        self.stats = np.array(EXPANDING_START)

    def update(self, value: float) -> float:
        return expanding_z_step(self.stats, value, 2)


class EwmZScore(_Stats):
    """Exponentially weighted z-score with ``halflife`` in bars, as ``zscore(method="ewm")``."""

    __slots__ = ("alpha",)
    _names = ("ref", "mean", "var", "sum_wt", "sum_wt2", "old_wt", "nobs")

    def __init__(self, halflife: float) -> None:
        self.alpha = ewm_alpha(halflife)
        self.stats = np.array(EWM_START)

    def update(self, value: float) -> float:
        return ewm_z_step(self.stats, value, self.alpha, 2)


class KalmanHedge:
    """Kalman filter on prices relative to the first bar (see :mod:`pairs.strategy._steps`).

    Advanced by :func:`kalman_step`, the kernel the batch filter loops over, and mapped back to
    the input's units with the batch's :func:`~pairs.strategy._steps.from_relative`.
    """

    __slots__ = ("alpha", "beta", "first", "log", "p00", "p01", "p11", "q", "r", "ref_x", "ref_y")
    _names = ("beta", "alpha", "p00", "p01", "p11", "ref_y", "ref_x")

    def __init__(self, delta: float, obs_var: float, log: bool) -> None:
        self.q = delta / (1.0 - delta)
        self.r = obs_var
        self.log = log
        self.beta = self.alpha = self.p01 = 0.0
        self.p00 = self.p11 = 1.0
        self.ref_y = self.ref_x = math.nan
        self.first = True

    def update(self, y: float, x: float) -> tuple[float, float, float, float]:
        """Return ``(beta, alpha, spread, innovation / sqrt(innovation_var))`` after this bar."""
        if self.first:
            self.ref_y, self.ref_x = y, x
        ref_y, ref_x = self.ref_y, self.ref_x
        if self.log:
            yr, xr = y - ref_y, x - ref_x
        else:
            yr, xr = y / ref_y, x / ref_x
        q = self.q
        b, a, self.p00, self.p01, self.p11, e, s, _ = kalman_step(
            self.beta, self.alpha, self.p00, self.p01, self.p11, yr, xr, q, 0.0, q, self.r, self.first
        )
        self.beta, self.alpha, self.first = b, a, False
        beta, alpha, spread = from_relative(b, a, yr - b * xr - a, ref_y, ref_x, self.log)
        return beta, alpha, spread, e / math.sqrt(s)  # type: ignore[return-value]

    def state(self) -> dict[str, Any]:
        return {**{name: getattr(self, name) for name in self._names}, "first": self.first}

    def restore(self, state: dict[str, Any], where: str) -> None:
        check_keys(state, (*self._names, "first"), where)
        if not isinstance(state["first"], bool):
            raise StateError(f"{where}['first'] must be true or false; got {state['first']!r}.")
        values = [read_float(state, name, where) for name in self._names]
        self.beta, self.alpha, self.p00, self.p01, self.p11, self.ref_y, self.ref_x = values
        self.first = state["first"]


class FixedHedge:
    """A hedge ratio and intercept fixed in advance: no state."""

    __slots__ = ("alpha", "beta")

    def __init__(self, beta: float, alpha: float) -> None:
        self.beta = beta
        self.alpha = alpha

    def update(self, y: float, x: float) -> tuple[float, float, float, float]:
        """Return ``(beta, alpha, spread, nan)``."""
        return self.beta, self.alpha, y - self.beta * x - self.alpha, math.nan

    def state(self) -> dict[str, Any]:
        return {}

    def restore(self, state: dict[str, Any], where: str) -> None:
        check_keys(state, (), where)
