"""Cost-aware backtest of a spread position, and walk-forward out-of-sample evaluation.

Conventions of :func:`backtest` (bar ``t`` = the close of bar ``t``; ``p`` position, ``b`` beta):

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
  peak (the start, 1, included), as a positive fraction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from pairs._results import ResultMixin
from pairs._validation import align_pair, as_frame, check_choice, check_float, check_int
from pairs.data._align import infer_bar
from pairs.exceptions import DataError, InsufficientDataError, PairsError
from pairs.trading._rules import SignalRule, signals
from pairs.trading._sizing import aligned_series, beta_array
from pairs.trading._zscore import zscore

__all__ = ["BacktestResult", "WalkForwardResult", "backtest", "walk_forward"]

_TRADE_COLUMNS = ["entry_time", "exit_time", "side", "bars", "return"]


@dataclass(frozen=True, repr=False)
class BacktestResult(ResultMixin):
    """Outcome of :func:`backtest` (conventions in :mod:`pairs.evaluation._backtest`).

    Attributes
    ----------
    returns, equity, turnover
        Per-bar net return, compounded equity (starting from 1 before the first bar) and
        traded notional relative to the capital base, aligned to the prices.
    trades
        One row per trade (a run of positions of one sign): ``entry_time``, ``exit_time``
        (the bar where the position is closed or flipped; NaT while still open), ``side``
        (+1/-1), ``bars`` held and ``return``: the compounded return of the trade alone (its
        entry costs relative to the exposure it opens, then its bars). Without flips, the
        product of ``1 + return`` over trades equals the final equity.
    apr, sharpe, sortino, max_drawdown
        Annualised metrics with ``periods_per_year``.
    n_trades
        Number of trades (rows of ``trades``).
    periods_per_year
        Bars per year used to annualise.
    """

    returns: pd.Series
    equity: pd.Series
    turnover: pd.Series
    trades: pd.DataFrame
    apr: float
    sharpe: float
    sortino: float
    max_drawdown: float
    n_trades: int
    periods_per_year: float

    _title = "Backtest"

    def _summary_rows(self) -> list[tuple[str, Any]]:
        n = len(self.returns)
        return [
            ("total_return", float(self.equity.iloc[-1]) - 1.0),
            ("apr", self.apr),
            ("sharpe", self.sharpe),
            ("sortino", self.sortino),
            ("max_drawdown", self.max_drawdown),
            ("n_trades", self.n_trades),
            ("annual_turnover", float(self.turnover.sum()) * self.periods_per_year / n),
            ("n_bars", n),
            ("periods_per_year", self.periods_per_year),
        ]


def _periods_per_year(value: Any, index: pd.Index) -> float:
    if value is not None:
        return check_float("periods_per_year", value, minimum=0.0, strict_min=True)
    if not isinstance(index, pd.DatetimeIndex):
        raise PairsError(
            "periods_per_year must be given when the prices have no DatetimeIndex; got None "
            f"with a {type(index).__name__}."
        )
    return pd.Timedelta(days=365) / infer_bar(index)


def _funding_frame(funding: Any, index: pd.Index) -> pd.DataFrame:
    """Validated funding rates with both columns ``"y"`` and ``"x"`` (0 for a missing leg)."""
    if funding is None:
        return pd.DataFrame(0.0, index=index, columns=["y", "x"])
    if not isinstance(funding, pd.DataFrame):
        raise PairsError(
            f"funding must be a DataFrame with columns 'y' and/or 'x', or None; got {funding!r}."
        )
    frame = as_frame(funding, "funding", min_length=1)
    if set(frame.columns) - {"y", "x"}:
        raise PairsError(f"funding must have columns 'y' and/or 'x' only; got {list(frame.columns)!r}.")
    if not frame.index.equals(index):
        raise DataError("funding index must equal the prices' index; got a misaligned index.")
    return frame.reindex(columns=["y", "x"], fill_value=0.0)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def _trades(
    index: pd.Index,
    pos: np.ndarray,
    open_factor: np.ndarray,
    held_factor: np.ndarray,
) -> pd.DataFrame:
    side = np.sign(pos)
    prev = np.concatenate(([0.0], side[:-1]))
    starts = np.flatnonzero((side != 0) & (side != prev))
    changes = np.flatnonzero(side != prev)
    rows = []
    for a in starts:
        later = changes[changes > a]
        b = int(later[0]) if later.size else None
        last = len(pos) - 1 if b is None else b
        growth = open_factor[a] * np.prod(held_factor[a + 1 : last + 1])
        rows.append(
            (index[a], pd.NaT if b is None else index[b], int(side[a]), last - int(a), float(growth - 1.0))
        )
    trades = pd.DataFrame(rows, columns=_TRADE_COLUMNS)
    if isinstance(index, pd.DatetimeIndex):
        # One schema whatever the rows: pandas infers object (no trade) or naive (all NaT) otherwise.
        for col in ("entry_time", "exit_time"):
            trades[col] = pd.DatetimeIndex(trades[col].tolist(), dtype=index.dtype)
    return trades.astype({"side": "int64", "bars": "int64", "return": "float64"})


def _metrics(r: np.ndarray, equity: np.ndarray, ppy: float) -> tuple[float, float, float, float]:
    n = r.size
    final = equity[-1]
    if final > 0:
        with np.errstate(over="ignore"):  # a huge gain over a few bars annualises to inf
            apr = float(np.expm1(np.log(final) * ppy / n))
    else:
        apr = -1.0
    std = float(np.std(r, ddof=1)) if n > 1 else 0.0
    mean = float(np.mean(r))
    sharpe = np.sqrt(ppy) * mean / std if std > 0 else np.nan
    downside = float(np.sqrt(np.mean(np.minimum(r, 0.0) ** 2)))
    sortino = np.sqrt(ppy) * mean / downside if downside > 0 else np.nan
    peak = np.maximum.accumulate(np.concatenate(([1.0], equity)))[1:]
    max_dd = float(np.max(1.0 - equity / peak))
    return apr, float(sharpe), float(sortino), max_dd


def backtest(
    y: Any,
    x: Any,
    *,
    beta: float | pd.Series,
    position: Any,
    fee_bps: float = 0.0,
    slippage_bps: float = 0.0,
    funding: pd.DataFrame | None = None,
    periods_per_year: float | None = None,
) -> BacktestResult:
    """Backtest a spread position on prices, with fees, slippage and funding.

    Parameters
    ----------
    y, x
        Prices of the asset hedged and of the hedge (positive, aligned, no NaN).
    beta
        Hedge ratio in units of ``x`` per unit of ``y``: a float or a Series aligned to the
        prices (NaN allowed only where the position is 0).
    position
        Spread position decided at each bar (+1 long ``y`` / short ``beta`` ``x``, -1 the
        opposite, 0 flat; fractions allowed), e.g. from :func:`pairs.trading.signals`.
        It earns the return from its bar to the next.
    fee_bps, slippage_bps
        Costs in basis points of traded notional (>= 0).
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
        Returns, equity, turnover, trades and metrics (conventions in :mod:`pairs.evaluation._backtest`).

    Examples
    --------
    >>> from pairs import load_sample
    >>> from pairs.trading import signals, zscore
    >>> prices = load_sample("binance_1d")[["BTC", "ETH"]].dropna()
    >>> z = zscore(prices["BTC"] - 20 * prices["ETH"], window=30)
    >>> res = backtest(prices["BTC"], prices["ETH"], beta=20.0, position=signals(z), fee_bps=10)
    >>> res.periods_per_year, res.n_trades
    (365.0, 67)
    >>> round(res.sharpe, 4)
    -0.8196
    """
    ys, xs = align_pair(y, x, positive=True)
    index = ys.index
    pos = aligned_series(position, "position", index).to_numpy()
    betas = beta_array(beta, index)
    missing = np.isnan(betas) & (pos != 0)
    if missing.any():
        raise DataError(f"beta must be finite where position is non-zero; got NaN at {index[missing][0]!r}.")
    rate = (
        check_float("fee_bps", fee_bps, minimum=0.0) + check_float("slippage_bps", slippage_bps, minimum=0.0)
    ) / 1e4
    rates = _funding_frame(funding, index)
    fy, fx = rates["y"].to_numpy(), rates["x"].to_numpy()
    ppy = _periods_per_year(periods_per_year, index)

    py, px = ys.to_numpy(), xs.to_numpy()
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
    turnover = _ratio(traded, base)
    returns = _ratio(pnl - funding_paid, base) - rate * turnover
    equity = np.cumprod(1.0 + returns)

    # Trade attribution: at a flip, the new trade pays the share of the bar's trading that
    # opens it (its exposure over the notional closed plus opened); the closing trade the rest.
    side, side_prev = np.sign(pos), np.sign(np.concatenate(([0.0], pos[:-1])))
    opens = (side != 0) & (side != side_prev)
    closed = np.abs(uy_prev) * py + np.abs(ux_prev) * px
    open_share = np.where(opens, _ratio(gross, closed + gross), 0.0)
    open_factor = 1.0 - rate * _ratio(traded * open_share, gross)
    held_factor = 1.0 + _ratio(pnl - funding_paid - rate * traded * (1.0 - open_share), gross_prev)
    trades = _trades(index, pos, open_factor, held_factor)

    apr, sharpe, sortino, max_dd = _metrics(returns, equity, ppy)
    return BacktestResult(
        returns=pd.Series(returns, index=index, name="returns"),
        equity=pd.Series(equity, index=index, name="equity"),
        turnover=pd.Series(turnover, index=index, name="turnover"),
        trades=trades,
        apr=apr,
        sharpe=sharpe,
        sortino=sortino,
        max_drawdown=max_dd,
        n_trades=len(trades),
        periods_per_year=ppy,
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


def walk_forward(
    y: Any,
    x: Any,
    *,
    train: int,
    test: int,
    hedge: Literal["ols", "rolling", "kalman"] | Callable[..., Any] = "ols",
    hedge_options: dict[str, Any] | None = None,
    rule: SignalRule | None = None,
    zscore_window: int | None = None,
    fee_bps: float = 0.0,
    slippage_bps: float = 0.0,
    funding: pd.DataFrame | None = None,
    periods_per_year: float | None = None,
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
    ys, xs = align_pair(y, x, positive=True, min_length=4)
    n = len(ys)
    train = check_int("train", train, minimum=3)
    if train >= n:
        raise InsufficientDataError(
            f"train must be < the number of observations ({n}) to leave a test window; got {train}."
        )
    test = check_int("test", test, minimum=1)
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
    rates = _funding_frame(funding, ys.index)
    ppy = _periods_per_year(periods_per_year, ys.index)

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
    name = hedge if isinstance(hedge, str) else getattr(hedge, "__name__", type(hedge).__name__)
    return WalkForwardResult(
        folds=folds,
        backtest=result,
        position=pd.Series(pos, index=oos, name="position"),
        beta=pd.Series(betas, index=oos, name="beta"),
        zscore=pd.Series(zs, index=oos, name="zscore"),
        hedge=name,
    )
