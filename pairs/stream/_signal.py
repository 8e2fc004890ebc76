"""The :class:`Signal` of one bar and its JSON line, built for the bot's hot path."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from pairs._results import ResultMixin, json_safe
from pairs.stream._legs import Order
from pairs.stream._time import Stamp
from pairs.trading._rules import ACTIONS

__all__ = ["Signal", "body_json"]


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
    """``"enter_long"``, ``"enter_short"`` (also a flip), ``"exit"``, ``"stop"``, ``"hold"``, or
    ``"guard"`` (a guard of the strategy's :class:`~pairs.ExecutionRule` closed the pair)."""
    orders: tuple[Order, ...] | None = None
    """With ``capital``: the orders that take the holdings the engine knows (from fills) to
    ``y_units``/``x_units``, rounded to lots, without those below ``min_notional`` (see
    :meth:`pairs.StreamEngine.fill`); empty when nothing is to trade. None without capital."""
    leverage_cut: str | None = None
    """``"scaled"`` or ``"refused"`` when the strategy's ``leverage`` limit cut this bar's orders
    (gross exposure after them at most ``leverage`` times the equity: capital plus the P&L of the
    fills; see :mod:`pairs.stream._leverage`), else None. In ``to_dict`` and the JSON line only
    when not None."""
    fill: str | int | None = None
    """Which bar the orders are for, when not this bar's close: the strategy's ``fill``
    (``"next_open"``: the next bar's open; ``"next_close"``: its close; ``N``: the close ``N`` bars
    later), as the account backtest fills them. None (the default ``"close"``): this bar's close.
    In ``to_dict`` and the JSON line only when not None."""

    def to_dict(self) -> dict[str, Any]:
        """Every field as JSON-safe data: NaN/inf become None, timestamps ISO 8601 strings.

        ``leverage_cut`` and ``fill`` are there only when not None (lines stay as they were
        without a cut, with fills at the close).
        """
        out = {
            "timestamp": _stamp_value(self.timestamp),
            "beta": _float_value(self.beta),
            "alpha": _float_value(self.alpha),
            "spread": _float_value(self.spread),
            "zscore": _float_value(self.zscore),
            "position": _int_value(self.position),
            "y_units": _float_value(self.y_units),
            "x_units": _float_value(self.x_units),
            "action": self.action if type(self.action) is str else json_safe(self.action),
            "orders": None if self.orders is None else [o.to_dict() for o in self.orders],
        }
        if self.leverage_cut is not None:
            out["leverage_cut"] = json_safe(self.leverage_cut)
        if self.fill is not None:
            out["fill"] = json_safe(self.fill)
        return out

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


class _SignalFields(ResultMixin):
    """A :class:`Signal`'s slot layout without its frozen ``__setattr__``: filled, then relabelled.

    Per bar, ``Signal(...)`` costs ten ``object.__setattr__`` calls of the frozen dataclass
    (about 1.3 us here); plain slot stores and a ``__class__`` switch cost about 0.3 us. The
    object is a Signal before anyone else sees it (tests/stream/test_hot_path.py).
    """

    __slots__ = Signal.__slots__  # type: ignore[attr-defined]


_new = object.__new__
_Timestamp = pd.Timestamp


def fill_field(strategy: Any) -> str | int | None:
    """A signal's ``fill``: the strategy's fill model, None for fills at the bar's close."""
    return None if strategy.fill in ("close", 0) else strategy.fill


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
    orders: tuple[Order, ...] | None = None,
    leverage_cut: str | None = None,
    fill: str | int | None = None,
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
    signal.orders = orders
    signal.leverage_cut = leverage_cut
    signal.fill = fill
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
    orders = "null" if signal.orders is None else _orders_json(signal.orders)
    cut = "" if signal.leverage_cut is None else f', "leverage_cut": {_other_json(signal.leverage_cut)}'
    if signal.fill is not None:
        cut += f', "fill": {_other_json(signal.fill)}'
    return (
        f'{head}"beta": {_float_json(signal.beta)}, "alpha": {_float_json(signal.alpha)}, '
        f'"spread": {_float_json(signal.spread)}, "zscore": {_float_json(signal.zscore)}, '
        f'"position": {int.__repr__(position) if type(position) is int else _other_json(position)}, '
        f'"y_units": {_float_json(signal.y_units)}, "x_units": {_float_json(signal.x_units)}, '
        f'"action": {action or _other_json(signal.action)}, "orders": {orders}{cut}}}'
    )


def _orders_json(orders: tuple[Order, ...]) -> str:
    return json.dumps([o.to_dict() for o in orders])
