"""O(1)-per-bar streaming engine for execution bots: one bar in, one :class:`Signal` out.

:class:`StreamEngine` runs a :class:`~pairs.Strategy` one bar at a time: the hedge, the z-score
of the spread, the entry/exit state machine and, with ``capital``, leg sizing. Each
:meth:`~StreamEngine.update` costs O(1) time and memory (ring buffers for windows, one compiled
step per statistic), and every step is the very function the batch run loops over, so replaying
a history reproduces :meth:`pairs.Strategy.run` bit for bit. The engine has no option checks of
its own: the Strategy validates them. ``StreamEngine("rolling", window=60)`` is a shortcut for
``StreamEngine(Strategy(hedge="rolling", window=60))``.

Warm-up: like the batch run, the engine imposes none beyond its windows. A bot replays recent
history through :meth:`~StreamEngine.update`, saves, and trades from there.

Persistence: :meth:`~StreamEngine.state_dict` is plain JSON data (format version, the strategy
and every running statistic; NaN/inf encoded as ``"nan"``/``"inf"``/``"-inf"``, ring buffers
as base64 of their float64 bytes, O(window) in C; lists of numbers are read too) and
:meth:`~StreamEngine.from_state` restores it exactly, so a restored engine continues bit for bit
like one that never stopped. :meth:`~StreamEngine.save` writes atomically with a checksum; a
truncated, corrupted or foreign-version state raises :class:`~pairs.exceptions.StateError`, never
a silent reset.

An update with a NaN, infinite or non-positive price raises :class:`~pairs.exceptions.DataError`;
a duplicate or earlier timestamp raises :class:`~pairs.exceptions.StateError`. Either way the
engine state is left unchanged.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import numbers
import os
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from pairs._results import ResultMixin, json_safe
from pairs._validation import as_positive_duration
from pairs.exceptions import DataError, PairsError, StateError
from pairs.strategy import Strategy
from pairs.stream._kernels import S_N, S_RULE, compiled_entry, engine_step
from pairs.stream._rows import MAX_BARS, check_rows, decode_row, encode_row, new_row
from pairs.stream._state import check_keys, encode_floats, read_int, read_state_file, write_state_file
from pairs.trading._rules import ACTIONS

__all__ = ["Signal", "StreamEngine"]

Stamp: TypeAlias = "pd.Timestamp | int | float | None"

FORMAT = "pairs.StreamEngine"
VERSION = 2
ON_GAP = ("raise", "reset")
_INT_LIMIT = 2**63


@dataclass(frozen=True, repr=False, slots=True)
class Signal(ResultMixin):
    """What :meth:`StreamEngine.update` decided for one bar; ``to_dict()`` is JSON-safe."""

    _title = "Stream signal"

    timestamp: Stamp
    """The bar's timestamp as given (datetimes and ISO strings become ``pd.Timestamp``)."""
    beta: float
    """Hedge ratio after this bar (NaN during a rolling warm-up); on log prices with ``log_prices``."""
    alpha: float
    """Intercept after this bar."""
    spread: float
    """``y - beta x - alpha`` with this bar's prices (logs with ``log_prices``) and state."""
    zscore: float
    """Z-score fed to the rule (NaN during warm-up: the position is then kept)."""
    position: int
    """Spread position to hold until the next bar: +1 long ``y``/short ``x``, -1 short, 0 flat."""
    y_units: float | None
    """Units of ``y`` to hold (None unless the engine has ``capital``)."""
    x_units: float | None
    """Units of ``x`` to hold (None unless the engine has ``capital``)."""
    action: str
    """``"enter_long"``, ``"enter_short"`` (also a flip), ``"exit"``, ``"stop"`` or ``"hold"``."""

    def to_dict(self) -> dict[str, Any]:
        """Every field as JSON-safe data: NaN/inf become None, timestamps ISO 8601 strings."""
        return {
            "timestamp": _stamp_value(self.timestamp),
            "beta": _float_value(self.beta),
            "alpha": _float_value(self.alpha),
            "spread": _float_value(self.spread),
            "zscore": _float_value(self.zscore),
            "position": _int_value(self.position),
            "y_units": _float_value(self.y_units),
            "x_units": _float_value(self.x_units),
            "action": self.action if type(self.action) is str else json_safe(self.action),
        }

    def to_json(self) -> str:
        """One line of JSON, the same text as ``json.dumps(signal.to_dict())``, built directly.

        Floats are written with ``repr`` (exact), NaN/inf as ``null``, timestamps as ISO 8601
        strings (numbers as numbers). ``pairs signal --follow`` prints this line per bar.

        Examples
        --------
        >>> import json
        >>> import pandas as pd
        >>> from pairs import StreamEngine
        >>> signal = StreamEngine(log_prices=True).update(2000.0, 40000.0, pd.Timestamp("2024-01-01"))
        >>> signal.to_json()[:36]
        '{"timestamp": "2024-01-01T00:00:00",'
        >>> signal.to_json() == json.dumps(signal.to_dict())
        True
        """
        return body_json(self, f'{{"timestamp": {_stamp_json(self.timestamp)}, ')


