"""Walk-forward out-of-sample evaluation: fit on each training window, trade the test window after it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from pairs._results import ResultMixin
from pairs._typing import ArrayLike1D
from pairs._validation import align_pair, check_choice, check_float, check_int
from pairs.evaluation._backtest import backtest
from pairs.evaluation._metrics import funding_frame
from pairs.evaluation._metrics import periods_per_year as periods_per_year_of
from pairs.evaluation._result import BacktestResult
from pairs.evaluation._sweep import OBJECTIVES, apply_point, sweep
from pairs.exceptions import InsufficientDataError, PairsError
from pairs.strategy._result import ACCOUNT_SETTINGS
from pairs.strategy._strategy import FEE_BPS, SLIPPAGE_BPS
from pairs.trading._rules import SignalRule, signals
from pairs.trading._zscore import zscore

if TYPE_CHECKING:
    from pairs.strategy import Strategy

__all__ = ["WalkForwardResult", "walk_forward"]

# Execution settings a Strategy passes to its backtest (the account ones only with capital).
_FILL_AND_FEES = ("fill", "maker_fee_bps", "maker_share")
# Settings of the stitched backtest, the same for every fold: not a choice of the grid.
_ACCOUNT_FIELDS = (
    *("capital", "sizing_mode", "lot_size", "rebalance_band", "fee_bps", "slippage_bps"),
    *_FILL_AND_FEES,
    *ACCOUNT_SETTINGS,
)


@dataclass(frozen=True, repr=False)
class WalkForwardResult(ResultMixin):
    """Outcome of :func:`walk_forward`.

    Attributes
    ----------
    folds
        One row per fold: ``train_start``, ``train_end``, ``test_start``, ``test_end``
        (inclusive timestamps), the ``beta`` and ``alpha`` fitted on the training window,
        ``n_trades`` opened and compounded ``return`` over the test window.
    backtest
        :class:`BacktestResult` of the stitched out-of-sample test windows.
    position, beta, zscore
        Stitched out-of-sample series (the bars after the first training window).
    hedge
        Name of the hedge estimator.
    grid, objective
        With a grid: the grid searched on each training window and the objective of the
        choice; ``folds`` then also has the chosen value of each grid key and
        ``in_sample_<objective>``, the chosen point's value on its training window (the
        out-of-sample figures are those of ``backtest`` and the fold's ``return``).
    """

    folds: pd.DataFrame
    backtest: BacktestResult
    position: pd.Series
    beta: pd.Series
    zscore: pd.Series
    hedge: str
    grid: dict[str, list[Any]] | None = None
    objective: str | None = None

    _title = "Walk-forward backtest"

    def _summary_rows(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = [("hedge", self.hedge), ("n_folds", len(self.folds))]
        if self.objective is not None:
            in_sample = self.folds[f"in_sample_{self.objective}"]
            rows += [
                ("objective", self.objective),
                (f"in-sample {self.objective} (mean of folds)", float(in_sample.mean())),
                (f"out-of-sample {self.objective} (stitched)", getattr(self.backtest, self.objective)),
            ]
        return [*rows, *self.backtest._summary_rows()]


def _estimator(hedge: Any, options: dict[str, Any]) -> Callable[..., Any]:
    # Imported here: pairs.hedge sits below this module in the import graph but is only
    # needed for walk-forward runs.
    if callable(hedge):
        return hedge  # type: ignore[no-any-return]
    check_choice("hedge", hedge, ("ols", "rolling", "kalman"))
    if hedge == "ols":
        from pairs.hedge._ols import ols_hedge

        return ols_hedge
    if hedge == "rolling":
        if "window" not in options:
            raise PairsError(f"hedge_options must set 'window' with hedge='rolling'; got {options!r}.")
        from pairs.hedge._rolling import rolling_hedge

        return rolling_hedge
    from pairs.hedge._kalman import kalman_hedge

    return kalman_hedge


def _last_value(value: Any, name: str) -> float:
    """The value of a fitted coefficient at the end of the training window."""
    if isinstance(value, pd.Series):
        valid = value.dropna()
        if valid.empty:
            raise InsufficientDataError(
                f"{name} must have a value at the end of the training window; got all NaN."
            )
        value = valid.iloc[-1]
    if isinstance(value, (pd.DataFrame, np.ndarray)):
        raise PairsError(f"{name} must be one coefficient (a single hedge x); got {type(value).__name__}.")
    return check_float(name, value)


def _walk_forward_windows(y: Any, x: Any, train: Any, test: Any) -> tuple[pd.Series, pd.Series, int, int]:
    """The aligned prices and the checked ``train``/``test`` lengths of a walk-forward."""
    ys, xs = align_pair(y, x, positive=True, min_length=4)
    train = check_int("train", train, minimum=3)
    if train >= len(ys):
        raise InsufficientDataError(
            f"train must be < the number of observations ({len(ys)}) to leave a test window; got {train}."
        )
    test = check_int("test", test, minimum=1)
    return ys, xs, train, test


def walk_forward(
    y: ArrayLike1D,
    x: ArrayLike1D,
    *,
    train: int,
    test: int,
    hedge: Literal["ols", "rolling", "kalman"] | Callable[..., Any] = "ols",
    hedge_options: dict[str, Any] | None = None,
    rule: SignalRule | None = None,
    zscore_window: int | None = None,
    fee_bps: float = FEE_BPS,
    slippage_bps: float = SLIPPAGE_BPS,
    funding: pd.DataFrame | None = None,
    periods_per_year: float | None = None,
    strategy: Strategy | None = None,
    capital: float | None = None,
    grid: Mapping[str, Sequence[Any]] | None = None,
    objective: str = "sharpe",
    half_life_window: float | None = None,
) -> WalkForwardResult:
    """Walk-forward backtest: fit on each training window, trade only the test window after it.

    Fold ``k`` trains on bars ``[k * test, k * test + train)`` and trades the next ``test`` bars
    (the last fold may be shorter). On each fold the hedge is fitted to the training window
    only; its final ``beta`` and ``alpha`` are frozen for the test window. The spread
    ``y - alpha - beta * x`` is z-scored with a rolling window of ``zscore_window`` bars (its
    warm-up uses the training bars, which is causal), the rule starts flat, and the position
    is closed on the last bar of the window, so a fold depends on no bar after it.

    Parameters
    ----------
    y, x
        Prices of the asset hedged and of the hedge (positive, aligned, no NaN).
    train, test
        Lengths in bars of the training windows (>= 3) and of the test windows (>= 1).
    hedge
        ``"ols"``, ``"rolling"`` (``hedge_options`` must set ``window``), ``"kalman"``
        (filtered beta at the end of the window), or a callable ``f(y_train, x_train,
        **hedge_options)`` returning an object with ``beta`` and ``alpha`` (floats, or Series
        whose last valid value is used) for price levels.
    hedge_options
        Keyword options of the estimator (price levels only: ``on`` must be ``"levels"``).
    rule
        Entry/exit thresholds; default ``SignalRule()``.
    zscore_window
        Rolling z-score window (2 ..= ``train``); default ``train``.
    fee_bps, slippage_bps, funding, periods_per_year
        As in :func:`backtest` (``funding`` aligned to the full input).
    capital
        Starting capital of an account in quote currency: the stitched test windows are traded
        by one account (``convention="account"``, sized as :func:`backtest` sizes a position,
        ``beta_neutral`` by default), whose equity carries from fold to fold; ``None`` (default)
        for the gross-exposure convention. As in :func:`backtest`, losses beyond the capital
        raise :class:`~pairs.exceptions.PairsError` (a strategy's leverage and margin settings
        can liquidate legs before that).
    strategy
        A :class:`~pairs.Strategy` instead of ``hedge``, ``hedge_options``, ``rule``,
        ``zscore_window``, ``fee_bps``, ``slippage_bps`` and ``capital`` (giving both is an
        error); the stitched backtest takes its ``fill`` (not ``"next_open"``: no open prices
        here) and maker fees, and with ``capital`` trades an account with its sizing settings
        (``sizing_mode``, ``lot_size``, ``rebalance_band``) and execution settings (leverage,
        margin, markets, ...), as :meth:`~pairs.Strategy.backtest` does. Each fold
        runs the strategy over its training and test bars (the training bars warm its hedge and
        z-score up; ``hedge="ols"`` without ``beta`` is fitted on the training bars and frozen),
        then its rule starts flat on the test bars and closes on their last bar, as above.
    grid, objective
        With a ``strategy``: a grid of its settings as in :func:`pairs.sweep`. On each fold the
        sweep of the training window alone picks the point of best ``objective`` (one of
        ``"sharpe"``, ``"sortino"``, ``"apr"``, ``"total_return"``, ``"max_drawdown"``), and
        the test window trades that point's strategy: selection is out of sample too.
    half_life_window
        With a ``strategy``: a look-back tied to the spread. On each fold the strategy's
        ``window`` (its rolling hedge, and its z-score unless ``zscore_window`` is set) becomes
        ``half_life_window`` times the half-life of the training window's spread (the OLS residual
        of the training prices, log prices with ``log_prices``; :func:`pairs.half_life`), rounded,
        between 2 and ``train`` bars (``train`` when the spread does not revert); ``folds`` then has
        each fold's ``half_life`` and ``window``. None (default): the strategy's window.

    Returns
    -------
    WalkForwardResult
        Per-fold table and the stitched out-of-sample :class:`BacktestResult`.

    Examples
    --------
    >>> from pairs import load_sample
    >>> prices = load_sample("binance_1d")[["BTC", "ETH"]].dropna()
    >>> wf = walk_forward(prices["BTC"], prices["ETH"], train=365, test=90, zscore_window=30, fee_bps=10)
    >>> len(wf.folds), len(wf.backtest.returns) == len(prices) - 365
    (30, True)
    >>> from pairs import Strategy
    >>> grid = {"window": [30, 60], "rule.entry_z": [1.5, 2.0]}
    >>> chosen = walk_forward(prices["BTC"], prices["ETH"], train=365, test=90, strategy=Strategy(hedge="rolling"),
    ...                       grid=grid)
    >>> list(chosen.folds.columns[-3:])
    ['window', 'rule.entry_z', 'in_sample_sharpe']
    """
    if grid is not None and strategy is None:
        raise PairsError("strategy must be given with grid (the grid changes its settings); got None.")
    if strategy is not None:
        return _walk_forward_strategy(
            y,
            x,
            train=train,
            test=test,
            strategy=strategy,
            explicit={
                "hedge": hedge != "ols",
                "hedge_options": hedge_options is not None,
                "rule": rule is not None,
                "zscore_window": zscore_window is not None,
                "fee_bps": fee_bps != FEE_BPS,
                "slippage_bps": slippage_bps != SLIPPAGE_BPS,
                "capital": capital is not None,
            },
            funding=funding,
            periods_per_year=periods_per_year,
            grid=grid,
            objective=objective,
            half_life_window=half_life_window,
        )
    if half_life_window is not None:
        raise PairsError(
            "strategy must be given with half_life_window (it sets the strategy's window); got None."
        )
    if capital is not None:
        check_float("capital", capital, minimum=0.0, strict_min=True)
    ys, xs, train, test = _walk_forward_windows(y, x, train, test)
    n = len(ys)
    zwin = (
        train
        if zscore_window is None
        else check_int("zscore_window", zscore_window, minimum=2, maximum=train)
    )
    rule = SignalRule() if rule is None else rule
    if not isinstance(rule, SignalRule):
        raise PairsError(f"rule must be a SignalRule or None; got {type(rule).__name__}.")
    if hedge_options is not None and not isinstance(hedge_options, dict):
        raise PairsError(f"hedge_options must be a dict or None; got {type(hedge_options).__name__}.")
    options = dict(hedge_options or {})
    if options.get("on", "levels") != "levels":
        raise PairsError(
            f"hedge_options['on'] must be 'levels' (the backtest trades price levels); got {options['on']!r}."
        )
    estimator = _estimator(hedge, options)
    rates = funding_frame(funding, ys.index)
    ppy = periods_per_year_of(periods_per_year, ys.index)

    m = n - train
    pos, betas, zs = np.zeros(m), np.zeros(m), np.zeros(m)
    rows = []
    for start in range(0, m, test):
        mid, stop = start + train, min(start + train + test, n)
        fit = estimator(ys.iloc[start:mid], xs.iloc[start:mid], **options)
        beta, alpha = _last_value(fit.beta, "beta"), _last_value(fit.alpha, "alpha")
        z = zscore(ys.iloc[start:stop] - alpha - beta * xs.iloc[start:stop], window=zwin).to_numpy()[train:]
        fold_pos = signals(z, rule=rule).to_numpy(copy=True)
        fold_pos[-1] = 0.0
        pos[start : stop - train], betas[start : stop - train], zs[start : stop - train] = fold_pos, beta, z
        rows.append((ys.index[start], ys.index[mid - 1], ys.index[mid], ys.index[stop - 1], beta, alpha))

    name = hedge if isinstance(hedge, str) else getattr(hedge, "__name__", type(hedge).__name__)
    account = None if capital is None else {"capital": capital}
    return _walk_forward_result(
        ys, xs, train, pos, betas, zs, rows, fee_bps, slippage_bps, rates, ppy, name, account
    )


def _walk_forward_strategy(
    y: Any,
    x: Any,
    *,
    train: int,
    test: int,
    strategy: Strategy,
    explicit: dict[str, bool],
    funding: pd.DataFrame | None,
    periods_per_year: float | None,
    grid: Mapping[str, Sequence[Any]] | None,
    objective: str,
    half_life_window: float | None = None,
) -> WalkForwardResult:
    """:func:`walk_forward` of a :class:`~pairs.Strategy` (see its ``strategy`` and ``grid`` parameters)."""
    from pairs.coint._stationarity import half_life
    from pairs.hedge._ols import ols_hedge
    from pairs.strategy import Strategy

    if not isinstance(strategy, Strategy):
        raise PairsError(f"strategy must be a pairs.Strategy or None; got {type(strategy).__name__}.")
    clash = sorted(name for name, given in explicit.items() if given)
    if clash:
        raise PairsError(f"strategy must not be combined with {clash}: they are settings of the strategy.")
    ys, xs, train, test = _walk_forward_windows(y, x, train, test)
    n = len(ys)
    rates = funding_frame(funding, ys.index)
    ppy = periods_per_year_of(periods_per_year, ys.index)
    m = n - train
    pos, betas, zs = np.zeros(m), np.zeros(m), np.zeros(m)
    if grid is not None:
        check_choice("objective", objective, OBJECTIVES)
        fixed = sorted(set(grid) & set(_ACCOUNT_FIELDS)) if isinstance(grid, Mapping) else []
        if fixed:
            raise PairsError(
                f"grid must not vary {fixed} in a walk-forward: one backtest trades every test window "
                "with the strategy's costs, sizing and execution."
            )
    if strategy.fill == "next_open":
        raise PairsError(
            "strategy must not fill at 'next_open' in a walk-forward (it takes no open prices); got "
            "fill='next_open': use 'next_close' or a lag in bars."
        )
    k_hl = None
    if half_life_window is not None:
        k_hl = check_float("half_life_window", half_life_window, minimum=0.0, strict_min=True, maximum=1e6)
        if grid is not None and "window" in grid:
            raise PairsError(
                "grid must not vary 'window' with half_life_window (it sets the window); got both."
            )
    rows = []
    chosen: list[dict[str, Any]] = []
    looks: list[dict[str, Any]] = []
    for start in range(0, m, test):
        mid, stop = start + train, min(start + train + test, n)
        fold = strategy
        if k_hl is not None:
            ty, tx = ys.iloc[start:mid], xs.iloc[start:mid]
            if strategy.log_prices:
                ty, tx = np.log(ty), np.log(tx)
            hl = float(half_life(ols_hedge(ty, tx).spread).bars)
            window = int(min(max(round(k_hl * hl), 2), train)) if np.isfinite(hl) and hl > 0 else train
            fold = strategy = strategy.replace(window=window)
            looks.append({"half_life": hl, "window": window})
        if grid is not None:
            search = sweep(
                strategy,
                grid,
                ys.iloc[start:mid],
                xs.iloc[start:mid],
                objective=objective,
                funding=rates.iloc[start:mid],
                periods_per_year=ppy,
            )
            best = search.best()
            point = search.point(int(best.name))
            fold = apply_point(strategy, point)
            chosen.append({**point, f"in_sample_{objective}": float(best[objective])})
        if fold.hedge == "ols" and fold.beta is None:
            ty, tx = ys.iloc[start:mid], xs.iloc[start:mid]
            if fold.log_prices:
                ty, tx = np.log(ty), np.log(tx)
            fit = ols_hedge(ty, tx)
            fold = fold.replace(beta=float(fit.beta), alpha=float(fit.alpha))  # type: ignore[arg-type]
        run = fold.run(ys.iloc[start:stop], xs.iloc[start:stop])
        z = run.zscore.to_numpy()[train:]
        fold_pos = signals(z, rule=fold.rule).to_numpy(copy=True)
        fold_pos[-1] = 0.0
        units_beta = run.units_beta.to_numpy()[train:]
        pos[start : stop - train], betas[start : stop - train], zs[start : stop - train] = (
            fold_pos,
            units_beta,
            z,
        )
        beta_last = float(run.frame["beta"].iloc[mid - 1 - start])
        alpha_last = float(run.frame["alpha"].iloc[mid - 1 - start])
        rows.append(
            (ys.index[start], ys.index[mid - 1], ys.index[mid], ys.index[stop - 1], beta_last, alpha_last)
        )
    result = _walk_forward_result(
        ys,
        xs,
        train,
        pos,
        betas,
        zs,
        rows,
        strategy.fee_bps,
        strategy.slippage_bps,
        rates,
        ppy,
        strategy.hedge,
        {name: getattr(strategy, name) for name in _FILL_AND_FEES}
        if strategy.capital is None
        else {
            "capital": strategy.capital,
            "sizing_mode": strategy.sizing_mode,
            "lot_size": strategy.lot_size,
            "rebalance_band": strategy.rebalance_band,
            **{name: getattr(strategy, name) for name in (*_FILL_AND_FEES, *ACCOUNT_SETTINGS)},
        },
    )
    if looks:
        result = dataclasses.replace(
            result, folds=pd.concat([result.folds, pd.DataFrame(looks, index=result.folds.index)], axis=1)
        )
    if grid is None:
        return result
    folds = pd.concat([result.folds, pd.DataFrame(chosen, index=result.folds.index)], axis=1)
    return dataclasses.replace(result, folds=folds, grid=dict(search.grid), objective=objective)


def _walk_forward_result(
    ys: pd.Series,
    xs: pd.Series,
    train: int,
    pos: np.ndarray,
    betas: np.ndarray,
    zs: np.ndarray,
    rows: list[tuple[Any, ...]],
    fee_bps: float,
    slippage_bps: float,
    rates: pd.DataFrame,
    ppy: float,
    hedge: str,
    account: dict[str, Any] | None = None,
) -> WalkForwardResult:
    """The stitched out-of-sample backtest and the per-fold table of a walk-forward run.

    ``account``: further :func:`backtest` arguments (the fill and maker fees; an account's
    ``capital``, sizing and execution settings).
    """
    oos = ys.index[train:]
    result = backtest(
        ys.iloc[train:],
        xs.iloc[train:],
        beta=pd.Series(betas, index=oos),
        position=pd.Series(pos, index=oos),
        fee_bps=fee_bps,
        slippage_bps=slippage_bps,
        funding=rates.iloc[train:],
        periods_per_year=ppy,
        **(account or {}),
    )
    folds = pd.DataFrame(
        rows, columns=["train_start", "train_end", "test_start", "test_end", "beta", "alpha"]
    )
    entries = result.trades["entry_time"]
    folds["n_trades"] = [
        int(((entries >= a) & (entries <= b)).sum())
        for a, b in zip(folds.test_start, folds.test_end, strict=True)
    ]
    folds["return"] = [
        float(np.prod(1.0 + result.returns.loc[a:b].to_numpy()) - 1.0)
        for a, b in zip(folds.test_start, folds.test_end, strict=True)
    ]
    folds.index.name = "fold"
    return WalkForwardResult(
        folds=folds,
        backtest=result,
        position=pd.Series(pos, index=oos, name="position"),
        beta=pd.Series(betas, index=oos, name="beta"),
        zscore=pd.Series(zs, index=oos, name="zscore"),
        hedge=hedge,
    )
