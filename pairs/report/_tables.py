"""The performance and trade tables of the pair report."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pairs.evaluation import BacktestResult
from pairs.report._format import _duration, _num, _pct, _rows, _when
from pairs.report._html import Block


def _metrics_table(result: BacktestResult) -> dict[str, str]:
    rows = [
        ("total return", _pct(result.total_return)),
        ("annualised return (APR)", _pct(result.apr)),
        ("Sharpe ratio", _num(result.sharpe)),
        ("Sortino ratio", _num(result.sortino)),
        ("max drawdown", _pct(result.max_drawdown, sign=False)),
        ("annual turnover", f"{_num(result.annual_turnover, '.1f')}x"),
        ("bars", f"{len(result.returns)} ({result.periods_per_year:g} per year)"),
    ]
    if result.convention == "account":
        rows += [
            ("starting capital", f"{result.capital:,.2f}"),
            ("final equity", f"{float(result.equity.iloc[-1]):,.2f}"),
            ("fees paid", f"{result.fees_paid:,.2f}"),
            ("slippage paid", f"{result.slippage_paid:,.2f}"),
            ("funding paid", f"{result.funding_paid:,.2f}"),
        ]
    return _rows(rows)


def _trade_tables(
    trades: pd.DataFrame, y_name: str, bar: pd.Timedelta | None, fmt: str, last: int = 10
) -> list[Block]:
    """A summary of every round trip, then the last ``last`` of them."""
    if not len(trades):
        return [("text", "The strategy opened no trade.")]
    ret = trades["return"].to_numpy(dtype=float)
    closed = trades["exit_time"].notna().to_numpy()
    rows = [
        (
            "round trips",
            f"{len(trades)} ({int((trades['side'] > 0).sum())} long {y_name}, "
            f"{int((trades['side'] < 0).sum())} short; {int((~closed).sum())} still open)",
        ),
        ("win rate", _pct(float(np.mean(ret > 0)), sign=False)),
        ("average return per trade", _pct(float(np.mean(ret)))),
        ("best trade", _pct(float(np.max(ret)))),
        ("worst trade", _pct(float(np.min(ret)))),
        ("average holding", _duration(float(trades["bars"].mean()), bar)),
        ("longest holding", _duration(float(trades["bars"].max()), bar)),
    ]
    if "pnl" in trades.columns:
        pnl = trades["pnl"].to_numpy(dtype=float)
        rows.insert(3, ("average P&L per trade", f"{np.mean(pnl):,.2f}"))
        rows.insert(4, ("total P&L", f"{np.sum(pnl):,.2f}"))
    recent = trades.iloc[-last:]
    shown = pd.DataFrame(
        {
            "entry": [_when(t, fmt) for t in recent["entry_time"]],
            "exit": [_when(t, fmt) for t in recent["exit_time"]],
            "side": [f"{'long' if v > 0 else 'short'} {y_name}" for v in recent["side"]],
            "held": [_duration(float(b), bar) for b in recent["bars"]],
            "return": [_pct(float(v)) for v in recent["return"]],
        },
        # Numbered like the full list (a RangeIndex would not be shown).
        index=pd.Index(np.arange(len(trades) - len(recent) + 1, len(trades) + 1), name="trade"),
    )
    if "pnl" in recent.columns:
        shown["P&L"] = [f"{v:,.2f}" for v in recent["pnl"]]
    title = "Last trade" if len(recent) == 1 else f"Last {len(recent)} of {len(trades)} trades"
    return [("table", ("Trades", _rows(rows))), ("table", (title, shown))]
