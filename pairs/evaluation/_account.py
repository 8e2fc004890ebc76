"""Account backtest: leg units, a cash account in currency, costs and funding paid in currency.

Conventions with the default execution (``fill="close"``, no limit binding; bar ``t`` = the
close of bar ``t``; ``u`` units held from bar ``t`` to ``t + 1``, ``u_{-1} = 0``; ``p`` the leg
prices; sums over both legs). The general bar-by-bar ledger (later fills, maker fees and
rebates, price slippage, minimum notional, leverage, margin, liquidation, spot legs) is
:mod:`pairs.evaluation._ledger`; these formulas are its special case.

* Orders are the differences of the units, filled at the close:
  ``o_t = u_t - u_{t-1}``; traded notional ``T_t = sum |o_t| p_t``.
* Fees and slippage are paid in currency on the traded notional: ``fee_bps / 1e4 * T_t`` and
  ``slippage_bps / 1e4 * T_t``. Funding is paid at bar ``t`` on the notional held into it,
  leg by leg: ``F_t = sum u_{t-1} p_{t-1} f_t`` (a long pays a positive rate, a short
  receives it).
* Cash starts at ``capital`` and pays for the orders (a sale or a short sale credits it):
  ``cash_t = cash_{t-1} - sum o_t p_t - fees_t - slippage_t - F_t``.
* ``equity_t = cash_t + sum u_t p_t``, hence
  ``equity_t = capital + sum_{s <= t} (sum u_{s-1} (p_s - p_{s-1}) - fees_s - slippage_s - F_s)``.
* ``returns_t = equity_t / equity_{t-1} - 1`` and ``turnover_t = T_t / equity_{t-1}`` with
  ``equity_{-1} = capital``; the metrics use the growth ``equity / capital``.
* A round trip is a run of units of one side (the sign of ``y_units``, or of ``-x_units`` when
  ``y`` is not held). Its ``pnl`` is the P&L of the bars it is held, minus its costs; at a
  flip, the bar's fees, rebates and slippage are shared between the closed and the opened
  trade in proportion to the notional each one holds at that close. The trades' ``pnl`` add up
  to ``equity[-1] - capital``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pairs._validation import as_frame
from pairs.evaluation._ledger import Execution, run_ledger
from pairs.evaluation._metrics import ratio, trade_spans, trades_table
from pairs.evaluation._result import BacktestResult, backtest_result
from pairs.exceptions import DataError, PairsError
from pairs.trading._sizing import Mode, size_legs

__all__ = ["account_backtest", "sized_units", "units_arrays"]

_UNIT_COLUMNS = ["y_units", "x_units"]
_TRADE_COLUMNS = [
    "entry_time",
    "exit_time",
    "side",
    "bars",
    "pnl",
    "fees",
    "rebates",
    "slippage",
    "funding",
    "return",
]
_EVENT_COLUMNS = ["time", "event", "y_order", "x_order", "y_filled", "x_filled"]


def units_arrays(units: Any, index: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """Validated ``units`` (a DataFrame of ``y_units``, ``x_units`` on ``index``) as arrays."""
    if not isinstance(units, pd.DataFrame) or set(units.columns) != set(_UNIT_COLUMNS):
        shown = list(units.columns) if isinstance(units, pd.DataFrame) else type(units).__name__
        raise PairsError(f"units must be a DataFrame with columns 'y_units' and 'x_units'; got {shown!r}.")
    frame = as_frame(units[_UNIT_COLUMNS], "units", min_length=1)
    if not frame.index.equals(index):
        raise DataError("units index must equal the prices' index; got a misaligned index.")
    return frame["y_units"].to_numpy(), frame["x_units"].to_numpy()


def sized_units(
    pos: np.ndarray,
    betas: np.ndarray | None,
    ys: pd.Series,
    xs: pd.Series,
    *,
    capital: float,
    mode: Mode,
    lot_size: tuple[float, float],
    rebalance_band: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Units of :func:`pairs.trading.size_legs`; a position that rounds to no lot is refused."""

    def size(rows: slice, lots: tuple[float, float]) -> pd.DataFrame:
        b = None if betas is None else betas[rows]
        return size_legs(
            pos[rows],
            b,
            ys.iloc[rows],
            xs.iloc[rows],
            capital=capital,
            mode=mode,
            lot_size=lots,
            rebalance_band=rebalance_band,
        )

    legs = size(slice(None), lot_size)
    uy, ux = legs["y_units"].to_numpy(), legs["x_units"].to_numpy()
    # A zero x leg is a valid hedge only for a beta-neutral position with beta 0.
    x_needed = True if betas is None or mode != "beta_neutral" else np.nan_to_num(betas) != 0
    empty_y = (pos != 0) & (uy == 0)
    empty_x = (pos != 0) & (ux == 0) & x_needed
    bad = empty_y | empty_x
    if bad.any():
        t = int(np.argmax(bad))
        leg, k = ("y", 0) if empty_y[t] else ("x", 1)
        exact = size(slice(t, t + 1), (0.0, 0.0))
        raise PairsError(
            f"position must be sizable into at least one lot of each leg; got position {pos[t]:g} at "
            f"{ys.index[t]!r}, where capital {capital:g} buys {abs(float(exact.iloc[0, k])):.6g} units "
            f"of {leg} at price {(ys if k == 0 else xs).iloc[t]:.6g}, less than one lot "
            f"(lot_size[{k}] = {lot_size[k]:g}): the price, the lot or the capital is too small."
        )
    return uy, ux


