"""Per-pair attribution of the portfolio's account: each pair's P&L, costs and round trips."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pairs.evaluation._metrics import trades_table
from pairs.evaluation._portfolio_spans import Span

if TYPE_CHECKING:
    from pairs.evaluation._portfolio import _Ledger

__all__ = ["attribute", "pair_trades"]

_TRADE_COLUMNS = ["entry_time", "exit_time", "side", "bars", "pnl", "costs"]


def attribute(
    spans: list[Span], ledger: _Ledger, col: dict[str, int]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Each pair's net P&L, costs and opening share of costs per bar (dense over the whole index).

    A pair holds, of each coin, its decided units ``lag`` bars later times the coin's scale. Its
    P&L is the price P&L of those units (marked from the fill price on the bar they change), their
    funding and borrow interest, and its share of each coin's costs in proportion to the units it
    traded. The opening share of a bar is the notional the pair holds after it over the notional
    it closed plus that: 1 on an entry from flat, in (0, 1) on a flip, 0 otherwise (as the account
    backtest splits a flip's costs between the closed and the opened trade).
    """
    n = ledger.units.shape[0]
    lag = ledger.lag
    close, fill, rates = ledger.close, ledger.fill, ledger.rates
    settings = ledger.account.execution
    at_open, borrow = settings["at_open"], settings["borrow"]
    perp = 1.0 - settings["spot"].astype(np.float64)
    traded_by_pairs = np.zeros_like(ledger.units)
    held: list[tuple[int, int, np.ndarray, np.ndarray] | None] = []
    for span in spans:
        s0, s1 = span.start + lag, min(span.end + 1 + lag, n)
        if s0 >= n:
            held.append(None)
            continue
        decided = np.zeros((span.end - span.start + 1, 2))
        decided[:-1] = span.units
        h = decided[: s1 - s0] * ledger.cscale[s0:s1][:, [col[span.y], col[span.x]]]
        delta = np.abs(np.diff(h, axis=0, prepend=np.zeros((1, 2))))
        traded_by_pairs[s0:s1, col[span.y]] += delta[:, 0]
        traded_by_pairs[s0:s1, col[span.x]] += delta[:, 1]
        held.append((s0, s1, h, delta))
    share = np.divide(
        ledger.costs, traded_by_pairs, out=np.zeros_like(ledger.costs), where=traded_by_pairs > 0
    )
    pnl: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(n))
    costs: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(n))
    opened: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(n))
    closed: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(n))
    for span, item in zip(spans, held, strict=True):
        name = f"{span.y}/{span.x}"
        out, paid, now, before_now = pnl[name], costs[name], opened[name], closed[name]
        if item is None:
            continue
        s0, s1, h, delta = item
        bars = np.arange(s0, s1)
        prev_bars = np.maximum(bars - 1, 0)
        for leg, coin in enumerate((span.y, span.x)):
            c = col[coin]
            now_u = h[:, leg]
            before = np.concatenate(([0.0], now_u[:-1]))  # held into each bar from the one before
            price, prev, fp = close[bars, c], close[prev_bars, c], fill[bars, c]
            base_u, base_p = (now_u, fp) if at_open else (before, prev)
            carry = base_u * base_p * rates[bars, c] * perp[c] + np.maximum(-base_u, 0.0) * base_p * borrow[c]
            cost = delta[:, leg] * share[bars, c]
            out[bars] += before * (price - prev) + (now_u - before) * (price - fp) - carry - cost
            paid[bars] += cost
            now[bars] += np.abs(now_u) * price
            before_now[bars] += np.abs(before) * price
    share_open = {
        name: np.divide(opened[name], opened[name] + closed[name], out=np.zeros(n), where=opened[name] > 0)
        for name in pnl
    }
    return dict(pnl), dict(costs), share_open


def pair_trades(
    index: pd.Index,
    positions: pd.DataFrame,
    pnl: dict[str, np.ndarray],
    costs: dict[str, np.ndarray],
    share_open: dict[str, np.ndarray],
) -> pd.DataFrame:
    """Round trips of each pair: the P&L of the bars it is held into, and its costs (a flip's split)."""
    names = list(positions.columns)
    sides = np.ascontiguousarray(positions.to_numpy().T)  # one row per pair
    n = sides.shape[1]
    parts = []
    for j, name in enumerate(names):
        side = sides[j]
        change = np.flatnonzero(side != np.concatenate(([0], side[:-1])))
        entry = change[side[change] != 0]
        if not entry.size:
            continue
        # A trade ends at the next change of its side (its exit bar), or is still open at the end.
        exit_ = np.append(change, -1)[np.searchsorted(change, entry, side="right")]
        last = np.where(exit_ < 0, n - 1, exit_)
        share = np.zeros(n)
        share[entry] = share_open[name][entry]
        gross = np.cumsum(pnl[name] + costs[name])  # price P&L and funding, before costs
        owed = np.cumsum(costs[name] * (1.0 - share))  # costs owed by the trade held into the bar
        paid = owed[last] - owed[entry] + costs[name][entry] * share[entry]
        pnl_ = gross[last] - gross[entry] - paid
        parts.append((entry, exit_, side[entry], last - entry, pnl_, paid, np.full(entry.size, j)))
    if not parts:
        trades = trades_table(index, [], _TRADE_COLUMNS)
        trades.insert(4, "pair", pd.Series([], dtype=object))
        return trades
    entry, exit_, side_, bars, pnl_, paid, pair = (np.concatenate(c) for c in zip(*parts, strict=True))
    # Times taken from the index by position: no Timestamp object per trade.
    exit_times = index.take(np.where(exit_ < 0, 0, exit_)).where(exit_ >= 0)
    trades = pd.DataFrame(
        {
            "entry_time": index.take(entry),
            "exit_time": exit_times,
            "side": side_.astype(np.int64),
            "bars": bars.astype(np.int64),
            "pair": pd.Series(np.asarray(names, dtype=object)[pair], dtype=object),
            "pnl": pnl_,
            "costs": paid,
        }
    )
    return trades.sort_values(["entry_time", "pair"], kind="stable").reset_index(drop=True)
