"""The portfolio's cash account, one order bar at a time: shared by the backtest and the live book.

Both call the same compiled arithmetic (:func:`pairs.evaluation._kernels.book_order`), which sums
in index order, so a live book replaying history holds the backtest's units bit for bit. ``fund_now`` is the running sum over bars of ``price[t-1] *
rate[t]`` per coin (the funding paid per unit held); ``fund_last`` its value at the last order bar.
"""

from __future__ import annotations

import math

import numpy as np

from pairs.evaluation._kernels import book_equity, book_order

__all__ = ["Account", "dot"]


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """``a @ b`` correctly rounded (``math.fsum``): the same bits whatever the arrays' memory layout.

    A BLAS dot product sums in an order that depends on the alignment of its inputs, so a row of a
    history and the same numbers in a fresh array can differ in the last bit.
    """
    return math.fsum((a * b).tolist())


class Account:
    """Cash, net units per coin and the book's scale, after the last order bar."""

    def __init__(self, capital: float, n_coins: int, fee: float, slippage: float, leverage: float) -> None:
        self.fee, self.slip, self.leverage = fee, slippage, leverage
        self.cash = float(capital)
        self.held = np.zeros(n_coins)
        self.scale = 1.0
        self.fund_last = np.zeros(n_coins)

    def equity_before(self, price: np.ndarray, fund_now: np.ndarray) -> float:
        """Equity at ``price`` before this bar's orders, its funding paid."""
        return float(book_equity(self.held, price, fund_now, self.fund_last, self.cash))

    def cash_now(self, fund_now: np.ndarray) -> float:
        """Cash at a bar without orders: the last order's cash minus the funding paid since."""
        return float(book_equity(self.held, np.zeros_like(fund_now), fund_now, self.fund_last, self.cash))

    def order(self, want: np.ndarray, price: np.ndarray, fund_now: np.ndarray) -> None:
        """Trade to ``want`` units (scaled down to keep gross <= leverage * equity after the order)."""
        self.held, self.cash, self.scale = book_order(
            self.held, want, price, fund_now, self.fund_last, self.cash, self.fee + self.slip, self.leverage
        )
        self.fund_last = fund_now.copy()
