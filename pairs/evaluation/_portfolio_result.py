"""The result of a portfolio backtest (:func:`pairs.portfolio_backtest`) and its cost total."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from pairs._results import ResultMixin
from pairs.evaluation._fills import fill_label

__all__ = ["UNALLOCATED", "PortfolioResult", "paid_costs"]

UNALLOCATED = "(unallocated)"


@dataclass(frozen=True, repr=False)
class PortfolioResult(ResultMixin):
    """Outcome of :func:`pairs.portfolio_backtest` (rules in :mod:`pairs.evaluation._portfolio`).

    Attributes
    ----------
    equity, cash
        Account equity and cash in the quote currency after each bar (``capital`` until the
        first trade).
    units
        Net units held of each coin from each bar to the next; ``orders`` are its differences.
    positions
        Spread position of each pair ever selected (columns ``"Y/X"``), 0 outside its spans.
    selections
        One row per window and selected pair: ``window``, ``formation_start``, ``trading_start``,
        ``trading_end`` (exclusive, NaT for the last window), ``y``, ``x``, ``rank``, ``score``,
        ``pvalue``, ``distance``, ``beta``, ``alpha``, ``half_life``, ``crossings``.
    trades
        Per-pair round trips: ``entry_time``, ``exit_time`` (NaT while open), ``side``,
        ``bars``, ``pair``, ``pnl`` (currency, net of its costs and funding) and ``costs``.
    contributions
        P&L of each pair over the whole backtest (currency); they sum to the equity change, with a
        row ``"(unallocated)"`` when the account held units beyond its pairs' (orders below the
        minimum notional, lots after a cut, liquidations).
    costs
        Per bar: ``traded`` notional, ``fees``, ``rebates`` (maker rebates received),
        ``slippage``, ``funding``, ``borrow`` (interest of spot shorts), in currency.
    exposure
        Per bar: ``gross`` exposure, ``leverage`` (gross / equity), ``scale`` of the book.
    liquidation_price
        Each coin's liquidation price after each bar, the other prices fixed (cross margin: where
        the equity meets the book's maintenance margin; isolated: where the coin's margin meets its
        own), as :func:`pairs.backtest` reports it; NaN for a flat or spot coin.
    events
        Orders not sent (``"below_min_notional"``), scaled or refused by the leverage cap,
        liquidations (per coin) and margin calls: ``time``, ``kind``, ``coin`` (None: the
        account), units ``asked`` and ``filled``.
    total_return, apr, sharpe, sortino, max_drawdown
        Of the equity, annualised with ``periods_per_year``.
    n_windows, n_scaled
        Windows run; order bars where the leverage cap scaled the book down.
    """

    portfolio: Any
    equity: pd.Series
    cash: pd.Series
    units: pd.DataFrame
    orders: pd.DataFrame
    positions: pd.DataFrame
    selections: pd.DataFrame
    trades: pd.DataFrame
    contributions: pd.Series
    costs: pd.DataFrame
    exposure: pd.DataFrame
    events: pd.DataFrame
    liquidation_price: pd.DataFrame
    total_return: float
    apr: float
    sharpe: float
    sortino: float
    max_drawdown: float
    periods_per_year: float
    n_windows: int
    n_scaled: int
    _title = "Portfolio backtest"

    def _summary_rows(self) -> list[tuple[str, Any]]:
        costs = self.costs.sum()
        return [
            ("windows", self.n_windows),
            ("pairs traded", len(self.contributions)),
            ("round trips", len(self.trades)),
            ("final equity", float(self.equity.iloc[-1])),
            ("total return", self.total_return),
            ("APR", self.apr),
            ("Sharpe", self.sharpe),
            ("max drawdown", self.max_drawdown),
            ("fill", fill_label(self.portfolio.strategy.fill)),
            ("fees", float(costs["fees"])),
            ("rebates", float(costs["rebates"])),
            ("slippage", float(costs["slippage"])),
            ("funding", float(costs["funding"])),
            ("borrow", float(costs["borrow"])),
            ("max leverage", float(self.exposure["leverage"].max())),
            ("orders scaled by the cap", self.n_scaled),
            ("liquidations", int((self.events["kind"] == "liquidation").sum())),
        ]

    @property
    def capital(self) -> float:
        """Starting cash of the account."""
        return float(self.portfolio.capital)

    @property
    def returns(self) -> pd.Series:
        """Per-bar return of the equity (0 before the first trading bar)."""
        prev = self.equity.shift(1, fill_value=self.capital)
        return (self.equity / prev - 1.0).rename("returns")

    def significance(self, size: float = 0.05) -> Any:
        """Is the account's Sharpe ratio distinguishable from 0? The probabilistic Sharpe ratio.

        :func:`pairs.deflated_sharpe` of the per-bar returns from the first trading bar, as one
        trial (``n_trials=1``: the benchmark Sharpe is 0; a search over many portfolios must
        deflate for them, e.g. with a sweep).
        """
        from pairs.evaluation._overfitting import deflated_sharpe

        start = self.equity.index[self.exposure["gross"].to_numpy().nonzero()[0][:1]]
        live = self.returns.loc[start[0] :] if len(start) else self.returns
        return deflated_sharpe(
            live, n_trials=1, sharpe_variance_per_bar=0.0, periods_per_year=self.periods_per_year, size=size
        )

    def plot(self) -> Any:
        """Equity, drawdown and leverage: :func:`pairs.plot.plot_portfolio`."""
        from pairs.plot import plot_portfolio

        return plot_portfolio(self)


def paid_costs(costs: pd.DataFrame) -> pd.Series:
    """What the account paid per bar: fees net of rebates, slippage, funding and borrow interest."""
    return costs["fees"] - costs["rebates"] + costs["slippage"] + costs["funding"] + costs["borrow"]
