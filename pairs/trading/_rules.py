"""Entry/exit rules on a z-score as a state machine, one bar at a time or over a whole series.

The position is in spread units: ``+1`` is long the spread (long ``y``, short ``beta`` ``x``),
``-1`` short, ``0`` flat. The position decided at bar ``t`` earns the return from ``t`` to
``t + 1``. One bar of the machine, for a finite z-score ``z`` (a NaN z-score leaves the whole
state unchanged, bar counters included, so ``max_holding`` and ``cooldown`` count bars with a
finite z-score):

1. Counters advance: ``bars_held`` += 1 when in a position, ``cooldown_left`` -= 1 when > 0.
   A blocked side is released once z is back inside its entry threshold (``z < entry_z``
   for the short side, ``z > -entry_z`` for the long side).
2. Stop: if ``|z| >= stop_z`` a position is closed (action ``"stop"``) and no position is
   opened; the side z is on (short for z > 0, long for z < 0) is blocked.
3. Exit: long when ``z >= -exit_z``, short when ``z <= exit_z`` (action ``"exit"``); or, when
   ``bars_held >= max_holding``, a time exit (also ``"exit"``) that blocks the same side,
   like a stop. Any exit restarts the cooldown: ``cooldown_left = cooldown``.
4. Entry, when flat and ``cooldown_left == 0``: long when ``z < -entry_z``, short when
   ``z > entry_z``, unless that side is blocked. With ``cooldown=0`` an exit and an entry
   on the other side happen on the same bar when z jumps across both thresholds: a flip,
   reported as the entry (``"enter_short"`` from a long, ``"enter_long"`` from a short).

So ``cooldown=k`` keeps the position flat for at least ``k`` bars after an exit, the exit
bar included: ``cooldown=1`` only forbids a flip, ``cooldown=2`` also keeps the next bar flat.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from pairs._settings import DEFAULTS
from pairs._typing import ArrayLike1D
from pairs._validation import as_series, check_float, check_int, check_keys
from pairs.exceptions import PairsError
from pairs.trading._kernels import rule_kernel, transition

__all__ = ["ACTIONS", "RuleState", "SignalRule", "signals", "step_rule"]

ACTIONS: tuple[str, ...] = ("hold", "enter_long", "enter_short", "exit", "stop")
"""Action names returned by :func:`step_rule`, indexed by the kernel's action code."""


@dataclass(frozen=True)
class SignalRule:
    """Thresholds of the entry/exit state machine (see :mod:`pairs.trading._rules`).

    Parameters
    ----------
    entry_z
        Enter when ``|z| > entry_z`` (> 0).
    exit_z
        Exit a long when ``z >= -exit_z``, a short when ``z <= exit_z``; must lie in the closed
        interval ``[-entry_z, entry_z]``. ``0`` exits at the mean; a negative value waits for an
        overshoot past the mean; ``exit_z = entry_z`` holds a position only while z stays beyond
        the band (Chan's Kalman example: exit as soon as ``|z| <= entry_z``);
        ``exit_z = -entry_z`` exits only at the opposite threshold, where the rule flips to the
        other side (always in the market after the first entry).
    stop_z
        Close and block the side when ``|z| >= stop_z`` (> ``entry_z``); ``None``: no stop.
    max_holding
        Close after this many bars in a position (>= 1); ``None``: no limit.
    cooldown
        Minimum number of flat bars after any exit, the exit bar included (>= 0).

    Examples
    --------
    >>> rule = SignalRule(entry_z=2.0, exit_z=0.5, stop_z=4.0)
    >>> SignalRule.from_dict(rule.to_dict()) == rule
    True
    """

    # The defaults are those of pairs._settings.SETTINGS, which the command line shows too.
    entry_z: float = DEFAULTS["entry_z"]
    exit_z: float = DEFAULTS["exit_z"]
    stop_z: float | None = DEFAULTS["stop_z"]
    max_holding: int | None = DEFAULTS["max_holding"]
    cooldown: int = DEFAULTS["cooldown"]

    def __post_init__(self) -> None:
        entry = check_float("entry_z", self.entry_z, minimum=0.0, strict_min=True)
        exit_ = check_float("exit_z", self.exit_z)
        if not -entry <= exit_ <= entry:
            raise PairsError(f"exit_z must be in [-entry_z, entry_z] = [{-entry}, {entry}]; got {exit_!r}.")
        stop = None if self.stop_z is None else check_float("stop_z", self.stop_z)
        if stop is not None and stop <= entry:
            raise PairsError(f"stop_z must be > entry_z ({entry}) or None; got {self.stop_z!r}.")
        hold = None if self.max_holding is None else check_int("max_holding", self.max_holding, minimum=1)
        cool = check_int("cooldown", self.cooldown, minimum=0)
        for name, value in (("entry_z", entry), ("exit_z", exit_), ("stop_z", stop)):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "max_holding", hold)
        object.__setattr__(self, "cooldown", cool)

    def to_dict(self) -> dict[str, Any]:
        """Return the thresholds as a JSON-safe dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_bertram(cls, spread: ArrayLike1D, *, cost: float, **options: Any) -> SignalRule:
        """Bertram's (2010) optimal band for an OU process fitted on a formation ``spread``.

        ``entry_z`` is the band in stationary standard deviations and ``exit_z = -entry_z``
        (each crossing reverses the position); see :func:`pairs.bertram_thresholds` for the
        fit, ``cost`` (a round trip, in spread units) and the expected return. ``options`` are
        the other fields (``stop_z``, ``max_holding``, ``cooldown``).

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> spread = np.zeros(2000)
        >>> for t in range(1, 2000):
        ...     spread[t] = 0.95 * spread[t - 1] + 0.01 * rng.standard_normal()
        >>> rule = SignalRule.from_bertram(spread, cost=0.02)
        >>> round(rule.entry_z, 2), rule.exit_z == -rule.entry_z
        (1.04, True)
        """
        from pairs.trading._bertram import bertram_thresholds

        return bertram_thresholds(spread, cost=cost).rule(**options)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SignalRule:
        """Rebuild a rule from :meth:`to_dict` output; unknown keys are an error."""
        return cls(**check_keys(data, (f.name for f in dataclasses.fields(cls))))


class RuleState(NamedTuple):
    """State of the machine between bars; the initial state is ``RuleState()`` (flat).

    ``blocked_side`` is ``+1`` when long entries are blocked (after a stop or time exit on
    the long side), ``-1`` for short entries, ``0`` for none.
    """

    position: int = 0
    bars_held: int = 0
    cooldown_left: int = 0
    blocked_side: int = 0


def _kernel_args(rule: SignalRule) -> tuple[float, float, float, int, int]:
    stop = np.inf if rule.stop_z is None else rule.stop_z
    return rule.entry_z, rule.exit_z, float(stop), rule.max_holding or 0, rule.cooldown


def step_rule(state: RuleState, z: float, rule: SignalRule) -> tuple[RuleState, str]:
    """Advance the state machine by one bar; for streaming engines.

    Parameters
    ----------
    state
        State after the previous bar (``RuleState()`` before the first one).
    z
        Z-score of this bar (NaN leaves the state unchanged and returns ``"hold"``).
    rule
        Thresholds.

    Returns
    -------
    (RuleState, str)
        The new state (its ``position`` is the position to hold until the next bar) and the
        action, one of :data:`ACTIONS`: ``"enter_long"``, ``"enter_short"`` (also for a flip:
        compare with the previous position), ``"exit"`` (threshold or ``max_holding``),
        ``"stop"`` or ``"hold"``.

    Examples
    --------
    >>> rule = SignalRule(entry_z=2.0, exit_z=0.0)
    >>> state, action = step_rule(RuleState(), -2.5, rule)
    >>> state.position, action
    (1, 'enter_long')
    >>> step_rule(state, 0.1, rule)[1]
    'exit'
    """
    if not isinstance(state, RuleState):
        raise PairsError(f"state must be a RuleState; got {type(state).__name__}.")
    if not isinstance(rule, SignalRule):
        raise PairsError(f"rule must be a SignalRule; got {type(rule).__name__}.")
    if isinstance(z, bool) or not isinstance(z, (int, float, np.integer, np.floating)):
        raise PairsError(f"z must be a real number; got {z!r}.")
    if np.isinf(z):
        raise PairsError(f"z must be finite or NaN; got {z!r}.")
    *new, code = transition(
        int(state.position),
        int(state.bars_held),
        int(state.cooldown_left),
        int(state.blocked_side),
        float(z),
        *_kernel_args(rule),
    )
    return RuleState(*new), ACTIONS[code]


class _Default:
    """Marks an option left at its default, so that it can be told apart from an explicit value."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return repr(self.value)


