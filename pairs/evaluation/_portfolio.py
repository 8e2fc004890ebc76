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
  notional ``equity * leverage / top`` for a position of size 1 (equity before that bar's orders),
  and its leg units follow :func:`pairs.size_legs` (the strategy's mode and band, lots per coin).
* Account: the target units of each coin are the sum over pairs (netted). On a bar where a target
  changes (an order bar), if the book's gross exposure after costs would exceed ``leverage *
  equity``, every coin's target is scaled by one factor ``scale`` (kept until the next order
  bar), so that the cap holds after the order; ``scale == 1`` otherwise. Costs (fees, slippage)
  are paid on the traded notional of each coin; funding on the notional held, as
  :func:`pairs.backtest`. Cash and equity are in the quote currency.
* Attribution: a pair holds ``scale`` times its own units; its P&L is its price P&L, its funding
  and its share of each coin's costs (in proportion to its traded units): the pairs' P&L sum to
  the account's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pairs._results import ResultMixin
from pairs._validation import as_frame, check_choice
from pairs.evaluation._book_account import FLOWS, Account
from pairs.evaluation._fills import fill_label
from pairs.evaluation._metrics import metrics, trades_table
from pairs.evaluation._metrics import periods_per_year as bars_per_year
from pairs.exceptions import DataError, InsufficientDataError, MissingDependencyError, PairsError
from pairs.strategy._batch import run_arrays
from pairs.strategy._portfolio import MIN_FORMATION, window_bars
from pairs.strategy._steps import log_values
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

UNALLOCATED = "(unallocated)"
_SELECTION_COLUMNS = ["window", "formation_start", "trading_start", "trading_end"]
_TRADE_COLUMNS = ["entry_time", "exit_time", "side", "bars", "pnl", "costs"]


@dataclass
class _Span:
    """One pair's continuous stay in the book: a run of the strategy from ``f0``."""

    y: str
    x: str
    f0: int
    start: int  # first trading bar
    end: int  # one past the last bar (the flat bar of a closed span included)
    windows: list[int]
    position: np.ndarray  # over [start, end)
    beta: np.ndarray  # units of x per unit of y over [start, end)
    units: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))  # target units over [start, end)


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


def _windows(n: int, formation: int, trading: int) -> list[tuple[int, int, int]]:
    """``(formation start, trading start, trading end)`` of every window whose formation is complete.

    A last window whose trading would start at bar ``n`` has no trading bar; its selection only says
    which streaks go on past the data (as a live book selects at the close of the window's last bar).
    """
    out = []
    i = 0
    while i * trading + formation <= n:
        start = i * trading + formation
        out.append((i * trading, start, min(start + trading, n)))
        i += 1
    return out


def window_plan(portfolio: Portfolio, frame: pd.DataFrame) -> tuple[list[tuple[int, int, int]], int]:
    """The windows of ``portfolio`` on the rows of ``frame`` and its trading window in bars (durations in
    bars of the index)."""
    formation = window_bars("formation", portfolio.formation, frame.index, MIN_FORMATION)
    trading = window_bars("trading", portfolio.trading, frame.index, 1)
    if len(frame) <= formation:
        raise InsufficientDataError(
            f"prices must have more rows than the formation window ({formation} bars); got {len(frame)}."
        )
    return _windows(len(frame), formation, trading), trading


def select_windows(
    portfolio: Portfolio, frame: pd.DataFrame, windows: list[tuple[int, int, int]]
) -> list[pd.DataFrame]:
    """The selection table of every window, locally."""
    return _select_all(portfolio, frame, windows, "local", None)


def _select_all(
    portfolio: Portfolio, frame: pd.DataFrame, windows: list[tuple[int, int, int]], backend: str, client: Any
) -> list[pd.DataFrame]:
    from pairs.screening._select import select_checked

    parts = [frame.iloc[f0:ts] for f0, ts, _ in windows]
    if backend == "local":
        return [select_checked(portfolio.selection, part) for part in parts]
    try:
        from distributed import get_client
    except ImportError:
        raise MissingDependencyError(
            "backend='dask' needs dask.distributed: pip install 'pairs[dask]'"
        ) from None
    dask_client = client if client is not None else get_client()
    futures = dask_client.map(select_checked, [portfolio.selection] * len(parts), parts, pure=False)
    return list(dask_client.gather(futures))


