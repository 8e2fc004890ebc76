"""One spec of the whole chain: hedge -> z-score -> entry/exit rule -> leg sizing -> costs.

:class:`Strategy` is the single place where the chain and its defaults are defined. The same
object runs in a notebook (:meth:`Strategy.run`, pandas in and out), in scripts and the command
line (``pairs signal|backtest|report --strategy FILE.json``) and in an execution bot
(:meth:`Strategy.stream` returns a :class:`~pairs.StreamEngine` running exactly this strategy:
a replay of the history gives the same positions, bit for bit).
"""

from __future__ import annotations

import dataclasses
import math
import os
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pairs._results import Summary
from pairs._settings import CHOICES, DEFAULTS, FEE_BPS, SLIPPAGE_BPS
from pairs._typing import ArrayLike1D, FillModel, Hedge, MarginMode, SizingMode, SlippageModel, ZScoreMethod
from pairs._validation import (
    MAX_WINDOW,
    align_pair,
    check_choice,
    check_flag,
    check_float,
    check_halflife,
    check_int,
    check_lot_size,
    raise_if_constant,
)
from pairs.exceptions import PairsError, PairsWarning
from pairs.strategy._spec_io import check_header, read_spec, write_spec
from pairs.trading._execution import ExecutionRule
from pairs.trading._rules import SignalRule

if TYPE_CHECKING:
    from pairs.evaluation import BacktestResult
    from pairs.strategy._result import StrategyResult
    from pairs.stream import StreamEngine

__all__ = [
    "FEE_BPS",
    "FILL",
    "FILL_MODELS",
    "HEDGES",
    "MAINTENANCE_MARGIN",
    "MARGIN_MODES",
    "MARKETS",
    "MIN_NOTIONAL",
    "SIZING_MODES",
    "SLIPPAGE_BPS",
    "SLIPPAGE_MODELS",
    "ZSCORE_METHODS",
    "Strategy",
    "check_fill",
    "check_market",
    "check_pair",
]

HEDGES: tuple[str, ...] = CHOICES["hedge"]
ZSCORE_METHODS: tuple[str, ...] = CHOICES["zscore_method"]
SIZING_MODES: tuple[str, ...] = CHOICES["sizing_mode"]
FORMAT = "pairs.Strategy"
VERSION = 1
# Smallest order notional of each leg in the quote currency, in a backtest account and in the
# orders of a live engine (exchanges refuse smaller ones, e.g. 5 USDT on Binance); 0: all sent.
MIN_NOTIONAL: tuple[float, float] = DEFAULTS["min_notional"]
# Execution of an account (see docs/backtest.md). Fills at the signal bar's close by default: the
# textbook convention, kept so that published numbers reproduce; a bot fills "next_open" at best.
FILL_MODELS: tuple[str, ...] = ("close", "next_open", "next_close")
FILL: FillModel = DEFAULTS["fill"]
SLIPPAGE_MODELS: tuple[str, ...] = ("cost", "price")
MARGIN_MODES: tuple[str, ...] = ("cross", "isolated")
MARKETS: tuple[str, ...] = ("perp", "spot")
# Maintenance margin rate of each perpetual leg: 0.4% is Binance USD-M BTCUSDT at its first tier
# (position notional up to 50,000 USDT, 125x) in Binance's "Leverage and Margin of USD-M Futures"
# table (tiers announced 2021-03-18; Binance adjusts them over time).
MAINTENANCE_MARGIN = (0.004, 0.004)
# Settings that are pairs (y, x): lists in a strategy file.
PAIRS = ("lot_size", "min_notional", "maintenance_margin", "market", "borrow_rate")


def check_fill(fill: Any) -> tuple[int, bool]:
    """``(lag in bars, fills at the open)`` of a fill model, validated."""
    if isinstance(fill, str):
        choice = check_choice("fill", fill, FILL_MODELS)
        return (0, False) if choice == "close" else (1, choice == "next_open")
    if isinstance(fill, bool) or not isinstance(fill, int):
        raise PairsError(
            f"fill must be 'close', 'next_open', 'next_close' or a lag in bars (int >= 0); got {fill!r}."
        )
    return check_int("fill", fill, minimum=0), False


