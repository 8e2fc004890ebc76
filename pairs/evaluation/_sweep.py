"""Parameter sweep of a Strategy: every point of a grid backtested, with the work shared.

The grid's points are grouped so that nothing is computed twice: the hedge once per distinct
hedge configuration (``hedge``, ``log_prices`` and the settings of that hedge), the z-score
once per distinct z-score configuration under it, and then the rule and the backtest of every
remaining setting (thresholds, sizing, costs, execution) in one compiled pass per chunk of points
(:func:`pairs.evaluation._backtest_kernels.sweep_kernel`); Python runs per group and per chunk,
and per configuration of the non-rule settings to build and validate it (its execution settings
converted once, as :func:`pairs.backtest` converts them), never per point inside the compiled
pass. Each row equals ``strategy.replace(**point).backtest(y, x)``.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from pairs._results import ResultMixin
from pairs._typing import ArrayLike1D
from pairs._validation import align_pair, check_choice, check_int, raise_if_constant
from pairs.evaluation._backtest_kernels import RUINED, sweep_kernel
from pairs.evaluation._execution import execution, gross_rate, open_prices
from pairs.evaluation._metrics import column_metrics, funding_frame
from pairs.evaluation._metrics import periods_per_year as periods_per_year_of
from pairs.evaluation._overfitting import (
    DeflatedSharpeResult,
    OverfittingResult,
    deflated_sharpe,
    probability_of_overfitting,
)
from pairs.exceptions import MissingDependencyError, PairsError
from pairs.strategy._batch import hedge_paths, zscore_path
from pairs.strategy._steps import log_values
from pairs.strategy._strategy import Strategy, check_fill
from pairs.trading._rules import SignalRule, _kernel_args

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["OBJECTIVES", "SweepResult", "sweep"]

OBJECTIVES: tuple[str, ...] = ("sharpe", "sortino", "apr", "total_return", "max_drawdown")
"""Objectives of :meth:`SweepResult.best`: the larger the better, except ``max_drawdown``."""
METRICS = ("total_return", "apr", "sharpe", "sortino", "max_drawdown", "n_trades", "annual_turnover", "costs")
_STRATEGY_FIELDS = tuple(f.name for f in dataclasses.fields(Strategy) if f.name != "rule")
# The settings the compiled pass models (``execution``, the live guards, is ignored by the batch
# run and so by Strategy.backtest). A Strategy field added later must stay at its default in a
# sweep until the kernel models it: refused, never ignored.
_MODELLED = frozenset(
    (
        *("hedge", "window", "delta", "obs_var", "beta", "alpha", "log_prices", "execution"),
        *("zscore_method", "zscore_window", "zscore_halflife", "rule", "capital", "sizing_mode"),
        *("lot_size", "rebalance_band", "fee_bps", "slippage_bps", "fill", "maker_fee_bps", "maker_share"),
        *("slippage_model", "min_notional", "leverage", "margin", "maintenance_margin", "market"),
        "borrow_rate",
    )
)
_RULE_FIELDS = tuple(f.name for f in dataclasses.fields(SignalRule))
# Bytes of returns one compiled call fills: bounds the memory of a chunk's metrics.
_CHUNK_BYTES = 32 * 2**20


@dataclass(frozen=True, repr=False)
class SweepResult(ResultMixin):
    """Outcome of :func:`sweep`.

    Attributes
    ----------
    table
        One row per grid point (index ``point``, in the order of the product of the grid's
        lists): a column per grid key with the point's value, then ``total_return``, ``apr``,
        ``sharpe``, ``sortino``, ``max_drawdown``, ``n_trades``, ``annual_turnover`` (as
        :attr:`BacktestResult.annual_turnover`) and ``costs`` (what trading paid as a fraction
        of the capital base, summed over the bars: without capital the cost rate, fee blended
        with the maker fee plus slippage, times the summed turnover; with it each bar's fees net
        of rebates plus slippage over the equity before the bar), each equal to
        ``strategy.replace(**point).backtest(y, x)``'s.
    returns
        Per-bar returns, bars x points (columns are the ``point`` numbers of ``table``).
    strategy
        The strategy the grid changes.
    grid
        The grid: each key's list of values.
    objective
        The default objective of :meth:`best`.
    periods_per_year
        Bars per year used to annualise.
    note
        A caveat shared by points (an OLS hedge fitted on the whole history), or None.
    """

    table: pd.DataFrame
    returns: pd.DataFrame
    strategy: Strategy
    grid: dict[str, list[Any]]
    objective: str
    periods_per_year: float
    note: str | None = None

    _title = "Parameter sweep"

    def best(self, objective: str | None = None) -> pd.Series:
        """The row of ``table`` of the best point (NaN ranks last, ties go to the first point)."""
        objective = self._objective(objective)
        values = self.table[objective].to_numpy(dtype=float)
        score = -values if objective == "max_drawdown" else values
        return self.table.iloc[int(np.argmax(np.where(np.isnan(score), -np.inf, score)))]

    def point(self, point: int) -> dict[str, Any]:
        """The grid values of a point (keys as in the grid, ``"rule.entry_z"`` for the rule)."""
        k = check_int("point", point, minimum=0, maximum=len(self.table) - 1)
        at = np.unravel_index(k, tuple(len(v) for v in self.grid.values()))
        return {key: values[i] for (key, values), i in zip(self.grid.items(), at, strict=True)}

    def strategy_at(self, point: int) -> Strategy:
        """The strategy of a point: ``strategy`` with the point's grid values."""
        return apply_point(self.strategy, self.point(point))

    def best_strategy(self, objective: str | None = None) -> Strategy:
        """The strategy of the best point by ``objective``."""
        return self.strategy_at(int(self.best(objective).name))

    def deflated_sharpe(self, *, size: float = 0.05) -> DeflatedSharpeResult:
        """:func:`pairs.deflated_sharpe` of the best Sharpe among every point (n_trials = points)."""
        return deflated_sharpe(self.returns, periods_per_year=self.periods_per_year, size=size)

    def probability_of_overfitting(self, n_splits: int = 16) -> OverfittingResult:
        """:func:`pairs.probability_of_overfitting` of the points' returns (CSCV)."""
        return probability_of_overfitting(self.returns, n_splits)

    def sensitivity(
        self, x: str | None = None, y: str | None = None, *, objective: str | None = None
    ) -> pd.DataFrame:
        """``objective`` over two grid keys: the best value over the other keys, per pair of values.

        Rows are the values of ``y`` (default the second key; one row named ``objective`` when
        the grid has one key), columns those of ``x`` (default the first key).
        """
        objective = self._objective(objective)
        keys = list(self.grid)
        x = keys[0] if x is None else x
        y = (keys[1] if len(keys) > 1 else None) if y is None else y
        for name, value in (("x", x), ("y", y)):
            if value is not None and value not in keys:
                raise PairsError(f"{name} must be a key of the grid {keys}; got {value!r}.")
        if x == y:
            raise PairsError(f"y must differ from x; got {y!r} twice.")
        at = np.indices(tuple(len(v) for v in self.grid.values())).reshape(len(keys), -1)
        values = self.table[objective].to_numpy(dtype=float)
        frame = pd.DataFrame({"x": at[keys.index(x)], "value": values})
        frame["y"] = 0 if y is None else at[keys.index(y)]
        grouped = frame.groupby(["y", "x"])["value"]
        best = grouped.min() if objective == "max_drawdown" else grouped.max()
        table = best.unstack("x")
        table.columns = pd.Index([_label(v) for v in self.grid[x]], name=x)
        table.index = pd.Index([objective] if y is None else [_label(v) for v in self.grid[y]], name=y)
        return table

    def plot(
        self,
        x: str | None = None,
        y: str | None = None,
        *,
        objective: str | None = None,
        ax: Axes | None = None,
    ) -> Figure:
        """Heatmap of ``objective`` over two grid keys (default the first two), best over the rest."""
        from pairs.plot import plot_sweep

        return plot_sweep(self, x=x, y=y, objective=objective, ax=ax)

    def _objective(self, objective: str | None) -> str:
        return check_choice("objective", self.objective if objective is None else objective, OBJECTIVES)

    def _summary_rows(self) -> list[tuple[str, Any]]:
        best = self.best()
        rows: list[tuple[str, Any]] = [
            ("points", len(self.table)),
            ("bars", len(self.returns)),
            ("objective", self.objective),
        ]
        rows += [(f"best {key}", value) for key, value in self.point(int(best.name)).items()]
        rows += [(f"best {name}", _plain(best[name])) for name in METRICS]
        return rows + [(label, text) for label, text in self.verdicts().items() if text is not None]

    def verdicts(self) -> dict[str, str | None]:
        """In words: whether the best Sharpe beats luck (deflated Sharpe) and the grid's PBO.

        ``None`` where the statistic is undefined (one point, a best point that never trades,
        too few bars for the splits).
        """
        out: dict[str, str | None] = {"deflated Sharpe": None, "overfitting": None}
        try:
            out["deflated Sharpe"] = self.deflated_sharpe().verdict
        except PairsError:
            pass
        try:
            out["overfitting"] = self.probability_of_overfitting().verdict
        except PairsError:
            pass
        return out


