"""A portfolio of pairs rotated over a universe: one frozen, validated, JSON spec.

:class:`Portfolio` holds the whole rotation: which pairs (a :class:`~pairs.Selection` on each
formation window), how each is traded (a :class:`~pairs.Strategy`), the windows, and the one
shared account (capital, leverage, costs, lots per coin). The engine that runs it lives in
:mod:`pairs.evaluation` (:meth:`Portfolio.backtest` is a one-line convenience); the exact rules are
in docs/portfolio.md.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from pairs._results import Summary, format_table
from pairs._validation import check_choice, check_float, check_int
from pairs.exceptions import PairsError
from pairs.strategy._selection import MIN_FORMATION, Selection
from pairs.strategy._spec_io import check_header, read_spec, write_spec
from pairs.strategy._strategy import MAINTENANCE_MARGIN, MARGIN_MODES, MARKETS, Strategy, check_fill

if TYPE_CHECKING:
    from pairs.evaluation._portfolio import PortfolioResult
    from pairs.stream._portfolio import PortfolioStream

__all__ = ["ON_DESELECT", "Portfolio", "duration_bars", "window_bars"]

FORMAT = "pairs.Portfolio"
VERSION = 1
ON_DESELECT: tuple[str, ...] = ("close", "hold_to_exit")
_MAX_BARS = 2**53
# The Strategy settings a portfolio trades by. Capital, leverage, margin and the per-leg settings
# of a single-pair account (lot_size, min_notional, maintenance_margin, market, borrow_rate) are
# the portfolio's own, per coin; the guards of a live pair (execution) are not modelled.
_MODELLED = frozenset(
    {
        "hedge",
        "window",
        "delta",
        "obs_var",
        "beta",
        "alpha",
        "log_prices",
        "zscore_method",
        "zscore_window",
        "zscore_halflife",
        "rule",
        "capital",
        "sizing_mode",
        "lot_size",
        "rebalance_band",
        "fee_bps",
        "slippage_bps",
        "fill",
        "maker_fee_bps",
        "maker_share",
        "slippage_model",
    }
)
# The per-coin account settings and their defaults (those of a Strategy's legs).
_PER_COIN: dict[str, Any] = {
    "min_notional": 0.0,
    "maintenance_margin": MAINTENANCE_MARGIN[0],
    "market": "perp",
    "borrow_rate": 0.0,
}


def _check_window(name: str, value: Any, minimum: int) -> int | str:
    if isinstance(value, str):
        try:
            span = pd.Timedelta(value)
        except ValueError:
            raise PairsError(
                f"{name} must be a bar count or a fixed pandas offset such as '30D'; got {value!r}."
            ) from None
        if pd.isna(span) or span <= pd.Timedelta(0):
            raise PairsError(f"{name} must be a positive duration; got {value!r}.")
        return value
    return check_int(name, value, minimum=minimum, maximum=_MAX_BARS)


def window_bars(name: str, value: int | str, index: pd.Index, minimum: int) -> int:
    """``value`` (bars, or a duration) as a number of bars of ``index`` (a regular DatetimeIndex)."""
    if isinstance(value, int):
        return value
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 2:
        raise PairsError(f"{name} must be a bar count when the prices have no DatetimeIndex; got {value!r}.")
    return duration_bars(name, value, pd.Series(index[1:] - index[:-1]).median(), minimum)


def duration_bars(name: str, value: str, bar: pd.Timedelta, minimum: int) -> int:
    """The duration ``value`` as a whole number of bars of length ``bar`` (> 0), at least ``minimum``."""
    ratio = pd.Timedelta(value) / bar
    bars = round(ratio)
    if bars < minimum or not math.isclose(ratio, bars, rel_tol=1e-9):
        raise PairsError(
            f"{name} must be a whole number of bars ({bar}) and at least {minimum} bars; got {value!r} "
            f"({ratio:g} bars)."
        )
    return int(bars)


def _check_per_coin(name: str, value: Any) -> Any:
    """A setting of every coin (a number, or ``"perp"``/``"spot"`` for ``market``) or a dict by coin."""

    def one(label: str, v: Any) -> Any:
        if name == "market":
            return check_choice(label, v, MARKETS)
        return check_float(label, v, minimum=0.0, maximum=1.0 if name == "maintenance_margin" else None)

    if isinstance(value, dict):
        return {str(k): one(f"{name}[{k!r}]", v) for k, v in value.items()}
    if name == "market" and not isinstance(value, str):
        raise PairsError(f"market must be 'perp', 'spot' or a dict {{coin: market}}; got {value!r}.")
    return one(name, value)


def _check_lots(value: Any) -> dict[str, float] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise PairsError(f"lot_size must be a dict {{coin: lot}} or None; got {type(value).__name__}.")
    return {str(k): check_float(f"lot_size[{k!r}]", v, minimum=0.0) for k, v in value.items()}


@dataclass(frozen=True)
class Portfolio:
    """Pairs chosen on each formation window, traded on the next, in one shared account.

    Parameters
    ----------
    strategy
        How each pair is traded (default ``Strategy()``). Its ``capital`` must be None and its
        ``lot_size`` ``(0, 0)``: the portfolio sizes every pair from its equity and has lots per
        coin. ``hedge="ols"`` without ``beta`` trades the selection's formation hedge (the
        Engle-Granger or distance ``beta``/``alpha``), which needs ``selection.log ==
        strategy.log_prices``.
    selection
        How pairs are chosen on each formation window (default ``Selection()``).
    formation, trading
        Window lengths, in bars (int) or as a fixed duration (``"30D"``, ``"7D"``; a whole number
        of bars of the prices). Window ``i`` selects on bars ``[i*trading, i*trading + formation)``
        and trades the next ``trading`` bars. Defaults ``"30D"`` and ``"7D"``.
    capital
        Starting cash of the account, in the quote currency (default 10,000).
    leverage
        Gross exposure cap as a multiple of equity (default 1.0): each selected pair gets a gross
        notional of ``equity * leverage / selection.top`` for a position of size 1 at the start of
        each window, and an order never leaves the book above ``leverage * equity``.
    allocation
        ``"equal"`` (the only one for now): the same notional for every selected pair.
    on_deselect
        ``"close"`` (default): a pair that is not selected again is flat at the last bar of its
        trading window; ``"hold_to_exit"``: it keeps its position until its own exit signal.
    fee_bps, slippage_bps
        Costs in basis points of the traded notional of each coin (after netting); None (default):
        the strategy's.
    lot_size
        Lot per coin (``{"SOL": 0.01}``): units of each pair's legs are rounded toward zero to it;
        None or a missing coin: fractional units.
    margin
        ``"cross"`` (default: the whole equity backs every coin) or ``"isolated"`` (each coin
        holds its initial margin ``|u| p / leverage``), as :func:`pairs.backtest`.
    min_notional, maintenance_margin, market, borrow_rate
        Per coin, one value for every coin or a dict by coin (a missing coin takes the default):
        the smallest order notional the exchange accepts (default 0; a smaller order is not
        sent), the maintenance margin rate of a perpetual (default 0.004: Binance USDⓈ-M BTCUSDT,
        first tier), ``"perp"`` (default) or ``"spot"`` (no funding, no liquidation; longs are
        paid in cash) and the yearly interest on a spot short's borrowed coin (default 0). The
        strategy's fill timing, maker fee and share and slippage model apply to the account;
        docs/portfolio.md has the exact rules.

    Examples
    --------
    >>> import pairs
    >>> book = pairs.Portfolio(formation="30D", trading="7D", capital=10_000)
    >>> pairs.Portfolio.from_dict(book.to_dict()) == book
    True
    """

    strategy: Strategy = field(default_factory=Strategy)
    selection: Selection = field(default_factory=Selection)
    formation: int | str = "30D"
    trading: int | str = "7D"
    capital: float = 10_000.0
    leverage: float = 1.0
    allocation: Literal["equal"] = "equal"
    on_deselect: Literal["close", "hold_to_exit"] = "close"
    fee_bps: float | None = None
    slippage_bps: float | None = None
    lot_size: dict[str, float] | None = None
    margin: Literal["cross", "isolated"] = "cross"
    min_notional: float | dict[str, float] = _PER_COIN["min_notional"]
    maintenance_margin: float | dict[str, float] = _PER_COIN["maintenance_margin"]
    market: str | dict[str, str] = _PER_COIN["market"]
    borrow_rate: float | dict[str, float] = _PER_COIN["borrow_rate"]

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        strategy = Strategy.from_dict(self.strategy) if isinstance(self.strategy, dict) else self.strategy
        if not isinstance(strategy, Strategy):
            raise PairsError(f"strategy must be a Strategy or a dict; got {type(strategy).__name__}.")
        if strategy.capital is not None:
            raise PairsError(
                f"strategy.capital must be None in a Portfolio (each pair is sized from the portfolio's "
                f"equity); got {strategy.capital!r}."
            )
        if strategy.lot_size != (0.0, 0.0):
            raise PairsError(
                f"strategy.lot_size must be (0, 0) in a Portfolio (lots are per coin: Portfolio.lot_size); "
                f"got {strategy.lot_size!r}."
            )
        unmodelled = strategy.changed_outside(_MODELLED)
        if unmodelled:
            raise PairsError(
                f"strategy must keep {sorted(unmodelled)} at their defaults in a Portfolio (leverage and the "
                f"per-leg account settings are the Portfolio's own, per coin; guards are not modelled); got "
                f"{unmodelled!r}."
            )
        set_(self, "strategy", strategy)
        selection = (
            Selection.from_dict(self.selection) if isinstance(self.selection, dict) else self.selection
        )
        if not isinstance(selection, Selection):
            raise PairsError(f"selection must be a Selection or a dict; got {type(selection).__name__}.")
        set_(self, "selection", selection)
        if strategy.hedge == "ols" and strategy.beta is None and selection.log != strategy.log_prices:
            raise PairsError(
                f"selection.log must equal strategy.log_prices ({strategy.log_prices}) when the strategy "
                f"trades the selection's hedge (hedge='ols' without beta); got {selection.log}."
            )
        set_(self, "formation", _check_window("formation", self.formation, MIN_FORMATION))
        set_(self, "trading", _check_window("trading", self.trading, 1))
        set_(self, "capital", check_float("capital", self.capital, minimum=0.0, strict_min=True))
        set_(
            self,
            "leverage",
            check_float("leverage", self.leverage, minimum=0.0, strict_min=True, maximum=1e6),
        )
        check_choice("allocation", self.allocation, ("equal",))
        check_choice("on_deselect", self.on_deselect, ON_DESELECT)
        check_choice("margin", self.margin, MARGIN_MODES)
        for name in ("fee_bps", "slippage_bps"):
            value = getattr(self, name)
            if value is not None:
                set_(self, name, check_float(name, value, minimum=0.0))
        set_(self, "lot_size", _check_lots(self.lot_size))
        for name in _PER_COIN:
            set_(self, name, _check_per_coin(name, getattr(self, name)))

    # ----------------------------------------------------------------- derived settings
    @property
    def fee_rate(self) -> float:
        """Fee per unit of traded notional: ``fee_bps`` (else the strategy's) / 1e4."""
        return (self.strategy.fee_bps if self.fee_bps is None else self.fee_bps) / 1e4

    @property
    def slippage_rate(self) -> float:
        """Slippage per unit of traded notional: ``slippage_bps`` (else the strategy's) / 1e4."""
        return (self.strategy.slippage_bps if self.slippage_bps is None else self.slippage_bps) / 1e4

    def lot(self, coin: Any) -> float:
        """The lot of ``coin`` (0: fractional units)."""
        return 0.0 if self.lot_size is None else self.lot_size.get(str(coin), 0.0)

    @property
    def fill_lag(self) -> tuple[int, bool]:
        """``(lag in bars, fills at the open)`` of the strategy's fill model."""
        return check_fill(self.strategy.fill)

    def per_coin(self, name: str, coins: Any) -> list[Any]:
        """The value of the per-coin setting ``name`` for each of ``coins``."""
        value = getattr(self, name)
        if not isinstance(value, dict):
            return [value] * len(coins)
        return [value.get(str(c), _PER_COIN[name]) for c in coins]

    def replace(self, **changes: Any) -> Portfolio:
        """A copy with some settings changed (validated again)."""
        return dataclasses.replace(self, **changes)

    # ----------------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of every setting (strategy and selection nested); :meth:`from_dict` inverts it."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["strategy"] = self.strategy.to_dict()
        out["selection"] = self.selection.to_dict()
        out["lot_size"] = None if self.lot_size is None else dict(self.lot_size)
        for name in _PER_COIN:
            value = out[name]
            out[name] = dict(value) if isinstance(value, dict) else value
        return {"format": FORMAT, "version": VERSION, **out}

    @classmethod
    def from_dict(cls, data: Any) -> Portfolio:
        """Rebuild a portfolio from :meth:`to_dict` output; missing settings take their defaults."""
        data = check_header(data, FORMAT, VERSION, {f.name for f in dataclasses.fields(cls)}, "portfolio")
        try:
            return cls(**data)
        except TypeError as exc:
            raise PairsError(f"data must hold valid portfolio settings; got: {exc}") from None

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """The portfolio file as indented JSON text; written atomically to ``path`` if given."""
        return write_spec(self.to_dict(), path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Portfolio:
        """Read a portfolio file written by :meth:`to_json` (or by hand)."""
        return cls.from_dict(read_spec(path, "portfolio"))

    def settings_rows(self) -> list[tuple[str, Any]]:
        """``(label, value)`` of the rotation, the account and the selection (costs in bps)."""
        rows: list[tuple[str, Any]] = [
            ("formation", self.formation),
            ("trading", self.trading),
            ("capital", self.capital),
            ("leverage", self.leverage),
            ("allocation", self.allocation),
            ("on_deselect", self.on_deselect),
            ("margin", self.margin),
            ("fee_bps", self.fee_rate * 1e4),
            ("slippage_bps", self.slippage_rate * 1e4),
            (
                "lot_size",
                "fractional"
                if not self.lot_size
                else ", ".join(f"{k}={v:g}" for k, v in self.lot_size.items()),
            ),
            *(
                (name, ", ".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else value)
                for name, value in ((n, getattr(self, n)) for n in _PER_COIN)
            ),
        ]
        sel = [
            (f"selection.{f.name}", getattr(self.selection, f.name))
            for f in dataclasses.fields(self.selection)
        ]
        return rows + [(k, "None" if v is None else v) for k, v in sel]

    def summary(self) -> str:
        """The rotation, the account and the selection, one setting per line."""
        rows = self.settings_rows()
        return Summary(format_table(rows, title="Portfolio") + "\n\n" + str(self.strategy.summary()))

    def __str__(self) -> str:
        return self.summary()

    # ----------------------------------------------------------------- running
    def backtest(self, prices: pd.DataFrame, **options: Any) -> PortfolioResult:
        """:func:`pairs.portfolio_backtest` of this portfolio on a wide frame of closes."""
        from pairs.evaluation._portfolio import portfolio_backtest

        return portfolio_backtest(self, prices, **options)

    def stream(self, coins: list[str], *, bar: Any = None) -> PortfolioStream:
        """A live book of this portfolio over ``coins`` (:class:`pairs.stream.PortfolioStream`).

        ``coins`` in the order of the backtest's price columns; ``bar`` (``"1h"``) when the windows
        are durations. Replaying a history gives :meth:`backtest`'s positions and units bit for bit.
        """
        from pairs.stream._portfolio import PortfolioStream

        return PortfolioStream(self, coins, bar=bar)
