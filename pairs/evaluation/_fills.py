"""Order fills of an account: when an order fills, at which price, and what it costs.

Functions on arrays (one value per leg, or bars x legs), shared by the account backtest and
the portfolio ledger; ``order_costs`` is compiled in :mod:`pairs.evaluation._kernels`.

* Fill timing (``fill``): ``"close"`` fills the orders of bar ``t`` at the close of bar ``t``
  (the textbook convention); ``"next_close"`` at the close of bar ``t + 1``; an int ``N`` at
  the close of bar ``t + N``; ``"next_open"`` at the open of bar ``t + 1``. The orders are
  those of the signal bar (units sized with its prices), so ``fill="next_close"`` holds at bar
  ``t + 1`` the units ``fill="close"`` holds at bar ``t``.
* Fees: a share ``maker_share`` of each order's notional fills as a maker at
  ``maker_fee_bps`` (negative: a rebate, received), the rest as a taker at ``fee_bps``.
* Slippage ``slippage_bps``: ``"cost"`` charges it as a separate cost on the traded
  notional; ``"price"`` moves the fill price against the order (a buy fills at
  ``p (1 + s)``, a sale at ``p (1 - s)``) and charges the fees on that price, as vectorbt
  does. The slippage line is ``|o| p s`` in both.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pairs.evaluation._kernels import order_costs

__all__ = ["fill_label", "lag_units", "order_costs"]


def fill_label(fill: Any) -> str:
    """The fill model as the summary names it."""
    if isinstance(fill, str):
        return fill
    return "close" if fill == 0 else f"close {int(fill)} bars later"


def lag_units(units: np.ndarray, lag: int) -> np.ndarray:
    """Units decided at bar ``t`` (axis 0) held from bar ``t + lag``; flat for the first ``lag`` bars."""
    if lag == 0:
        return units
    out = np.zeros_like(units)
    out[lag:] = units[: len(units) - lag]
    return out