def _label(value: Any) -> Any:
    """A grid value as a table label: numbers and strings as they are, others (None, tuples) as text."""
    return value if isinstance(value, (int, float, str)) and not isinstance(value, bool) else str(value)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def apply_point(spec: Any, point: dict[str, Any]) -> Any:
    """``spec`` (a Strategy or a Portfolio) with the grid values of ``point``; dotted keys
    (``"rule.entry_z"``, ``"strategy.rule.entry_z"``, ``"selection.top"``) change nested specs."""
    changes: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for key, value in point.items():
        head, _, rest = key.partition(".")
        if rest:
            nested.setdefault(head, {})[rest] = value
        else:
            changes[key] = value
    for head, inner in nested.items():
        changes[head] = apply_point(getattr(spec, head), inner)
    replace = getattr(spec, "replace", None)
    return replace(**changes) if replace is not None else dataclasses.replace(spec, **changes)


def _check_grid(grid: Any) -> dict[str, list[Any]]:
    if not isinstance(grid, Mapping) or not grid:
        raise PairsError(
            f"grid must be a non-empty dict of strategy fields to lists of values; got {grid!r}."
        )
    out: dict[str, list[Any]] = {}
    for key, values in grid.items():
        known = key in _STRATEGY_FIELDS or (
            isinstance(key, str) and key.startswith("rule.") and key[5:] in _RULE_FIELDS
        )
        if not known:
            fields = [*_STRATEGY_FIELDS, *(f"rule.{f}" for f in _RULE_FIELDS)]
            raise PairsError(f"grid keys must be Strategy fields {fields}; got {key!r}.")
        if isinstance(values, (str, bytes, dict)) or not isinstance(values, (Sequence, np.ndarray, range)):
            raise PairsError(f"grid[{key!r}] must be a list of values; got {values!r}.")
        if len(values) == 0:
            raise PairsError(f"grid[{key!r}] must hold at least one value; got {values!r}.")
        out[key] = [_plain(v) for v in values]
    return out


