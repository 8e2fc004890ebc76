"""The parameter-sensitivity section of a report: the blocks of a sweep."""

from __future__ import annotations

from pairs._validation import check_int
from pairs.evaluation import SweepResult
from pairs.exceptions import PairsError
from pairs.report._html import Block

__all__ = ["sweep_blocks"]


def sweep_blocks(sweep: SweepResult, *, top: int = 10) -> list[Block]:
    """Report blocks of a parameter sweep: how the result depends on the settings, and whether to trust the best.

    A heading "Parameter sensitivity"; the deflated Sharpe of the best point in words (a
    highlighted note) and the grid's probability of backtest overfitting; the heatmap of the
    objective over the first two grid keys (:meth:`pairs.SweepResult.plot`); and the ``top``
    points by the sweep's objective.

    Examples
    --------
    >>> import pairs
    >>> prices = pairs.load_sample("binance_1d")[["ETH", "BTC"]].dropna()
    >>> res = pairs.sweep(pairs.Strategy(hedge="rolling"), {"window": [30, 60], "rule.entry_z": [1.5, 2.0]},
    ...                   prices["ETH"], prices["BTC"])
    >>> [kind for kind, _ in sweep_blocks(res)]
    ['heading', 'text', 'note', 'text', 'figure', 'table']
    """
    if not isinstance(sweep, SweepResult):
        raise PairsError(f"sweep must be a pairs.SweepResult; got {type(sweep).__name__}.")
    top = check_int("top", top, minimum=1)
    verdicts = sweep.verdicts()
    grid = ", ".join(f"{k} in {v}" for k, v in sweep.grid.items())
    objective = sweep.objective
    ranked = sweep.table.sort_values(objective, ascending=objective == "max_drawdown", kind="stable").head(
        top
    )
    return [
        ("heading", "Parameter sensitivity"),
        (
            "text",
            f"{len(sweep.table)} settings backtested over the same {len(sweep.returns)} bars ({grid}); "
            f"the best by {objective} is the best of many tries, which flatters it.",
        ),
        ("note", verdicts["deflated Sharpe"] or "Deflated Sharpe: undefined for this grid."),
        ("text", verdicts["overfitting"] or "Probability of backtest overfitting: undefined for this grid."),
        ("figure", sweep.plot()),
        ("table", (f"Top {len(ranked)} settings by {objective}", ranked)),
    ]
