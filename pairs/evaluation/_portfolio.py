"""The portfolio backtest: rotation over formation windows, one shared account in currency.

The exact rules (docs/portfolio.md):

* Windows: window ``i`` selects on bars ``[i*T, i*T + F)`` (``F`` formation bars, ``T`` trading
  bars) and trades bars ``[i*T + F, min(i*T + F + T, n))``; selection sees nothing later.
* Spans: a pair's consecutive selections form a streak. Its positions are
  ``strategy.run(y, x)`` from the first bar of the streak's first formation window (the warm-up),
  restricted to the streak's trading bars, and flat at the streak's last bar (``"close"``; still
  open when the data end before the next selection, which comes at the close of a window's
  last bar, as in a live book) or
  held until the run's first flat bar after it (``"hold_to_exit"``; a pair selected again while
  still held continues the same run). A coin without a price on a trading bar (delisting) closes
  its pairs on that bar at its last price.
* Sizing: at the first trading bar of each window where a pair is selected, it gets a gross
  notional ``equity * leverage / top`` for a position of size 1 (the equity at that bar's close
  before the orders decided there), and its leg units follow :func:`pairs.size_legs` (the
  strategy's mode and band, lots per coin).
* Account: the target units of each coin are the sum over pairs (netted); they fill ``lag`` bars
  later (the strategy's ``fill``) in the account of :mod:`pairs.evaluation._book_account` (one
  scale for the book under the leverage cap, fees, slippage, funding, minimum notional, margin
  and liquidations), in the quote currency.
* Attribution (:mod:`pairs.evaluation._portfolio_attribution`): a pair holds its decided units
  ``lag`` bars later times each coin's scale; its P&L is their price P&L, funding and its share of
  each coin's costs (in proportion to its traded units); what the account held beyond its pairs'
  is ``"(unallocated)"``: the contributions sum to the account's.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pairs._validation import as_frame, check_choice
from pairs.evaluation._book_account import FLOWS, Account, account_settings
from pairs.evaluation._metrics import metrics
from pairs.evaluation._metrics import periods_per_year as bars_per_year
from pairs.evaluation._portfolio_attribution import attribute, pair_trades
from pairs.evaluation._portfolio_result import UNALLOCATED, PortfolioResult, paid_costs
from pairs.evaluation._portfolio_spans import Span, select_all, select_windows, spans_of, window_plan
from pairs.exceptions import DataError, PairsError
from pairs.trading._kernels import size_kernel

if TYPE_CHECKING:
    from pairs.strategy._portfolio import Portfolio

__all__ = [
    "UNALLOCATED",
    "PortfolioResult",
    "open_frame",
    "paid_costs",
    "portfolio_backtest",
    "run_portfolio",
    "select_windows",
    "window_plan",
]

_SELECTION_COLUMNS = ["window", "formation_start", "trading_start", "trading_end"]


class _Ledger:
    """The account over a whole history, advanced a block of bars at a time.

    ``target`` holds the units decided at each bar; they fill ``lag`` bars later (at the fill
    prices ``fill``).
    """

    def __init__(
        self,
        close: np.ndarray,
        fill: np.ndarray,
        rates: np.ndarray,
        portfolio: Portfolio,
        coins: Any,
        ppy: float,
    ) -> None:
        n, k = close.shape
        self.close, self.fill, self.rates = close, fill, rates
        settings = account_settings(portfolio, coins, ppy)
        self.lag = settings["lag"]
        self.account = Account(portfolio.capital, k, settings)
        self.target = np.zeros((n, k))
        self.units, self.cscale, self.costs = np.zeros((n, k)), np.ones((n, k)), np.zeros((n, k))
        self.flows = np.zeros((n, len(FLOWS)))
        self.liquidation = np.full((n, k), np.nan)
        self.events: list[tuple[int, str, int, float, float]] = []
        self.done = 0

    def due(self, lo: int, hi: int) -> np.ndarray:
        """The targets due to fill at bars ``[lo, hi)``: decided ``lag`` bars earlier (0 before)."""
        out = np.zeros((hi - lo, self.target.shape[1]))
        a = max(lo - self.lag, 0)
        if hi - self.lag > a:
            out[a + self.lag - lo :] = self.target[a : hi - self.lag]
        return out

    def advance(self, stop: int) -> None:
        """Run the bars of ``[done, stop)``."""
        lo = self.done
        if stop <= lo:
            return
        prev_close = self.close[lo - 1] if lo > 0 else self.close[0]
        prev_target = self.due(lo - 1, lo)[0] if lo > 0 else np.zeros(self.target.shape[1])
        out = self.account.run(
            self.close[lo:stop],
            self.fill[lo:stop],
            self.due(lo, stop),
            self.rates[lo:stop],
            prev_close,
            prev_target,
        )
        self.units[lo:stop], self.cscale[lo:stop] = out.units, out.cscale
        self.costs[lo:stop], self.flows[lo:stop] = out.costs, out.flows
        self.liquidation[lo:stop] = out.liquidation
        self.events.extend((t + lo, kind, coin, asked, filled) for t, kind, coin, asked, filled in out.events)
        self.done = stop

    def sizing_equity(self, t: int) -> float:
        """The equity the pairs starting at bar ``t`` are sized with: at its close, before the orders
        decided at ``t`` (with fills at the close: before its orders; with a lag: after the fills of
        earlier decisions)."""
        if self.lag == 0:
            self.advance(t)
            prev = self.close[t - 1] if t > 0 else self.close[t]
            return self.account.equity_before(prev, self.close[t], self.rates[t])
        self.advance(t + 1)
        return float(self.flows[t, 1])


def _size(
    span: Span, lo: int, hi: int, capital: float, portfolio: Portfolio, py: np.ndarray, px: np.ndarray
) -> np.ndarray:
    """Units of the span's legs over bars ``[lo, hi)``, sized afresh at ``lo`` with ``capital``."""
    a, b = lo - span.start, hi - span.start
    beta = np.nan_to_num(span.beta[a:b], nan=0.0)
    yu, xu = size_kernel(
        span.position[a:b],
        beta,
        py[lo:hi],
        px[lo:hi],
        capital,
        portfolio.strategy.sizing_mode == "beta_neutral",
        portfolio.lot(span.y),
        portfolio.lot(span.x),
        portfolio.strategy.rebalance_band,
    )
    return np.column_stack([yu, xu])


