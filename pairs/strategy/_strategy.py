"""One spec of the whole chain: hedge -> z-score -> entry/exit rule -> leg sizing -> costs.

:class:`Strategy` is the single place where the chain and its defaults are defined. The same
object runs in a notebook (:meth:`Strategy.run`, pandas in and out), in scripts and the command
line (``pairs signal|backtest|report --strategy FILE.json``) and in an execution bot
(:meth:`Strategy.stream` returns a :class:`~pairs.StreamEngine` running exactly this strategy:
a replay of the history gives the same positions, bit for bit).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pairs._io import check_path, read_regular_file, write_text_atomic
from pairs._results import Summary
from pairs._settings import CHOICES, DEFAULTS, FEE_BPS, SLIPPAGE_BPS
from pairs._typing import ArrayLike1D, Hedge, SizingMode, ZScoreMethod
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
from pairs.exceptions import DataError, PairsError, PairsWarning
from pairs.trading._rules import SignalRule

if TYPE_CHECKING:
    from pairs.evaluation import BacktestResult
    from pairs.strategy._result import StrategyResult
    from pairs.stream import StreamEngine

__all__ = ["FEE_BPS", "HEDGES", "SIZING_MODES", "SLIPPAGE_BPS", "ZSCORE_METHODS", "Strategy"]

HEDGES: tuple[str, ...] = CHOICES["hedge"]
ZSCORE_METHODS: tuple[str, ...] = CHOICES["zscore_method"]
SIZING_MODES: tuple[str, ...] = CHOICES["sizing_mode"]
FORMAT = "pairs.Strategy"
VERSION = 1
MAX_STRATEGY_BYTES = 1_000_000
"""Largest strategy file :meth:`Strategy.load` reads."""


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
        :func:`pairs.backtest`: 10 bps is a usual spot taker fee).

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
        self._warn_unreachable()

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
        out["lot_size"] = list(self.lot_size)
        return {"format": FORMAT, "version": VERSION, **out}

    @classmethod
    def from_dict(cls, data: Any) -> Strategy:
        """Rebuild a strategy from :meth:`to_dict` output; missing settings take their defaults.

        Raises
        ------
        PairsError
            ``data`` is not a dict, has unknown keys, another format/version or invalid values.
        """
        if not isinstance(data, dict):
            raise PairsError(f"data must be a dict (a strategy file); got {type(data).__name__}.")
        data = dict(data)
        fmt = data.pop("format", FORMAT)
        version = data.pop("version", VERSION)
        if fmt != FORMAT:
            raise PairsError(f"data['format'] must be {FORMAT!r}; got {fmt!r}.")
        if version != VERSION or isinstance(version, bool):
            raise PairsError(f"data['version'] must be {VERSION}; got {version!r}.")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise PairsError(f"data must only have keys {sorted(known)}; got unknown {unknown!r}.")
        if isinstance(data.get("lot_size"), list):
            data["lot_size"] = tuple(data["lot_size"])
        try:
            return cls(**data)
        except TypeError as exc:
            raise PairsError(f"data must hold valid strategy settings; got: {exc}") from None

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """The strategy file as indented JSON text; written atomically to ``path`` if given."""
        text = json.dumps(self.to_dict(), indent=2) + "\n"
        if path is not None:
            try:
                write_text_atomic(check_path(path), text)
            except OSError as exc:
                raise DataError(
                    f"path must be a writable file; got {str(path)!r} ({exc.strerror or exc})."
                ) from None
        return text

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Strategy:
        """Read a strategy file written by :meth:`to_json` (or by hand).

        The file must be a regular file of at most 1 MB (``MAX_STRATEGY_BYTES``): a FIFO or a
        device such as ``/dev/zero`` is refused before it is opened, with a
        :class:`~pairs.DataError`.
        """
        raw = read_regular_file(check_path(path), MAX_STRATEGY_BYTES, what="strategy file")
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            raise DataError(
                f"path must hold strategy JSON; got invalid JSON in {str(path)!r} ({exc})."
            ) from None
        return cls.from_dict(data)

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