def _first_step(
    st: np.ndarray, py: float, px: float
) -> tuple[float, float, float, float, int, int, float, float]:
    """``engine_step`` through numba's dispatcher (compiling or loading it), once per process.

    From the next bar on, :meth:`StreamEngine.update` calls its compiled entry point directly:
    the engine's arguments always have the compiled types (``_st`` is a float64 row made by
    ``_start`` and only written in place, prices floats).
    """
    global _step
    out = engine_step(st, py, px)
    _step = compiled_entry(engine_step)
    return out  # type: ignore[no-any-return]


_step: Any = _first_step


class _SignalFields(ResultMixin):
    """A :class:`Signal`'s slot layout without its frozen ``__setattr__``: filled, then relabelled.

    Per bar, ``Signal(...)`` costs nine ``object.__setattr__`` calls of the frozen dataclass
    (about 1.3 us here); plain slot stores and a ``__class__`` switch cost about 0.3 us. The
    object is a Signal before anyone else sees it (tests/stream/test_hot_path.py).
    """

    __slots__ = Signal.__slots__  # type: ignore[attr-defined]


_new = object.__new__
_Timestamp = pd.Timestamp


def _signal(
    timestamp: Stamp,
    beta: float,
    alpha: float,
    spread: float,
    zscore: float,
    position: int,
    y_units: float | None,
    x_units: float | None,
    action: str,
) -> Signal:
    """``Signal(...)``, built by slot stores on :class:`_SignalFields` (once per bar)."""
    signal: Any = _new(_SignalFields)  # typed Any: its slots are declared by Signal
    signal.timestamp = timestamp
    signal.beta = beta
    signal.alpha = alpha
    signal.spread = spread
    signal.zscore = zscore
    signal.position = position
    signal.y_units = y_units
    signal.x_units = x_units
    signal.action = action
    signal.__class__ = Signal
    return signal  # type: ignore[no-any-return]


def _float_value(value: Any) -> Any:
    if type(value) is float:
        return value if value - value == 0.0 else None
    return None if value is None else json_safe(value)


def _int_value(value: Any) -> Any:
    return value if type(value) is int else json_safe(value)


def _float_json(value: Any) -> str:
    # json.dumps writes a float with float.__repr__; to_dict turns NaN/inf into None (null).
    if type(value) is float:
        return float.__repr__(value) if value - value == 0.0 else "null"
    return "null" if value is None else _other_json(value)


def _iso(ts: pd.Timestamp) -> str:
    # datetime's C isoformat is pd.Timestamp.isoformat without nanoseconds, in datetime's years.
    if ts.nanosecond == 0 and 1 <= ts.year <= 9999:
        return _datetime_iso(ts)
    return ts.isoformat()


_datetime_iso = dt.datetime.isoformat


def _stamp_value(ts: Any) -> Any:
    return _iso(ts) if type(ts) is pd.Timestamp else json_safe(ts)


