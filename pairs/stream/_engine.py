"""O(1)-per-bar streaming engine for execution bots: one bar in, one :class:`Signal` out.

:class:`StreamEngine` chains a hedge ratio, a z-score of the spread, the entry/exit state
machine of :mod:`pairs.trading._rules` and, optionally, leg sizing. Each
:meth:`~StreamEngine.update` costs O(1) time and memory (ring buffers for windows, one
compiled call per statistic) and replaying a history reproduces the batch functions:

* ``hedge="kalman"``: beta/alpha of :func:`~pairs.hedge._kalman.kalman_hedge` (bit-identical);
  z-score by default the filter's innovation z-score;
* ``hedge="rolling"``: those of :func:`~pairs.hedge._rolling.rolling_hedge` (bit-identical);
  z-score by default ``zscore(spread, window=zscore_window)``;
* ``hedge="ols"``: a fixed beta/alpha given by the user, e.g. from
  :func:`~pairs.hedge._ols.ols_hedge` on a training set; z-score as for ``"rolling"``.

The Kalman innovation z-score ``innovation / sqrt(innovation_var)`` is the one-step-ahead
error in units of its predicted standard deviation, so it needs no extra window; pass
``zscore_method="rolling"`` (or ``"ewm"``, ``"expanding"``) to standardise the filtered
spread ``y - beta x - alpha`` instead, as ``zscore(kalman_hedge(...).spread, ...)``. The
z-scores match :func:`pairs.trading._zscore` to about 1e-13 (``"rolling"``) or exactly, and
positions and actions are those of :func:`pairs.trading.signals` and
:func:`~pairs.trading._rules.step_rule`: the engine runs their rule kernel. With
``log_prices=True`` the hedge runs on ``math.log`` of the prices, which may differ from
``np.log`` in the last bit.

Warm-up: like the batch functions, the engine imposes none beyond its windows (the Kalman
filter starts from its prior, so its first z-scores carry that prior's uncertainty). A bot
replays recent history through :meth:`~StreamEngine.update`, saves, and trades from there.

Persistence: :meth:`~StreamEngine.state_dict` is plain JSON data (format version, the
engine options and every running statistic; NaN/inf encoded as ``"nan"``/``"inf"``/``"-inf"``)
and :meth:`~StreamEngine.from_state` restores it exactly, so a restored engine continues
bit for bit like one that never stopped. :meth:`~StreamEngine.save` writes atomically with a
checksum; a truncated, corrupted or foreign-version state raises
:class:`~pairs.exceptions.StateError`, never a silent reset.

An update with a NaN, infinite or non-positive price raises
:class:`~pairs.exceptions.DataError`; a duplicate or earlier timestamp raises
:class:`~pairs.exceptions.StateError`. Either way the engine state is left unchanged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import numbers
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd

from pairs._io import write_text_atomic
from pairs._results import ResultMixin
from pairs._validation import check_choice, check_float, check_int
from pairs.exceptions import DataError, PairsError, StateError
from pairs.hedge._kalman import _prior_cov, _prior_mean
from pairs.stream._online import (
    EwmZScore,
    ExpandingZScore,
    FixedHedge,
    KalmanHedge,
    RollingHedge,
    RollingZScore,
    check_keys,
    encode_floats,
    read_float,
    read_int,
)

# The rule kernel itself, not the validating step_rule wrapper, which costs three times the rest
# of an update; signals() and step_rule() run the same kernel.
from pairs.trading._rules import ACTIONS, RuleState, SignalRule, _kernel_args, _transition
from pairs.trading._sizing import size_step

__all__ = ["Signal", "StreamEngine"]

Hedge = Literal["kalman", "rolling", "ols"]
ZMethod = Literal["innovation", "rolling", "ewm", "expanding"]
SizingMode = Literal["beta_neutral", "dollar_neutral"]
Stamp: TypeAlias = "pd.Timestamp | int | float | None"

FORMAT = "pairs.StreamEngine"
VERSION = 1
_HEDGE_OPTIONS = {
    "kalman": ("delta", "obs_var", "initial_state_mean", "initial_state_cov"),
    "rolling": ("window",),
    "ols": ("beta", "alpha"),
}
_CONFIG_KEYS = (
    "hedge",
    "hedge_options",
    "rule",
    "zscore_method",
    "zscore_window",
    "zscore_halflife",
    "capital",
    "sizing_mode",
    "lot_size",
    "rebalance_band",
    "log_prices",
)


@dataclass(frozen=True, repr=False)
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


def _hedge_options(hedge: str, options: dict[str, Any]) -> dict[str, Any]:
    """Validate ``hedge_options`` and return them normalised to JSON data."""
    allowed = _HEDGE_OPTIONS[hedge]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise PairsError(
            f"hedge options must be among {list(allowed)} with hedge={hedge!r}; got {unknown!r}."
        )
    if hedge == "kalman":
        delta = options.get("delta", 1e-4)
        cov = _prior_cov(options.get("initial_state_cov", 1.0))
        return {
            "delta": check_float("delta", delta, minimum=0.0, maximum=1.0, strict_min=True, strict_max=True),
            "obs_var": check_float("obs_var", options.get("obs_var", 1e-3), minimum=0.0, strict_min=True),
            "initial_state_mean": list(_prior_mean(options.get("initial_state_mean", (0.0, 0.0)))),
            "initial_state_cov": [[cov[0], cov[1]], [cov[1], cov[2]]],
        }
    if hedge == "rolling":
        if "window" not in options:
            raise PairsError("window must be an integer >= 2 with hedge='rolling'; got None.")
        return {"window": check_int("window", options["window"], minimum=2)}
    if options.get("beta") is None:
        raise PairsError(
            "beta must be a finite number with hedge='ols' (e.g. ols_hedge(y, x).beta on a training "
            "set); got None."
        )
    return {
        "beta": check_float("beta", options["beta"]),
        "alpha": check_float("alpha", options.get("alpha", 0.0)),
    }


def _zscore_options(
    hedge: str, method: Any, window: Any, halflife: Any
) -> tuple[str, int | None, float | None]:
    methods = (
        ("innovation", "rolling", "ewm", "expanding")
        if hedge == "kalman"
        else ("rolling", "ewm", "expanding")
    )
    if method is None:
        method = "innovation" if hedge == "kalman" else "rolling"
    check_choice("zscore_method", method, methods)
    if method == "rolling":
        if window is None:
            raise PairsError("zscore_window must be an integer >= 2 with zscore_method='rolling'; got None.")
        window = check_int("zscore_window", window, minimum=2)
    elif window is not None:
        raise PairsError(f"zscore_window must be None with zscore_method={method!r}; got {window!r}.")
    if method == "ewm":
        if halflife is None:
            raise PairsError("zscore_halflife must be a number > 0 with zscore_method='ewm'; got None.")
        halflife = check_float("zscore_halflife", halflife, minimum=0.0, strict_min=True)
    elif halflife is not None:
        raise PairsError(f"zscore_halflife must be None with zscore_method={method!r}; got {halflife!r}.")
    return method, window, halflife


def _price(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise DataError(f"{name} must be a real number; got {value!r}.")
    return float(value)


def _as_timestamp(value: Any) -> pd.Timestamp | int | float:
    if isinstance(value, bool):
        raise DataError(f"timestamp must be a datetime, an ISO string or a number; got {value!r}.")
    if isinstance(value, numbers.Integral):
        return int(value)
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


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


class StreamEngine:
    """Hedge ratio, z-score, position and leg sizes updated one bar at a time in O(1).

    Parameters
    ----------
    hedge
        ``"kalman"`` (options ``delta``, ``obs_var``, ``initial_state_mean``,
        ``initial_state_cov`` as :func:`~pairs.hedge._kalman.kalman_hedge`, with its defaults,
        which suit log prices: on price levels ``obs_var`` is in squared price units), ``"rolling"``
        (option ``window``: OLS with intercept over the last ``window`` bars, current bar
        included, as :func:`~pairs.hedge._rolling.rolling_hedge`) or ``"ols"`` (options ``beta``
        and ``alpha=0.0``: a fixed hedge, e.g. from :func:`~pairs.hedge._ols.ols_hedge` on a
        training set).
    rule
        Entry/exit thresholds; default ``SignalRule()`` (enter at ``|z| > 2``, exit at 0).
    zscore_method
        ``"innovation"`` (Kalman only, its default), ``"rolling"`` (default otherwise),
        ``"ewm"`` or ``"expanding"``: the z-score of the spread, as :func:`pairs.trading._zscore`.
    zscore_window
        Window of ``zscore_method="rolling"`` (required there), in bars.
    zscore_halflife
        Half-life of ``zscore_method="ewm"`` (required there), in bars.
    capital
        Gross notional of a position of size 1; when given, each :class:`Signal` carries the
        target ``y_units`` and ``x_units`` of :func:`pairs.trading.size_legs`.
    sizing_mode, lot_size, rebalance_band
        As :func:`pairs.trading.size_legs`. With ``log_prices`` the hedge ratio is a ratio of
        notionals, so the legs are sized with ``beta * y_price / x_price`` units of ``x`` per ``y``.
    log_prices
        Hedge ``log(y)`` on ``log(x)`` instead of the prices.
    **hedge_options
        Options of the chosen ``hedge``.

    Examples
    --------
    >>> import json
    >>> import pandas as pd
    >>> from pairs import load_sample
    >>> from pairs.trading import SignalRule
    >>> prices = load_sample("binance_1d")[["BTC", "ETH"]].dropna().iloc[:150]
    >>> engine = StreamEngine("kalman", delta=1e-4, obs_var=1e-3, log_prices=True,
    ...                       rule=SignalRule(entry_z=1.5), capital=10_000, lot_size=(0.01, 0.0001))
    >>> for ts, btc, eth in zip(prices.index, prices["BTC"], prices["ETH"]):
    ...     signal = engine.update(eth, btc, timestamp=ts)
    ...     if signal.action != "hold":
    ...         print(signal.timestamp.date(), signal.action, signal.y_units, round(signal.x_units, 4))
    2017-12-06 enter_long 14.99 -0.2829
    2017-12-08 exit 0.0 0.0
    2017-12-12 enter_short -9.91 0.2353
    2017-12-14 exit 0.0 0.0
    2018-01-09 enter_short -4.57 0.2836
    2018-01-10 exit 0.0 0.0

    A restored engine continues exactly like the original:

    >>> restored = StreamEngine.from_state(json.loads(json.dumps(engine.state_dict())))
    >>> later = prices.index[-1] + pd.Timedelta(days=1)
    >>> restored.update(700.0, 14000.0, later) == engine.update(700.0, 14000.0, later)
    True
    """

    __slots__ = (
        "_band",
        "_beta_neutral",
        "_capital",
        "_config",
        "_hedge",
        "_held_x",
        "_held_y",
        "_last_pos",
        "_last_ts",
        "_log",
        "_lot_x",
        "_lot_y",
        "_n",
        "_ref_beta",
        "_rule",
        "_rule_args",
        "_rule_state",
        "_z",
    )

    def __init__(
        self,
        hedge: Hedge = "kalman",
        *,
        rule: SignalRule | None = None,
        zscore_method: ZMethod | None = None,
        zscore_window: int | None = None,
        zscore_halflife: float | None = None,
        capital: float | None = None,
        sizing_mode: SizingMode = "beta_neutral",
        lot_size: tuple[float, float] = (0.0, 0.0),
        rebalance_band: float = 0.0,
        log_prices: bool = False,
        **hedge_options: Any,
    ) -> None:
        check_choice("hedge", hedge, tuple(_HEDGE_OPTIONS))
        options = _hedge_options(hedge, hedge_options)
        if rule is None:
            rule = SignalRule()
        elif not isinstance(rule, SignalRule):
            raise PairsError(f"rule must be a SignalRule or None; got {type(rule).__name__}.")
        method, window, halflife = _zscore_options(hedge, zscore_method, zscore_window, zscore_halflife)
        cap = None if capital is None else check_float("capital", capital, minimum=0.0, strict_min=True)
        check_choice("sizing_mode", sizing_mode, ("beta_neutral", "dollar_neutral"))
        if not isinstance(lot_size, (tuple, list)) or len(lot_size) != 2:
            raise PairsError(f"lot_size must be a pair (y_lot, x_lot); got {lot_size!r}.")
        self._lot_y = check_float("lot_size[0]", lot_size[0], minimum=0.0)
        self._lot_x = check_float("lot_size[1]", lot_size[1], minimum=0.0)
        self._band = check_float("rebalance_band", rebalance_band, minimum=0.0)
        if not isinstance(log_prices, (bool, np.bool_)):
            raise PairsError(f"log_prices must be True or False; got {log_prices!r}.")
        self._log = bool(log_prices)
        self._capital = cap
        self._beta_neutral = sizing_mode == "beta_neutral"
        self._rule = rule
        self._rule_args = _kernel_args(rule)
        self._config: dict[str, Any] = {
            "hedge": hedge,
            "hedge_options": options,
            "rule": rule.to_dict(),
            "zscore_method": method,
            "zscore_window": window,
            "zscore_halflife": halflife,
            "capital": cap,
            "sizing_mode": sizing_mode,
            "lot_size": [self._lot_y, self._lot_x],
            "rebalance_band": self._band,
            "log_prices": self._log,
        }
        self._hedge: KalmanHedge | RollingHedge | FixedHedge
        if hedge == "kalman":
            self._hedge = KalmanHedge(options)
        elif hedge == "rolling":
            self._hedge = RollingHedge(options["window"])
        else:
            self._hedge = FixedHedge(options)
        self._z: RollingZScore | EwmZScore | ExpandingZScore | None = (
            RollingZScore(window)  # type: ignore[arg-type]
            if method == "rolling"
            else EwmZScore(halflife)  # type: ignore[arg-type]
            if method == "ewm"
            else ExpandingZScore()
            if method == "expanding"
            else None
        )
        self._rule_state: list[int] = list(RuleState())
        self._held_y = self._held_x = self._last_pos = 0.0
        self._ref_beta = math.nan
        self._n = 0
        self._last_ts: Stamp = None

    def __repr__(self) -> str:
        return f"StreamEngine(hedge={self._config['hedge']!r}, n_updates={self._n}, position={self.position})"

    @property
    def n_updates(self) -> int:
        """Number of bars processed so far."""
        return self._n

    @property
    def position(self) -> int:
        """Current spread position (+1, -1 or 0)."""
        return self._rule_state[0]

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
        if not 0.0 < y_price < math.inf:
            raise DataError(f"y_price must be a finite number > 0; got {y_price!r}.")
        if not 0.0 < x_price < math.inf:
            raise DataError(f"x_price must be a finite number > 0; got {x_price!r}.")
        ts = self._check_timestamp(timestamp)
        if self._log:
            beta, alpha, spread, z = self._hedge.update(math.log(y_price), math.log(x_price))
        else:
            beta, alpha, spread, z = self._hedge.update(y_price, x_price)
        if self._z is not None:
            z = self._z.update(spread)
        *rule_state, code = _transition(*self._rule_state, z, *self._rule_args)  # type: ignore[call-arg]
        self._rule_state = rule_state
        position = rule_state[0]
        y_units = x_units = None
        if self._capital is not None:
            y_units, x_units = self._size(position, beta, y_price, x_price)
        self._n += 1
        self._last_ts = ts
        return Signal(ts, beta, alpha, spread, z, position, y_units, x_units, ACTIONS[code])

    def _check_timestamp(self, value: Any) -> Stamp:
        last = self._last_ts
        if value is None:
            if last is not None:
                raise StateError(
                    f"timestamp must be given after updates with timestamps (last {last!r}); got None."
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
                    f"timestamp must be after the previous update ({last!r}); got {kind} it: {value!r}."
                )
        return ts

    def _size(self, position: int, beta: float, y_price: float, x_price: float) -> tuple[float, float]:
        b = beta * y_price / x_price if self._log else beta
        self._held_y, self._held_x, self._last_pos, self._ref_beta = size_step(
            float(position),
            b,
            y_price,
            x_price,
            self._held_y,
            self._held_x,
            self._last_pos,
            self._ref_beta,
            self._capital,
            self._beta_neutral,
            self._lot_y,
            self._lot_x,
            self._band,
        )
        return self._held_y, self._held_x

    def state_dict(self) -> dict[str, Any]:
        """Return the full engine state (options and running statistics) as JSON data.

        ``json.dumps`` works on it (no NaN tokens: non-finite floats are the strings
        ``"nan"``, ``"inf"``, ``"-inf"``) and finite floats round-trip bit for bit.
        """
        state = {
            "n_updates": self._n,
            "last_timestamp": _encode_timestamp(self._last_ts),
            "hedge": self._hedge.state(),
            "zscore": None if self._z is None else self._z.state(),
            "rule": dict(zip(RuleState._fields, self._rule_state, strict=True)),
            "sizing": {
                "y_units": self._held_y,
                "x_units": self._held_x,
                "position": self._last_pos,
                "beta": self._ref_beta,
            },
        }
        return encode_floats({"format": FORMAT, "version": VERSION, "config": self._config, "state": state})

    @classmethod
    def from_state(cls, state: Any) -> StreamEngine:
        """Rebuild an engine from :meth:`state_dict` output (also after a JSON round trip).

        Raises
        ------
        StateError
            ``state`` is not a complete state of this format version.
        """
        check_keys(state, ("format", "version", "config", "state"), "state")
        if state["format"] != FORMAT:
            raise StateError(f"state['format'] must be {FORMAT!r}; got {state['format']!r}.")
        version = state["version"]
        if type(version) is not int or version != VERSION:
            raise StateError(f"state['version'] must be {VERSION} (this version of pairs); got {version!r}.")
        config = check_keys(state["config"], _CONFIG_KEYS, "state['config']")
        options = config["hedge_options"]
        if not isinstance(options, dict):
            raise StateError(f"state['config']['hedge_options'] must be a dict; got {options!r}.")
        try:
            engine = cls(
                config["hedge"],
                rule=SignalRule.from_dict(config["rule"]),
                zscore_method=config["zscore_method"],
                zscore_window=config["zscore_window"],
                zscore_halflife=config["zscore_halflife"],
                capital=config["capital"],
                sizing_mode=config["sizing_mode"],
                lot_size=config["lot_size"],
                rebalance_band=config["rebalance_band"],
                log_prices=config["log_prices"],
                **options,
            )
        except StateError:
            raise
        except (PairsError, TypeError) as exc:
            raise StateError(f"state['config'] must hold valid engine options; got: {exc}") from None
        engine._restore(state["state"])
        return engine

    def _restore(self, state: Any) -> None:
        where = "state['state']"
        check_keys(state, ("n_updates", "last_timestamp", "hedge", "zscore", "rule", "sizing"), where)
        n = read_int(state, "n_updates", where)
        last_ts = _decode_timestamp(state["last_timestamp"])
        self._hedge.restore(state["hedge"], f"{where}['hedge']")
        if self._z is None:
            if state["zscore"] is not None:
                raise StateError(
                    f"{where}['zscore'] must be null with zscore_method='innovation'; got a dict."
                )
        else:
            self._z.restore(state["zscore"], f"{where}['zscore']")
        rule = check_keys(state["rule"], RuleState._fields, f"{where}['rule']")
        signed = ("position", "blocked_side")
        self._rule_state = [
            read_int(
                rule,
                name,
                f"{where}['rule']",
                minimum=-1 if name in signed else 0,
                maximum=1 if name in signed else None,
            )
            for name in RuleState._fields
        ]
        sizing = check_keys(state["sizing"], ("y_units", "x_units", "position", "beta"), f"{where}['sizing']")
        self._held_y, self._held_x, self._last_pos, self._ref_beta = (
            read_float(sizing, name, f"{where}['sizing']")
            for name in ("y_units", "x_units", "position", "beta")
        )
        self._n = n
        self._last_ts = last_ts

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`state_dict` with a SHA-256 checksum to ``path``, atomically.

        The JSON goes to a temporary file in the same directory, is flushed and fsynced, then
        replaces ``path`` with ``os.replace``: a crash leaves either the old or the new file.
        """
        engine = self.state_dict()
        text = json.dumps(
            {"sha256": hashlib.sha256(_canonical(engine).encode()).hexdigest(), "engine": engine}
        )
        write_text_atomic(path, text)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> StreamEngine:
        """Read an engine written by :meth:`save`.

        Raises
        ------
        StateError
            The file is truncated, corrupted (checksum mismatch), not a state file, or from
            another format version. A missing file raises ``FileNotFoundError``.
        """
        raw = Path(path).read_bytes()
        try:
            doc = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except (UnicodeDecodeError, ValueError) as exc:
            raise StateError(
                f"path must be a StreamEngine state file; got unreadable JSON in {str(path)!r} "
                f"(truncated or corrupted: {exc})."
            ) from None
        doc = check_keys(doc, ("sha256", "engine"), f"state file {str(path)!r}")
        if hashlib.sha256(_canonical(doc["engine"]).encode()).hexdigest() != doc["sha256"]:
            raise StateError(
                f"path must be an intact StreamEngine state file; got a checksum mismatch in {str(path)!r} "
                "(the file was corrupted or edited)."
            )
        return cls.from_state(doc["engine"])
