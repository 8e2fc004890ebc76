"""Backtest of a spread position (two conventions), and walk-forward out-of-sample evaluation.

:func:`backtest` has two conventions, named in ``BacktestResult.convention`` and ``summary()``:

* ``capital=None``, ``"gross_exposure"``: each bar's P&L over the gross exposure held, compounded
  (the textbook convention, below). Returns do not depend on the size of the position.
* ``capital=<currency>``, ``"account"``: a cash account holding leg units, in currency
  (conventions in :mod:`pairs.evaluation._account`).

Both share the timing: the position (or the units) decided at the close of bar ``t`` is
traded at that close and held over bar ``t + 1``. A NaN position before the first finite one
(a z-score warm-up) is flat; a NaN after it is refused.

Conventions of the ``"gross_exposure"`` backtest (``p`` position, ``b`` beta):

* Units held from bar ``t`` to ``t + 1``: ``u^y_t = p_t`` of ``y`` and ``u^x_t = -p_t b_t`` of
  ``x``; dollar positions ``D^y_t = p_t y_t``, ``D^x_t = -p_t b_t x_t``; gross exposure
  ``G_t = |D^y_t| + |D^x_t|``.
* Trades happen at the close, at the close price: the traded notional of bar ``t`` is
  ``T_t = |u^y_t - u^y_{t-1}| y_t + |u^x_t - u^x_{t-1}| x_t`` (with ``u_{-1} = 0``), so a
  change of beta alone trades the ``x`` leg.
* The capital base of bar ``t`` is the exposure held into it, ``B_t = G_{t-1}``, or, when
  opening from flat, the exposure opened, ``B_t = G_t``; a bar flat on both sides has return 0.
* ``r_t = (PnL_t - c T_t - F_t) / B_t`` with the price P&L
  ``PnL_t = u^y_{t-1} (y_t - y_{t-1}) + u^x_{t-1} (x_t - x_{t-1})``, the cost rate
  ``c = (fee_bps + slippage_bps) / 1e4`` and the funding paid
  ``F_t = D^y_{t-1} f^y_t + D^x_{t-1} f^x_t`` (a long pays a positive rate). Hence
  ``turnover_t = T_t / B_t`` and costs lower ``r_t`` by exactly ``turnover_t * c``.
* ``returns`` has one value per bar; the first is 0 unless a position is opened on the first
  bar (then minus its costs). Metrics use all ``N`` values: ``apr = prod(1 + r)^(ppy / N) - 1``,
  ``sharpe = sqrt(ppy) mean(r) / std(r, ddof=1)``, ``sortino = sqrt(ppy) mean(r) /
  sqrt(mean(min(r, 0)^2))``, ``max_drawdown`` = the largest fall of ``equity`` from a previous
  peak (the start, 1, included), as a positive fraction. The account uses the same formulas
  on its returns and on ``equity / capital``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from pairs._results import ResultMixin
from pairs._typing import ArrayLike1D
from pairs._validation import align_pair, check_choice, check_float, check_int, check_lot_size
from pairs.evaluation._account import account_backtest, sized_units, units_arrays
from pairs.evaluation._metrics import funding_frame, ratio, trade_spans, trades_table
from pairs.evaluation._metrics import periods_per_year as periods_per_year_of
from pairs.evaluation._result import BacktestResult, backtest_result
from pairs.exceptions import DataError, InsufficientDataError, PairsError
from pairs.strategy._strategy import FEE_BPS, SLIPPAGE_BPS
from pairs.trading._rules import SignalRule, signals
from pairs.trading._sizing import Mode, aligned_series, beta_array
from pairs.trading._zscore import zscore

if TYPE_CHECKING:
    from pairs.strategy import Strategy

__all__ = ["BacktestResult", "WalkForwardResult", "backtest", "walk_forward"]

_TRADE_COLUMNS = ["entry_time", "exit_time", "side", "bars", "return"]
_SIZING_DEFAULTS = {"sizing_mode": "beta_neutral", "lot_size": (0.0, 0.0), "rebalance_band": 0.0}


def _position_array(position: Any, index: pd.Index) -> np.ndarray:
    """The position with its leading NaN (a warm-up) set flat; a later NaN is refused."""
    pos = aligned_series(position, "position", index, allow_nan=True).to_numpy(copy=True)
    missing = np.isnan(pos)
    if missing.any():
        valid = np.flatnonzero(~missing)
        late = missing & (np.arange(len(pos)) > (valid[0] if valid.size else len(pos)))
        if late.any():
            raise DataError(
                "position must be finite after its first finite value (a leading NaN warm-up is "
                f"flat); got NaN at {index[late][0]!r}."
            )
        pos[missing] = 0.0
    return pos


def _gross_trades(
    index: pd.Index, pos: np.ndarray, open_factor: np.ndarray, held_factor: np.ndarray
) -> pd.DataFrame:
    side = np.sign(pos)
    rows = []
    for a, b in trade_spans(side):
        last = len(pos) - 1 if b is None else b
        growth = open_factor[a] * np.prod(held_factor[a + 1 : last + 1])
        rows.append(
            (index[a], pd.NaT if b is None else index[b], int(side[a]), last - a, float(growth - 1.0))
        )
    return trades_table(index, rows, _TRADE_COLUMNS)


def _gross_exposure_backtest(
    index: pd.Index,
    py: np.ndarray,
    px: np.ndarray,
    pos: np.ndarray,
    betas: np.ndarray,
    *,
    rate: float,
    fy: np.ndarray,
    fx: np.ndarray,
    ppy: float,
) -> BacktestResult:
    uy = pos
    ux = np.where(pos != 0, -pos * np.nan_to_num(betas), 0.0)
    gross = np.abs(uy) * py + np.abs(ux) * px
    uy_prev = np.concatenate(([0.0], uy[:-1]))
    ux_prev = np.concatenate(([0.0], ux[:-1]))
    gross_prev = np.concatenate(([0.0], gross[:-1]))
    pnl = np.zeros_like(py)
    pnl[1:] = uy[:-1] * np.diff(py) + ux[:-1] * np.diff(px)
    funding_paid = np.zeros_like(py)
    funding_paid[1:] = uy[:-1] * py[:-1] * fy[1:] + ux[:-1] * px[:-1] * fx[1:]
    traded = np.abs(uy - uy_prev) * py + np.abs(ux - ux_prev) * px
    base = np.where(gross_prev > 0, gross_prev, gross)
    turnover = ratio(traded, base)
    returns = ratio(pnl - funding_paid, base) - rate * turnover
    equity = np.cumprod(1.0 + returns)

    # Trade attribution: at a flip, the new trade pays the share of the bar's trading that
    # opens it (its exposure over the notional closed plus opened); the closing trade the rest.
    side, side_prev = np.sign(pos), np.sign(np.concatenate(([0.0], pos[:-1])))
    opens = (side != 0) & (side != side_prev)
    closed = np.abs(uy_prev) * py + np.abs(ux_prev) * px
    open_share = np.where(opens, ratio(gross, closed + gross), 0.0)
    open_factor = 1.0 - rate * ratio(traded * open_share, gross)
    held_factor = 1.0 + ratio(pnl - funding_paid - rate * traded * (1.0 - open_share), gross_prev)
    trades = _gross_trades(index, pos, open_factor, held_factor)

    return backtest_result(index, returns, equity, equity, turnover, trades, ppy, "gross_exposure", uy, ux)


def _sizing_options(
    sizing_mode: Any, lot_size: Any, rebalance_band: Any, *, why_not: str | None
) -> tuple[Mode, tuple[float, float], float]:
    given = {"sizing_mode": sizing_mode, "lot_size": lot_size, "rebalance_band": rebalance_band}
    if why_not is not None:
        for name, value in given.items():
            if value is not None:
                raise PairsError(f"{name} must be None {why_not}; got {value!r}.")
    opts = {k: _SIZING_DEFAULTS[k] if v is None else v for k, v in given.items()}
    modes: tuple[Mode, ...] = ("beta_neutral", "dollar_neutral")
    mode = check_choice("sizing_mode", opts["sizing_mode"], modes)
    lot_pair = check_lot_size(opts["lot_size"])
    return mode, lot_pair, check_float("rebalance_band", opts["rebalance_band"], minimum=0.0)


def backtest(
    y: ArrayLike1D,
    x: ArrayLike1D,
    *,
    beta: float | pd.Series | None = None,
    position: ArrayLike1D = None,
    units: pd.DataFrame | None = None,
    capital: float | None = None,
    sizing_mode: Mode | None = None,
    lot_size: tuple[float, float] | None = None,
    rebalance_band: float | None = None,
    fee_bps: float = FEE_BPS,
    slippage_bps: float = SLIPPAGE_BPS,
    funding: pd.DataFrame | None = None,
    periods_per_year: float | None = None,
) -> BacktestResult:
    """Backtest a spread position on prices, with fees, slippage and funding.

    Two conventions (see :mod:`pairs.evaluation._backtest`): without ``capital``, each bar's
    P&L over the gross exposure held, compounded (``convention="gross_exposure"``, the
    textbook number, independent of position size); with ``capital``, a cash account in
    currency holding leg units sized like :func:`pairs.trading.size_legs`
    (``convention="account"``, what an account earns).

    Parameters
    ----------
    y, x
        Prices of the asset hedged and of the hedge (positive, aligned, no NaN).
    beta
        Hedge ratio in units of ``x`` per unit of ``y``: a float or a Series aligned to the
        prices (NaN allowed only where the position is 0). Required except for an account
        sized ``"dollar_neutral"`` or given ``units``.
    position
        Spread position decided at each bar (+1 long ``y`` / short ``beta`` ``x``, -1 the
        opposite, 0 flat; fractions allowed), e.g. from :func:`pairs.trading.signals`, or a
        continuous one such as ``-zscore``. It earns the return from its bar to the next.
        Leading NaN (a warm-up) are flat; a NaN after the first finite value is an error.
    units
        Instead of ``position`` and ``beta`` (only with ``capital``): a DataFrame with columns
        ``"y_units"`` and ``"x_units"`` aligned to the prices, the units held from each bar to
        the next, already sized (e.g. by a Strategy or :func:`pairs.trading.size_legs`).
    capital
        Starting capital of an account in quote currency (> 0); ``None`` for the gross
        exposure convention. With ``position``, a position of 1 holds a gross notional of
        ``capital`` when sized (the units are then held until the position changes or beta
        leaves the band).
    sizing_mode, lot_size, rebalance_band
        Account sizing from ``position`` (``capital`` given, no ``units``), as ``mode``,
        ``lot_size`` and ``rebalance_band`` of :func:`pairs.trading.size_legs`; ``None`` means
        ``"beta_neutral"``, ``(0.0, 0.0)`` (no rounding) and ``0.0``.
    fee_bps, slippage_bps
        Costs in basis points of traded notional (>= 0); defaults 10 and 0, those of
        :class:`~pairs.Strategy` (10 bps: a usual spot taker fee). Pass ``fee_bps=0`` for a
        frictionless backtest.
    funding
        Per-bar funding rates of perpetual futures: a DataFrame aligned to the prices with
        columns ``"y"`` and/or ``"x"`` (a missing column means 0). The rate at bar ``t`` is
        paid on the dollar position held into bar ``t``; a long pays a positive rate.
    periods_per_year
        Bars per year; ``None`` infers it from a DatetimeIndex for a 24/7 market:
        365 days / bar length (365 daily, 2190 4-hourly, 8760 hourly).

    Returns
    -------
    BacktestResult
        Returns, equity, turnover, units, trades and metrics; with ``capital``, also cash and
        costs in currency.

    Raises
    ------
    PairsError
        Besides bad values: an account position that rounds to no lot of a leg (price, lot or
        capital too small), or losses beyond the capital (equity <= 0).
    DataError
        A NaN beta where the position is not 0; a NaN position after its warm-up.

    Examples
    --------
    >>> from pairs import load_sample
    >>> from pairs.trading import signals, zscore
    >>> prices = load_sample("binance_1d")[["BTC", "ETH"]].dropna()
    >>> z = zscore(prices["BTC"] - 20 * prices["ETH"], window=30)
    >>> res = backtest(prices["BTC"], prices["ETH"], beta=20.0, position=signals(z), fee_bps=10)
    >>> res.convention, res.periods_per_year, res.n_trades
    ('gross_exposure', 365.0, 67)
    >>> round(res.sharpe, 4)
    -0.8196
    >>> last = prices.index[-365:]
    >>> acct = backtest(prices["BTC"][last], prices["ETH"][last], beta=20.0, position=signals(z)[last],
    ...                 fee_bps=10, capital=10_000, lot_size=(0.001, 0.01))
    >>> acct.convention, round(float(acct.equity.iloc[-1]), 2), round(acct.fees_paid, 2), acct.n_trades
    ('account', 8106.83, 143.09, 7)
    """
    ys, xs = align_pair(y, x, positive=True)
    index = ys.index
    cap = None if capital is None else check_float("capital", capital, minimum=0.0, strict_min=True)
    if units is not None:
        if cap is None:
            raise PairsError("capital must be given with units (an account backtest); got None.")
        for name, value in (("position", position), ("beta", beta)):
            if value is not None:
                raise PairsError(f"{name} must be None when units are given; got {type(value).__name__}.")
        _sizing_options(sizing_mode, lot_size, rebalance_band, why_not="when units are given")
        uy, ux = units_arrays(units, index)
    else:
        if position is None:
            raise PairsError("position must be given (or units, with capital); got None.")
        why_not = None if cap is not None else "without capital (sizing applies to an account)"
        mode, lots, band = _sizing_options(sizing_mode, lot_size, rebalance_band, why_not=why_not)
        pos = _position_array(position, index)
        betas = None if beta is None and mode == "dollar_neutral" else _beta_where_held(beta, pos, index)
    fee = check_float("fee_bps", fee_bps, minimum=0.0)
    slip = check_float("slippage_bps", slippage_bps, minimum=0.0)
    rates = funding_frame(funding, index)
    fy, fx = rates["y"].to_numpy(), rates["x"].to_numpy()
    ppy = periods_per_year_of(periods_per_year, index)
    py, px = ys.to_numpy(), xs.to_numpy()

    if cap is None:
        gross_betas = _beta_where_held(beta, pos, index) if betas is None else betas
        return _gross_exposure_backtest(
            index, py, px, pos, gross_betas, rate=(fee + slip) / 1e4, fy=fy, fx=fx, ppy=ppy
        )
    if units is None:
        uy, ux = sized_units(pos, betas, ys, xs, capital=cap, mode=mode, lot_size=lots, rebalance_band=band)
    return account_backtest(
        index,
        py,
        px,
        uy,
        ux,
        capital=cap,
        fee_rate=fee / 1e4,
        slippage_rate=slip / 1e4,
        fy=fy,
        fx=fx,
        ppy=ppy,
    )


def _beta_where_held(beta: Any, pos: np.ndarray, index: pd.Index) -> np.ndarray:
    betas = beta_array(beta, index)
    missing = np.isnan(betas) & (pos != 0)
    if missing.any():
        raise DataError(f"beta must be finite where position is non-zero; got NaN at {index[missing][0]!r}.")
    return betas


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
    """

    folds: pd.DataFrame
    backtest: BacktestResult
    position: pd.Series
    beta: pd.Series
    zscore: pd.Series
    hedge: str

    _title = "Walk-forward backtest"

    def _summary_rows(self) -> list[tuple[str, Any]]:
        return [("hedge", self.hedge), ("n_folds", len(self.folds)), *self.backtest._summary_rows()]


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
        raise :class:`~pairs.exceptions.PairsError` (there is no liquidation model).
    strategy
        A :class:`~pairs.Strategy` instead of ``hedge``, ``hedge_options``, ``rule``,
        ``zscore_window``, ``fee_bps``, ``slippage_bps`` and ``capital`` (giving both is an
        error); a strategy with ``capital`` trades an account with its sizing settings
        (``sizing_mode``, ``lot_size``, ``rebalance_band``). Each fold
        runs the strategy over its training and test bars (the training bars warm its hedge and
        z-score up; ``hedge="ols"`` without ``beta`` is fitted on the training bars and frozen),
        then its rule starts flat on the test bars and closes on their last bar, as above.

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
    """
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
) -> WalkForwardResult:
    """:func:`walk_forward` of a :class:`~pairs.Strategy` (see its ``strategy`` parameter)."""
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
    rows = []
    for start in range(0, m, test):
        mid, stop = start + train, min(start + train + test, n)
        fold = strategy
        if strategy.hedge == "ols" and strategy.beta is None:
            ty, tx = ys.iloc[start:mid], xs.iloc[start:mid]
            if strategy.log_prices:
                ty, tx = np.log(ty), np.log(tx)
            fit = ols_hedge(ty, tx)
            fold = strategy.replace(beta=float(fit.beta), alpha=float(fit.alpha))  # type: ignore[arg-type]
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
    return _walk_forward_result(
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
        None
        if strategy.capital is None
        else {
            "capital": strategy.capital,
            "sizing_mode": strategy.sizing_mode,
            "lot_size": strategy.lot_size,
            "rebalance_band": strategy.rebalance_band,
        },
    )


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

    ``account``: the :func:`backtest` arguments of an account (``capital`` and sizing).
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
