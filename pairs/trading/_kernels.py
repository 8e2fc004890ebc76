"""Numba kernels of the trading steps: z-scores and the entry/exit state machine.

Each statistic has exactly one step function that advances its state by one bar; the batch
functions (:func:`pairs.zscore`, :func:`pairs.signals`) loop over the step and the streaming
engine calls it once per bar, so a replay through the engine reproduces the batch numbers bit
for bit. Inputs are trusted: validation happens in the public functions.

* Rolling z-score: Welford add/remove updates of the mean and sum of squares of deviations from
  a recent value, refreshed exactly (two passes) every ``window`` bars, so rounding drift cannot
  accumulate: O(1) amortised per bar, O(n) in total. An exact change tracker reproduces the rule
  "every value in the window equal: NaN" without a tolerance.
* Expanding z-score: Welford's update on deviations from the first observation.
* EWM z-score: pandas' ewm mean/var recursion (``adjust=True``, ``bias=False``).
* The rule: :func:`transition`, one bar of the state machine of :mod:`pairs.trading._rules`.
* Leg sizing: :func:`size_step`, one bar of :func:`pairs.size_legs` (lots rounded in floating point).
"""

from __future__ import annotations

import math

import numpy as np

from pairs._numba_cache import njit

__all__ = [
    "ACTION_CODES",
    "EWM_START",
    "EXPANDING_START",
    "ROLLING_START",
    "Z_CODES",
    "Z_EWM",
    "Z_EXPANDING",
    "Z_NONE",
    "Z_ROLLING",
    "ewm_alpha",
    "ewm_z_step",
    "expanding_z_step",
    "rolling_z_step",
    "rule_kernel",
    "size_kernel",
    "size_step",
    "transition",
    "zscore_kernel",
]

HOLD, ENTER_LONG, ENTER_SHORT, EXIT, STOP = range(5)
# Z-score method codes of the compiled loops (batch and stream); Z_NONE: the hedge supplies it.
Z_NONE, Z_ROLLING, Z_EWM, Z_EXPANDING = 0, 1, 2, 3
Z_CODES = {"rolling": Z_ROLLING, "ewm": Z_EWM, "expanding": Z_EXPANDING, "innovation": Z_NONE}
ACTION_CODES = (HOLD, ENTER_LONG, ENTER_SHORT, EXIT, STOP)

# State of rolling_z_step before the first bar: reference value, count, mean and m2 of the
# deviations from it, the last observed value, the bar of the last observation, of the last
# change of value and of the observation before that change (-1: none).
ROLLING_START: tuple[float, ...] = (math.nan, 0.0, 0.0, 0.0, math.nan, -1.0, -1.0, -1.0)
# State of expanding_z_step: reference value, count, mean, m2, "every value equal so far".
EXPANDING_START: tuple[float, ...] = (math.nan, 0.0, 0.0, 0.0, 1.0)
# State of ewm_z_step: reference value, mean and variance of deviations from it, sum_wt,
# sum_wt2, old_wt, nobs.
EWM_START: tuple[float, ...] = (math.nan, math.nan, 0.0, 1.0, 1.0, 1.0, 0.0)


