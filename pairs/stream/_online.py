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
(floats may be NaN; ring buffers oldest first as :func:`~pairs.stream._state.encode_array`
strings) and ``restore(state, where)`` reads it back exactly, raising
:class:`~pairs.exceptions.StateError` naming ``where`` on malformed input; JSON encoding of
non-finite floats is :func:`encode_floats` / :func:`read_float`.

A :class:`~pairs.StreamEngine` does not call these ``update`` methods: it advances all its
statistics in one compiled call (:func:`pairs.stream._kernels.engine_step`, the same step
kernels) and the objects here hold views into its state vector, for ``state``/``restore``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pairs.exceptions import StateError
from pairs.hedge._kernels import kalman_step, rolling_ols_step
from pairs.strategy._steps import KALMAN_PRIOR, from_relative
from pairs.stream._state import check_keys, encode_array, read_float, read_floats, read_int
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


def _ring_state(buf: np.ndarray, bars: int) -> np.ndarray:
    """Buffered values oldest first (the slot of bar ``t`` is ``t % len(buf)``)."""
    window = len(buf)
    if bars < window:
        return buf[:bars]
    head = bars % window
    return np.concatenate((buf[head:], buf[:head]))


def _ring_restore(buf: np.ndarray, bars: int, values: np.ndarray) -> None:
    buf[:] = 0.0
    if len(values):
        buf[np.arange(bars - len(values), bars) % len(buf)] = values


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

    def __init__(
        self, window: int, stats: np.ndarray | None = None, bufs: list[np.ndarray] | None = None
    ) -> None:
        # ``stats`` and ``bufs`` may be views into an engine's state vector (pairs.stream._kernels).
        self.window = window
        self.bars = 0
        self.stats = np.zeros(len(self._names)) if stats is None else stats
        self.bufs = [np.zeros(window) for _ in self._buffers] if bufs is None else bufs

    def state(self) -> dict[str, Any]:
        out: dict[str, Any] = {"bars": self.bars, **super().state()}
        for name, buf in zip(self._buffers, self.bufs, strict=True):
            out[name] = encode_array(_ring_state(buf, self.bars))
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

    def __init__(
        self, window: int, stats: np.ndarray | None = None, bufs: list[np.ndarray] | None = None
    ) -> None:
        super().__init__(window, stats, bufs)
        self.stats[:] = ROLLING_START

    def update(self, value: float) -> float:
        out = rolling_z_step(self.stats, self.bufs[0], self.bars, value, self.window)
        self.bars += 1
        return out


class ExpandingZScore(_Stats):
    """``(s_t - mean) / std`` over every bar so far, as ``zscore(method="expanding")``."""

    __slots__ = ()
    _names = ("ref", "count", "mean", "m2", "same")

    def __init__(self, stats: np.ndarray | None = None) -> None:
        self.stats = np.zeros(len(self._names)) if stats is None else stats
        self.stats[:] = EXPANDING_START

    def update(self, value: float) -> float:
        return expanding_z_step(self.stats, value, 2)


class EwmZScore(_Stats):
    """Exponentially weighted z-score with ``halflife`` in bars, as ``zscore(method="ewm")``."""

    __slots__ = ("alpha",)
    _names = ("ref", "mean", "var", "sum_wt", "sum_wt2", "old_wt", "nobs")

    def __init__(self, halflife: float, stats: np.ndarray | None = None) -> None:
        self.alpha = ewm_alpha(halflife)
        self.stats = np.zeros(len(self._names)) if stats is None else stats
        self.stats[:] = EWM_START

    def update(self, value: float) -> float:
        return ewm_z_step(self.stats, value, self.alpha, 2)


def _field(i: int) -> property:
    def get(self: Any) -> float:
        return float(self.stats[i])

    def put(self: Any, value: float) -> None:
        self.stats[i] = value

    return property(get, put)


class KalmanHedge:
    """Kalman filter on prices relative to the first bar (see :mod:`pairs.strategy._steps`).

    Advanced by :func:`kalman_step`, the kernel the batch filter loops over, and mapped back to
    the input's units with the batch's :func:`~pairs.strategy._steps.from_relative`. The state
    is the vector ``stats`` (``beta, alpha, p00, p01, p11, ref_y, ref_x, first``), a view into
    the engine's state vector when the engine runs it.
    """

    __slots__ = ("log", "q", "r", "stats")
    _names = ("beta", "alpha", "p00", "p01", "p11", "ref_y", "ref_x")
    beta = _field(0)
    alpha = _field(1)
    p00 = _field(2)
    p01 = _field(3)
    p11 = _field(4)
    ref_y = _field(5)
    ref_x = _field(6)

    def __init__(self, delta: float, obs_var: float, log: bool, stats: np.ndarray | None = None) -> None:
        self.q = delta / (1.0 - delta)
        self.r = obs_var
        self.log = log
        self.stats = np.zeros(8) if stats is None else stats
        self.stats[:] = (*KALMAN_PRIOR, math.nan, math.nan, 1.0)

    @property
    def first(self) -> bool:
        """True before the first bar (the prior applies at it, without a prediction step)."""
        return bool(self.stats[7])

    @first.setter
    def first(self, value: bool) -> None:
        self.stats[7] = float(value)

    def update(self, y: float, x: float) -> tuple[float, float, float, float]:
        """Return ``(beta, alpha, spread, innovation / sqrt(innovation_var))`` after this bar."""
        st = self.stats
        first = self.first
        if first:
            st[5], st[6] = y, x
        ref_y, ref_x = float(st[5]), float(st[6])
        if self.log:
            yr, xr = y - ref_y, x - ref_x
        else:
            yr, xr = y / ref_y, x / ref_x
        q = self.q
        b, a, st[2], st[3], st[4], e, s, _ = kalman_step(
            float(st[0]),
            float(st[1]),
            float(st[2]),
            float(st[3]),
            float(st[4]),
            yr,
            xr,
            q,
            0.0,
            q,
            self.r,
            first,
        )
        st[0], st[1], st[7] = b, a, 0.0
        beta, alpha, spread = from_relative(b, a, yr - b * xr - a, ref_y, ref_x, self.log)
        return beta, alpha, spread, e / math.sqrt(s)  # type: ignore[return-value]

    def state(self) -> dict[str, Any]:
        return {**dict(zip(self._names, self.stats[:7].tolist(), strict=True)), "first": self.first}

    def restore(self, state: dict[str, Any], where: str) -> None:
        check_keys(state, (*self._names, "first"), where)
        if not isinstance(state["first"], bool):
            raise StateError(f"{where}['first'] must be true or false; got {state['first']!r}.")
        values = [read_float(state, name, where) for name in self._names]
        self.stats[:7] = values
        self.first = state["first"]


class FixedHedge:
    """A hedge ratio and intercept fixed in advance (``stats``: ``beta, alpha``); no running state."""

    __slots__ = ("stats",)
    beta = _field(0)
    alpha = _field(1)

    def __init__(self, beta: float, alpha: float, stats: np.ndarray | None = None) -> None:
        self.stats = np.zeros(2) if stats is None else stats
        self.stats[:2] = (beta, alpha)

    def update(self, y: float, x: float) -> tuple[float, float, float, float]:
        """Return ``(beta, alpha, spread, nan)``."""
        beta, alpha = self.beta, self.alpha
        return beta, alpha, y - beta * x - alpha, math.nan

    def state(self) -> dict[str, Any]:
        return {}

    def restore(self, state: dict[str, Any], where: str) -> None:
        check_keys(state, (), where)