def signals(
    zscore: ArrayLike1D,
    *,
    entry_z: float = _Default(2.0),  # type: ignore[assignment]
    exit_z: float = _Default(0.0),  # type: ignore[assignment]
    stop_z: float | None = _Default(None),  # type: ignore[assignment]
    max_holding: int | None = _Default(None),  # type: ignore[assignment]
    cooldown: int = _Default(0),  # type: ignore[assignment]
    rule: SignalRule | None = None,
) -> pd.Series:
    """Positions from a z-score by the state machine of :mod:`pairs.trading._rules`.

    Parameters
    ----------
    zscore
        Z-score series (NaN allowed: it keeps the current state).
    entry_z, exit_z, stop_z, max_holding, cooldown
        Thresholds, see :class:`SignalRule` (defaults 2.0, 0.0, None, None, 0).
    rule
        A :class:`SignalRule` instead of the individual options (giving both is an error).

    Returns
    -------
    pandas.Series
        Named ``"position"``, float, aligned to ``zscore``: ``+1`` long the spread, ``-1``
        short, ``0`` flat. Equal, bar by bar, to repeated :func:`step_rule` from ``RuleState()``.

    Examples
    --------
    >>> import pandas as pd
    >>> z = pd.Series([0.0, -2.5, -1.0, 0.2, 2.6, -2.1, 1.0])
    >>> signals(z, entry_z=2.0).tolist()
    [0.0, 1.0, 1.0, 0.0, -1.0, 1.0, 0.0]
    """
    options: dict[str, Any] = {
        "entry_z": entry_z,
        "exit_z": exit_z,
        "stop_z": stop_z,
        "max_holding": max_holding,
        "cooldown": cooldown,
    }
    given = {k: v for k, v in options.items() if not isinstance(v, _Default)}
    if rule is not None:
        if not isinstance(rule, SignalRule):
            raise PairsError(f"rule must be a SignalRule or None; got {type(rule).__name__}.")
        if given:
            raise PairsError(
                f"rule must not be combined with explicit options; got rule and {sorted(given)}."
            )
    else:
        rule = SignalRule(**{k: v.value if isinstance(v, _Default) else v for k, v in options.items()})
    z = as_series(zscore, "zscore", allow_nan=True, min_length=1)
    out, _ = rule_kernel(z.to_numpy(), *_kernel_args(rule))
    return pd.Series(out, index=z.index, name="position")
