"""Result of :meth:`pairs.Strategy.run`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from pairs._results import ResultMixin
from pairs.exceptions import PairsError

if TYPE_CHECKING:
    from pairs.evaluation import BacktestResult
    from pairs.strategy._strategy import Strategy

__all__ = ["ACCOUNT_SETTINGS", "COLUMNS", "StrategyResult"]

# Strategy settings that apply to an account only (passed to backtest when there is capital).
ACCOUNT_SETTINGS = (
    "slippage_model",
    "min_notional",
    "leverage",
    "margin",
    "maintenance_margin",
    "market",
    "borrow_rate",
)
COLUMNS = ("beta", "alpha", "spread", "zscore", "position", "action", "y_units", "x_units")


@dataclass(frozen=True, repr=False)
class StrategyResult(ResultMixin):
    """Output of :meth:`pairs.Strategy.run`: one row per bar, aligned to the input index."""

    _title = "Strategy run"

    strategy: Strategy
    """The strategy that produced this result."""
    frame: pd.DataFrame
    """Columns ``beta, alpha, spread, zscore, position, action, y_units, x_units``."""
    y: pd.Series
    """Prices of the asset hedged."""
    x: pd.Series
    """Prices of the hedge."""
    note: str | None = None
    """A caveat about the run (e.g. a hedge fitted on the whole history), or None."""

    @property
    def position(self) -> pd.Series:
        """Spread position held after each bar: +1 long ``y``/short ``x``, -1 short, 0 flat."""
        return self.frame["position"]

    @property
    def zscore(self) -> pd.Series:
        """Z-score fed to the rule."""
        return self.frame["zscore"]

    @property
    def beta(self) -> pd.Series:
        """Hedge ratio (on log prices with ``log_prices``)."""
        return self.frame["beta"]

    @property
    def units_beta(self) -> pd.Series:
        """Units of ``x`` per unit of ``y`` to hold: ``beta`` on prices, ``beta * y / x`` on logs."""
        beta = self.frame["beta"]
        return (beta * self.y / self.x if self.strategy.log_prices else beta).rename("units_beta")

    @property
    def n_trades(self) -> int:
        """Number of entries (a flip counts as one entry)."""
        return int(self.frame["action"].isin(("enter_long", "enter_short")).sum())

    def backtest(self, **options: Any) -> BacktestResult:
        """Trade this run with the strategy's costs (see :meth:`pairs.Strategy.backtest`)."""
        from pairs.evaluation import backtest

        s = self.strategy
        given = sorted({"units", "position", "beta"} & set(options))
        if given:  # the run's own: silently replacing them (or being replaced) would mislead
            raise PairsError(
                "options must not include 'units', 'position' or 'beta' (the run gives the positions and "
                f"units; pass your own to pairs.backtest); got {given!r}."
            )
        costs = ("fee_bps", "slippage_bps", "fill", "maker_fee_bps", "maker_share")
        kwargs: dict[str, Any] = {name: getattr(s, name) for name in costs}
        if s.capital is not None or options.get("capital") is not None:
            kwargs.update({name: getattr(s, name) for name in ACCOUNT_SETTINGS})
        kwargs.update(options)
        if s.capital is not None and "capital" not in options:
            kwargs["capital"] = s.capital
            kwargs["units"] = self.frame[["y_units", "x_units"]]
            kwargs["lot_size"] = s.lot_size
            return backtest(self.y, self.x, **kwargs)
        return backtest(self.y, self.x, beta=self.units_beta, position=self.position, **kwargs)

    def _summary_rows(self) -> list[tuple[str, Any]]:
        f = self.frame
        last = f.iloc[-1]
        counts = f["action"].value_counts()
        return [
            ("bars", len(f)),
            ("entries long", int(counts.get("enter_long", 0))),
            ("entries short", int(counts.get("enter_short", 0))),
            ("exits", int(counts.get("exit", 0))),
            ("stops", int(counts.get("stop", 0))),
            ("last beta", float(last["beta"])),
            ("last z-score", float(last["zscore"])),
            ("last position", int(last["position"])),
        ]
