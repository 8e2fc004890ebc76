"""The portfolio's account in currency, a block of bars at a time: shared by the backtest and the live book.

Both call the same compiled arithmetic (:func:`pairs.evaluation._kernels.book_run`), which sums in
index order, so a live book replaying history (a bar at a time) holds the backtest's units (a
window at a time) bit for bit. Each bar ``t`` (``u`` the net units of each coin, ``c`` closes,
``f`` fill prices, ``w`` the target units due to fill at ``t``: decided at bar ``t - lag``):

1. funding (perpetual coins) and borrow interest (a spot short), as :func:`pairs.backtest`: with
   fills at a close, on ``u`` held into the bar at the previous close; with fills at the open, on
   the units after the bar's order at ``f``;
2. on an order bar (a target changed): each coin is traded to ``scale * w`` (one scale for the
   book, < 1 only when the gross exposure after costs would exceed ``leverage * equity``, or spot
   longs the equity); a coin whose order is below its minimum notional is not sent (it keeps its
   units); after a cut, units are rounded toward zero to the coin's lot; a coin liquidated
   earlier stays flat until its target changes. The order fills at ``f`` with maker/taker fees and
   slippage (a cost or a moved price) as :mod:`pairs.evaluation._fills`;
3. marked at the close; perpetual coins below maintenance margin (cross: the equity under the
   whole book's maintenance margin; isolated: a coin's own margin, its initial margin ``|u| EP /
   leverage`` plus its P&L, under its own) are liquidated at the close as takers
   (:mod:`pairs.evaluation._margin`); a margin call is recorded when gross exposure exceeds
   ``leverage * equity``.

Every skipped (below the minimum notional), scaled or refused order, liquidation and margin call
is an event ``(bar, kind, coin, asked, filled)``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from pairs.evaluation._execution import fee_rate
from pairs.evaluation._kernels import EVENT_KINDS, book_equity, book_run

if TYPE_CHECKING:
    from pairs.strategy._portfolio import Portfolio

__all__ = ["FLOWS", "Account", "Block", "account_settings", "dot"]

# Columns of the per-bar flows that book_run writes.
FLOWS = ("cash", "equity", "scale", "traded", "fees", "rebates", "slippage", "funding", "borrow")


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """``a @ b`` correctly rounded (``math.fsum``): the same bits whatever the arrays' memory layout.

    A BLAS dot product sums in an order that depends on the alignment of its inputs, so a row of a
    history and the same numbers in a fresh array can differ in the last bit.
    """
    return math.fsum((a * b).tolist())


def _c(values: np.ndarray) -> np.ndarray:
    """Writable C-contiguous float64 (one compiled signature for every caller)."""
    return np.require(values, np.float64, ["C", "W"])


def account_settings(portfolio: Portfolio, coins: Any, periods_per_year: float) -> dict[str, Any]:
    """The execution settings of ``portfolio``'s account for ``coins``, as :func:`book_run` takes them.

    The fees are those of :func:`pairs.backtest` (``maker_fee_bps`` None: the taker fee), the taker
    fee the portfolio's ``fee_bps`` (else the strategy's); the per-coin settings are the portfolio's.
    """
    s = portfolio.strategy
    lag, at_open = portfolio.fill_lag
    taker = s.fee_bps if portfolio.fee_bps is None else portfolio.fee_bps
    taker_rate, maker_rate, maker_share = fee_rate(taker, s.maker_fee_bps, s.maker_share)
    return {
        "lag": lag,
        "at_open": at_open,
        "fee_rate": taker_rate,
        "maker_rate": maker_rate,
        "maker_share": maker_share,
        "slippage_rate": portfolio.slippage_rate,
        "slippage_price": s.slippage_model == "price",
        "min_notional": np.array(portfolio.per_coin("min_notional", coins), dtype=np.float64),
        "leverage": float(portfolio.leverage),
        "isolated": portfolio.margin == "isolated",
        "maintenance": np.array(portfolio.per_coin("maintenance_margin", coins), dtype=np.float64),
        "spot": np.array([m == "spot" for m in portfolio.per_coin("market", coins)], dtype=np.bool_),
        "borrow": np.array(portfolio.per_coin("borrow_rate", coins), dtype=np.float64) / periods_per_year,
        "lots": np.array([portfolio.lot(c) for c in coins], dtype=np.float64),
    }


class Block(NamedTuple):
    """Per-bar results of :meth:`Account.run` over a block of bars (bars x coins unless said)."""

    units: np.ndarray
    cscale: np.ndarray  # each coin's share of its pairs' units (the book's scale; 0 once liquidated)
    costs: np.ndarray  # fees - rebates + slippage per coin
    flows: np.ndarray  # bars x FLOWS
    liquidation: np.ndarray  # each coin's liquidation price (NaN: flat or spot)
    events: list[tuple[int, str, int, float, float]]  # bar within the block, kind, coin, asked, filled


class Account:
    """Net units per coin, cash and margin state of the portfolio's account after the last bar run.

    ``execution`` is :func:`account_settings` for the book's coins.
    """

    def __init__(self, capital: float, n_coins: int, execution: dict) -> None:
        self.execution = execution
        self.held = np.zeros(n_coins)
        self.entry = np.zeros(n_coins)
        self.margin = np.zeros(n_coins)
        self.blocked = np.full(n_coins, np.nan)
        self.cscale = np.ones(n_coins)
        self.scalars = np.array([float(capital), 1.0, 0.0])  # cash, scale, in a margin call

    @property
    def cash(self) -> float:
        return float(self.scalars[0])

    @property
    def scale(self) -> float:
        return float(self.scalars[1])

    def equity_before(self, prev: np.ndarray, close: np.ndarray, rate: np.ndarray) -> float:
        """Equity at ``close`` before the bar's orders (fills at the close), its funding paid."""
        ex = self.execution
        return float(
            book_equity(self.held, self.cash, _c(prev), _c(close), _c(rate), ex["spot"], ex["borrow"])
        )

    def run(
        self,
        close: np.ndarray,
        fill: np.ndarray,
        target: np.ndarray,
        rates: np.ndarray,
        prev_close: np.ndarray,
        prev_target: np.ndarray,
    ) -> Block:
        """Run the bars of a block (rows of ``close``, ``fill``, ``target``, ``rates``)."""
        n, k = close.shape
        units, cscale, costs, flows = np.empty((n, k)), np.empty((n, k)), np.empty((n, k)), np.empty((n, 9))
        liquidation = np.empty((n, k))
        ex = self.execution
        bars, kinds, coins, asked, filled = book_run(
            _c(close), _c(fill), _c(target), _c(rates), _c(prev_close), _c(prev_target),
            self.held, self.entry, self.margin, self.blocked, self.cscale, self.scalars,
            ex["at_open"], ex["fee_rate"], ex["maker_rate"], ex["maker_share"], ex["slippage_rate"],
            ex["slippage_price"], ex["min_notional"], ex["leverage"], ex["isolated"], ex["maintenance"],
            ex["spot"], ex["borrow"], ex["lots"], units, cscale, costs, flows, liquidation,
        )  # fmt: skip
        events = [
            (int(t), EVENT_KINDS[j], int(c), float(a), float(b))
            for t, j, c, a, b in zip(bars, kinds, coins, asked, filled, strict=True)
        ]
        return Block(units, cscale, costs, flows, liquidation, events)

    def state(self) -> dict:
        """JSON-safe state (NaN as None)."""
        return {
            "held": self.held.tolist(),
            "entry": self.entry.tolist(),
            "margin": self.margin.tolist(),
            "blocked": [None if math.isnan(v) else v for v in self.blocked.tolist()],
            "cscale": self.cscale.tolist(),
            "cash": self.cash,
            "scale": self.scale,
            "in_call": bool(self.scalars[2]),
        }

    def restore(self, state: dict) -> None:
        """Set the state from :meth:`state` output."""
        k = self.held.size
        for name in ("held", "entry", "margin", "blocked", "cscale"):
            values = np.array([math.nan if v is None else float(v) for v in state[name]], dtype=np.float64)
            if values.shape != (k,):
                raise ValueError(f"account.{name} must hold {k} values")
            setattr(self, name, values)
        self.scalars = np.array([float(state["cash"]), float(state["scale"]), float(bool(state["in_call"]))])