def _first_missing(valid: np.ndarray, start: int) -> int:
    """First row ``>= start`` where ``valid`` is False, else its length."""
    bad = np.flatnonzero(~valid[start:])
    return start + int(bad[0]) if bad.size else valid.shape[0]


def _spans(
    trading: int,
    portfolio: Portfolio,
    frame: pd.DataFrame,
    windows: list[tuple[int, int, int]],
    chosen: dict[tuple[str, str], list[int]],
    hedges: dict[tuple[str, str, int], tuple[float, float]],
) -> list[_Span]:
    strategy = portfolio.strategy
    hold = portfolio.on_deselect == "hold_to_exit"
    n = len(frame)
    columns = np.ascontiguousarray(frame.to_numpy().T)  # one contiguous row per coin
    cache: dict[str, np.ndarray] = {}

    def logged(coin: str) -> np.ndarray:
        """The coin's log prices (``math.log`` of each, as the stream takes them), computed once."""
        if coin not in cache:
            row = columns[col[coin]]
            out = np.full(row.shape[0], np.nan)
            ok = ~np.isnan(row)
            out[ok] = log_values(row[ok])
            cache[coin] = out
        return cache[coin]

    valid = ~np.isnan(columns.T)
    col = {c: i for i, c in enumerate(frame.columns)}
    out = []
    for (y, x), wins in chosen.items():
        both = valid[:, col[y]] & valid[:, col[x]]
        i = 0
        while i < len(wins):
            w0 = wins[i]
            f0, start, _ = windows[w0]
            if start >= n:  # the last window, without trading bars
                break
            cut = _first_missing(both, start)
            spec = strategy
            if strategy.hedge == "ols" and strategy.beta is None:
                beta, alpha = hedges[(y, x, w0)]
                spec = strategy.replace(beta=beta, alpha=alpha)
            stop = cut
            if not hold:  # the run is needed up to the streak's end only
                last = i
                while last + 1 < len(wins) and wins[last + 1] == wins[last] + 1:
                    last += 1
                stop = min(cut, windows[wins[last]][2])
            ys, xs = columns[col[y], f0:stop], columns[col[x], f0:stop]
            logs = (logged(y)[f0:stop], logged(x)[f0:stop]) if strategy.log_prices else None
            beta_u, _, _, _, position, _, _ = run_arrays(spec, ys, xs, logs)
            pos = position.astype(np.float64)
            if strategy.log_prices:
                beta_u = beta_u * ys / xs
            j = i
            while True:
                while j + 1 < len(wins) and wins[j + 1] == wins[j] + 1:
                    j += 1
                end = windows[wins[j]][2]  # one past the streak's last bar
                # Past the data: the next selection (at the streak's last bar) is not known yet.
                running = windows[wins[j]][1] + trading > n
                if not hold or end > cut or running:
                    break
                # Held to its own exit: up to the run's first flat bar at or after the streak's last bar.
                flat = np.flatnonzero(pos[end - 1 - f0 :] == 0)
                end = end + int(flat[0]) if flat.size else (cut + 1 if cut < n else n)
                if j + 1 < len(wins) and windows[wins[j + 1]][1] < end:
                    j += 1  # selected again while still held: the same run goes on
                    continue
                break
            if end > cut:  # a coin lost its price (delisting): flat on that bar, at the last price
                end = min(end, cut + 1)
                p = np.append(pos[start - f0 : cut - f0], 0.0)
                b = np.append(beta_u[start - f0 : cut - f0], np.nan)
            else:
                p = pos[start - f0 : end - f0].copy()
                b = beta_u[start - f0 : end - f0].copy()
                if not hold and not running:
                    p[-1] = 0.0
            out.append(_Span(y, x, f0, start, end, wins[i : j + 1], p, b))
            i = j + 1
    return out


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
        settings = portfolio.account_settings(coins, ppy)
        self.lag = settings["lag"]
        self.account = Account(portfolio.capital, k, settings)
        self.target = np.zeros((n, k))
        self.units, self.cscale, self.costs = np.zeros((n, k)), np.ones((n, k)), np.zeros((n, k))
        self.flows = np.zeros((n, len(FLOWS)))
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
        units, cscale, costs, flows, events = self.account.run(
            self.close[lo:stop],
            self.fill[lo:stop],
            self.due(lo, stop),
            self.rates[lo:stop],
            prev_close,
            prev_target,
        )
        self.units[lo:stop], self.cscale[lo:stop] = units, cscale
        self.costs[lo:stop], self.flows[lo:stop] = costs, flows
        self.events.extend((t + lo, kind, coin, asked, filled) for t, kind, coin, asked, filled in events)
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
    span: _Span, lo: int, hi: int, capital: float, portfolio: Portfolio, py: np.ndarray, px: np.ndarray
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


