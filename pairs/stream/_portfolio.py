"""The live portfolio: a book that re-selects its pairs at window boundaries, one bar at a time.

:meth:`pairs.Portfolio.stream` returns a :class:`PortfolioStream`. It keeps the last ``formation``
bars of the universe; at the close of each window's last bar it runs the selection on them (the
formation window of the next window), so that a pair that is not selected again is flat on that
bar (``on_deselect="close"``), new pairs are warmed up on the formation bars, and pairs selected
again keep their state. Each pair is a :class:`~pairs.StreamEngine` of the portfolio's strategy;
leg sizing, the netting of coins and the account (leverage cap, costs, funding) are the same
functions as :func:`pairs.portfolio_backtest`, called in the same order, so replaying a history
gives the backtest's positions and units bit for bit (tested, with a save and restore midway).

Those units are the book's *targets*. What the account holds is learnt from fills
(:meth:`PortfolioStream.fill`, net per coin as an exchange keeps it), and each signal's
``order_list`` takes the holdings to the targets: the per-coin orders of
:class:`pairs.stream._legs.Legs` (rounded to the portfolio's lots, reduce-only closes first).
The fills' own cash account (average entry price and realized P&L per coin, fees, funding on
the coins held) is :meth:`PortfolioStream.ledger`; the targets never depend on it.
"""

from __future__ import annotations

import json
import math
import os
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from pairs._io import check_path, write_text_atomic
from pairs._results import json_safe
from pairs._typing import PriceBar
from pairs.evaluation._book_account import FLOWS, Account, account_settings, dot
from pairs.exceptions import DataError, PairsError, StateError
from pairs.screening._select import select_pairs
from pairs.strategy._portfolio import MIN_FORMATION, Portfolio, duration_bars
from pairs.stream._engine import _fill_id, _fill_numbers
from pairs.stream._legs import Legs, Order
from pairs.stream._portfolio_signal import PortfolioSignal
from pairs.stream._portfolio_state import FORMAT, Pair, check_state, encode_state, restore_state
from pairs.stream._time import next_timestamp
from pairs.trading._kernels import size_step

__all__ = ["PortfolioSignal", "PortfolioStream"]


def _bar_length(bar: Any) -> pd.Timedelta:
    try:
        length = pd.Timedelta(bar)
    except ValueError:
        raise PairsError(f"bar must be a duration such as '1h'; got {bar!r}.") from None
    if length <= pd.Timedelta(0):
        raise PairsError(f"bar must be a positive duration such as '1h'; got {bar!r}.")
    return length


