"""A parameter grid over a :class:`~pairs.Portfolio`: every point backtested, selections shared.

The expensive step of a portfolio backtest is the selection of every window; points that share the
selection settings and the windows share those tables (computed once), and only the strategy runs
and the account are redone per point. The result is a :class:`~pairs.SweepResult`, so the best
point comes with its deflated Sharpe and the grid's probability of overfitting.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from pairs._validation import as_frame, check_choice
from pairs.evaluation._metrics import periods_per_year as bars_per_year
from pairs.evaluation._portfolio import (
    _funding,
    open_frame,
    paid_costs,
    run_portfolio,
    select_windows,
    window_plan,
)
from pairs.evaluation._sweep import OBJECTIVES, SweepResult, apply_point
from pairs.exceptions import PairsError
from pairs.strategy._portfolio import Portfolio

__all__ = ["portfolio_sweep"]


def _known(key: Any) -> bool:
    """A Portfolio field, or a dotted path into its strategy (and rule) or selection."""
    if not isinstance(key, str):
        return False
    head, _, rest = key.partition(".")
    fields = {f.name: f for f in dataclasses.fields(Portfolio)}
    if not rest:
        return head in fields and head not in ("strategy", "selection")
    spec: Any = {"strategy": Portfolio().strategy, "selection": Portfolio().selection}.get(head)
    names = [f.name for f in dataclasses.fields(spec)] if spec is not None else []
    first, _, deeper = rest.partition(".")
    if not deeper:
        return first in names and first != "rule"
    return (
        head == "strategy" and first == "rule" and deeper in [f.name for f in dataclasses.fields(spec.rule)]
    )


def portfolio_sweep(
    portfolio: Portfolio,
    grid: Mapping[str, Sequence[Any]],
    prices: pd.DataFrame,
    *,
    objective: str = "sharpe",
    funding: pd.DataFrame | None = None,
    opens: pd.DataFrame | None = None,
    periods_per_year: float | None = None,
) -> SweepResult:
    """Backtest every point of a grid of portfolio settings; selections are shared between points.

    Parameters
    ----------
    portfolio
        The :class:`~pairs.Portfolio` whose settings the grid changes.
    grid
        Keys: Portfolio fields (``"leverage"``, ``"trading"``...), ``"strategy.<field>"``,
        ``"strategy.rule.<field>"`` or ``"selection.<field>"``, each to a list of values; the
        product is evaluated.
    prices, funding, opens, periods_per_year
        As in :func:`pairs.portfolio_backtest` (``opens`` are needed when a point fills at the
        next open).
    objective
        Default objective of :meth:`SweepResult.best`.

    Returns
    -------
    SweepResult
        ``table`` (the grid values, ``total_return``, ``apr``, ``sharpe``, ``sortino``,
        ``max_drawdown``, ``n_trades`` (round trips of all pairs), ``annual_turnover`` (traded
        notional over the equity before the bar, per year) and ``costs`` (fees net of rebates,
        slippage, funding and borrow interest paid over the starting capital)), each equal to
        ``portfolio.replace(...).backtest(prices)``'s; ``returns`` (bars x points);
        ``strategy`` is the portfolio.

    Examples
    --------
    >>> import pairs
    >>> prices = pairs.load_sample("binance_1h").iloc[:1500, :6]
    >>> book = pairs.Portfolio(pairs.Strategy(hedge="rolling", window=48), pairs.Selection(top=2),
    ...                        formation=240, trading=168)
    >>> res = pairs.portfolio_sweep(book, {"strategy.rule.entry_z": [1.5, 2.0], "selection.top": [1, 2]}, prices)
    >>> res.table.shape[0], res.returns.shape == (1500, 4)
    (4, True)
    """
    if not isinstance(portfolio, Portfolio):
        raise PairsError(f"portfolio must be a pairs.Portfolio; got {type(portfolio).__name__}.")
    check_choice("objective", objective, OBJECTIVES)
    if not isinstance(grid, Mapping) or not grid:
        raise PairsError(
            f"grid must be a non-empty dict of portfolio settings to lists of values; got {grid!r}."
        )
    for key, values in grid.items():
        if not _known(key):
            raise PairsError(
                f"grid keys must be Portfolio fields or 'strategy.<field>', 'strategy.rule.<field>', "
                f"'selection.<field>'; got {key!r}."
            )
        if (
            isinstance(values, (str, bytes, dict))
            or not isinstance(values, (Sequence, np.ndarray, range))
            or not len(values)
        ):
            raise PairsError(f"grid[{key!r}] must be a non-empty list of values; got {values!r}.")
    frame = as_frame(prices, "prices", allow_nan=True, positive=True, min_columns=2)
    ppy = bars_per_year(periods_per_year, frame.index)
    fund = _funding(funding, frame)
    keys = list(grid)
    combos = list(itertools.product(*(list(grid[k]) for k in keys)))
    specs = []
    for combo in combos:
        point = dict(zip(keys, combo, strict=True))
        try:
            specs.append(apply_point(portfolio, point))
        except (PairsError, TypeError) as exc:
            raise PairsError(f"grid must give valid portfolio settings; got {point!r}: {exc}") from None
    shared: dict[Any, tuple[list[tuple[int, int, int]], list[pd.DataFrame]]] = {}
    rows, returns = [], []
    for spec in specs:
        windows, trading = window_plan(spec, frame)
        memo = (spec.selection, tuple(windows))
        if memo not in shared:
            shared[memo] = (windows, select_windows(spec, frame, windows))
        open_values = open_frame(opens if spec.fill_lag[1] else None, frame, spec.fill_lag[1])
        res = run_portfolio(spec, frame, fund, ppy, *shared[memo], trading, open_values)
        equity = res.equity.to_numpy()
        before = np.concatenate(([spec.capital], equity[:-1]))
        turnover = np.divide(
            res.costs["traded"].to_numpy(), before, out=np.zeros(len(equity)), where=before > 0
        )
        paid = float(paid_costs(res.costs).sum())
        rows.append(
            (
                res.total_return,
                res.apr,
                res.sharpe,
                res.sortino,
                res.max_drawdown,
                len(res.trades),
                float(turnover.mean() * ppy),
                paid / spec.capital,
            )
        )
        returns.append(res.returns.to_numpy())
    table = pd.DataFrame({k: [combo[i] for combo in combos] for i, k in enumerate(keys)})
    metrics = [
        "total_return",
        "apr",
        "sharpe",
        "sortino",
        "max_drawdown",
        "n_trades",
        "annual_turnover",
        "costs",
    ]
    table = pd.concat([table, pd.DataFrame(rows, columns=metrics)], axis=1)
    table.index.name = "point"
    return SweepResult(
        table=table,
        returns=pd.DataFrame(np.column_stack(returns), index=frame.index),
        strategy=portfolio,  # type: ignore[arg-type]
        grid={k: list(v) for k, v in grid.items()},
        objective=objective,
        periods_per_year=ppy,
    )