def _selections(
    kept: list[pd.DataFrame], windows: list[tuple[int, int, int]], index: pd.Index
) -> pd.DataFrame:
    """The selected rows of every window's table, with the window and its times (one frame)."""
    n = len(index)
    sizes = np.array([len(part) for part in kept], dtype=np.int64)
    body = pd.concat(kept, ignore_index=True).drop(columns=["selected", "reason"])
    win = np.repeat(np.arange(len(kept)), sizes)
    bounds = np.array(windows, dtype=np.int64).reshape(-1, 3)[win]

    def times(at: np.ndarray) -> pd.Index:
        return index.take(np.minimum(at, n - 1)).where(at < n)

    head = {
        "window": win,
        "formation_start": times(bounds[:, 0]),
        "trading_start": times(bounds[:, 1]),
        "trading_end": times(bounds[:, 2]),
    }
    for name, values in reversed(head.items()):
        body.insert(0, name, values)
    return body


def open_frame(opens: Any, frame: pd.DataFrame, at_open: bool) -> np.ndarray | None:
    """Validated open prices (bars x coins, NaN: none) for fills at the open; refused otherwise."""
    if not at_open:
        if opens is not None:
            raise PairsError(
                f"opens must be None unless the strategy's fill is 'next_open'; got {type(opens).__name__}."
            )
        return None
    if opens is None:
        raise PairsError(
            "opens must be given with fill='next_open' (the open prices of every coin); got None."
        )
    values = as_frame(opens, "opens", allow_nan=True, positive=True, min_columns=2)
    if not values.index.equals(frame.index) or list(values.columns) != list(frame.columns):
        raise DataError("opens must have the prices' index and columns; got a different frame.")
    return np.array(values.to_numpy(), dtype=np.float64)


def _fill_prices(opens: np.ndarray | None, valuation: np.ndarray) -> np.ndarray:
    """Fill prices: the closes, or the opens (a missing open: the last close)."""
    if opens is None:
        return valuation
    return np.where(np.isnan(opens), valuation, opens)


def _funding(funding: Any, frame: pd.DataFrame) -> np.ndarray:
    if funding is None:
        return np.zeros(frame.shape)
    rates = as_frame(funding, "funding", min_length=1)
    if not rates.index.equals(frame.index):
        raise DataError("funding index must equal the prices' index; got a misaligned index.")
    extra = sorted(map(str, set(rates.columns) - set(frame.columns)))
    if extra:
        raise PairsError(f"funding must have columns among the prices' coins; got unknown {extra!r}.")
    return rates.reindex(columns=frame.columns, fill_value=0.0).to_numpy()