@njit(cache=True)
def rolling_z_step(stats: np.ndarray, buf: np.ndarray, t: int, v: float, min_periods: int) -> float:
    """One bar of the rolling z-score (``ddof=1``) over the last ``len(buf)`` bars.

    ``stats`` (see :data:`ROLLING_START`) and the ring buffer ``buf`` are updated in place;
    ``t`` is the bar number (0 for the first bar). NaN values are skipped; the result is NaN
    with fewer than ``max(min_periods, 2)`` observed values in the window, at NaN values and
    when every value in the window is equal.
    """
    window = buf.shape[0]
    slot = t % window
    ref, count, mean, m2 = stats[0], stats[1], stats[2], stats[3]
    if t >= window and not math.isnan(buf[slot]):
        old = buf[slot] - ref
        if count <= 1.0:
            count, mean, m2 = 0.0, 0.0, 0.0
        else:
            d = old - mean
            mean -= d / (count - 1.0)
            m2 -= d * (old - mean)
            count -= 1.0
    buf[slot] = v
    if not math.isnan(v):
        if stats[5] < 0.0:
            ref = v
        elif v != stats[4]:
            stats[6] = t
            stats[7] = stats[5]
        stats[4] = v
        stats[5] = t
        count += 1.0
        d = v - ref - mean
        mean += d / count
        m2 += d * (v - ref - mean)
    if t >= window and slot == window - 1:
        # Exact two-pass refresh around the last observed value: resets the removal drift.
        ref = stats[4]
        count = total = 0.0
        for i in range(window):
            if not math.isnan(buf[i]):
                count += 1.0
                total += buf[i] - ref
        mean = m2 = 0.0
        if count > 0.0:
            mean = total / count
            for i in range(window):
                if not math.isnan(buf[i]):
                    m2 += (buf[i] - ref - mean) * (buf[i] - ref - mean)
    stats[0], stats[1], stats[2], stats[3] = ref, count, mean, m2
    lo = t - window + 1
    # Two different values lie in the window iff the last change and the observation
    # before it both do; otherwise every value is equal and the z-score is undefined.
    varies = stats[6] >= lo and stats[7] >= lo
    if math.isnan(v) or count < min_periods or count < 2.0 or not varies or not m2 > 0.0:
        return math.nan
    return (v - ref - mean) / math.sqrt(m2 / (count - 1.0))


@njit(cache=True)
def expanding_z_step(stats: np.ndarray, v: float, min_periods: int) -> float:
    """One bar of the expanding z-score; ``stats`` (see :data:`EXPANDING_START`) updated in place."""
    if math.isnan(v):
        return math.nan
    ref, count, mean, m2, same = stats[0], stats[1], stats[2], stats[3], stats[4] != 0.0
    if count == 0.0:
        ref = v
    d = v - ref
    same = same and d == 0.0
    count += 1.0
    delta = d - mean
    mean += delta / count
    m2 += delta * (d - mean)
    stats[0], stats[1], stats[2], stats[3], stats[4] = ref, count, mean, m2, 1.0 if same else 0.0
    if count >= min_periods and count >= 2.0 and not same and m2 > 0.0:
        return (d - mean) / math.sqrt(m2 / (count - 1.0))
    return math.nan


@njit(cache=True)
def ewm_z_step(stats: np.ndarray, v: float, alpha: float, min_periods: int) -> float:
    """One bar of the EWM z-score; updates ``stats`` (see :data:`EWM_START`) in place.

    pandas' ewm mean/var recursion (adjust=True, bias=False, ignore_na=False), including its
    guard that keeps the mean of a constant stretch exact, on deviations from the first value.
    """
    ref, mean, var = stats[0], stats[1], stats[2]
    sum_wt, sum_wt2, old_wt, nobs = stats[3], stats[4], stats[5], stats[6]
    observed = not math.isnan(v)
    nobs += observed
    out = math.nan
    if math.isnan(mean):
        if observed:
            ref = v
            mean = 0.0
    else:
        decay = 1.0 - alpha
        sum_wt *= decay
        sum_wt2 *= decay * decay
        old_wt *= decay
        if observed:
            d = v - ref
            old_mean = mean
            if mean != d:
                mean = (old_wt * old_mean + d) / (old_wt + 1.0)
            var = (old_wt * (var + (old_mean - mean) * (old_mean - mean)) + (d - mean) * (d - mean)) / (
                old_wt + 1.0
            )
            sum_wt += 1.0
            sum_wt2 += 1.0
            old_wt += 1.0
            if nobs >= min_periods and var > 0.0:
                denom = sum_wt * sum_wt - sum_wt2
                if denom > 0.0:
                    out = (d - mean) / math.sqrt(sum_wt * sum_wt / denom * var)
    stats[0], stats[1], stats[2] = ref, mean, var
    stats[3], stats[4], stats[5], stats[6] = sum_wt, sum_wt2, old_wt, nobs
    return out