def _stamp_json(ts: Any) -> str:
    kind = type(ts)
    if kind is pd.Timestamp:
        return f'"{_iso(ts)}"'
    if kind is int:
        return int.__repr__(ts)
    return "null" if ts is None else _other_json(ts)


_ACTION_JSON = {action: json.dumps(action) for action in ACTIONS}


def _other_json(value: Any) -> str:
    return json.dumps(json_safe(value))


def body_json(signal: Signal, head: str) -> str:
    """``head`` followed by the signal's fields after ``timestamp``, as ``json.dumps`` writes them."""
    position = signal.position
    action = _ACTION_JSON.get(signal.action) if type(signal.action) is str else None
    return (
        f'{head}"beta": {_float_json(signal.beta)}, "alpha": {_float_json(signal.alpha)}, '
        f'"spread": {_float_json(signal.spread)}, "zscore": {_float_json(signal.zscore)}, '
        f'"position": {int.__repr__(position) if type(position) is int else _other_json(position)}, '
        f'"y_units": {_float_json(signal.y_units)}, "x_units": {_float_json(signal.x_units)}, '
        f'"action": {action or _other_json(signal.action)}}}'
    )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"


def _price(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise DataError(f"{name} must be a real number; got {value!r}.")
    return float(value)


def _check_prices(y_price: float, x_price: float) -> None:
    if not 0.0 < y_price < math.inf:
        raise DataError(f"y_price must be a finite number > 0; got {y_price!r}.")
    if not 0.0 < x_price < math.inf:
        raise DataError(f"x_price must be a finite number > 0; got {x_price!r}.")


def _as_timestamp(value: Any) -> pd.Timestamp | int | float:
    if isinstance(value, bool):
        raise DataError(f"timestamp must be a datetime, an ISO string or a number; got {value!r}.")
    if isinstance(value, numbers.Integral):
        value = int(value)
        if not -_INT_LIMIT <= value < _INT_LIMIT:
            raise DataError(f"timestamp must be an integer within 64 bits; got {_short(value)}.")
        return value
    if isinstance(value, numbers.Real):
        if not math.isfinite(value):
            raise DataError(f"timestamp must be finite; got {value!r}.")
        return float(value)
    if isinstance(value, (str, dt.date, np.datetime64)):
        try:
            ts = pd.Timestamp(value)
        except (TypeError, ValueError) as exc:
            raise DataError(f"timestamp must be a parseable date or time; got {value!r} ({exc}).") from None
        if pd.isna(ts):
            raise DataError(f"timestamp must not be NaT; got {value!r}.")
        return ts
    raise DataError(f"timestamp must be a datetime, an ISO string or a number; got {value!r}.")


def next_timestamp(value: Any, last: Stamp, what: str) -> Stamp:
    """``value`` as a bar timestamp after ``last``: optional, but once given always given, strictly
    increasing (the rule of :class:`StreamEngine` and :class:`~pairs.StreamBook`); ``what`` names a bar
    in messages ("update", "bar")."""
    if value is None:
        if last is not None:
            raise StateError(
                f"timestamp must be given after {what}s with timestamps (last {last!r}); got None."
            )
        return None
    ts = value if type(value) is pd.Timestamp else _as_timestamp(value)
    if last is not None:
        try:
            later = ts > last
        except TypeError:
            raise DataError(
                f"timestamp must be comparable with the previous one ({last!r}); got {value!r}."
            ) from None
        if not later:
            kind = "a duplicate of" if ts == last else "earlier than"
            raise StateError(
                f"timestamp must be after the previous {what} ({last!r}); got {kind} it: {value!r}."
            )
    return ts


def _encode_timestamp(ts: Stamp) -> Any:
    return {"timestamp": ts.isoformat()} if isinstance(ts, pd.Timestamp) else ts


def _decode_timestamp(value: Any) -> Stamp:
    where = "state['state']['last_timestamp']"
    if value is None:
        return None
    if isinstance(value, dict):
        check_keys(value, ("timestamp",), where)
        value = value["timestamp"]
        if not isinstance(value, str):
            raise StateError(f"{where} must hold an ISO timestamp string; got {value!r}.")
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        raise StateError(f"{where} must be null, a number or a dict; got {value!r}.")
    try:
        return _as_timestamp(value)
    except DataError as exc:
        raise StateError(f"{where} must be a valid timestamp; got: {exc}") from None


def _check_max_gap(value: Any) -> pd.Timedelta | int | float | None:
    if value is None:
        return None
    if isinstance(value, (str, dt.timedelta, np.timedelta64)):
        gap = as_positive_duration(value)
        if gap is not None:
            return gap
    elif (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0  # type: ignore[operator]
        and abs(value) < _INT_LIMIT  # type: ignore[operator]
    ):
        return int(value) if isinstance(value, numbers.Integral) else float(value)
    raise PairsError(
        "max_gap must be a positive duration (e.g. pd.Timedelta('2D') or '4h') for datetime timestamps, "
        f"a positive number for numeric timestamps, or None; got {_short(value)}."
    )


def _encode_options(max_gap: Any, on_gap: str) -> dict[str, Any]:
    gap = {"timedelta_ns": max_gap.value} if isinstance(max_gap, pd.Timedelta) else max_gap
    return {"max_gap": gap, "on_gap": on_gap}


def _decode_options(value: Any) -> dict[str, Any]:
    where = "state['options']"
    check_keys(value, ("max_gap", "on_gap"), where)
    gap = value["max_gap"]
    if isinstance(gap, dict):
        check_keys(gap, ("timedelta_ns",), f"{where}['max_gap']")
        gap = pd.Timedelta(read_int(gap, "timedelta_ns", f"{where}['max_gap']", minimum=1), unit="ns")
    try:
        return {"max_gap": _check_max_gap(gap), "on_gap": _check_on_gap(value["on_gap"])}
    except PairsError as exc:
        raise StateError(f"{where} must hold valid engine options; got: {exc}") from None


def _check_on_gap(value: Any) -> str:
    if not isinstance(value, str) or value not in ON_GAP:
        raise PairsError(f"on_gap must be one of {list(ON_GAP)}; got {_short(value)}.")
    return value


class StreamEngine:
    """A :class:`~pairs.Strategy` run one bar at a time in O(1): hedge, z-score, position, units.

    Parameters
    ----------
    strategy
        The strategy to run. A hedge name (``"kalman"``, ``"rolling"``, ``"ols"``) or None, with
        ``options``, is a shortcut for ``Strategy(hedge=strategy, **options)``.
    **options
        Settings of :class:`~pairs.Strategy` (only without a Strategy object).

    Examples
    --------
    >>> import json
    >>> import pandas as pd
    >>> import pairs
    >>> prices = pairs.load_sample("binance_1d")[["BTC", "ETH"]].dropna().iloc[:300]
    >>> strategy = pairs.Strategy(log_prices=True, capital=10_000, lot_size=(0.01, 0.0001))
    >>> engine = strategy.stream()
    >>> for ts, btc, eth in zip(prices.index, prices["BTC"], prices["ETH"]):
    ...     signal = engine.update(eth, btc, timestamp=ts)
    >>> batch = strategy.run(prices["ETH"], prices["BTC"])
    >>> bool(signal.position == batch.position.iloc[-1] and signal.zscore == batch.zscore.iloc[-1])
    True

    A restored engine continues exactly like the original:

    >>> restored = StreamEngine.from_state(json.loads(json.dumps(engine.state_dict())))
    >>> later = prices.index[-1] + pd.Timedelta(days=1)
    >>> restored.update(700.0, 14000.0, later) == engine.update(700.0, 14000.0, later)
    True
    """

    __slots__ = (
        "_capital",
        "_gap_exit",
        "_last_ts",
        "_max_gap",
        "_on_gap",
        "_st",
        "_strategy",
        "_strategy_doc",
    )

    def __init__(
        self,
        strategy: Strategy | str | None = None,
        *,
        max_gap: pd.Timedelta | str | float | None = None,
        on_gap: str = "raise",
        **options: Any,
    ) -> None:
        if isinstance(strategy, Strategy):
            if options:
                raise PairsError(
                    f"options must not be given with a Strategy (use strategy.replace(...)); got {sorted(options)}."
                )
        elif strategy is None or isinstance(strategy, str):
            known = {f.name for f in dataclasses.fields(Strategy)}
            unknown = sorted(set(options) - known)
            if unknown:
                raise PairsError(
                    f"options must be settings of pairs.Strategy {sorted(known)}; got {unknown}."
                )
            if strategy is not None:
                options["hedge"] = strategy
            strategy = Strategy(**options)
        else:
            raise PairsError(
                f"strategy must be a pairs.Strategy or a hedge name; got {type(strategy).__name__}."
            )
        s = strategy
        if s.hedge == "ols" and s.beta is None:
            raise PairsError(
                "beta must be a finite number for a streamed hedge='ols' (e.g. ols_hedge(y, x).beta on a "
                "training set); got None."
            )
        self._max_gap = _check_max_gap(max_gap)
        self._on_gap = _check_on_gap(on_gap)
        self._gap_exit = 0
        self._strategy = s
        self._strategy_doc = encode_floats(s.to_dict())
        self._capital = s.capital
        self._start()

    def _start(self) -> None:
        """The engine before its first bar: a fresh row of :mod:`pairs.stream._rows`.

        The row (settings, then state, then ring buffers) is what
        :func:`~pairs.stream._kernels.engine_step` advances in one compiled call per bar: the
        engine is a book of one pair, whose row has the layout of every row of a
        :class:`~pairs.StreamBook`.
        """
        self._st = new_row(self._strategy)
        self._last_ts: Stamp = None

    @property
    def _n(self) -> int:
        return int(self._st[S_N])

    @property
    def _rule_state(self) -> list[int]:
        """``[position, bars_held, cooldown_left, blocked_side]`` (stored as floats in ``_st``)."""
        return [int(v) for v in self._st[S_RULE : S_RULE + 4].tolist()]

    def __repr__(self) -> str:
        return f"StreamEngine(hedge={self._strategy.hedge!r}, n_updates={self._n}, position={self.position})"

    @property
    def strategy(self) -> Strategy:
        """The strategy this engine runs."""
        return self._strategy

    @property
    def n_updates(self) -> int:
        """Number of bars processed so far."""
        return self._n

    @property
    def position(self) -> int:
        """Current spread position (+1, -1 or 0)."""
        return int(self._st[S_RULE])

    @property
    def last_timestamp(self) -> Stamp:
        """Timestamp of the last bar processed (None before the first, or without timestamps)."""
        return self._last_ts

    @property
    def max_gap(self) -> pd.Timedelta | int | float | None:
        """Longest allowed step between two bars' timestamps (None: no limit); see ``on_gap``."""
        return self._max_gap

    @property
    def on_gap(self) -> str:
        """What a longer step does: ``"raise"`` a StateError, or ``"reset"`` the engine."""
        return self._on_gap

    def update(self, y_price: float, x_price: float, timestamp: Any = None) -> Signal:
        """Process one bar and return its :class:`Signal`.

        Parameters
        ----------
        y_price, x_price
            Prices of the asset hedged and of the hedge at this bar (finite, > 0).
        timestamp
            The bar's time: a ``pd.Timestamp``, ``datetime``, ISO string or number (epoch).
            Optional, but once one update had a timestamp every later one needs one, strictly
            later than the previous.

        Returns
        -------
        Signal

        Raises
        ------
        DataError
            A price is not a finite positive number, or the timestamp is invalid or not
            comparable with the previous one (e.g. naive after tz-aware).
        StateError
            The timestamp repeats or precedes the previous one. The state is unchanged.
        """
        if type(y_price) is not float:
            y_price = _price("y_price", y_price)
        if type(x_price) is not float:
            x_price = _price("x_price", x_price)
        last = self._last_ts
        if timestamp.__class__ is _Timestamp and last.__class__ is _Timestamp and self._max_gap is None:
            # The common case inline: a later pd.Timestamp (else the full checks, prices first).
            try:
                ts = timestamp if timestamp > last else self._checked_stamp(y_price, x_price, timestamp)
            except TypeError:
                ts = self._checked_stamp(y_price, x_price, timestamp)
        elif timestamp is None and last is None:
            ts = None
        else:
            ts = self._checked_stamp(y_price, x_price, timestamp)
        # One compiled call: price check, log, hedge, z-score, rule and sizing (the batch's
        # step kernels); a bad price changes nothing.
        beta, alpha, spread, z, position, code, y_units, x_units = _step(self._st, y_price, x_price)
        if code < 0:
            _check_prices(y_price, x_price)
        self._last_ts = ts
        action = ACTIONS[code]
        if self._gap_exit:
            # A reset across a hole closed the position the engine held before it.
            if position == 0 and action == "hold":
                action = "exit"
            self._gap_exit = 0
        if self._capital is None:
            y_units = x_units = None
        # _signal(...) inline (once per bar: a call less).
        signal: Any = _new(_SignalFields)
        signal.timestamp = ts
        signal.beta = beta
        signal.alpha = alpha
        signal.spread = spread
        signal.zscore = z
        signal.position = position
        signal.y_units = y_units
        signal.x_units = x_units
        signal.action = action
        signal.__class__ = Signal
        return signal  # type: ignore[no-any-return]

    def _checked_stamp(self, y_price: float, x_price: float, value: Any) -> Stamp:
        # The prices first: a refused update changes nothing (a gap reset would).
        _check_prices(y_price, x_price)
        return self._check_timestamp(value)

    def _check_timestamp(self, value: Any) -> Stamp:
        last = self._last_ts
        ts = next_timestamp(value, last, "update")
        if last is not None and self._max_gap is not None:
            self._check_gap(ts, last, value)
        return ts

    def _check_gap(self, ts: Any, last: Any, value: Any) -> None:
        try:
            hole = ts - last > self._max_gap
        except (TypeError, ValueError, OverflowError):
            raise DataError(
                f"timestamp must be of the kind max_gap={self._max_gap!r} measures (a datetime for a "
                f"duration, a number for a number); got {value!r}."
            ) from None
        if not hole:
            return
        if self._on_gap == "raise":
            raise StateError(
                f"timestamp must be at most max_gap={self._max_gap!r} after the previous bar ({last!r}); "
                f"got {value!r}, a hole of {ts - last!r}. Feed the missing bars, or start over "
                "(on_gap='reset' does it automatically)."
            )
        position = self._rule_state[0]
        self._start()
        self._gap_exit = position

    def warmup(self, y: Any, x: Any) -> Signal:
        """Replay a history in one compiled loop; the same state as :meth:`update` bar by bar.

        Parameters
        ----------
        y, x
            Prices of the asset hedged and of the hedge (finite, > 0), as Series on one index
            or as arrays. A Series index gives the bars' timestamps (a DatetimeIndex, or numbers);
            arrays have none (only for an engine that has seen no timestamp).

        Returns
        -------
        Signal
            The signal of the last bar, as :meth:`update` would have returned it.

        Raises
        ------
        DataError, StateError
            As :meth:`update` for any bar (bad prices, timestamps not after the last one, a
            hole longer than ``max_gap``); the engine is then unchanged.

        Examples
        --------
        >>> import pairs
        >>> prices = pairs.load_sample("binance_1d")[["BTC", "ETH"]].dropna().iloc[:500]
        >>> fast, slow = pairs.Strategy(log_prices=True).stream(), pairs.Strategy(log_prices=True).stream()
        >>> last = fast.warmup(prices["ETH"], prices["BTC"])
        >>> for ts, btc, eth in zip(prices.index, prices["BTC"], prices["ETH"]):
        ...     signal = slow.update(eth, btc, ts)
        >>> last == signal and fast.state_dict() == slow.state_dict()
        True
        """
        from pairs.stream._warmup import warmup

        return warmup(self, y, x)

    def state_dict(self) -> dict[str, Any]:
        """Return the full engine state (strategy, engine options, running statistics) as JSON data.

        ``json.dumps`` works on it (no NaN tokens: non-finite floats are the strings
        ``"nan"``, ``"inf"``, ``"-inf"``; ring buffers are base64 strings of their float64
        bytes) and every float round-trips bit for bit.
        """
        state = {
            "n_updates": self._n,
            "last_timestamp": _encode_timestamp(self._last_ts),
            **encode_row(self._st),
        }
        # The strategy's part is encoded once (the Strategy is frozen) and copied per call.
        strategy = {k: v.copy() if isinstance(v, (dict, list)) else v for k, v in self._strategy_doc.items()}
        return {
            "format": FORMAT,
            "version": VERSION,
            "strategy": strategy,
            "options": _encode_options(self._max_gap, self._on_gap),
            "state": state,
        }

    @classmethod
    def from_state(cls, state: Any) -> StreamEngine:
        """Rebuild an engine from :meth:`state_dict` output (also after a JSON round trip).

        The state is checked as untrusted input: every field's type and range, and the
        invariants a running engine keeps (finite statistics, non-negative variances, buffer
        lengths and counters that agree with ``n_updates``, leg units consistent with the
        position and the sizing settings).

        Raises
        ------
        StateError
            ``state`` is not a complete, consistent state of this format version.
        """
        check_keys(state, ("format", "version", "strategy", "state"), "state", optional=("options",))
        if state["format"] != FORMAT:
            raise StateError(f"state['format'] must be {FORMAT!r}; got {_short(state['format'])}.")
        version = state["version"]
        if type(version) is not int or version != VERSION:
            raise StateError(
                f"state['version'] must be {VERSION} (this version of pairs); got {_short(version)}."
            )
        options = _decode_options(state["options"]) if "options" in state else {}
        try:
            engine = cls(Strategy.from_dict(state["strategy"]), **options)
        except StateError:
            raise
        except (PairsError, TypeError) as exc:
            raise StateError(f"state['strategy'] must hold a valid strategy; got: {exc}") from None
        engine._restore(state["state"])
        return engine

    def _restore(self, state: Any) -> None:
        where = "state['state']"
        check_keys(state, ("n_updates", "last_timestamp", "hedge", "zscore", "rule", "sizing"), where)
        n = read_int(state, "n_updates", where, maximum=MAX_BARS)
        last_ts = _decode_timestamp(state["last_timestamp"])
        if n == 0 and last_ts is not None:
            raise StateError(
                f"{where}['last_timestamp'] must be null before the first update; got {last_ts!r}."
            )
        decode_row(self._st, n, state, where)
        check_rows(self._st[None, :])
        self._last_ts = last_ts

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`state_dict` with a SHA-256 checksum to ``path``, atomically.

        The JSON goes to a temporary file in the same directory, is flushed and fsynced, then
        replaces ``path`` with ``os.replace``: a crash leaves either the old or the new file.
        A symbolic link is written through to its target. Use one writer per file (the
        command line holds :class:`pairs.stream._lock.StateLock` for that).

        Raises
        ------
        PairsError
            ``path`` is not a str or os.PathLike.
        StateError
            The file cannot be written (missing folder, permissions, disk full).
        """
        write_state_file(path, {"engine": self.state_dict()})

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> StreamEngine:
        """Read an engine written by :meth:`save`.

        Raises
        ------
        PairsError
            ``path`` is not a str or os.PathLike.
        StateError
            The file is missing, unreadable, too large or deep, truncated, corrupted (checksum
            mismatch), not a state file, from another format version, or holds a state that
            cannot occur (see :meth:`from_state`).
        """
        return cls.from_state(read_state_file(path, what="StreamEngine state")["engine"])