def check_market(value: Any) -> tuple[str, str]:
    """A pair ``(y, x)`` of markets, each ``"perp"`` or ``"spot"``."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise PairsError(f"market must be a pair (y, x) of 'perp' or 'spot'; got {value!r}.")
    return (check_choice("market[0]", value[0], MARKETS), check_choice("market[1]", value[1], MARKETS))


def check_pair(name: str, value: Any, *, maximum: float | None = None) -> tuple[float, float]:
    """A pair ``(y, x)`` of floats >= 0 (below ``maximum`` when given)."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise PairsError(f"{name} must be a pair (y, x); got {value!r}.")
    strict = maximum is not None
    return (
        check_float(f"{name}[0]", value[0], minimum=0.0, maximum=maximum, strict_max=strict),
        check_float(f"{name}[1]", value[1], minimum=0.0, maximum=maximum, strict_max=strict),
    )


@dataclass(frozen=True)
class Strategy:
    """The whole pairs-trading chain as one frozen, validated spec.

    Parameters
    ----------
    hedge
        ``"kalman"`` (default): a Kalman-filter dynamic beta and intercept, filtered (no
        look-ahead), run on prices relative to the first bar so that the defaults work on any
        price level, raw or log (see :mod:`pairs.strategy._steps`). ``"rolling"``: OLS with an
        intercept over the last ``window`` bars. ``"ols"``: a fixed ``beta``/``alpha``.
    window
        Bars of the rolling hedge and default window of the rolling z-score (default 60; at
        most 1,000,000, ``pairs._validation.MAX_WINDOW``, as ``zscore_window``).
    delta
        Kalman state noise, ``0 < delta < 1`` (default 1e-4), in relative units.
    obs_var
        Kalman observation variance in relative units (default 1e-3: about a 3% observation
        noise around the relative prices). Both mean what they mean in
        :func:`pairs.kalman_hedge` with ``noise_units="ratio"`` (``"log"`` with
        ``log_prices=True``), whose betas this hedge reproduces.
    beta, alpha
        The fixed hedge of ``hedge="ols"``. ``beta=None`` in :meth:`run` fits OLS on the whole
        history given (which looks ahead; the result says so); a stream needs a number.
    log_prices
        Hedge ``log(y)`` on ``log(x)`` (default False: prices). With log prices ``beta`` is a
        ratio of notionals; the legs are sized with ``beta * y / x`` units of ``x`` per ``y``.
    zscore_method
        ``"rolling"`` (default), ``"ewm"``, ``"expanding"``: z-score of the spread, as
        :func:`pairs.zscore`; ``"innovation"`` (Kalman only): the filter's one-step-ahead error
        in units of its predicted standard deviation.
    zscore_window
        Window of the rolling z-score; default ``window``.
    zscore_halflife
        Half-life in bars of the EWM z-score (required with ``zscore_method="ewm"``; at most
        1,000,000).
    rule
        The entry/exit/stop state machine (default ``SignalRule()``: enter at ``|z| > 2``,
        exit at 0, no stop). A dict is accepted and converted.
    capital
        Account capital in the quote currency: a position of size 1 has this gross notional.
        When given, :meth:`run` adds the units of each leg and :meth:`backtest` simulates an
        account in currency; ``None`` (default): positions in spread units only.
    sizing_mode, lot_size, rebalance_band
        Leg sizing as :func:`pairs.size_legs`: ``"beta_neutral"`` (default) or
        ``"dollar_neutral"``; lot sizes of ``(y, x)`` (default ``(0, 0)``: fractional units;
        else at least 1e-18, one wei);
        re-size when beta drifted by more than this fraction (default 0: every bar).
    fee_bps, slippage_bps
        Trading costs in basis points of traded notional (defaults 10 and 0, as in
        :func:`pairs.backtest`: 10 bps is a usual spot taker fee); ``fee_bps`` is the taker fee.
    fill, maker_fee_bps, maker_share, slippage_model, min_notional, leverage, margin, maintenance_margin, \
    market, borrow_rate
        Execution, as in :func:`pairs.backtest` (see docs/backtest.md): when orders fill
        (default ``"close"``), the maker fee (default: the taker fee; negative: a rebate) and the
        share of notional filled as maker (default 0), slippage as a cost or a moved price
        (default ``"cost"``), the minimum order notional of each leg (default 0), the leverage
        limit (default None: none), ``"cross"`` or ``"isolated"`` margin and the maintenance
        margin rates (default 0.4% each: Binance USDⓈ-M BTCUSDT, first tier), each leg's market
        (default ``("perp", "perp")``; ``"spot"``: no funding, no liquidation, a long needs the
        cash) and the yearly interest on a spot short's borrowed coin (default 0). All but
        ``fill`` and the fees apply to an account only (``capital`` given).
    execution
        Leg order and guards of a pair traded live with fills (default
        ``ExecutionRule()``: legs together, no guard). A dict is accepted and converted.

    Notes
    -----
    Every default of the chain is defined here; the command line, the report, the demo and
    the streaming engine build a ``Strategy`` and run it. A rolling z-score includes the
    current bar, so ``|z| <= (w - 1) / sqrt(w)`` for a window of ``w`` bars: a ``stop_z`` above
    that bound can never fire, and the constructor warns (:class:`~pairs.PairsWarning`).

    Examples
    --------
    >>> import pairs
    >>> prices = pairs.load_sample("binance_1d")[["ETH", "BTC"]].dropna()
    >>> strategy = pairs.Strategy(hedge="kalman", log_prices=True)
    >>> result = strategy.run(prices["ETH"], prices["BTC"])
    >>> list(result.frame.columns)
    ['beta', 'alpha', 'spread', 'zscore', 'position', 'action', 'y_units', 'x_units']
    >>> pairs.Strategy.from_dict(strategy.to_dict()) == strategy
    True
    """

    # The defaults are those of pairs._settings.SETTINGS, which the command line shows too.
    hedge: Hedge = DEFAULTS["hedge"]
    window: int = DEFAULTS["window"]
    delta: float = DEFAULTS["delta"]
    obs_var: float = DEFAULTS["obs_var"]
    beta: float | None = DEFAULTS["beta"]
    alpha: float = DEFAULTS["alpha"]
    log_prices: bool = False
    zscore_method: ZScoreMethod = DEFAULTS["zscore_method"]
    zscore_window: int | None = DEFAULTS["zscore_window"]
    zscore_halflife: float | None = DEFAULTS["zscore_halflife"]
    rule: SignalRule = field(default_factory=SignalRule)
    capital: float | None = DEFAULTS["capital"]
    sizing_mode: SizingMode = DEFAULTS["sizing_mode"]
    lot_size: tuple[float, float] = DEFAULTS["lot_size"]
    rebalance_band: float = DEFAULTS["rebalance_band"]
    fee_bps: float = DEFAULTS["fee_bps"]
    slippage_bps: float = DEFAULTS["slippage_bps"]
    fill: FillModel | int = FILL
    maker_fee_bps: float | None = DEFAULTS["maker_fee_bps"]
    maker_share: float = DEFAULTS["maker_share"]
    slippage_model: SlippageModel = "cost"
    min_notional: tuple[float, float] = MIN_NOTIONAL
    leverage: float | None = DEFAULTS["leverage"]
    margin: MarginMode = DEFAULTS["margin"]
    maintenance_margin: tuple[float, float] = MAINTENANCE_MARGIN
    market: tuple[str, str] = ("perp", "perp")
    borrow_rate: tuple[float, float] = (0.0, 0.0)
    execution: ExecutionRule = field(default_factory=ExecutionRule)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        check_choice("hedge", self.hedge, HEDGES)
        set_(self, "window", check_int("window", self.window, minimum=2, maximum=MAX_WINDOW))
        set_(
            self,
            "delta",
            check_float("delta", self.delta, minimum=0.0, maximum=1.0, strict_min=True, strict_max=True),
        )
        set_(self, "obs_var", check_float("obs_var", self.obs_var, minimum=0.0, strict_min=True))
        if self.beta is not None:
            set_(self, "beta", check_float("beta", self.beta))
        set_(self, "alpha", check_float("alpha", self.alpha))
        set_(self, "log_prices", check_flag("log_prices", self.log_prices))
        check_choice("zscore_method", self.zscore_method, ZSCORE_METHODS)
        method = self.zscore_method
        if method == "innovation" and self.hedge != "kalman":
            raise PairsError(
                f"zscore_method must be 'rolling', 'ewm' or 'expanding' with hedge={self.hedge!r}; "
                "got 'innovation' (only the Kalman filter has innovations)."
            )
        if self.zscore_window is not None:
            if method != "rolling":
                raise PairsError(
                    f"zscore_window must be None with zscore_method={method!r}; got {self.zscore_window!r}."
                )
            set_(
                self,
                "zscore_window",
                check_int("zscore_window", self.zscore_window, minimum=2, maximum=MAX_WINDOW),
            )
        if method == "ewm":
            if self.zscore_halflife is None:
                raise PairsError("zscore_halflife must be a number > 0 with zscore_method='ewm'; got None.")
            set_(
                self,
                "zscore_halflife",
                check_halflife("zscore_halflife", self.zscore_halflife),
            )
        elif self.zscore_halflife is not None:
            raise PairsError(
                f"zscore_halflife must be None with zscore_method={method!r}; got {self.zscore_halflife!r}."
            )
        rule = self.rule
        if isinstance(rule, dict):
            rule = SignalRule.from_dict(rule)
        elif not isinstance(rule, SignalRule):
            raise PairsError(f"rule must be a SignalRule or a dict; got {type(rule).__name__}.")
        set_(self, "rule", rule)
        if self.capital is not None:
            set_(self, "capital", check_float("capital", self.capital, minimum=0.0, strict_min=True))
        check_choice("sizing_mode", self.sizing_mode, SIZING_MODES)
        set_(self, "lot_size", check_lot_size(self.lot_size))
        set_(self, "rebalance_band", check_float("rebalance_band", self.rebalance_band, minimum=0.0))
        set_(self, "fee_bps", check_float("fee_bps", self.fee_bps, minimum=0.0))
        set_(self, "slippage_bps", check_float("slippage_bps", self.slippage_bps, minimum=0.0))
        execution = self.execution
        if isinstance(execution, dict):
            execution = ExecutionRule.from_dict(execution)
        elif not isinstance(execution, ExecutionRule):
            raise PairsError(f"execution must be an ExecutionRule or a dict; got {type(execution).__name__}.")
        set_(self, "execution", execution)
        self._check_execution()
        self._warn_unreachable()

    def _check_execution(self) -> None:
        set_ = object.__setattr__
        check_fill(self.fill)
        if self.maker_fee_bps is not None:
            set_(self, "maker_fee_bps", check_float("maker_fee_bps", self.maker_fee_bps))
        set_(self, "maker_share", check_float("maker_share", self.maker_share, minimum=0.0, maximum=1.0))
        check_choice("slippage_model", self.slippage_model, SLIPPAGE_MODELS)
        set_(self, "min_notional", check_pair("min_notional", self.min_notional))
        if self.leverage is not None:
            set_(self, "leverage", check_float("leverage", self.leverage, minimum=0.0, strict_min=True))
        check_choice("margin", self.margin, MARGIN_MODES)
        if self.margin == "isolated" and self.leverage is None:
            raise PairsError(
                "leverage must be a number > 0 with margin='isolated' (it sets each leg's initial "
                "margin); got None."
            )
        set_(
            self, "maintenance_margin", check_pair("maintenance_margin", self.maintenance_margin, maximum=1.0)
        )
        set_(self, "market", check_market(self.market))
        set_(self, "borrow_rate", check_pair("borrow_rate", self.borrow_rate))

    def _warn_unreachable(self) -> None:
        if self.zscore_method != "rolling" or self.rule.stop_z is None:
            return
        w = self.z_window
        bound = (w - 1) / math.sqrt(w)
        if self.rule.stop_z > bound:
            warnings.warn(
                f"stop_z={self.rule.stop_z:g} can never fire: a rolling z-score over {w} bars (the "
                f"current bar included) is at most (w - 1) / sqrt(w) = {bound:.3g} in absolute value; "
                "use a longer zscore_window or a lower stop_z.",
                PairsWarning,
                stacklevel=4,
            )

    def changed_outside(self, modelled: frozenset[str] | set[str]) -> dict[str, Any]:
        """The settings not in ``modelled`` that differ from ``Strategy()``'s: what an engine that
        models only ``modelled`` would silently ignore (it refuses them instead)."""
        default = Strategy()
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in modelled and getattr(self, f.name) != getattr(default, f.name)
        }

    # ----------------------------------------------------------------- derived settings
    @property
    def z_window(self) -> int:
        """Window of the rolling z-score: ``zscore_window``, else ``window``."""
        return self.window if self.zscore_window is None else self.zscore_window

    def replace(self, **changes: Any) -> Strategy:
        """A copy with some settings changed (validated again)."""
        return dataclasses.replace(self, **changes)

    # ----------------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of every setting (a strategy file); :meth:`from_dict` inverts it."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["rule"] = self.rule.to_dict()
        out["execution"] = self.execution.to_dict()
        for name in PAIRS:
            out[name] = list(out[name])
        return {"format": FORMAT, "version": VERSION, **out}

    @classmethod
    def from_dict(cls, data: Any) -> Strategy:
        """Rebuild a strategy from :meth:`to_dict` output; missing settings take their defaults.

        Raises
        ------
        PairsError
            ``data`` is not a dict, has unknown keys, another format/version or invalid values.
        """
        data = check_header(data, FORMAT, VERSION, {f.name for f in dataclasses.fields(cls)}, "strategy")
        for name in PAIRS:
            if isinstance(data.get(name), list):
                data[name] = tuple(data[name])
        try:
            return cls(**data)
        except TypeError as exc:
            raise PairsError(f"data must hold valid strategy settings; got: {exc}") from None

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """The strategy file as indented JSON text; written atomically to ``path`` if given."""
        return write_spec(self.to_dict(), path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Strategy:
        """Read a strategy file written by :meth:`to_json` (or by hand).

        The file must be a regular file of at most 1 MB: a FIFO or a device such as ``/dev/zero``
        is refused before it is opened, with a :class:`~pairs.DataError`.
        """
        return cls.from_dict(read_spec(path, "strategy"))

    def summary(self) -> str:
        """Readable multi-line description of the chain."""
        from pairs.strategy._describe import describe

        return Summary(describe(self))

    def __str__(self) -> str:
        return self.summary()

    # ----------------------------------------------------------------- running
    def run(self, y: ArrayLike1D, x: ArrayLike1D) -> StrategyResult:
        """Run the chain over a history: beta, alpha, spread, z-score, position, action, units.

        Parameters
        ----------
        y, x
            Prices of the asset hedged and of the hedge (finite, > 0), on one index.

        Returns
        -------
        StrategyResult
            ``.frame`` (columns ``beta, alpha, spread, zscore, position, action, y_units,
            x_units``), ``.position``, and the strategy. Causal (bar ``t`` uses bars up to ``t``)
            except ``hedge="ols"`` without ``beta``, which fits on the whole history (see
            ``.note``). NaN during warm-up; ``y_units``/``x_units`` are NaN without ``capital``.
        """
        from pairs.strategy._batch import run_batch

        ys, xs = align_pair(y, x, positive=True)
        raise_if_constant("y", ys.to_numpy())
        raise_if_constant("x", xs.to_numpy())
        return run_batch(self, ys, xs)

    def stream(self) -> StreamEngine:
        """A :class:`~pairs.StreamEngine` that runs this strategy one bar at a time."""
        from pairs.stream import StreamEngine

        return StreamEngine(self)

    def backtest(self, y: ArrayLike1D, x: ArrayLike1D, **options: Any) -> BacktestResult:
        """Run the strategy and trade it with its costs: :func:`pairs.backtest` on the result.

        Without ``capital`` the textbook return on gross exposure; with ``capital`` an account in
        currency trading the strategy's leg units. ``options`` go to :func:`pairs.backtest`
        (e.g. ``funding``, ``periods_per_year``).
        """
        return self.run(y, x).backtest(**options)
