"""Margin of perpetual-futures legs: the leverage limit, maintenance margin, liquidation prices.

Plain functions on arrays of legs (units ``u``, prices ``p``, maintenance margin rates ``r``),
shared by the account backtest and the portfolio ledger. The formulas are those of Binance
USDⓈ-M futures at the first tier of a symbol (maintenance amount 0), in one-way mode:

* gross exposure ``G = sum |u| p``; the initial margin ``G / leverage`` (leverage = gross exposure
  over equity, the limit every order must respect) and the maintenance margin ``M = sum r |u| p``;
* cross margin: the whole account equity ``E`` backs every leg; it is liquidated when
  ``E < M``. The liquidation price of leg ``i`` (the other prices fixed) solves
  ``E + u_i (P - p_i) = M_{-i} + r_i |u_i| P``:
  ``P = (M_{-i} - E + u_i p_i) / (u_i - r_i |u_i|)``
  (Binance: ``(WB - TMM + UPNL - side * size * EP) / (size * MMR - side * size)``);
* isolated margin: leg ``i`` holds its own margin ``m_i`` (its initial margin at entry,
  ``|u_i| EP_i / leverage``) and is liquidated when ``m_i + u_i (p_i - EP_i) < r_i |u_i| p_i``,
  at ``P = (u_i EP_i - m_i) / (u_i - r_i |u_i|)``.

``MAINTENANCE_MARGIN_RATE`` = 0.4%: Binance USDⓈ-M BTCUSDT, tier 1 (position notional up to
50,000 USDT), from Binance's "Leverage and Margin of USDⓈ-M Futures" table; most large coins
are at 0.4%-0.5% at their first tier (Bybit and OKX: 0.4%-0.5% as well).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "MAINTENANCE_MARGIN_RATE",
    "liquidation_price_cross",
    "liquidation_price_isolated",
    "maintenance_margin",
    "order_scale",
]

MAINTENANCE_MARGIN_RATE = 0.004


def maintenance_margin(units: np.ndarray, prices: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """Maintenance margin of each leg, ``r |u| p``."""
    return rates * np.abs(units) * prices


def _price(num: np.ndarray, units: np.ndarray, rates: np.ndarray) -> np.ndarray:
    den = units - rates * np.abs(units)
    with np.errstate(divide="ignore", invalid="ignore"):
        price = num / den
    # A flat leg has no liquidation price; a price <= 0 is never reached.
    return np.where((units != 0) & (price > 0), price, np.nan)


def liquidation_price_cross(
    units: np.ndarray, prices: np.ndarray, equity: float, rates: np.ndarray
) -> np.ndarray:
    """Price of each leg at which the account equity meets the maintenance margin (others fixed)."""
    mm = maintenance_margin(units, prices, rates)
    return _price(mm.sum() - mm - equity + units * prices, units, rates)


def liquidation_price_isolated(
    units: np.ndarray, entry: np.ndarray, margin: np.ndarray, rates: np.ndarray
) -> np.ndarray:
    """Price of each leg at which its isolated margin meets its maintenance margin."""
    return _price(units * entry - margin, units, rates)


def order_scale(
    held: np.ndarray, order: np.ndarray, prices: np.ndarray, equity: float, cost: float, leverage: float
) -> float:
    """Largest ``k`` in [0, 1] such that the order ``k * order`` keeps ``G <= leverage * E``.

    ``G(k) = sum |held + k order| prices`` and ``E(k) = equity - k cost`` (``cost``: the full
    order's fees and slippage net of rebates). An order that does not raise the gross exposure
    is never cut (exchanges accept reduce-only orders); an account already above the limit
    gets no order that raises it.
    """

    def excess(k: np.ndarray) -> np.ndarray:
        gross = np.abs(held + k[:, None] * order) @ prices
        return gross - leverage * (equity - k * cost)

    ends = np.array([0.0, 1.0])
    g0, g1 = excess(ends)
    if g1 <= 0.0 or np.abs(held + order) @ prices <= np.abs(held) @ prices:
        return 1.0
    if g0 > 0.0:
        return 0.0
    # excess(k) is convex and piecewise linear, with kinks where a leg crosses zero units.
    with np.errstate(divide="ignore", invalid="ignore"):
        kinks = -held / order
    ks = np.unique(np.concatenate((ends, kinks[(kinks > 0.0) & (kinks < 1.0)])))
    g = excess(ks)
    j = int(np.argmax(g > 0.0))
    a, b, ga, gb = ks[j - 1], ks[j], g[j - 1], g[j]
    return float(a + (b - a) * (-ga) / (gb - ga))
