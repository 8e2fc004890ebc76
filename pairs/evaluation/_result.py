"""The result of :func:`pairs.evaluation.backtest`, for both conventions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pairs._results import ResultMixin
from pairs._typing import Convention
from pairs.evaluation._metrics import metrics

__all__ = ["BacktestResult", "Convention"]


@dataclass(frozen=True, repr=False)
class BacktestResult(ResultMixin):
    """Outcome of :func:`pairs.evaluation.backtest` (conventions in its module docstring).

    Attributes
    ----------
    convention
        ``"gross_exposure"`` (``capital=None``: each bar's P&L over the gross exposure held,
        compounded) or ``"account"`` (a cash account of ``capital`` in currency).
    returns
        Per-bar net return: on the gross exposure, or the change of account equity over the
        equity before the bar.
    equity
        Growth of 1 (``"gross_exposure"``) or account equity in currency, starting from
        ``capital`` before the first bar (``"account"``); aligned to the prices.
    turnover
        Traded notional of each bar over its capital base (the gross exposure, or the equity
        before the bar).
    units
        Units of ``y`` and ``x`` held from each bar to the next (columns ``"y_units"``,
        ``"x_units"``); the orders are its differences (from 0 before the first bar). With
        ``"gross_exposure"``: ``position`` and ``-position * beta``.
    trades
        One row per round trip (a run of positions of one sign): ``entry_time``,
        ``exit_time`` (the bar where it is closed or flipped; NaT while still open), ``side``
        (+1 long ``y`` / -1 short ``y``), ``bars`` held; with ``"gross_exposure"`` its
        compounded ``return``; with ``"account"`` its ``pnl`` in currency (net of its costs),
        the ``fees``, ``slippage`` and ``funding`` it paid and ``return = pnl / capital``.
    total_return, apr, sharpe, sortino, max_drawdown
        Final growth minus 1 (on ``capital`` for an account) and annualised metrics with
        ``periods_per_year``; ``max_drawdown`` is a positive fraction of the previous peak.
    n_trades
        Number of round trips (rows of ``trades``).
    periods_per_year
        Bars per year used to annualise.
    capital, cash, costs, fees_paid, slippage_paid, funding_paid, rebates_received, borrow_paid
        ``"account"`` only (None otherwise): starting capital; cash after each bar's trades;
        per-bar ``traded`` notional, ``fees`` paid, maker ``rebates`` received, ``slippage``
        and ``funding`` paid (received: negative) and ``borrow`` interest paid on a spot
        short, in currency; and their totals. A trade's ``funding`` includes its borrow interest.
    fill
        ``"account"`` only: the fill model (``"close"``, ``"next_open"``, ``"next_close"`` or
        ``"close N bars later"``).
    events
        ``"account"`` only: one row per order cut by the leverage limit (``"scaled"``,
        ``"refused"``), leg order below its minimum notional (``"below_min_notional"``),
        ``"margin_call"`` (equity below the initial margin) and ``"liquidation"``: ``time``,
        ``event``, the units asked (``y_order``, ``x_order``) and filled (``y_filled``,
        ``x_filled``).
    max_leverage
        ``"account"`` only: the largest gross exposure over equity at a close (``leverage``
        bounds it after every order that raises the exposure; prices can push it higher).
    liquidation_price
        ``"account"`` only: price of each leg (columns ``"y"``, ``"x"``) at which it would be
        liquidated after each bar, the other price fixed (NaN when flat or unreachable).
    """

    returns: pd.Series
    equity: pd.Series
    turnover: pd.Series
    trades: pd.DataFrame
    apr: float
    sharpe: float
    sortino: float
    max_drawdown: float
    n_trades: int
    periods_per_year: float
    total_return: float
    convention: Convention
    units: pd.DataFrame
    capital: float | None = None
    cash: pd.Series | None = None
    costs: pd.DataFrame | None = None
    fees_paid: float | None = None
    slippage_paid: float | None = None
    funding_paid: float | None = None
    rebates_received: float | None = None
    borrow_paid: float | None = None
    max_leverage: float | None = None
    fill: str | None = None
    events: pd.DataFrame | None = None
    liquidation_price: pd.DataFrame | None = None

    _title = "Backtest"

    @property
    def annual_turnover(self) -> float:
        """Mean turnover per bar times ``periods_per_year``."""
        return float(self.turnover.sum()) * self.periods_per_year / len(self.turnover)

    def _summary_rows(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = [
            ("convention", self.convention),
            ("total_return", self.total_return),
            ("apr", self.apr),
            ("sharpe", self.sharpe),
            ("sortino", self.sortino),
            ("max_drawdown", self.max_drawdown),
            ("n_trades", self.n_trades),
            ("annual_turnover", self.annual_turnover),
            ("n_bars", len(self.returns)),
            ("periods_per_year", self.periods_per_year),
        ]
        if self.convention == "account":
            events = self.events["event"].value_counts() if self.events is not None else {}
            rows += [
                ("fill", self.fill),
                ("capital", self.capital),
                ("final_equity", float(self.equity.iloc[-1])),
                ("fees_paid", self.fees_paid),
                ("slippage_paid", self.slippage_paid),
                ("funding_paid", self.funding_paid),
                ("rebates_received", self.rebates_received),
                ("borrow_paid", self.borrow_paid),
                ("max_leverage", self.max_leverage),
                ("orders_cut", int(events.get("scaled", 0) + events.get("refused", 0))),
                ("liquidations", int(events.get("liquidation", 0))),
            ]
        return rows


def backtest_result(
    index: pd.Index,
    returns: np.ndarray,
    equity: np.ndarray,
    growth: np.ndarray,
    turnover: np.ndarray,
    trades: pd.DataFrame,
    ppy: float,
    convention: Convention,
    uy: np.ndarray,
    ux: np.ndarray,
    **account: Any,
) -> BacktestResult:
    """A :class:`BacktestResult` of per-bar arrays: metrics of ``returns`` and ``growth`` (of 1).

    ``equity`` is what the result shows (the growth of 1, or the account in currency);
    ``account`` holds the fields of the ``"account"`` convention.
    """
    apr, sharpe, sortino, max_dd = metrics(returns, growth, ppy)
    return BacktestResult(
        returns=pd.Series(returns, index=index, name="returns"),
        equity=pd.Series(equity, index=index, name="equity"),
        turnover=pd.Series(turnover, index=index, name="turnover"),
        trades=trades,
        apr=apr,
        sharpe=sharpe,
        sortino=sortino,
        max_drawdown=max_dd,
        n_trades=len(trades),
        periods_per_year=ppy,
        total_return=float(growth[-1] - 1.0),
        convention=convention,
        units=pd.DataFrame({"y_units": uy, "x_units": ux}, index=index),
        **account,
    )