def portfolio_backtest(
    portfolio: Portfolio,
    prices: pd.DataFrame,
    *,
    funding: pd.DataFrame | None = None,
    opens: pd.DataFrame | None = None,
    periods_per_year: float | None = None,
    backend: str = "local",
    client: Any = None,
) -> PortfolioResult:
    """Backtest a :class:`~pairs.Portfolio`: select on each formation window, trade the next, one account.

    Parameters
    ----------
    portfolio
        The rotation, the strategy and the account.
    prices
        Closes, one column per coin (a wide DataFrame), NaN where a coin has no price (before its
        listing, after its delisting); positive. ``formation``/``trading`` given as durations need
        a regular DatetimeIndex.
    funding
        Per-bar funding rates of perpetual coins, one column per coin (a subset of the prices'),
        aligned to the prices: a holding of ``u`` units pays ``u * price[t-1] * rate[t]`` at bar
        ``t`` (long pays a positive rate), as in :func:`pairs.backtest` (with fills at the open:
        on the units after the bar's order, at the open).
    opens
        Open prices, the same columns and index as ``prices``, needed with the strategy's
        ``fill="next_open"`` (and refused otherwise); a missing open fills at the last close.
    periods_per_year
        Bars per year for the annualised metrics (default: from the index, 365 days).
    backend, client
        ``"local"`` or ``"dask"``: where the selection of every window runs (windows are
        independent); results are identical.

    Returns
    -------
    PortfolioResult

    Examples
    --------
    >>> import pairs
    >>> prices = pairs.load_sample("binance_1h").iloc[:2000, :8]
    >>> book = pairs.Portfolio(pairs.Strategy(hedge="rolling", window=48),
    ...                        pairs.Selection(top=2), formation=240, trading=168)
    >>> result = book.backtest(prices)
    >>> result.n_windows, bool(abs(result.contributions.sum() - (result.equity.iloc[-1] - 10_000)) < 1e-6)
    (11, True)
    """
    from pairs.strategy._portfolio import Portfolio

    if not isinstance(portfolio, Portfolio):
        raise PairsError(f"portfolio must be a pairs.Portfolio; got {type(portfolio).__name__}.")
    check_choice("backend", backend, ("local", "dask"))
    if client is not None and backend != "dask":
        raise PairsError(f"client must be None unless backend='dask'; got {type(client).__name__}.")
    frame = as_frame(prices, "prices", allow_nan=True, positive=True, min_columns=2)
    windows, trading = window_plan(portfolio, frame)
    ppy = bars_per_year(periods_per_year, frame.index)
    fund = _funding(funding, frame)
    open_values = open_frame(opens, frame, portfolio.fill_lag[1])
    tables = select_all(portfolio, frame, windows, backend, client)
    return run_portfolio(portfolio, frame, fund, ppy, windows, tables, trading, open_values)