class PortfolioStream:
    """A :class:`~pairs.Portfolio` run one bar at a time (see the module docstring).

    Parameters
    ----------
    portfolio
        The rotation, the strategy and the account.
    coins
        The universe, in the order of the columns of the backtest's price frame (the selection
        tests each pair with the coin that comes first as ``y``).
    bar
        The bar length (``"1h"``), needed when ``formation``/``trading`` are durations.

    Examples
    --------
    >>> import pairs
    >>> prices = pairs.load_sample("binance_1h").iloc[:600, :6]
    >>> book = pairs.Portfolio(pairs.Strategy(hedge="rolling", window=48), pairs.Selection(top=2),
    ...                        formation=240, trading=168)
    >>> live = book.stream(list(prices.columns))
    >>> for ts, row in prices.iterrows():
    ...     signal = live.update(row, ts)
    >>> result = book.backtest(prices)
    >>> signal.units == result.units.iloc[-1].to_dict()
    True
    """

    def __init__(self, portfolio: Portfolio, coins: Sequence[str], *, bar: Any = None) -> None:
        if not isinstance(portfolio, Portfolio):
            raise PairsError(f"portfolio must be a pairs.Portfolio; got {type(portfolio).__name__}.")
        names = [str(c) for c in coins] if isinstance(coins, (list, tuple, pd.Index)) else None
        if names is None or len(names) < 2 or len(set(names)) != len(names):
            raise PairsError(f"coins must be a list of at least 2 distinct names; got {coins!r}.")
        formation = self._bars("formation", portfolio.formation, bar, MIN_FORMATION)
        trading = self._bars("trading", portfolio.trading, bar, 1)
        self._setup(portfolio, names, formation, trading, self._periods_per_year(portfolio, bar))

    @staticmethod
    def _periods_per_year(portfolio: Portfolio, bar: Any) -> float:
        """Bars per year (365 days) for the borrow interest: from ``bar``, needed only with interest."""
        if bar is None:
            if portfolio.borrow_rate != 0.0:
                raise PairsError(
                    "bar must be given (e.g. '1h') when the portfolio has a borrow_rate; got None."
                )
            return 1.0
        return pd.Timedelta(days=365) / _bar_length(bar)

    def _setup(
        self, portfolio: Portfolio, names: list[str], formation: int, trading: int, ppy: float
    ) -> None:
        self.portfolio = portfolio
        self.coins = names
        self.formation = formation
        self.trading = trading
        self.periods_per_year = ppy
        self._col = {c: i for i, c in enumerate(names)}
        k = len(names)
        self.bar = 0
        self.last_timestamp: Any = None
        self._buffer: deque[tuple[Any, np.ndarray]] = deque(maxlen=self.formation)
        self._last_price = np.full(k, np.nan)
        self._valuation = np.zeros(k)
        settings = account_settings(portfolio, names, ppy)
        self._lag = settings["lag"]
        self._account = Account(portfolio.capital, k, settings)
        self._due = np.zeros(k)  # the targets that filled at the last bar
        self._pending: deque[np.ndarray] = deque(np.zeros(k) for _ in range(self._lag))
        self._decided = np.zeros(k)  # the targets decided at the last bar
        self._lots = tuple(portfolio.lot(c) for c in names)
        self._held = Legs(k, per_leg=True)  # what the fills say the account holds
        self._fill_cash = float(portfolio.capital)  # capital - fills' notional - fees - funding
        self._funding_paid = 0.0
        self._pairs: dict[str, Pair] = {}
        self._starting: list[str] = []  # selected at the last selection: sized at the next bar
        self._flows = np.zeros(len(FLOWS))  # the account's flows at the last bar
        self._flows[:3] = portfolio.capital, portfolio.capital, 1.0

    @staticmethod
    def _bars(name: str, value: int | str, bar: Any, minimum: int) -> int:
        if isinstance(value, int):
            return value
        if bar is None:
            raise PairsError(f"bar must be given (e.g. '1h') when {name} is a duration; got None.")
        return duration_bars(name, value, _bar_length(bar), minimum)

    # ----------------------------------------------------------------- one bar
    def _prices(self, prices: Any, name: str = "prices") -> np.ndarray:
        if isinstance(prices, pd.Series):
            prices = prices.to_dict()
        if not isinstance(prices, Mapping):
            raise PairsError(
                f"{name} must be a mapping {{coin: price}} or a Series; got {type(prices).__name__}."
            )
        unknown = sorted(map(str, set(map(str, prices)) - set(self.coins)))
        if unknown:
            raise DataError(f"{name} must only name the book's coins; got unknown {unknown!r}.")
        out = np.full(len(self.coins), np.nan)
        for coin, value in prices.items():
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise DataError(f"{name}[{coin!r}] must be a number; got {value!r}.")
            v = float(value)
            if math.isnan(v):
                continue
            if not (math.isfinite(v) and v > 0):
                raise DataError(f"{name}[{coin!r}] must be finite and > 0 (or NaN: no price); got {value!r}.")
            out[self._col[str(coin)]] = v
        return out

    def _rates(self, funding: Any) -> np.ndarray:
        rates = np.zeros(len(self.coins))
        if funding is None:
            return rates
        if not isinstance(funding, Mapping):
            raise PairsError(
                f"funding must be a mapping {{coin: rate}} or None; got {type(funding).__name__}."
            )
        for coin, value in funding.items():
            if str(coin) not in self._col:
                raise DataError(f"funding must only name the book's coins; got {coin!r}.")
            rate = float(value)
            if not math.isfinite(rate):
                raise DataError(f"funding[{coin!r}] must be finite; got {value!r}.")
            rates[self._col[str(coin)]] = rate
        return rates

    def _select(self) -> pd.DataFrame:
        stamps = [ts for ts, _ in self._buffer]
        frame = pd.DataFrame(np.array([row for _, row in self._buffer]), index=stamps, columns=self.coins)
        table = select_pairs(self.portfolio.selection, frame)
        return table[table["selected"]]

    def update(
        self, prices: PriceBar, timestamp: Any, *, funding: Any = None, opens: Any = None
    ) -> PortfolioSignal:
        """Advance the book by one bar.

        Parameters
        ----------
        prices
            Closes of this bar, ``{coin: price}`` or a Series; a coin missing or NaN has no price
            (not listed yet, or delisted: its pairs are closed at its last price).
        timestamp
            The bar's time, after the previous one's.
        funding
            Funding rates settled at this bar, ``{coin: rate}`` (``u * price[t-1] * rate`` paid
            on ``u`` units held; with fills at the open, on the units after the bar's order at
            its open).
        opens
            Opens of this bar, ``{coin: price}``, with the strategy's ``fill="next_open"`` (the
            orders decided at the last bar fill at them; a missing open fills at the last close);
            refused otherwise.

        Returns
        -------
        PortfolioSignal
        """
        ts = pd.Timestamp(timestamp) if not isinstance(timestamp, pd.Timestamp) else timestamp
        if pd.isna(ts):
            raise DataError(f"timestamp must be a time; got {timestamp!r}.")
        if self.last_timestamp is not None and not ts > self.last_timestamp:
            raise DataError(f"timestamp must be after the last bar's ({self.last_timestamp}); got {ts}.")
        raw = self._prices(prices)
        rates = self._rates(funding)
        at_open = self._account.execution["at_open"]
        if opens is not None and not at_open:
            raise PairsError(
                f"opens must be None unless the strategy's fill is 'next_open'; got {opens!r:.60}."
            )
        if opens is None and at_open:
            raise PairsError(
                "opens must be given with fill='next_open' (this bar's opens, {coin: price}); got None."
            )
        open_row = self._prices(opens, "opens") if opens is not None else np.full(len(self.coins), np.nan)
        book = self.portfolio
        t = self.bar
        prev = self._valuation if t > 0 else np.nan_to_num(raw, nan=0.0)
        if t > 0:  # the fills' own account pays funding on what it holds
            paid = dot(np.array(self._held.units), self._valuation * rates)
            self._funding_paid += paid
            self._fill_cash -= paid
        self._last_price = np.where(np.isnan(raw), self._last_price, raw)
        valuation = np.nan_to_num(self._last_price, nan=0.0)
        self._valuation = valuation
        fill_row = np.where(np.isnan(open_row), valuation, open_row)
        self._held.mark(*self._last_price.tolist())
        self._buffer.append((ts, raw))
        before = self._account.held.copy()
        events: list[list[Any]] = []
        if self._lag:  # the orders decided lag bars ago fill at this bar, before anything is decided
            events = self._run(valuation, fill_row, self._pending.popleft(), rates, prev)
            equity = self._flows[1]
        else:
            equity = self._account.equity_before(prev, valuation, rates)
        if self._starting:  # the first bar of a window: size its pairs with the equity before its orders
            capital = max(equity, 0.0) * book.leverage / book.selection.top
            for name in self._starting:
                pair = self._pairs[name]
                pair.capital, pair.size = capital, (0.0, 0.0, 0.0, math.nan)
            self._starting = []
        closing = t + 1 - self.formation >= 0 and (t + 1 - self.formation) % self.trading == 0
        chosen = self._select() if closing else None
        next_names = (
            [] if chosen is None else [f"{y}/{x}" for y, x in zip(chosen["y"], chosen["x"], strict=True)]
        )
        out_pairs, leaving, want = self._step_pairs(raw, valuation, ts, closing, next_names)
        if self._lag:
            self._pending.append(want)
        else:
            events = self._run(valuation, fill_row, want, rates, prev)
        self._decided = want
        for name in leaving:
            del self._pairs[name]
        if chosen is not None:
            self._start_window(chosen)
        self.bar = t + 1
        self.last_timestamp = ts
        held = self._account.held
        orders = held - before
        return PortfolioSignal(
            timestamp=ts,
            bar=t,
            units={c: float(held[i]) for i, c in enumerate(self.coins)},
            orders={c: float(orders[i]) for i, c in enumerate(self.coins) if orders[i] != 0.0},
            pairs=out_pairs,
            equity=float(self._flows[1]),
            cash=float(self._flows[0]),
            scale=self._account.scale,
            targets={c: float(v) for c, v in zip(self.coins, self._targets(), strict=True)},
            events=events,
            selected=None if chosen is None else next_names,
            holdings=self.holdings,
            order_list=self.orders(),
        )

    def _run(
        self, close: np.ndarray, fill: np.ndarray, due: np.ndarray, rates: np.ndarray, prev: np.ndarray
    ) -> list[list[Any]]:
        """Run the account over this bar with the targets ``due`` to fill at it; its events."""
        out = self._account.run(close[None, :], fill[None, :], due[None, :], rates[None, :], prev, self._due)
        flows, events = out.flows, out.events
        self._due = due
        self._flows = flows[0]
        return [
            [kind, None if c < 0 else self.coins[c], asked, filled] for _, kind, c, asked, filled in events
        ]

    def _step_pairs(
        self, raw: np.ndarray, valuation: np.ndarray, ts: Any, closing: bool, next_names: list[str]
    ) -> tuple[dict[str, dict[str, Any]], list[str], np.ndarray]:
        """Advance every pair one bar: their signals, the pairs leaving the book, the coins' targets."""
        book = self.portfolio
        hold = book.on_deselect == "hold_to_exit"
        beta_neutral = book.strategy.sizing_mode == "beta_neutral"
        out_pairs: dict[str, dict[str, Any]] = {}
        leaving: list[str] = []
        want = np.zeros(len(self.coins))
        for name in sorted(self._pairs):
            pair = self._pairs[name]
            py, px = raw[pair.yi], raw[pair.xi]
            z = math.nan
            if math.isnan(py) or math.isnan(px):  # delisted: flat on this bar, at the last price
                position, beta = 0, 0.0
                leaving.append(name)
            else:
                sig = pair.engine.update(py, px, ts)
                position, z = sig.position, sig.zscore
                beta = sig.beta * py / px if book.strategy.log_prices else sig.beta
                beta = 0.0 if math.isnan(beta) else beta
                dropped = closing and name not in next_names
                if hold:
                    if (pair.held_over or dropped) and position == 0:
                        leaving.append(name)
                    elif dropped:
                        pair.held_over = True
                elif dropped:
                    position = 0
                    leaving.append(name)
            pair.size = size_step(
                float(position),
                beta,
                valuation[pair.yi],
                valuation[pair.xi],
                *pair.size,
                pair.capital,
                beta_neutral,
                book.lot(pair.y),
                book.lot(pair.x),
                book.strategy.rebalance_band,
            )
            want[pair.yi] += pair.size[0]
            want[pair.xi] += pair.size[1]
            out_pairs[name] = {
                "position": int(position),
                "zscore": z,
                "y_units": pair.size[0],
                "x_units": pair.size[1],
            }
        return out_pairs, leaving, want

    def _targets(self) -> np.ndarray:
        """What the orders go to: the account's units, or with a fill lag the last bar's decision."""
        return self._decided if self._lag else self._account.held

    # ----------------------------------------------------------------- holdings, orders, fills
    @property
    def holdings(self) -> dict[str, float]:
        """Net units of each coin the account holds, as reported by :meth:`fill`."""
        return dict(zip(self.coins, self._held.units, strict=True))

    def orders(self) -> tuple[Order, ...]:
        """The orders that take the holdings to the last bar's targets now (after fills)."""
        targets = tuple(self._targets().tolist())
        minimum = tuple(self._account.execution["min_notional"].tolist())
        return self._held.orders(targets, tuple(self.coins), self._lots, minimum, labels=tuple(self.coins))

    def fill(
        self,
        coin: str,
        quantity: float,
        price: float,
        *,
        fee: float = 0.0,
        timestamp: Any = None,
        fill_id: str | int | None = None,
    ) -> bool:
        """Report a fill of one coin: holdings, entry prices, realized P&L and cash follow it.

        Parameters
        ----------
        coin
            One of the book's coins.
        quantity
            Units filled: > 0 bought, < 0 sold (a partial fill is a fill of fewer units; an
            order that never fills is not reported, and the next orders still ask for it).
        price
            The fill's price (finite, > 0).
        fee
            Fee paid in the quote currency (>= 0).
        timestamp
            The fill's time, for the caller's records (checked, not stored).
        fill_id
            The exchange's id of the fill: a fill whose id was applied (among the last 1024) is
            ignored and False returned. Without an id every call applies.

        Returns
        -------
        bool
            True if the fill was applied, False for a repeated ``fill_id``.

        Examples
        --------
        >>> import pairs
        >>> live = pairs.Portfolio(lot_size={"ETH": 0.01}).stream(["ETH", "BTC"], bar="1h")
        >>> live.fill("ETH", 0.5, 2000.0, fee=0.1, fill_id="t1")
        True
        >>> live.fill("ETH", 0.5, 2000.0, fee=0.1, fill_id="t1")  # re-sent: ignored
        False
        >>> live.holdings, live.ledger()["cash"]
        ({'ETH': 0.5, 'BTC': 0.0}, 8999.9)
        """
        if not isinstance(coin, str) or coin not in self._col:
            raise PairsError(f"coin must be one of the book's coins {self.coins}; got {coin!r:.60}.")
        quantity, price, fee = _fill_numbers(quantity, price, fee)
        if timestamp is not None:
            next_timestamp(timestamp, None, "fill")
        applied = self._held.apply(self._col[coin], quantity, price, fee, _fill_id(fill_id))
        if applied:
            self._fill_cash -= quantity * price + fee
        return applied

    def ledger(self) -> dict[str, Any]:
        """The fills' account: ``holdings``, ``entry_price`` and ``realized`` P&L per coin, ``fees``,
        ``funding`` paid on the holdings, ``cash`` (capital minus what the fills cost, fees and
        funding) and ``equity`` (cash plus the holdings at the last prices; None while a coin
        held has no price yet); JSON-safe."""
        held = self._held
        assert held.by_leg is not None
        worth = [u * p for u, p in zip(held.units, self._last_price.tolist(), strict=True) if u != 0.0]
        equity = self._fill_cash + math.fsum(worth)  # NaN while a coin held has no price yet
        return {
            "holdings": self.holdings,
            "entry_price": {
                c: None if math.isnan(v) else v for c, v in zip(self.coins, held.cost, strict=True)
            },
            "realized": dict(zip(self.coins, held.by_leg, strict=True)),
            "fees": held.fees,
            "funding": self._funding_paid,
            "cash": self._fill_cash,
            "equity": None if math.isnan(equity) else equity,
        }

    def _start_window(self, chosen: pd.DataFrame) -> None:
        """Pairs of the next window: those selected again go on, new ones warm up on the formation."""
        book = self.portfolio
        strategy = book.strategy
        stamps = pd.DatetimeIndex([s for s, _ in self._buffer])
        rows = np.array([row for _, row in self._buffer])
        for rec in chosen.itertuples(index=False):
            name = f"{rec.y}/{rec.x}"
            if name in self._pairs:
                self._pairs[name].held_over = False
            else:
                spec = strategy
                if strategy.hedge == "ols" and strategy.beta is None:
                    spec = strategy.replace(beta=float(rec.beta), alpha=float(rec.alpha))
                engine = spec.stream()
                yi, xi = self._col[rec.y], self._col[rec.x]
                engine.warmup(pd.Series(rows[:, yi], index=stamps), pd.Series(rows[:, xi], index=stamps))
                self._pairs[name] = Pair(rec.y, rec.x, yi, xi, engine)
            self._starting.append(name)

    # ----------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        """Everything the book needs to go on exactly, as JSON-safe data."""
        return encode_state(self)

    @classmethod
    def from_state(cls, state: Any) -> PortfolioStream:
        """Rebuild a book from :meth:`state_dict` output (also of versions 1 and 2)."""
        check_state(state)
        book = cls.__new__(cls)
        try:
            book._setup(
                Portfolio.from_dict(state["portfolio"]),
                [str(c) for c in state["coins"]],
                int(state["formation"]),
                int(state["trading"]),
                float(state.get("periods_per_year", 1.0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise StateError(
                f"state must be a complete {FORMAT} state; got an invalid one ({exc!r})."
            ) from None
        restore_state(book, state)
        return book

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`state_dict` as JSON, atomically."""
        write_text_atomic(check_path(path), json.dumps(json_safe(self.state_dict())))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> PortfolioStream:
        """Read a state written by :meth:`save`."""
        try:
            text = check_path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise StateError(f"path must be a readable state file; got {str(path)!r} ({exc}).") from None
        return cls.from_state(json.loads(text))