def _build(make: Any, keys: list[str], combo: tuple[Any, ...]) -> Any:
    """``make(point)``; an invalid point raises a PairsError naming its grid values."""
    point = dict(zip(keys, combo, strict=True))
    try:
        return make(point)
    except (PairsError, TypeError) as exc:
        raise PairsError(f"grid must give valid strategy settings; got {point!r}: {exc}") from None


def _hedge_key(s: Strategy) -> tuple[Any, ...]:
    """The settings a strategy's hedge depends on."""
    by_hedge = {"kalman": (s.delta, s.obs_var), "rolling": (s.window,), "ols": (s.beta, s.alpha)}
    return (s.hedge, s.log_prices, *by_hedge[s.hedge])


def _zscore_key(s: Strategy) -> tuple[Any, ...]:
    """The settings a strategy's z-score depends on (beyond its hedge)."""
    by_method = {"rolling": (s.z_window,), "ewm": (s.zscore_halflife,), "expanding": (), "innovation": ()}
    return (s.zscore_method, *by_method[s.zscore_method])


@dataclass(frozen=True)
class _Inputs:
    """Everything a hedge group needs: prices (bars x [y, x]), funding and the per-point settings."""

    close: np.ndarray
    opens: np.ndarray
    rates: np.ndarray
    settings: dict[str, np.ndarray]
    chunk: int


# Strategy fields passed to pairs.evaluation._execution.execution, as Strategy.backtest passes them.
_EXECUTION = (
    *("fee_bps", "maker_fee_bps", "maker_share", "slippage_bps", "slippage_model", "min_notional"),
    *("leverage", "margin", "maintenance_margin", "market", "borrow_rate"),
)