def account_backtest(
    index: pd.Index,
    close: np.ndarray,
    fill_price: np.ndarray,
    target: np.ndarray,
    *,
    capital: float,
    rates: np.ndarray,
    at_open: bool,
    ex: Execution,
    fill: str,
    ppy: float,
) -> BacktestResult:
    """Simulate the account aiming at ``target`` units (bars x [y, x]; inputs validated by the caller)."""
    led = run_ledger(close, fill_price, target, rates, capital=capital, at_open=at_open, ex=ex, ppy=ppy)
    equity = led.equity
    ruined = equity <= 0
    if ruined.any():
        t = int(np.argmax(ruined))
        raise PairsError(
            f"capital must keep the account equity positive; got equity {equity[t]:.6g} at "
            f"{index[t]!r}: the positions lose more than the capital {capital:g} (trade smaller "
            "positions, add capital or set a leverage limit)."
        )
    uy, ux = led.units[:, 0], led.units[:, 1]
    before = np.concatenate(([capital], equity[:-1]))
    costs = {k: getattr(led, k) for k in ("traded", "fees", "rebates", "slippage", "funding", "borrow")}
    trades = _trades(
        index,
        uy,
        ux,
        close[:, 0],
        close[:, 1],
        price_pnl=led.price_pnl,
        fees=led.fees,
        rebates=led.rebates,
        slippage=led.slippage,
        funding=led.funding + led.borrow,
        capital=capital,
    )
    events = pd.DataFrame(
        [(index[t], kind, *asked, *filled) for t, kind, asked, filled in led.events],
        columns=_EVENT_COLUMNS,
    ).astype({c: "float64" for c in _EVENT_COLUMNS[2:]})
    if isinstance(index, pd.DatetimeIndex):
        events["time"] = pd.DatetimeIndex(events["time"].tolist(), dtype=index.dtype)
    return backtest_result(
        index,
        equity / before - 1.0,
        equity,
        equity / capital,
        led.traded / before,
        trades,
        ppy,
        "account",
        uy,
        ux,
        capital=capital,
        cash=pd.Series(led.cash, index=index, name="cash"),
        costs=pd.DataFrame(costs, index=index),
        fees_paid=float(led.fees.sum()),
        slippage_paid=float(led.slippage.sum()),
        funding_paid=float(led.funding.sum()),
        rebates_received=float(led.rebates.sum()),
        borrow_paid=float(led.borrow.sum()),
        max_leverage=float(np.max((np.abs(led.units) * close).sum(axis=1) / equity)),
        fill=fill,
        events=events,
        liquidation_price=pd.DataFrame(led.liquidation_price, index=index, columns=["y", "x"]),
    )


def _trades(
    index: pd.Index,
    uy: np.ndarray,
    ux: np.ndarray,
    py: np.ndarray,
    px: np.ndarray,
    *,
    price_pnl: np.ndarray,
    fees: np.ndarray,
    rebates: np.ndarray,
    slippage: np.ndarray,
    funding: np.ndarray,
    capital: float,
) -> pd.DataFrame:
    side = np.where(uy != 0, np.sign(uy), -np.sign(ux))
    side_prev = np.concatenate(([0.0], side[:-1]))
    uy_prev = np.concatenate(([0.0], uy[:-1]))
    ux_prev = np.concatenate(([0.0], ux[:-1]))
    closed = np.abs(uy_prev) * py + np.abs(ux_prev) * px
    opened = np.abs(uy) * py + np.abs(ux) * px
    # Share of bar t's trading costs owed by the trade opened at t (0 unless one opens).
    share = np.where((side != 0) & (side != side_prev), ratio(opened, closed + opened), 0.0)
    # Cumulative amounts owed by the trade held into bar t (index t) ...
    held = {
        "fees": np.cumsum(fees * (1.0 - share)),
        "rebates": np.cumsum(rebates * (1.0 - share)),
        "slippage": np.cumsum(slippage * (1.0 - share)),
        "funding": np.cumsum(funding),
        "price": np.cumsum(price_pnl),
    }
    rows = []
    for a, b in trade_spans(side):
        last = len(side) - 1 if b is None else b
        part = {k: v[last] - v[a] for k, v in held.items()}
        fee, slip = part["fees"] + fees[a] * share[a], part["slippage"] + slippage[a] * share[a]
        reb = part["rebates"] + rebates[a] * share[a]
        pnl = part["price"] - part["funding"] - fee + reb - slip
        exit_time = pd.NaT if b is None else index[b]
        rows.append(
            (index[a], exit_time, int(side[a]), last - a, pnl, fee, reb, slip, part["funding"], pnl / capital)
        )
    return trades_table(index, rows, _TRADE_COLUMNS)