@njit(cache=True)
def ewm_alpha(halflife: float) -> float:
    """Smoothing factor of a half-life in bars, with pandas' arithmetic (bit for bit)."""
    com = 1.0 / (1.0 - math.exp(math.log(0.5) / halflife)) - 1.0
    return 1.0 / (1.0 + com)


def zscore_kernel(x: np.ndarray, method: int, window: int, alpha: float, min_periods: int) -> np.ndarray:
    """The z-score of a whole series by looping the step of ``method`` (``Z_ROLLING``, ``Z_EWM``, ``Z_EXPANDING``).

    The method is picked here, in Python, so that a run compiles the loop of its own method only
    (one compiled function for the three compiled all three steps on first use).
    """
    # The output and the state are allocated here: allocations compiled into the loops cost
    # compilation time (np.array of a tuple compiles one more function).
    out = np.empty(x.shape[0])
    if method == Z_ROLLING:
        _rolling_z(x, min_periods, out, np.array(ROLLING_START), np.zeros(window))
    elif method == Z_EWM:
        _ewm_z(x, alpha, min_periods, out, np.array(EWM_START))
    else:
        _expanding_z(x, min_periods, out, np.array(EXPANDING_START))
    return out


@njit(cache=True)
def _rolling_z(x: np.ndarray, min_periods: int, out: np.ndarray, stats: np.ndarray, buf: np.ndarray) -> None:
    for t in range(x.shape[0]):
        out[t] = rolling_z_step(stats, buf, t, x[t], min_periods)


@njit(cache=True)
def _ewm_z(x: np.ndarray, alpha: float, min_periods: int, out: np.ndarray, stats: np.ndarray) -> None:
    for t in range(x.shape[0]):
        out[t] = ewm_z_step(stats, x[t], alpha, min_periods)


@njit(cache=True)
def _expanding_z(x: np.ndarray, min_periods: int, out: np.ndarray, stats: np.ndarray) -> None:
    for t in range(x.shape[0]):
        out[t] = expanding_z_step(stats, x[t], min_periods)


@njit(cache=True)
def transition(
    pos: int,
    held: int,
    cool: int,
    blocked: int,
    z: float,
    entry: float,
    exit_: float,
    stop: float,
    max_hold: int,
    cooldown: int,
) -> tuple[int, int, int, int, int]:
    """One bar of the entry/exit state machine; ``stop = inf`` and ``max_hold = 0`` disable those rules."""
    if math.isnan(z):
        return pos, held, cool, blocked, HOLD
    if pos != 0:
        held += 1
    if cool > 0:
        cool -= 1
    if (blocked == -1 and z < entry) or (blocked == 1 and z > -entry):
        blocked = 0
    if abs(z) >= stop:
        blocked = 1 if z < 0 else -1
        if pos != 0:
            return 0, 0, cooldown, blocked, STOP
        return pos, held, cool, blocked, HOLD
    action = HOLD
    if pos != 0:
        if (pos > 0 and z >= -exit_) or (pos < 0 and z <= exit_):
            action = EXIT
        elif max_hold > 0 and held >= max_hold:
            action = EXIT
            blocked = pos
        if action == EXIT:
            pos, held, cool = 0, 0, cooldown
    if pos == 0 and cool == 0:
        if z < -entry and blocked != 1:
            return 1, 0, 0, blocked, ENTER_LONG
        if z > entry and blocked != -1:
            return -1, 0, 0, blocked, ENTER_SHORT
    return pos, held, cool, blocked, action