def _config_settings(c: Strategy, ppy: float) -> dict[str, Any]:
    """The kernel arguments of one configuration: the conversions :func:`pairs.backtest` makes."""
    lag, at_open = check_fill(c.fill)
    out: dict[str, Any] = {
        "lag": lag,
        "rate": gross_rate(c.fee_bps, c.maker_fee_bps, c.maker_share, c.slippage_bps),
        "capital": math.nan if c.capital is None else c.capital,
        "beta_neutral": c.sizing_mode == "beta_neutral",
        "band": c.rebalance_band,
        "at_open": at_open,
    }
    ex = execution(**{name: getattr(c, name) for name in _EXECUTION}, lots=c.lot_size)
    out.update(
        lots=ex.lots,
        fee_rate=ex.fee_rate,
        maker_rate=ex.maker_rate,
        maker_share=ex.maker_share,
        slippage_rate=ex.slippage_rate,
        slippage_price=ex.slippage_price,
        min_notional=ex.min_notional,
        leverage=math.nan if ex.leverage is None else ex.leverage,
        isolated=ex.isolated,
        maintenance=ex.maintenance,
        spot=ex.spot,
        borrow=ex.borrow_rate / ppy,  # per bar, as run_ledger converts it
    )
    return out


def _settings(
    configs: list[Strategy], rules: list[SignalRule], config_id: np.ndarray, rule_id: np.ndarray, ppy: float
) -> dict[str, np.ndarray]:
    """Per-point kernel arguments, gathered from the configurations and rules by index."""
    kernel_rules = [_kernel_args(r) for r in rules]
    per_rule = {
        "entry": np.array([r[0] for r in kernel_rules]),
        "exit_": np.array([r[1] for r in kernel_rules]),
        "stop": np.array([r[2] for r in kernel_rules]),
        "max_hold": np.array([r[3] for r in kernel_rules], dtype=np.int64),
        "cooldown": np.array([r[4] for r in kernel_rules], dtype=np.int64),
    }
    rows = [_config_settings(c, ppy) for c in configs]
    per_config = {k: np.array([row[k] for row in rows]) for k in rows[0]}
    per_config["lag"] = per_config["lag"].astype(np.int64)
    out = {k: v[rule_id] for k, v in per_rule.items()}
    # C-ordered copies: the kernel passes each point's row of a pair (lots, margin) to the ledger.
    out.update({k: np.ascontiguousarray(v[config_id]) for k, v in per_config.items()})
    return out


_KERNEL_ORDER = (
    *("entry", "exit_", "stop", "max_hold", "cooldown", "lag", "rate", "capital", "beta_neutral"),
    *("band", "lots", "at_open", "fee_rate", "maker_rate", "maker_share", "slippage_rate"),
    *("slippage_price", "min_notional", "leverage", "isolated", "maintenance", "spot", "borrow"),
)


