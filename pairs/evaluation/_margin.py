"""Margin of perpetual-futures legs: the leverage limit, maintenance margin, liquidation prices.

Functions on arrays of legs (units ``u``, prices ``p``, maintenance margin rates ``r``),
compiled in :mod:`pairs.evaluation._kernels`, shared by the account backtest and the portfolio.
The formulas are those of Binance USDⓈ-M futures at the first tier of a symbol (maintenance
amount 0), in one-way mode:

* gross exposure ``G = sum |u| p`` (:func:`exposure`, which also gives the cash in spot coins);
  the initial margin ``G / leverage`` (leverage = gross exposure
  over equity, the limit every order must respect) and the maintenance margin ``M = sum r |u| p``;
* cross margin: the whole account equity ``E`` backs every leg; it is liquidated when
  ``E < M``. The liquidation price of leg ``i`` (the other prices fixed) solves
  ``E + u_i (P - p_i) = M_{-i} + r_i |u_i| P``:
  ``P = (M_{-i} - E + u_i p_i) / (u_i - r_i |u_i|)``
  (Binance: ``(WB - TMM + UPNL - side * size * EP) / (size * MMR - side * size)``);
* isolated margin: leg ``i`` holds its own margin ``m_i`` (its initial margin at entry,
  ``|u_i| EP_i / leverage``) and is liquidated when ``m_i + u_i (p_i - EP_i) < r_i |u_i| p_i``,
  at ``P = (u_i EP_i - m_i) / (u_i - r_i |u_i|)``.

The default maintenance margin rate, 0.4% per leg (``pairs.strategy._strategy.MAINTENANCE_MARGIN``),
is Binance USDⓈ-M BTCUSDT at its first tier (position notional up to 50,000 USDT), from
Binance's "Leverage and Margin of USDⓈ-M Futures" table.
"""

from __future__ import annotations

from pairs.evaluation._kernels import (
    exposure,
    liquidation_price_cross,
    liquidation_price_isolated,
    order_scale,
)

__all__ = ["exposure", "liquidation_price_cross", "liquidation_price_isolated", "order_scale"]