def rule_kernel(
    z: np.ndarray, entry: float, exit_: float, stop: float, max_hold: int, cooldown: int
) -> tuple[np.ndarray, np.ndarray]:
    """Positions (float) and action codes of a whole z-score series, from the flat state."""
    # Outputs allocated here: allocations compiled into the loop cost compilation time.
    out = np.empty(z.shape[0])
    codes = np.empty(z.shape[0], dtype=np.int8)
    _rule_rows(z, entry, exit_, stop, max_hold, cooldown, out, codes)
    return out, codes


@njit(cache=True)
def _rule_rows(
    z: np.ndarray,
    entry: float,
    exit_: float,
    stop: float,
    max_hold: int,
    cooldown: int,
    out: np.ndarray,
    codes: np.ndarray,
) -> None:
    n = z.shape[0]
    # Typed zeros: literal ones make numba compile a second, literal-typed transition.
    pos = held = cool = blocked = np.int64(0)
    for t in range(n):
        pos, held, cool, blocked, code = transition(
            pos, held, cool, blocked, z[t], entry, exit_, stop, max_hold, cooldown
        )
        out[t] = pos
        codes[t] = code


@njit(cache=True)
def _round_lot(units: float, lot: float) -> float:
    # Toward zero, but a quotient within rounding noise of an integer is that integer
    # (0.3 / 0.1 is 2.9999999999999996 in floating point, and means 3 lots). Rounded in
    # floating point: an int64 cast overflows (and flips sign) once units / lot > 2**63.
    if lot == 0.0:
        return units
    q = units / lot
    r = np.rint(q)
    if abs(q - r) <= 1e-9 * max(1.0, abs(q)):
        return r * lot
    return np.trunc(q) * lot


@njit(cache=True)
def size_step(
    p: float,
    b: float,
    py: float,
    px: float,
    held_y: float,
    held_x: float,
    last_pos: float,
    ref_beta: float,
    capital: float,
    beta_neutral: bool,
    lot_y: float,
    lot_x: float,
    band: float,
) -> tuple[float, float, float, float]:
    """One bar of leg sizing: ``(held_y, held_x, last_pos, ref_beta)`` after position ``p``.

    Legs are re-sized when the position changes or (beta-neutral) beta drifted more than
    ``band`` relative to the beta of the last re-size. The batch :func:`size_legs` and the
    streaming engine both run this function; the state before the first bar is
    ``(0.0, 0.0, 0.0, nan)``.
    """
    if p == 0.0:
        return 0.0, 0.0, 0.0, ref_beta
    drifted = beta_neutral and abs(b - ref_beta) > band * abs(ref_beta)
    if p != last_pos or drifted:
        if beta_neutral:
            held_y = _round_lot(capital * p / (py + abs(b) * px), lot_y)
            held_x = _round_lot(-b * held_y, lot_x)
        else:
            held_y = _round_lot(capital * p / 2.0 / py, lot_y)
            held_x = _round_lot(-capital * p / 2.0 / px, lot_x)
        return held_y, held_x, p, b
    return held_y, held_x, last_pos, ref_beta


@njit(cache=True)
def size_kernel(
    pos: np.ndarray,
    beta: np.ndarray,
    py: np.ndarray,
    px: np.ndarray,
    capital: float,
    beta_neutral: bool,
    lot_y: float,
    lot_x: float,
    band: float,
) -> tuple[np.ndarray, np.ndarray]:
    n = pos.shape[0]
    yu = np.empty(n)
    xu = np.empty(n)
    held_y = held_x = last_pos = 0.0
    ref_beta = np.nan
    for t in range(n):
        held_y, held_x, last_pos, ref_beta = size_step(
            pos[t],
            beta[t],
            py[t],
            px[t],
            held_y,
            held_x,
            last_pos,
            ref_beta,
            capital,
            beta_neutral,
            lot_y,
            lot_x,
            band,
        )
        yu[t] = held_y
        xu[t] = held_x
    return yu, xu
