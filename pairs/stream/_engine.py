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

Orders and fills: with ``capital`` every :class:`Signal` carries ``orders``, the
:class:`~pairs.Order` list that takes the holdings the engine knows to the signal's units
(rounded to lots, ``min_notional``, reduce-only closes first, the strategy's leg order); the
holdings move only with :meth:`~StreamEngine.fill` (see :mod:`pairs.stream._legs`), and the
strategy's :class:`~pairs.ExecutionRule` guards act on them. With the strategy's ``leverage``, the
orders are cut as the account backtest cuts them (gross exposure after them at most ``leverage``
times capital plus the fills' P&L; :mod:`pairs.stream._leverage`), and the signal's
``leverage_cut`` says so.

An update with a NaN, infinite or non-positive price raises :class:`~pairs.exceptions.DataError`;
a duplicate or earlier timestamp raises :class:`~pairs.exceptions.StateError`. Either way the
engine state is left unchanged.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import numbers
import os
from typing import Any

import numpy as np
import pandas as pd

from pairs._typing import ArrayLike1D
from pairs._validation import as_positive_duration, shown
from pairs.exceptions import DataError, PairsError, StateError
from pairs.strategy import Strategy
from pairs.stream._kernels import (
    MAX_PRICE,
    MIN_PRICE,
    P_WIDTH,
    S_BUF,
    S_N,
    S_RULE,
    S_SIZE,
    compiled_entry,
    engine_step,
)
from pairs.stream._legs import Legs, Order, guard
from pairs.stream._leverage import capped_orders, limit_of
from pairs.stream._rows import MAX_BARS, check_rows, close_row, decode_row, encode_row, new_row
from pairs.stream._signal import Signal, _new, _SignalFields, _Timestamp, fill_field
from pairs.stream._state import check_keys, encode_floats, read_int, read_state_file, write_state_file
from pairs.stream._time import _INT_LIMIT, Stamp, _decode_timestamp, _encode_timestamp, _short, next_timestamp
from pairs.trading._rules import ACTIONS

__all__ = ["Signal", "StreamEngine"]

FORMAT = "pairs.StreamEngine"
# 3: holdings from fills ("legs") and leg symbols; version 2 files load (holdings = targets).
VERSION = 3
ON_GAP = ("raise", "reset")


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


def _price(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise DataError(f"{name} must be a real number; got {value!r}.")
    try:
        return float(value)
    except OverflowError:  # an int beyond the float range
        raise DataError(f"{name} must be a finite number > 0; got {shown(value)}.") from None


def price_error(name: str, value: float, note: str = "") -> DataError:
    """Why a price is refused by a stream (see :data:`~pairs.stream._kernels.MIN_PRICE`)."""
    if not 0.0 < value < math.inf:
        return DataError(f"{name} must be a finite number > 0{note}; got {value!r}.")
    return DataError(
        f"{name} must be within [{MIN_PRICE:g}, {MAX_PRICE:g}] (beyond, a saved state could not be "
        f"loaded again: rescale the prices); got {value!r}."
    )


def _check_prices(y_price: float, x_price: float) -> None:
    for name, value in (("y_price", y_price), ("x_price", x_price)):
        if not MIN_PRICE <= value <= MAX_PRICE:
            raise price_error(name, value)


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


def _encode_options(max_gap: Any, on_gap: str, symbols: tuple[str, str]) -> dict[str, Any]:
    gap = {"timedelta_ns": max_gap.value} if isinstance(max_gap, pd.Timedelta) else max_gap
    return {"max_gap": gap, "on_gap": on_gap, "symbols": list(symbols)}


def _check_symbols(value: Any) -> tuple[str, str]:
    if value is None:
        return ("y", "x")
    if (
        not isinstance(value, (tuple, list))
        or len(value) != 2
        or not all(isinstance(s, str) and s for s in value)
        or value[0] == value[1]
    ):
        raise PairsError(f"symbols must be two different symbols (y_symbol, x_symbol); got {_short(value)}.")
    return (value[0], value[1])


def _decode_options(value: Any) -> dict[str, Any]:
    where = "state['options']"
    check_keys(value, ("max_gap", "on_gap"), where, optional=("symbols",))
    gap = value["max_gap"]
    if isinstance(gap, dict):
        check_keys(gap, ("timedelta_ns",), f"{where}['max_gap']")
        gap = pd.Timedelta(read_int(gap, "timedelta_ns", f"{where}['max_gap']", minimum=1), unit="ns")
    try:
        return {
            "max_gap": _check_max_gap(gap),
            "on_gap": _check_on_gap(value["on_gap"]),
            "symbols": _check_symbols(value.get("symbols")),
        }
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
    max_gap, on_gap
        The longest allowed step between two bars' timestamps, and what a longer one does
        (``"raise"``, or ``"reset"`` the statistics; holdings are kept).
    symbols
        The symbols of the legs ``(y, x)`` in orders and fills (default ``("y", "x")``).
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
        "_execution",
        "_fill",
        "_gap_exit",
        "_guarded",
        "_last_ts",
        "_legs",
        "_limit",
        "_max_gap",
        "_on_gap",
        "_st",
        "_strategy",
        "_strategy_doc",
        "_symbols",
    )

    def __init__(
        self,
        strategy: Strategy | str | None = None,
        *,
        max_gap: pd.Timedelta | str | float | None = None,
        on_gap: str = "raise",
        symbols: tuple[str, str] | None = None,
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
        self._symbols = _check_symbols(symbols)
        self._execution = s.execution
        self._guarded = s.execution.guarded
        self._limit = limit_of(s)
        self._fill = fill_field(s)  # which bar the orders are for
        # What the account holds: moved by fills only, kept across a gap reset (the account
        # still holds it; the reset's flat targets then close it).
        self._legs = Legs()
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
            Prices of the asset hedged and of the hedge at this bar, within [1e-30, 1e30]
            (``pairs.stream._kernels.MIN_PRICE``, ``MAX_PRICE``: beyond, the running sums of
            squares would leave the float range and a saved state could not be loaded again).
        timestamp
            The bar's time: a ``pd.Timestamp``, ``datetime``, ISO string or number (epoch); not
            ``"now"`` or ``"today"``, which pandas reads as the wall clock.
            Optional, but once one update had a timestamp every later one needs one, strictly
            later than the previous.

        Returns
        -------
        Signal

        Raises
        ------
        DataError
            A price is not a number within [1e-30, 1e30], or the timestamp is invalid or not
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
        orders = cut = None
        legs = self._legs
        legs.mark(y_price, x_price)
        if self._capital is None:
            y_units = x_units = None
        else:
            exits: str = self._execution.exit_order
            if self._guarded and position != 0:
                fired = self._guard(y_units, x_units, exits)
                if fired is not None:
                    position, action, y_units, x_units, exits = 0, "guard", 0.0, 0.0, fired
            orders, cut = self._orders((y_units, x_units), exits)
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
        signal.orders = orders
        signal.leverage_cut = cut
        signal.fill = self._fill
        signal.__class__ = Signal
        return signal  # type: ignore[no-any-return]

    # ----------------------------------------------------------------- legs, orders, fills
    def _orders(self, targets: tuple[float, float], exit_order: str) -> tuple[tuple[Order, ...], str | None]:
        """The orders to ``targets`` (cut by the leverage limit) and the signal's ``leverage_cut``."""
        return capped_orders(self._legs, self._limit, targets, self._symbols, self._strategy, exit_order)

    def _guard(self, y_units: float, x_units: float, exits: str) -> str | None:
        """The exit order if a guard of the ExecutionRule fires at this bar (the row is then closed)."""
        fired = guard(self._execution, self._legs, (y_units, x_units), exits)
        if fired is not None:
            close_row(self._st[P_WIDTH:S_BUF], self._strategy.rule.cooldown)
        return fired

    @property
    def symbols(self) -> tuple[str, str]:
        """The symbols of the legs ``(y, x)`` in orders and fills (default ``("y", "x")``)."""
        return self._symbols

    @property
    def holdings(self) -> dict[str, float]:
        """Units of each leg the account holds, as reported by :meth:`fill`: ``{symbol: units}``."""
        return dict(zip(self._symbols, self._legs.units, strict=True))

    @property
    def pnl(self) -> float:
        """P&L of the holdings in the quote currency: realized from fills, unrealized at the last
        bar's prices, minus fees (NaN with a holding before any bar)."""
        return self._legs.pnl()

    def orders(self) -> tuple[Order, ...]:
        """The orders that take the holdings to the last signal's targets now (after fills).

        The same rule as the orders of a :class:`Signal` (the leverage limit included), at the
        last bar's prices; empty without ``capital`` or before the first bar.
        """
        return self._last_orders()[0]

    def _last_orders(self) -> tuple[tuple[Order, ...], str | None]:
        if self._capital is None or self._n == 0:
            return (), None
        st = self._st
        return self._orders((float(st[S_SIZE]), float(st[S_SIZE + 1])), self._execution.exit_order)

    def fill(
        self,
        symbol: str,
        quantity: float,
        price: float,
        *,
        fee: float = 0.0,
        timestamp: Any = None,
        fill_id: str | int | None = None,
    ) -> bool:
        """Report a fill of one leg: the holdings, entry prices and P&L follow it.

        Parameters
        ----------
        symbol
            The leg's symbol (:attr:`symbols`; ``"y"``/``"x"`` by default).
        quantity
            Units filled: > 0 bought, < 0 sold. A partial fill is a fill of fewer units; report
            each one. An order that never fills is simply not reported: the next signal's
            orders still ask for the difference.
        price
            The fill's price (finite, > 0).
        fee
            Fee paid in the quote currency (>= 0; default 0).
        timestamp
            The fill's time, for the caller's records (checked as a timestamp, not stored).
        fill_id
            The exchange's id of the fill (a string or an integer). A fill whose id was already
            applied is ignored and ``False`` returned, so fills can be re-sent after a restart;
            the last 1024 ids are kept in the state. Without an id every call applies.

        Returns
        -------
        bool
            True if the fill was applied, False for a repeated ``fill_id``.

        Raises
        ------
        PairsError
            ``symbol`` is not a leg, or a number is out of range. Nothing is changed.

        Examples
        --------
        >>> import pairs
        >>> engine = pairs.StreamEngine(pairs.Strategy(capital=1000.0), symbols=("ETH", "BTC"))
        >>> engine.fill("ETH", 0.5, 2000.0, fee=0.1, fill_id="t1")
        True
        >>> engine.fill("ETH", 0.5, 2000.0, fee=0.1, fill_id="t1")  # re-sent: ignored
        False
        >>> engine.holdings
        {'ETH': 0.5, 'BTC': 0.0}
        """
        k = _leg(self._symbols, symbol)
        quantity, price, fee = _fill_numbers(quantity, price, fee)
        if timestamp is not None:
            next_timestamp(timestamp, None, "fill")
        return self._legs.apply(k, quantity, price, fee, _fill_id(fill_id))

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
        position = self.position
        self._start()
        self._gap_exit = position

    def warmup(self, y: ArrayLike1D, x: ArrayLike1D) -> Signal:
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
            "options": _encode_options(self._max_gap, self._on_gap, self._symbols),
            "state": {**state, "legs": self._legs.encode()},
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
        if type(version) is not int or version not in (2, VERSION):
            raise StateError(
                f"state['version'] must be 2 or {VERSION} (this version of pairs); got {_short(version)}."
            )
        options = _decode_options(state["options"]) if "options" in state else {}
        try:
            engine = cls(Strategy.from_dict(state["strategy"]), **options)
        except StateError:
            raise
        except (PairsError, TypeError) as exc:
            raise StateError(f"state['strategy'] must hold a valid strategy; got: {exc}") from None
        engine._restore(state["state"], version)
        return engine

    def _restore(self, state: Any, version: int = VERSION) -> None:
        where = "state['state']"
        keys = ("n_updates", "last_timestamp", "hedge", "zscore", "rule", "sizing")
        check_keys(state, (*keys, "legs") if version >= 3 else keys, where)
        n = read_int(state, "n_updates", where, maximum=MAX_BARS)
        last_ts = _decode_timestamp(state["last_timestamp"])
        if n == 0 and last_ts is not None:
            raise StateError(
                f"{where}['last_timestamp'] must be null before the first update; got {last_ts!r}."
            )
        decode_row(self._st, n, {k: state[k] for k in keys}, where)
        check_rows(self._st[None, :])
        self._last_ts = last_ts
        if version >= 3:
            self._legs = Legs.decode(state["legs"], f"{where}['legs']")
        else:
            # Saved before fills were reported: the bot traded the targets it was given.
            self._legs = Legs.from_targets(self._st[S_SIZE], self._st[S_SIZE + 1])

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


def _leg(symbols: tuple[str, str], symbol: Any) -> int:
    if not isinstance(symbol, str) or symbol not in symbols:
        raise PairsError(f"symbol must be one of the legs {list(symbols)}; got {_short(symbol)}.")
    return symbols.index(symbol)


def _fill_numbers(quantity: Any, price: Any, fee: Any) -> tuple[float, float, float]:
    q = _price("quantity", quantity)
    if not (math.isfinite(q) and q != 0.0):
        raise PairsError(
            f"quantity must be a finite number other than 0 (> 0 bought, < 0 sold); got {quantity!r}."
        )
    p = _price("price", price)
    if not 0.0 < p < math.inf:
        raise PairsError(f"price must be a finite number > 0; got {price!r}.")
    f = _price("fee", fee)
    if not 0.0 <= f < math.inf:
        raise PairsError(f"fee must be a finite number >= 0; got {fee!r}.")
    return q, p, f


def _fill_id(value: Any) -> str | int | None:
    if value is None or type(value) is str or type(value) is int:
        return value  # type: ignore[no-any-return]
    raise PairsError(f"fill_id must be a string, an integer or None; got {_short(value)}.")