def _run_hedge_group(
    inputs: _Inputs, config: Strategy, zgroups: list[tuple[Strategy, np.ndarray]], ppy: float
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Hedge once, each z-score once, then the compiled pass: ``(points, returns, stats)`` per chunk.

    ``stats`` columns: final growth, max drawdown, trades, summed turnover, status, costs, apr,
    sharpe, sortino.
    """
    py, px = (np.ascontiguousarray(inputs.close[:, k]) for k in (0, 1))
    yv, xv = (log_values(py), log_values(px)) if config.log_prices else (py, px)
    beta, _, spread, innov_z, _ = hedge_paths(config, yv, xv)
    units_beta = beta * py / px if config.log_prices else beta
    out = []
    for zconfig, points in zgroups:
        z = zscore_path(zconfig, spread, innov_z)
        for start in range(0, points.size, inputs.chunk):
            chunk = points[start : start + inputs.chunk]
            returns = np.zeros((py.size, chunk.size), order="F")
            stats = np.zeros((chunk.size, 9))
            args = [inputs.settings[k][chunk] for k in _KERNEL_ORDER]
            sweep_kernel(z, units_beta, inputs.close, inputs.opens, inputs.rates, *args, returns, stats)
            stats[:, 6], stats[:, 7], stats[:, 8] = column_metrics(returns, stats[:, 0], ppy)
            out.append((chunk, returns, stats))
    return out


def sweep(
    strategy: Strategy,
    grid: Mapping[str, Sequence[Any]],
    y: ArrayLike1D,
    x: ArrayLike1D,
    *,
    objective: str = "sharpe",
    backend: Literal["local", "dask"] = "local",
    funding: pd.DataFrame | None = None,
    periods_per_year: float | None = None,
    open_y: ArrayLike1D | None = None,
    open_x: ArrayLike1D | None = None,
) -> SweepResult:
    """Backtest every point of a parameter grid of a strategy, sharing the work between points.

    Parameters
    ----------
    strategy
        The :class:`~pairs.Strategy` whose settings the grid changes.
    grid
        Strategy fields to lists of values, ``"rule.<field>"`` for a field of its rule
        (``{"window": [30, 60], "rule.entry_z": [1.5, 2.0]}``); the product is evaluated.
        Every point must be a valid strategy. Execution settings (``fill``, ``leverage``,
        ``margin``, ...) are keys too: an account point runs the ledger of
        :func:`pairs.backtest`.
    y, x
        Prices of the asset hedged and of the hedge (finite, > 0), on one index.
    objective
        Default objective of :meth:`SweepResult.best`: one of :data:`OBJECTIVES`.
    backend
        ``"local"`` or ``"dask"``: the hedge groups run as dask tasks on the current dask
        scheduler (a ``distributed.Client`` if one is active); the numbers are the same.
    funding, periods_per_year
        As in :func:`pairs.backtest`.
    open_y, open_x
        Open prices of ``y`` and ``x`` on the prices' index, for the points that fill at the next
        bar's open (``fill="next_open"``, an account only), as in :func:`pairs.backtest`.

    Returns
    -------
    SweepResult
        ``table`` (one row per point: its values and metrics), ``returns`` (bars x points), the
        best point, its deflated Sharpe and the grid's probability of overfitting.

    Examples
    --------
    >>> import pairs
    >>> prices = pairs.load_sample("binance_1d")[["BTC", "ETH"]].dropna()
    >>> grid = {"window": [30, 60, 120], "rule.entry_z": [1.5, 2.0, 2.5]}
    >>> res = pairs.sweep(pairs.Strategy(hedge="rolling"), grid, prices["BTC"], prices["ETH"])
    >>> res.table.shape, res.returns.shape == (len(prices), 9)
    ((9, 10), True)
    >>> row = res.table.iloc[4]
    >>> bt = pairs.Strategy(hedge="rolling", window=60, rule={"entry_z": 2.0}).backtest(prices["BTC"], prices["ETH"])
    >>> bool(abs(row["sharpe"] - bt.sharpe) < 1e-12), int(row["n_trades"]) == bt.n_trades
    (True, True)
    """
    if not isinstance(strategy, Strategy):
        raise PairsError(f"strategy must be a pairs.Strategy; got {type(strategy).__name__}.")
    checked = _check_grid(grid)
    check_choice("objective", objective, OBJECTIVES)
    check_choice("backend", backend, ("local", "dask"))
    ys, xs = align_pair(y, x, positive=True)
    raise_if_constant("y", ys.to_numpy())
    raise_if_constant("x", xs.to_numpy())
    index = ys.index
    rates = funding_frame(funding, index, (ys.name, xs.name))
    ppy = periods_per_year_of(periods_per_year, index)

    keys = list(checked)
    rule_keys = [k for k in keys if k.startswith("rule.")]
    config_keys = [k for k in keys if not k.startswith("rule.")]
    configs = [
        _build(lambda p: _backtestable(strategy.replace(**p)), config_keys, combo)
        for combo in itertools.product(*(checked[k] for k in config_keys))
    ]
    rules = [
        _build(
            lambda p: dataclasses.replace(strategy.rule, **{k[5:]: v for k, v in p.items()}), rule_keys, combo
        )
        for combo in itertools.product(*(checked[k] for k in rule_keys))
    ]
    _check_modelled(configs)
    shape = tuple(len(checked[k]) for k in keys)
    at = np.indices(shape).reshape(len(keys), -1)
    dims = {k: i for i, k in enumerate(keys)}

    def flat(group: list[str]) -> np.ndarray:
        if not group:
            return np.zeros(at.shape[1], dtype=np.int64)
        return np.ravel_multi_index(tuple(at[dims[k]] for k in group), tuple(shape[dims[k]] for k in group))

    config_id, rule_id = flat(config_keys), flat(rule_keys)
    n_points = at.shape[1]
    close = np.column_stack((ys.to_numpy(dtype=np.float64), xs.to_numpy(dtype=np.float64)))
    opens = open_prices(open_y, open_x, index, any(check_fill(c.fill)[1] for c in configs))
    inputs = _Inputs(
        close=close,
        # Writable C arrays, as run_ledger passes them: one compiled signature of the ledger.
        opens=close if opens is None else np.require(opens, np.float64, ["C", "W"]),
        rates=np.require(rates[["y", "x"]].to_numpy(dtype=np.float64), np.float64, ["C", "W"]),
        settings=_settings(configs, rules, config_id, rule_id, ppy),
        chunk=max(1, _CHUNK_BYTES // (8 * len(ys))),
    )
    # Hedge groups -> z-score groups -> the points of their configurations.
    groups: dict[tuple[Any, ...], dict[tuple[Any, ...], list[int]]] = {}
    for c, config in enumerate(configs):
        groups.setdefault(_hedge_key(config), {}).setdefault(_zscore_key(config), []).append(c)
    tasks = []
    for zmap in groups.values():
        zgroups = [(configs[ids[0]], np.flatnonzero(np.isin(config_id, ids))) for ids in zmap.values()]
        tasks.append((configs[next(iter(zmap.values()))[0]], zgroups))
    if backend == "dask":
        parts = _run_dask(inputs, tasks, ppy)
    else:
        parts = [_run_hedge_group(inputs, config, zgroups, ppy) for config, zgroups in tasks]

    returns = np.empty((len(ys), n_points), order="F")
    stats = np.empty((n_points, 9))
    for part in parts:
        for points, chunk_returns, chunk_stats in part:
            returns[:, points] = chunk_returns
            stats[points] = chunk_stats
    ruined = np.flatnonzero(stats[:, 4] == RUINED)
    if ruined.size:
        point = {k: checked[k][at[dims[k], ruined[0]]] for k in keys}
        raise PairsError(
            f"capital must keep the account equity positive at every grid point; got equity <= 0 at {point!r} "
            "(pairs.backtest refuses it: trade smaller positions, add capital or set a leverage limit)."
        )
    table = pd.DataFrame({k: _column(checked[k], at[dims[k]]) for k in keys})
    table["total_return"] = stats[:, 0] - 1.0
    table["apr"], table["sharpe"], table["sortino"] = stats[:, 6], stats[:, 7], stats[:, 8]
    table["max_drawdown"] = stats[:, 1]
    table["n_trades"] = stats[:, 2].astype(np.int64)
    table["annual_turnover"] = stats[:, 3] * ppy / len(ys)
    table["costs"] = stats[:, 5]
    table.index.name = "point"
    notes = {_note(c) for c in configs} - {None}
    return SweepResult(
        table=table,
        returns=pd.DataFrame(returns, index=index, columns=table.index),
        strategy=strategy,
        grid=checked,
        objective=objective,
        periods_per_year=ppy,
        note="; ".join(sorted(notes)) if notes else None,  # type: ignore[arg-type]
    )


def _backtestable(config: Strategy) -> Strategy:
    """``config``, refused (as :func:`pairs.backtest` refuses it) if it fills at the open without an account."""
    if config.capital is None and check_fill(config.fill)[1]:
        raise PairsError(
            "fill must be 'close', 'next_close' or a lag in bars without capital; got 'next_open'."
        )
    return config


def _check_modelled(configs: list[Strategy]) -> None:
    for config in configs:
        changed = config.changed_outside(_MODELLED)
        if changed:
            raise PairsError(
                f"strategy must keep {sorted(changed)} at their defaults in a sweep (its compiled pass "
                f"does not model them yet); got {changed!r}: backtest those points with Strategy.backtest."
            )


def _note(config: Strategy) -> str | None:
    """The caveat of a configuration whose hedge looks ahead (an OLS fitted on the whole history)."""
    if config.hedge == "ols" and config.beta is None:
        return "an OLS hedge without beta is fitted on the whole history: its signals look ahead"
    return None


def _column(values: list[Any], at: np.ndarray) -> Any:
    """The grid values of every point (numbers stay numeric; tuples and None stay objects)."""
    holder = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):  # one by one: numpy would unpack tuples (lot_size)
        holder[i] = value
    column = pd.Series(holder[at])
    # None stays None (no stop, no capital): inferring a float dtype would show it as NaN.
    return column.to_numpy() if any(v is None for v in values) else column.infer_objects().to_numpy()


def _run_dask(inputs: _Inputs, tasks: list[Any], ppy: float) -> list[Any]:
    try:
        import dask
    except ImportError as exc:
        raise MissingDependencyError(
            "backend='dask' requires dask; install it with `pip install 'pairs[dask]'`."
        ) from exc
    shared = dask.delayed(inputs, traverse=False)
    run = dask.delayed(_run_hedge_group, pure=True)
    return list(dask.compute(*(run(shared, config, zgroups, ppy) for config, zgroups in tasks)))
