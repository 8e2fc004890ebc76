"""The portfolio's cash account, one order bar at a time: shared by the backtest and the live book.

Both call the same arithmetic in the same order, so a live book replaying history holds the
backtest's units bit for bit. ``fund_now`` is the running sum over bars of ``price[t-1] *
rate[t]`` per coin (the funding paid per unit held); ``fund_last`` its value at the last order bar.
"""

from __future__ import annotations

import math

import numpy as np

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
        funding = dot(self.held, fund_now - self.fund_last)
        return self.cash - funding + dot(self.held, price)

    def cash_now(self, fund_now: np.ndarray) -> float:
        """Cash at a bar without orders: the last order's cash minus the funding paid since."""
        return self.cash - dot(self.held, fund_now - self.fund_last)

    def order(self, want: np.ndarray, price: np.ndarray, fund_now: np.ndarray) -> None:
        """Trade to ``want`` units (scaled down to keep gross <= leverage * equity after the order)."""
        equity = self.equity_before(price, fund_now)
        cash = equity - dot(self.held, price)
        rate = self.fee + self.slip
        gross_want = dot(np.abs(want), price)
        cost_full = rate * dot(np.abs(want - self.held), price)
        scale = 1.0
        if gross_want > self.leverage * (equity - cost_full):
            # The largest scale whose costs (at most rate * (scale * gross_want + gross_held)) keep
            # gross <= leverage * equity after the order; a book without equity goes flat.
            gross_held = dot(np.abs(self.held), price)
            scale = max(
                0.0,
                self.leverage * (equity - rate * gross_held) / (gross_want * (1.0 + self.leverage * rate)),
            )
            scale = min(scale, 1.0)
        new = scale * want
        traded = dot(np.abs(new - self.held), price)
        self.cash = cash - dot(new - self.held, price) - rate * traded
        self.held = new
        self.scale = scale
        self.fund_last = fund_now.copy()