def paid_costs(costs: pd.DataFrame) -> pd.Series:
    """What the account paid per bar: fees net of rebates, slippage, funding and borrow interest."""
    return costs["fees"] - costs["rebates"] + costs["slippage"] + costs["funding"] + costs["borrow"]


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


def _attribute(
    spans: list[_Span], ledger: _Ledger, col: dict[str, int]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Each pair's net P&L, costs and opening share of costs per bar (dense over the whole index).

    A pair holds, of each coin, its decided units ``lag`` bars later times the coin's scale. Its
    P&L is the price P&L of those units (marked from the fill price on the bar they change), their
    funding and borrow interest, and its share of each coin's costs in proportion to the units it
    traded. The opening share of a bar is the notional the pair holds after it over the notional
    it closed plus that: 1 on an entry from flat, in (0, 1) on a flip, 0 otherwise (as the account
    backtest splits a flip's costs between the closed and the opened trade).
    """
    n = ledger.units.shape[0]
    lag = ledger.lag
    close, fill, rates = ledger.close, ledger.fill, ledger.rates
    settings = ledger.account.execution
    at_open, borrow = settings["at_open"], settings["borrow"]
    perp = 1.0 - settings["spot"].astype(np.float64)
    traded_by_pairs = np.zeros_like(ledger.units)
    held: list[tuple[int, int, np.ndarray, np.ndarray] | None] = []
    for span in spans:
        s0, s1 = span.start + lag, min(span.end + 1 + lag, n)
        if s0 >= n:
            held.append(None)
            continue
        decided = np.zeros((span.end - span.start + 1, 2))
        decided[:-1] = span.units
        h = decided[: s1 - s0] * ledger.cscale[s0:s1][:, [col[span.y], col[span.x]]]
        delta = np.abs(np.diff(h, axis=0, prepend=np.zeros((1, 2))))
        traded_by_pairs[s0:s1, col[span.y]] += delta[:, 0]
        traded_by_pairs[s0:s1, col[span.x]] += delta[:, 1]
        held.append((s0, s1, h, delta))
    share = np.divide(
        ledger.costs, traded_by_pairs, out=np.zeros_like(ledger.costs), where=traded_by_pairs > 0
    )
    pnl: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(n))
    costs: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(n))
    opened: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(n))
    closed: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(n))
    for span, item in zip(spans, held, strict=True):
        name = f"{span.y}/{span.x}"
        out, paid, now, before_now = pnl[name], costs[name], opened[name], closed[name]
        if item is None:
            continue
        s0, s1, h, delta = item
        bars = np.arange(s0, s1)
        prev_bars = np.maximum(bars - 1, 0)
        for leg, coin in enumerate((span.y, span.x)):
            c = col[coin]
            now_u = h[:, leg]
            before = np.concatenate(([0.0], now_u[:-1]))  # held into each bar from the one before
            price, prev, fp = close[bars, c], close[prev_bars, c], fill[bars, c]
            base_u, base_p = (now_u, fp) if at_open else (before, prev)
            carry = base_u * base_p * rates[bars, c] * perp[c] + np.maximum(-base_u, 0.0) * base_p * borrow[c]
            cost = delta[:, leg] * share[bars, c]
            out[bars] += before * (price - prev) + (now_u - before) * (price - fp) - carry - cost
            paid[bars] += cost
            now[bars] += np.abs(now_u) * price
            before_now[bars] += np.abs(before) * price
    share_open = {
        name: np.divide(opened[name], opened[name] + closed[name], out=np.zeros(n), where=opened[name] > 0)
        for name in pnl
    }
    return dict(pnl), dict(costs), share_open


def _pair_trades(
    index: pd.Index,
    positions: pd.DataFrame,
    pnl: dict[str, np.ndarray],
    costs: dict[str, np.ndarray],
    share_open: dict[str, np.ndarray],
) -> pd.DataFrame:
    """Round trips of each pair: the P&L of the bars it is held into, and its costs (a flip's split)."""
    names = list(positions.columns)
    sides = np.ascontiguousarray(positions.to_numpy().T)  # one row per pair
    n = sides.shape[1]
    parts = []
    for j, name in enumerate(names):
        side = sides[j]
        change = np.flatnonzero(side != np.concatenate(([0], side[:-1])))
        entry = change[side[change] != 0]
        if not entry.size:
            continue
        # A trade ends at the next change of its side (its exit bar), or is still open at the end.
        exit_ = np.append(change, -1)[np.searchsorted(change, entry, side="right")]
        last = np.where(exit_ < 0, n - 1, exit_)
        share = np.zeros(n)
        share[entry] = share_open[name][entry]
        gross = np.cumsum(pnl[name] + costs[name])  # price P&L and funding, before costs
        owed = np.cumsum(costs[name] * (1.0 - share))  # costs owed by the trade held into the bar
        paid = owed[last] - owed[entry] + costs[name][entry] * share[entry]
        pnl_ = gross[last] - gross[entry] - paid
        parts.append((entry, exit_, side[entry], last - entry, pnl_, paid, np.full(entry.size, j)))
    if not parts:
        trades = trades_table(index, [], _TRADE_COLUMNS)
        trades.insert(4, "pair", pd.Series([], dtype=object))
        return trades
    entry, exit_, side_, bars, pnl_, paid, pair = (np.concatenate(c) for c in zip(*parts, strict=True))
    # Times taken from the index by position: no Timestamp object per trade.
    exit_times = index.take(np.where(exit_ < 0, 0, exit_)).where(exit_ >= 0)
    trades = pd.DataFrame(
        {
            "entry_time": index.take(entry),
            "exit_time": exit_times,
            "side": side_.astype(np.int64),
            "bars": bars.astype(np.int64),
            "pair": pd.Series(np.asarray(names, dtype=object)[pair], dtype=object),
            "pnl": pnl_,
            "costs": paid,
        }
    )
    return trades.sort_values(["entry_time", "pair"], kind="stable").reset_index(drop=True)


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
    tables = _select_all(portfolio, frame, windows, backend, client)
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
    spans = _spans(trading, portfolio, frame, windows, chosen, hedges)
    valuation = np.array(frame.ffill().fillna(0.0).to_numpy(), dtype=np.float64)  # writable, contiguous
    col = {c: i for i, c in enumerate(frame.columns)}
    ledger = _Ledger(valuation, _fill_prices(opens, valuation), fund, portfolio, list(frame.columns), ppy)
    top = portfolio.selection.top
    by_start: dict[int, list[_Span]] = defaultdict(list)
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

    pnl, pair_costs, share_open = _attribute(spans, ledger, col)
    names = sorted(pnl)
    where = {name: i for i, name in enumerate(names)}
    grid = np.zeros((n, len(names)), dtype=np.int8)
    for span in spans:
        grid[span.start : span.end, where[f"{span.y}/{span.x}"]] = span.position
    positions = pd.DataFrame(grid, index=index, columns=names)
    held_positions = positions.shift(ledger.lag, fill_value=0) if ledger.lag else positions
    trades = _pair_trades(index, held_positions, pnl, pair_costs, share_open)
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
        total_return=float(equity[-1] / portfolio.capital - 1.0),
        apr=apr,
        sharpe=sharpe,
        sortino=sortino,
        max_drawdown=max_dd,
        periods_per_year=ppy,
        n_windows=sum(1 for _, ts, _ in windows if ts < n),
        n_scaled=int(events.loc[events["kind"].isin(["scaled", "refused"]), "time"].nunique()),
    )
