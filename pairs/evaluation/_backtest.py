"""Backtest of a spread position (two conventions).

:func:`backtest` has two conventions, named in ``BacktestResult.convention`` and ``summary()``:

* ``capital=None``, ``"gross_exposure"``: each bar's P&L over the gross exposure held, compounded
  (the textbook convention, below). Returns do not depend on the size of the position.
* ``capital=<currency>``, ``"account"``: a cash account holding leg units, in currency
  (conventions in :mod:`pairs.evaluation._account`).

Both share the timing: by default (``fill="close"``) the position (or the units) decided at the
close of bar ``t`` is traded at that close and held over bar ``t + 1``; ``fill`` delays it
(:mod:`pairs.evaluation._fills`). A NaN position before the first finite one
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

from typing import Any

import numpy as np
import pandas as pd

from pairs._typing import ArrayLike1D, FillModel, MarginMode, SlippageModel
from pairs._validation import align_pair, check_choice, check_float, check_lot_size
from pairs.evaluation._account import account_backtest, sized_units, units_arrays
from pairs.evaluation._backtest_kernels import gross_exposure_kernel
from pairs.evaluation._execution import account_only, execution, gross_rate, open_prices
from pairs.evaluation._fills import fill_label, lag_units
from pairs.evaluation._metrics import funding_frame, ratio, trade_spans, trades_table
from pairs.evaluation._metrics import periods_per_year as periods_per_year_of
from pairs.evaluation._result import BacktestResult, backtest_result
from pairs.exceptions import DataError, PairsError
from pairs.strategy._strategy import FEE_BPS, FILL, SLIPPAGE_BPS, check_fill, check_pair
from pairs.trading._sizing import Mode, aligned_series, beta_array

__all__ = ["BacktestResult", "backtest"]

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
    # One compiled step per bar, the one a sweep runs for each of its points.
    bars = np.empty((8, pos.shape[0]))
    writable = [np.require(a, np.float64, ["C", "W"]) for a in (pos, betas, py, px, fy, fx)]
    gross_exposure_kernel(*writable, rate, bars)
    uy, ux, returns, turnover, gross, pnl, funding_paid, traded = bars
    uy_prev = np.concatenate(([0.0], uy[:-1]))
    ux_prev = np.concatenate(([0.0], ux[:-1]))
    gross_prev = np.concatenate(([0.0], gross[:-1]))
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
    fill: FillModel | int = FILL,
    open_y: Any = None,
    open_x: Any = None,
    maker_fee_bps: float | None = None,
    maker_share: float = 0.0,
    slippage_model: SlippageModel | None = None,
    min_notional: tuple[float, float] | None = None,
    leverage: float | None = None,
    margin: MarginMode | None = None,
    maintenance_margin: tuple[float, float] | None = None,
    market: tuple[str, str] | None = None,
    borrow_rate: tuple[float, float] | None = None,
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
        Funding rates of perpetual futures (a long pays a positive rate): per bar, a DataFrame
        aligned to the prices with columns ``"y"`` and/or ``"x"`` (a missing column means 0;
        the rate at bar ``t`` is paid on the dollar position held into bar ``t``), or at their
        settlement timestamps, one column per symbol named like ``y.name`` / ``x.name`` (as
        :func:`pairs.load_funding` returns them; NaN: no settlement), each paid at the first bar
        closing at or after it (bars are labelled by their open time).
    periods_per_year
        Bars per year; ``None`` infers it from a DatetimeIndex for a 24/7 market:
        365 days / bar length (365 daily, 2190 4-hourly, 8760 hourly).
    fill
        When the orders of a bar fill: ``"close"`` (default, at its close: the textbook
        convention), ``"next_open"`` (at the next bar's open; needs ``open_y``, ``open_x`` and
        ``capital``), ``"next_close"`` or an int ``N`` (at the close ``N`` bars later). The orders
        are computed at the signal bar; without ``capital`` a lag shifts the position and beta.
    open_y, open_x
        Open prices of ``y`` and ``x`` on the prices' index, for ``fill="next_open"`` only.
    maker_fee_bps, maker_share
        The share of each order's notional filled as a maker (default 0: all taker at
        ``fee_bps``) and its fee in bps (default ``None``: ``fee_bps``; negative: a rebate).
    slippage_model, min_notional, leverage, margin, maintenance_margin, market, borrow_rate
        Account only (``capital`` given; ``None`` takes the default): ``"cost"`` (default, a cost
        line) or ``"price"`` (slippage moves the fill price, as vectorbt); the smallest order
        notional of each leg (default ``(0, 0)``; a closing order is always sent); the largest
        gross exposure / equity after an order (default ``None``: no limit; orders are cut to
        it); ``"cross"`` (default) or ``"isolated"`` margin of the perpetual legs; their
        maintenance margin rates (default ``(0.004, 0.004)``: Binance USDⓈ-M BTCUSDT, first tier);
        each leg's market, ``"perp"`` (default) or ``"spot"`` (no funding, no liquidation, spot
        longs worth at most the equity); the yearly interest rate of a spot short's borrowed coin
        (default ``(0, 0)``). See docs/backtest.md.

    Returns
    -------
    BacktestResult
        Returns, equity, turnover, units, trades and metrics; with ``capital``, also cash,
        costs in currency, the fill model, events (cut orders, margin calls, liquidations) and
        liquidation prices.

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
        # The lot still applies: an order cut by a limit keeps the units on the lot grid.
        _sizing_options(sizing_mode, None, rebalance_band, why_not="when units are given")
        lots = (0.0, 0.0) if lot_size is None else check_pair("lot_size", lot_size)
        uy, ux = units_arrays(units, index)
    else:
        if position is None:
            raise PairsError("position must be given (or units, with capital); got None.")
        why_not = None if cap is not None else "without capital (sizing applies to an account)"
        mode, lots, band = _sizing_options(sizing_mode, lot_size, rebalance_band, why_not=why_not)
        pos = _position_array(position, index)
        betas = None if beta is None and mode == "dollar_neutral" else _beta_where_held(beta, pos, index)
    lag, at_open = check_fill(fill)
    if cap is None and at_open:
        raise PairsError(
            "fill must be 'close', 'next_close' or a lag in bars without capital; got 'next_open'."
        )
    opens = open_prices(open_y, open_x, index, at_open)
    rates = funding_frame(funding, index, (ys.name, xs.name)).to_numpy()
    ppy = periods_per_year_of(periods_per_year, index)
    close = np.column_stack((ys.to_numpy(), xs.to_numpy()))

    if cap is None:
        account_only(
            slippage_model=slippage_model,
            min_notional=min_notional,
            leverage=leverage,
            margin=margin,
            maintenance_margin=maintenance_margin,
            market=market,
            borrow_rate=borrow_rate,
        )
        gross_betas = _beta_where_held(beta, pos, index) if betas is None else betas
        return _gross_exposure_backtest(
            index,
            close[:, 0],
            close[:, 1],
            lag_units(pos, lag),
            lag_units(gross_betas, lag),
            rate=gross_rate(fee_bps, maker_fee_bps, maker_share, slippage_bps),
            fy=rates[:, 0],
            fx=rates[:, 1],
            ppy=ppy,
        )
    ex = execution(
        fee_bps=fee_bps,
        maker_fee_bps=maker_fee_bps,
        maker_share=maker_share,
        slippage_bps=slippage_bps,
        slippage_model=slippage_model,
        min_notional=min_notional,
        leverage=leverage,
        margin=margin,
        maintenance_margin=maintenance_margin,
        market=market,
        borrow_rate=borrow_rate,
        lots=lots,
    )
    if units is None:
        uy, ux = sized_units(pos, betas, ys, xs, capital=cap, mode=mode, lot_size=lots, rebalance_band=band)
    return account_backtest(
        index,
        close,
        close if opens is None else opens,
        lag_units(np.column_stack((uy, ux)), lag),
        capital=cap,
        rates=rates,
        at_open=at_open,
        ex=ex,
        fill=fill_label(fill),
        ppy=ppy,
    )


def _beta_where_held(beta: Any, pos: np.ndarray, index: pd.Index) -> np.ndarray:
    betas = beta_array(beta, index)
    missing = np.isnan(betas) & (pos != 0)
    if missing.any():
        raise DataError(f"beta must be finite where position is non-zero; got NaN at {index[missing][0]!r}.")
    return betas