def run_portfolio(
    portfolio: Portfolio,
    frame: pd.DataFrame,
    fund: np.ndarray,
    ppy: float,
    windows: list[tuple[int, int, int]],
    tables: list[pd.DataFrame],
    trading: int,
    opens: np.ndarray | None = None,
) -> PortfolioResult:
    """The backtest of validated inputs and the selection tables of its windows (shared by a sweep)."""
    index = frame.index
    n = len(frame)

    chosen: dict[tuple[str, str], list[int]] = defaultdict(list)
    hedges: dict[tuple[str, str, int], tuple[float, float]] = {}
    kept = [table[table["selected"].to_numpy()] for table in tables]
    for w, part in enumerate(kept):
        cols = (part[c].to_numpy().tolist() for c in ("y", "x", "beta", "alpha"))
        for y, x, beta, alpha in zip(*cols, strict=True):
            chosen[(y, x)].append(w)
            hedges[(y, x, w)] = (float(beta), float(alpha))
    selections = _selections(kept, windows, index)
    spans = spans_of(trading, portfolio, frame, windows, chosen, hedges)
    valuation = np.array(frame.ffill().fillna(0.0).to_numpy(), dtype=np.float64)  # writable, contiguous
    col = {c: i for i, c in enumerate(frame.columns)}
    ledger = _Ledger(valuation, _fill_prices(opens, valuation), fund, portfolio, list(frame.columns), ppy)
    top = portfolio.selection.top
    by_start: dict[int, list[Span]] = defaultdict(list)
    for span in spans:
        for w in span.windows:
            by_start[windows[w][1]].append(span)
        span.units = np.zeros((span.end - span.start, 2))
    by_name = sorted(spans, key=lambda span: (f"{span.y}/{span.x}", span.start))
    for _, ts, te in windows:
        if ts >= n:
            break
        capital = max(ledger.sizing_equity(ts), 0.0) * portfolio.leverage / top
        for span in by_start.get(ts, []):
            later = [windows[v][1] for v in span.windows if windows[v][1] > ts]
            hi = min(later[0], span.end) if later else span.end
            units = _size(
                span, ts, hi, capital, portfolio, valuation[:, col[span.y]], valuation[:, col[span.x]]
            )
            span.units[ts - span.start : hi - span.start] = units
        # Each coin's target: its pairs' units added in the order of the pairs' names (as the live
        # book adds them), so that both round alike.
        for span in by_name:
            lo, hi = max(ts, span.start), min(te, span.end)
            if lo < hi:
                ledger.target[lo:hi, col[span.y]] += span.units[lo - span.start : hi - span.start, 0]
                ledger.target[lo:hi, col[span.x]] += span.units[lo - span.start : hi - span.start, 1]
        ledger.advance(te)
    ledger.advance(n)
    held = ledger.units
    flows = pd.DataFrame(ledger.flows, index=index, columns=list(FLOWS))
    equity, cash, scale = (flows[c].to_numpy() for c in ("equity", "cash", "scale"))
    orders = np.diff(held, axis=0, prepend=np.zeros((1, held.shape[1])))
    costs = flows[["traded", "fees", "rebates", "slippage", "funding", "borrow"]]
    gross = np.einsum("ij,ij->i", np.abs(held), valuation)
    lev = np.divide(gross, equity, out=np.full(n, np.nan), where=equity > 0)

    pnl, pair_costs, share_open = attribute(spans, ledger, col)
    names = sorted(pnl)
    where = {name: i for i, name in enumerate(names)}
    grid = np.zeros((n, len(names)), dtype=np.int8)
    for span in spans:
        grid[span.start : span.end, where[f"{span.y}/{span.x}"]] = span.position
    positions = pd.DataFrame(grid, index=index, columns=names)
    held_positions = positions.shift(ledger.lag, fill_value=0) if ledger.lag else positions
    trades = pair_trades(index, held_positions, pnl, pair_costs, share_open)
    contributions = pd.Series({name: float(pnl[name].sum()) for name in names}, name="pnl", dtype=np.float64)
    # What the account earned beyond its pairs' units: orders below the minimum notional, lots
    # after a cut, liquidations (0 to rounding otherwise, and then not shown).
    rest = float(equity[-1] - portfolio.capital - contributions.sum())
    if abs(rest) > 1e-9 * portfolio.capital:
        contributions[UNALLOCATED] = rest
    events = pd.DataFrame(ledger.events, columns=["bar", "kind", "coin", "asked", "filled"])
    events.insert(0, "time", index.take(events["bar"].to_numpy(dtype=np.int64)))
    events["coin"] = pd.Series(
        [None if c < 0 else frame.columns[c] for c in events["coin"]], index=events.index, dtype=object
    )
    events = events.drop(columns="bar")

    returns = np.zeros(n)
    returns[1:] = np.divide(equity[1:] - equity[:-1], equity[:-1], out=np.zeros(n - 1), where=equity[:-1] > 0)
    live = returns[windows[0][1] :]
    growth = equity[windows[0][1] :] / portfolio.capital
    apr, sharpe, sortino, max_dd = metrics(live, growth, ppy)
    return PortfolioResult(
        portfolio=portfolio,
        equity=pd.Series(equity, index=index, name="equity"),
        cash=pd.Series(cash, index=index, name="cash"),
        units=pd.DataFrame(held, index=index, columns=frame.columns),
        orders=pd.DataFrame(orders, index=index, columns=frame.columns),
        positions=positions,
        selections=selections,
        trades=trades,
        contributions=contributions,
        costs=costs,
        exposure=pd.DataFrame({"gross": gross, "leverage": lev, "scale": scale}, index=index),
        events=events,
        liquidation_price=pd.DataFrame(ledger.liquidation, index=index, columns=frame.columns),
        total_return=float(equity[-1] / portfolio.capital - 1.0),
        apr=apr,
        sharpe=sharpe,
        sortino=sortino,
        max_drawdown=max_dd,
        periods_per_year=ppy,
        n_windows=sum(1 for _, ts, _ in windows if ts < n),
        n_scaled=int(events.loc[events["kind"].isin(["scaled", "refused"]), "time"].nunique()),
    )
