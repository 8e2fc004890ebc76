"""Look-ahead and warm-up of a strategy, checked by re-running it: :func:`check_strategy`.

Two questions a trader asks before running a strategy live, answered from the data alone (as
freqtrade's ``lookahead-analysis`` and ``recursive-analysis`` do for its strategies):

* *Look-ahead*: does any bar's output change when later bars are added? The strategy is run on
  prefixes of the history, and every bar of a prefix is compared with the same bar of the full
  run. A causal strategy gives the same numbers (up to rounding); one that peeks ahead (a
  centred window, a fit on the whole sample) differs near the end of each prefix.
* *Warm-up*: a live bot starts from the bars it replays, not from the beginning of time. The
  strategy is run from later starting bars, and the warm-up is the number of bars, from that
  start, after which the bot's beta and z-score stay within ``tolerance`` of the full run's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pairs._results import ResultMixin
from pairs._typing import ArrayLike1D
from pairs._validation import align_pair, check_float, check_int, raise_if_constant
from pairs.exceptions import InsufficientDataError, PairsError

if TYPE_CHECKING:
    from pairs.strategy import Strategy

__all__ = ["CheckResult", "check_strategy"]

_NUMBERS = ("beta", "alpha", "spread", "zscore", "y_units", "x_units")
_LABELS = ("position", "action")
# A causal run of a prefix repeats the full run's arithmetic: equal up to rounding only.
_RTOL, _ATOL = 1e-9, 1e-12


@dataclass(frozen=True, repr=False)
class CheckResult(ResultMixin):
    """Output of :func:`check_strategy`: look-ahead bars and warm-up lengths."""

    _title = "Strategy check"

    n_bars: int
    """Bars of the history checked."""
    causal: bool
    """True when no bar of any prefix run differs from the full run."""
    lookahead: pd.DataFrame
    """One row per bar whose output changed when later bars were added: ``bar`` (its index
    label), ``cut`` (the last bar of the prefix run that differed), ``columns`` (those that
    differed, comma-separated). Empty for a causal strategy."""
    warmup: pd.DataFrame
    """One row per starting bar: ``start`` (its index label), ``warmup_bars`` (bars from the
    start to replay before beta and z-score stay within the tolerance of the full run's from
    the next bar on; NaN: not within the data), ``position_bars`` (the same for the position)."""
    warmup_bars: float
    """The largest ``warmup_bars`` over the starts: replay at least this many bars before
    trading. NaN when some start never matches the full run within the data."""
    tolerance: float
    """Largest difference counted as a match: absolute on the z-score, relative on beta."""

    def _summary_rows(self) -> list[tuple[str, Any]]:
        first = self.lookahead["bar"].iloc[0] if len(self.lookahead) else "none"
        return [
            ("bars", self.n_bars),
            ("causal", self.causal),
            ("bars changed by later data", len(self.lookahead)),
            ("first such bar", first),
            ("warm-up bars", self.warmup_bars),
            ("tolerance", self.tolerance),
        ]


def _changed(prefix: pd.DataFrame, full: pd.DataFrame) -> dict[int, list[str]]:
    """Positions of the bars of ``prefix`` whose outputs differ from ``full``, with the columns."""
    out: dict[int, list[str]] = {}
    for name in _NUMBERS:
        a, b = prefix[name].to_numpy(dtype=float), full[name].to_numpy(dtype=float)
        same = np.isclose(a, b, rtol=_RTOL, atol=_ATOL, equal_nan=True)
        for k in np.flatnonzero(~same).tolist():
            out.setdefault(k, []).append(name)
    for name in _LABELS:
        for k in np.flatnonzero(prefix[name].to_numpy() != full[name].to_numpy()).tolist():
            out.setdefault(k, []).append(name)
    return out


def _apart(diff: np.ndarray, part: pd.Series, ref: pd.Series, tolerance: float) -> np.ndarray:
    """Bars where ``diff`` exceeds ``tolerance``; a NaN in both runs (no value yet) is a match."""
    both_nan = part.isna().to_numpy() & ref.isna().to_numpy()
    return ~((diff <= tolerance) | both_nan)


def _settled(bad: np.ndarray) -> float:
    """Bars until ``bad`` is False for good: one past its last True (NaN if the last bar is bad)."""
    where = np.flatnonzero(bad)
    if not len(where):
        return 0.0
    last = int(where[-1])
    return float("nan") if last == len(bad) - 1 else float(last + 1)


def check_strategy(
    strategy: Strategy,
    y: ArrayLike1D,
    x: ArrayLike1D,
    *,
    cuts: int = 50,
    starts: int = 3,
    tolerance: float = 1e-6,
) -> CheckResult:
    """Look for look-ahead and measure the warm-up of ``strategy`` by re-running it on parts of ``y, x``.

    Parameters
    ----------
    strategy
        The strategy to check (:class:`pairs.Strategy`).
    y, x
        Prices of the asset hedged and of the hedge (finite, > 0), on one index.
    cuts
        Number of prefixes run for the look-ahead check, their ends evenly spaced over the
        history (default 50); every bar of each prefix is compared with the full run.
    starts
        Number of later starting bars of the warm-up check, evenly spaced over the first half
        of the history (default 3).
    tolerance
        Largest difference that counts as a match in the warm-up check: absolute on the
        z-score, relative on beta (default 1e-6).

    Returns
    -------
    CheckResult
        ``causal``, the ``lookahead`` bars, and the ``warmup`` per start with its maximum
        ``warmup_bars``.

    Notes
    -----
    ``warmup_bars`` is the number of bars a bot replays before its signals match the full
    run's from the next bar on. The rolling hedge and rolling z-score need
    ``window + z_window - 2`` bars: the first z-score of the bot's ``window + z_window - 1``-th
    bar is computed from the same spreads as the full run's. The strategy's Kalman hedge runs on prices relative to its first bar, and
    its noise settings are in those units, so a filter started later is a slightly different
    model: its beta and z-score stay about 1% away from the full run's for good, and
    ``warmup_bars`` is NaN at tight tolerances. A bot then matches a backtest only if it
    replays the same history from the same first bar.

    Examples
    --------
    >>> import pairs
    >>> prices = pairs.load_sample("binance_1d")[["ETH", "BTC"]].dropna().iloc[:600]
    >>> strategy = pairs.Strategy(hedge="rolling", window=30, zscore_window=20)
    >>> result = pairs.check_strategy(strategy, prices["ETH"], prices["BTC"])
    >>> result.causal, result.warmup_bars
    (True, 48.0)
    """
    from pairs.strategy import Strategy

    if not isinstance(strategy, Strategy):
        raise PairsError(f"strategy must be a pairs.Strategy; got {type(strategy).__name__}.")
    cuts = check_int("cuts", cuts, minimum=1)
    starts = check_int("starts", starts, minimum=1)
    tolerance = check_float("tolerance", tolerance, minimum=0.0)
    ys, xs = align_pair(y, x, positive=True)
    n = len(ys)
    # The shortest run: a rolling hedge needs its window, the others a few bars.
    shortest = strategy.window + 1 if strategy.hedge == "rolling" else 10
    if n < 2 * shortest + 2:
        raise InsufficientDataError(f"y must have at least {2 * shortest + 2} bars to check; got {n}.")
    raise_if_constant("y", ys.to_numpy())
    raise_if_constant("x", xs.to_numpy())
    full = strategy.run(ys, xs).frame
    found: dict[int, tuple[int, list[str]]] = {}
    for end in np.unique(np.linspace(shortest, n - 1, cuts).round().astype(int)).tolist():
        for k, names in _changed(strategy.run(ys.iloc[:end], xs.iloc[:end]).frame, full.iloc[:end]).items():
            found.setdefault(k, (end - 1, names))
    index = full.index
    lookahead = pd.DataFrame(
        [(index[k], index[cut], ",".join(names)) for k, (cut, names) in sorted(found.items())],
        columns=["bar", "cut", "columns"],
    )
    rows = []
    for s in np.unique(np.linspace(0, n // 2, starts + 1)[1:].round().astype(int)).tolist():
        part = strategy.run(ys.iloc[s:], xs.iloc[s:]).frame
        ref = full.iloc[s:]
        with np.errstate(invalid="ignore", divide="ignore"):
            dz = np.abs(part["zscore"].to_numpy() - ref["zscore"].to_numpy())
            db = np.abs(part["beta"].to_numpy() / ref["beta"].to_numpy() - 1.0)
        bad = _apart(dz, part["zscore"], ref["zscore"], tolerance) | _apart(
            db, part["beta"], ref["beta"], tolerance
        )
        moved = part["position"].to_numpy() != ref["position"].to_numpy()
        rows.append((index[s], _settled(bad), _settled(moved)))
    warmup = pd.DataFrame(rows, columns=["start", "warmup_bars", "position_bars"])
    return CheckResult(
        n_bars=n,
        causal=not found,
        lookahead=lookahead,
        warmup=warmup,
        warmup_bars=float(warmup["warmup_bars"].max(skipna=False)),
        tolerance=tolerance,
    )
