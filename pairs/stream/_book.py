"""Many pairs per bar for execution bots: :class:`StreamBook`, one compiled step over the whole book.

A :class:`StreamBook` holds one :class:`~pairs.Strategy` per pair and runs each pair exactly as a
separate :class:`~pairs.StreamEngine` of that strategy would, bit for bit, but without a Python
loop over engines: pairs whose strategies share their settings form a group whose running
statistics live in numpy arrays (one row per pair), and :func:`~pairs.stream._kernels.book_step`
advances the whole group in one compiled call through the engine's own step kernels.

A bar is one mapping (or Series) ``symbol -> price`` of the universe. A pair is updated when
both of its symbols have a price; a symbol absent from the bar (or NaN, None) leaves its pairs
unchanged, exactly as an engine that never saw that bar.

Persistence: :meth:`StreamBook.state_dict` stores every pair's engine state (the format of
:meth:`StreamEngine.state_dict`) plus the book's own counters, and :meth:`StreamBook.save`
writes it atomically with a SHA-256 checksum; a truncated, corrupted or foreign state raises
:class:`~pairs.exceptions.StateError`.

Orders and fills: with ``capital`` each pair's signal carries its ``orders`` (as an engine's, cut
by the pair's ``leverage`` limit when its strategy has one), and :meth:`StreamBook.fill` reports a
fill of one leg of one pair: fills are attributed per pair (see :mod:`pairs.stream._legs`). The
state (version 2) keeps every pair's holdings and last prices; a version 1 state loads with
holdings equal to the targets.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from pairs._typing import PriceBar
from pairs._validation import check_int, shown
from pairs.exceptions import DataError, PairsError, StateError
from pairs.strategy import Strategy
from pairs.stream._engine import StreamEngine, _fill_id, _fill_numbers, _leg, price_error
from pairs.stream._kernels import (
    P_WIDTH,
    R_HEDGE,
    R_N,
    R_RULE,
    R_SIZE,
    R_WIDTH,
    S_BUF,
    S_HEDGE,
    S_N,
    S_SIZE,
    book_step,
    first_bad_price,
    symbol_logs,
)
from pairs.stream._legs import Legs, Order, guard
from pairs.stream._leverage import capped_orders, limit_of
from pairs.stream._rows import MAX_BARS, check_rows, close_row, decode_row, encode_row, new_row
from pairs.stream._signal import Signal, _signal, fill_field
from pairs.stream._state import (
    Packed,
    check_keys,
    encode_floats,
    read_int,
    read_state_file,
    write_state_file,
)
from pairs.stream._time import Stamp, _decode_timestamp, _encode_timestamp, next_timestamp
from pairs.trading._rules import ACTIONS

__all__ = ["BookSignals", "StreamBook"]

FORMAT = "pairs.StreamBook"
# 2: holdings from fills per pair; version 1 files load (holdings = targets).
VERSION = 2

# The action code of a pair closed by a guard of its ExecutionRule (after the rule's codes).
GUARD = len(ACTIONS)
_ACTIONS = np.asarray((*ACTIONS, "guard"), dtype=object)
_FAST_TYPES = frozenset({float, int, np.float64, np.float32, np.int64, np.int32, type(None)})

COLUMNS = ("beta", "alpha", "spread", "zscore", "position", "action", "y_units", "x_units")


def pair_name(y: str, x: str) -> str:
    """The key of a pair in a book: ``"Y/X"``."""
    return f"{y}/{x}"


class BookSignals(Mapping[str, Signal]):
    """The signals of one bar of a :class:`StreamBook`: pair name ``"Y/X"`` -> :class:`~pairs.Signal`.

    Holds the pairs updated at this bar (both prices present), in book order. Signals are built
    on access (their ``orders`` from the pair's holdings at that moment, at the bar's prices);
    ``arrays`` and ``frame`` give the same numbers as numpy arrays and a DataFrame.
    """

    __slots__ = ("_book", "_exits", "_f", "_i", "_idx", "_index", "_names", "_sized", "timestamp")

    def __init__(
        self,
        timestamp: Stamp,
        names: np.ndarray,
        index: dict[str, int],
        sized: np.ndarray,
        out_f: np.ndarray,
        out_i: np.ndarray,
        book: StreamBook | None = None,
        exits: dict[int, str] | None = None,
    ) -> None:
        self.timestamp = timestamp
        self._book = book
        self._exits = exits or {}
        self._names = names
        self._index = index
        self._sized = sized
        self._f = out_f
        self._i = out_i
        self._idx: np.ndarray | None = None

    @property
    def _updated(self) -> np.ndarray:
        """Book positions of the updated pairs, found on first use (a bar read lazily skips it)."""
        if self._idx is None:
            self._idx = np.flatnonzero(self._i[2])
        return self._idx

    def __len__(self) -> int:
        return int(self._updated.shape[0])

    def __iter__(self) -> Iterator[str]:
        return iter(self._names[self._updated].tolist())

    def __getitem__(self, key: Any) -> Signal:
        name = pair_name(*key) if isinstance(key, tuple) and len(key) == 2 else key
        k = self._index.get(name) if isinstance(name, str) else None
        if k is None or not self._i[2, k]:
            raise KeyError(key)
        f, i = self._f, self._i
        sized = bool(self._sized[k])
        orders = cut = None
        if sized and self._book is not None:
            orders, cut = self._book._orders_of(k, (float(f[4, k]), float(f[5, k])), self._exits.get(k))
        return _signal(
            self.timestamp,
            float(f[0, k]),
            float(f[1, k]),
            float(f[2, k]),
            float(f[3, k]),
            int(i[0, k]),
            float(f[4, k]) if sized else None,
            float(f[5, k]) if sized else None,
            _ACTIONS[int(i[1, k])],
            orders,
            cut,
            None if self._book is None else fill_field(self._book._strategies[k]),
        )

    def __repr__(self) -> str:
        return f"BookSignals(timestamp={self.timestamp!r}, updated={len(self)})"

    @property
    def names(self) -> list[str]:
        """Names of the pairs updated at this bar, in book order."""
        return self._names[self._updated].tolist()

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        """Columns ``beta, alpha, spread, zscore, position, action, y_units, x_units`` of the updated pairs.

        ``y_units``/``x_units`` are NaN for pairs whose strategy has no ``capital``.
        """
        idx, f, i = self._updated, self._f, self._i
        return {
            "beta": f[0, idx],
            "alpha": f[1, idx],
            "spread": f[2, idx],
            "zscore": f[3, idx],
            "position": i[0, idx],
            "action": _ACTIONS[i[1, idx]],
            "y_units": f[4, idx],
            "x_units": f[5, idx],
        }

    @property
    def frame(self) -> pd.DataFrame:
        """:attr:`arrays` as a DataFrame indexed by pair name."""
        return pd.DataFrame(self.arrays, index=pd.Index(self.names, name="pair"), columns=list(COLUMNS))

    def active(self) -> list[str]:
        """Names of the updated pairs whose action is not ``"hold"``."""
        idx = self._updated
        return self._names[idx[self._i[1, idx] != 0]].tolist()


class _Group:
    """Pairs with the same settings (one ``params`` vector): a state row and a buffer row each.

    Row ``k`` of the book's layout is ``params``, ``state[k]``, ``bufs[k]`` side by side: the row
    of a StreamEngine (:mod:`pairs.stream._rows`).
    """

    def __init__(self, params: np.ndarray, width: int) -> None:
        self.params = params
        self.names: list[str] = []
        self.state = np.zeros((0, R_WIDTH))
        self.bufs = np.zeros((0, width - S_BUF))
        self.last = np.zeros(0, dtype=np.int64)  # id of each pair's last bar (-1: none)
        self.iy = self.ix = self.book_pos = np.zeros(0, dtype=np.int64)

    def append(self, names: list[str], rows: list[np.ndarray], last: list[int]) -> None:
        block = np.array(rows).reshape(len(rows), P_WIDTH + R_WIDTH + self.bufs.shape[1])
        self.names = self.names + names
        self.state = np.concatenate([self.state, block[:, P_WIDTH:S_BUF]])
        self.bufs = np.concatenate([self.bufs, block[:, S_BUF:]])
        self.last = np.concatenate([self.last, np.array(last, dtype=np.int64)])

    def keep(self, mask: np.ndarray) -> None:
        self.names = [n for n, k in zip(self.names, mask.tolist(), strict=True) if k]
        self.state, self.bufs, self.last = self.state[mask], self.bufs[mask], self.last[mask]

    def rows(self) -> np.ndarray:
        """Every pair's whole row (settings, state, buffers): a copy."""
        k = self.state.shape[0]
        return np.hstack([np.broadcast_to(self.params, (k, P_WIDTH)), self.state, self.bufs])

    def row(self, k: int) -> np.ndarray:
        return np.concatenate([self.params, self.state[k], self.bufs[k]])


def _group_key(params: np.ndarray, width: int) -> bytes:
    return params.tobytes() + width.to_bytes(8, "little")


def _legs(item: Any, where: str) -> tuple[str, str]:
    if (
        not isinstance(item, (tuple, list))
        or len(item) != 2
        or not all(isinstance(s, str) and s for s in item)
        or item[0] == item[1]
    ):
        raise PairsError(
            f"{where} must be a (y_symbol, x_symbol) tuple of two different symbols; got {item!r}."
        )
    return item[0], item[1]


def _pair_specs(pairs: Any, strategy: Strategy) -> list[tuple[str, str, Strategy]]:
    if isinstance(pairs, Mapping):
        items = list(pairs.items())
    elif isinstance(pairs, (str, bytes)) or not isinstance(pairs, Iterable):
        raise PairsError(
            f"pairs must be a list of (y_symbol, x_symbol) tuples or a mapping of them to strategies; "
            f"got {type(pairs).__name__}."
        )
    else:
        items = [(item, None) for item in pairs]
    specs = []
    for k, (item, own) in enumerate(items):
        y, x = _legs(item, f"pairs[{k}]")
        chosen = strategy if own is None else own
        if not isinstance(chosen, Strategy):
            raise PairsError(
                f"pairs[{item!r}] must map to a pairs.Strategy or None; got {type(own).__name__}."
            )
        specs.append((y, x, chosen))
    return specs


class StreamBook:
    """Many pairs run one bar at a time, each exactly as its own :class:`~pairs.StreamEngine`.

    Parameters
    ----------
    pairs
        ``(y_symbol, x_symbol)`` tuples, or a mapping of such tuples to the :class:`~pairs.Strategy`
        of each pair (None: ``strategy``). A pair is named ``"Y/X"``.
    strategy
        The strategy of every pair without its own (default ``Strategy()``); also the default of
        :meth:`add`.

    Notes
    -----
    Pairs whose strategies differ only in ``beta``/``alpha`` (fixed hedges) or costs share one
    compiled kernel call per bar; the running statistics are numpy arrays with one row per
    pair. :meth:`update` returns :class:`BookSignals`, a mapping ``"Y/X"`` -> :class:`~pairs.Signal`
    of the pairs updated at the bar, whose ``arrays`` and ``frame`` give the same numbers
    without building Signal objects. :meth:`engine` exports one pair as a StreamEngine with its
    exact state.

    Examples
    --------
    >>> import pairs
    >>> prices = pairs.load_sample("binance_1d")[["BTC", "ETH", "LTC"]].iloc[:200]
    >>> strategy = pairs.Strategy(log_prices=True, zscore_window=30)
    >>> book = pairs.StreamBook([("ETH", "BTC"), ("LTC", "BTC")], strategy=strategy)
    >>> for ts, row in prices.iterrows():
    ...     signals = book.update(row, ts)
    >>> engine = strategy.stream()
    >>> for ts, row in prices.iterrows():
    ...     last = engine.update(row["ETH"], row["BTC"], ts)
    >>> signals["ETH/BTC"] == last
    True
    >>> list(signals.frame.columns)
    ['beta', 'alpha', 'spread', 'zscore', 'position', 'action', 'y_units', 'x_units']
    """

    def __init__(self, pairs: Any, *, strategy: Strategy | None = None) -> None:
        if strategy is None:
            strategy = Strategy()
        elif not isinstance(strategy, Strategy):
            raise PairsError(f"strategy must be a pairs.Strategy or None; got {type(strategy).__name__}.")
        self._strategy = strategy
        self._names: list[str] = []
        self._legs: list[tuple[str, str]] = []
        self._strategies: list[Strategy] = []
        self._groups: dict[bytes, _Group] = {}
        self._stamps: dict[int, Stamp] = {}
        self._next_id = 0
        self._n = 0
        self._last_ts: Stamp = None
        # What each pair holds, from fills (pairs without a fill hold nothing: not stored), and
        # each pair's last prices (the mark of its orders and P&L), in book order.
        self._holdings: dict[str, Legs] = {}
        self._prices_of = np.zeros((0, 2))
        self._insert([(y, x, s, None, None) for y, x, s in _pair_specs(pairs, strategy)])

    # ----------------------------------------------------------------- membership
    def _insert(self, entries: list[tuple[str, str, Strategy, np.ndarray | None, Stamp]]) -> None:
        """Add pairs ``(y, x, strategy, row, last timestamp)``; a row of None starts fresh."""
        names = [pair_name(y, x) for y, x, _, _, _ in entries]
        known = set(self._names)
        for name in names:
            if name in known:
                raise PairsError(f"pairs must be new and distinct; got {name!r} twice.")
            known.add(name)
        templates: dict[Strategy, np.ndarray] = {}
        batches: dict[bytes, tuple[list[str], list[np.ndarray], list[int]]] = {}
        for name, (_, _, strategy, row, last_ts) in zip(names, entries, strict=True):
            if row is None:
                if strategy not in templates:
                    StreamEngine(strategy)  # the engine's checks of a streamed strategy
                    templates[strategy] = new_row(strategy)
                row = templates[strategy]
            batch = batches.setdefault(_group_key(row[:P_WIDTH], len(row)), ([], [], []))
            batch[0].append(name)
            batch[1].append(row)
            batch[2].append(-1 if last_ts is None else self._stamp(last_ts))
        for key, (group_names, rows, last) in batches.items():
            group = self._groups.get(key)
            if group is None:
                group = self._groups[key] = _Group(rows[0][:P_WIDTH].copy(), len(rows[0]))
            group.append(group_names, rows, last)
        self._names += names
        self._prices_of = np.concatenate([self._prices_of, np.full((len(names), 2), np.nan)])
        self._legs += [(y, x) for y, x, _, _, _ in entries]
        self._strategies += [s for _, _, s, _, _ in entries]
        self._rebuild()

    def _stamp(self, ts: Stamp) -> int:
        bar_id = self._next_id
        self._stamps[bar_id] = ts
        self._next_id += 1
        return bar_id

    def _rebuild(self) -> None:
        self._groups = {k: g for k, g in self._groups.items() if g.names}
        self._index = {name: k for k, name in enumerate(self._names)}
        self._symbols = sorted({s for leg in self._legs for s in leg})
        self._holdings = {n: v for n, v in self._holdings.items() if n in self._index}
        self._guarded = [
            k for k, s in enumerate(self._strategies) if s.capital is not None and s.execution.guarded
        ]
        where = {s: k for k, s in enumerate(self._symbols)}
        for group in self._groups.values():
            pos = np.array([self._index[n] for n in group.names], dtype=np.int64)
            group.book_pos = pos
            group.iy = np.array([where[self._legs[p][0]] for p in pos.tolist()], dtype=np.int64)
            group.ix = np.array([where[self._legs[p][1]] for p in pos.tolist()], dtype=np.int64)
        self._name_array = np.array(self._names, dtype=object)
        self._sized = np.array([s.capital is not None for s in self._strategies], dtype=bool)
        self._any_log = any(s.log_prices for s in self._strategies)

    def _locate(self, pair: Any, where: str) -> str:
        name = pair_name(*pair) if isinstance(pair, tuple) and len(pair) == 2 else pair
        if not isinstance(name, str) or name not in self._index:
            raise PairsError(f"{where} must be a pair of the book ('Y/X' or (y, x)); got {pair!r}.")
        return name

    def add(self, pairs: Any, *, strategy: Strategy | None = None) -> None:
        """Add pairs (as in the constructor) between bars; they start from a fresh state.

        ``strategy`` defaults to the book's strategy. A pair already in the book raises
        :class:`~pairs.exceptions.PairsError` and nothing is added.
        """
        if strategy is None:
            strategy = self._strategy
        elif not isinstance(strategy, Strategy):
            raise PairsError(f"strategy must be a pairs.Strategy or None; got {type(strategy).__name__}.")
        self._insert([(y, x, s, None, None) for y, x, s in _pair_specs(pairs, strategy)])

    def remove(self, pairs: Iterable[Any]) -> None:
        """Remove pairs (names ``"Y/X"`` or ``(y, x)`` tuples) between bars; the others are unchanged."""
        if isinstance(pairs, (str, tuple)):
            pairs = [pairs]
        drop = {self._locate(p, "pairs") for p in pairs}
        for group in self._groups.values():
            group.keep(np.array([n not in drop for n in group.names], dtype=bool))
        keep = [n not in drop for n in self._names]
        self._prices_of = self._prices_of[np.array(keep, dtype=bool)]
        self._names = [v for v, k in zip(self._names, keep, strict=True) if k]
        self._legs = [v for v, k in zip(self._legs, keep, strict=True) if k]
        self._strategies = [v for v, k in zip(self._strategies, keep, strict=True) if k]
        self._rebuild()

    @classmethod
    def from_scan(cls, result: Any, *, top: int = 10, strategy: Strategy | None = None) -> StreamBook:
        """A book of the ``top`` pairs of a :func:`pairs.scan` result, in its order (lowest p-value first).

        Each pair is oriented as the scan's reported regression (``direction`` ``"x~y"``: ``x`` is
        hedged with ``y``). With ``hedge="ols"`` and no ``beta`` in ``strategy``, each pair gets
        the scan's ``beta`` and intercept (which were fitted on the scanned history); the scan
        and the strategy must then agree on log prices.
        """
        from pairs.screening import ScanResult

        if not isinstance(result, ScanResult):
            raise PairsError(
                f"result must be a pairs.ScanResult (from pairs.scan); got {type(result).__name__}."
            )
        top = check_int("top", top, minimum=1)
        if strategy is None:
            strategy = Strategy()
        elif not isinstance(strategy, Strategy):
            raise PairsError(f"strategy must be a pairs.Strategy or None; got {type(strategy).__name__}.")
        fixed = strategy.hedge == "ols" and strategy.beta is None
        if fixed and strategy.log_prices != result.log:
            raise PairsError(
                f"strategy must have log_prices={result.log} to use the scan's betas (the scan ran with "
                f"log={result.log}); got log_prices={strategy.log_prices}."
            )
        chosen: dict[tuple[str, str], Strategy | None] = {}
        for row in result.table.head(top).itertuples(index=False):
            y, x = (str(row.y), str(row.x)) if row.direction == "y~x" else (str(row.x), str(row.y))
            own = strategy.replace(beta=float(row.beta), alpha=float(row.alpha)) if fixed else None
            chosen[(y, x)] = own
        return cls(chosen, strategy=strategy)

    # ----------------------------------------------------------------- introspection
    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, pair: Any) -> bool:
        name = pair_name(*pair) if isinstance(pair, tuple) and len(pair) == 2 else pair
        return isinstance(name, str) and name in self._index

    def __repr__(self) -> str:
        return f"StreamBook(pairs={len(self)}, groups={len(self._groups)}, n_updates={self._n})"

    @property
    def strategy(self) -> Strategy:
        """The default strategy (of pairs without their own, and of :meth:`add`)."""
        return self._strategy

    @property
    def names(self) -> list[str]:
        """Pair names ``"Y/X"`` in book order."""
        return list(self._names)

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """``(y_symbol, x_symbol)`` of every pair, in book order."""
        return list(self._legs)

    @property
    def symbols(self) -> list[str]:
        """Every symbol the book needs prices for, sorted."""
        return list(self._symbols)

    @property
    def n_updates(self) -> int:
        """Number of bars processed by the book (a pair counts only the bars it was updated on)."""
        return self._n

    @property
    def last_timestamp(self) -> Stamp:
        """Timestamp of the last bar (None before the first, or without timestamps)."""
        return self._last_ts

    @property
    def positions(self) -> pd.Series:
        """Current spread position of every pair (+1, -1 or 0), indexed by name."""
        out = np.zeros(len(self._names), dtype=np.int64)
        for group in self._groups.values():
            out[group.book_pos] = group.state[:, R_RULE]
        return pd.Series(out, index=pd.Index(self._names, name="pair"), name="position")

    def strategy_of(self, pair: Any) -> Strategy:
        """The strategy of one pair (``"Y/X"`` or ``(y, x)``)."""
        return self._strategies[self._index[self._locate(pair, "pair")]]

    def engine(self, pair: Any) -> StreamEngine:
        """A :class:`~pairs.StreamEngine` holding this pair's exact state (it continues identically)."""
        name = self._locate(pair, "pair")
        strategy = self._strategies[self._index[name]]
        group, k = self._row_of(name)
        engine = StreamEngine(strategy, symbols=self._legs[self._index[name]])
        engine._st[:] = group.row(k)
        engine._legs = Legs.decode(self._mark(self._index[name]).encode(), "holdings")
        last = int(group.last[k])
        engine._last_ts = self._stamps[last] if last >= 0 else None
        return engine

    def _row_of(self, name: str) -> tuple[_Group, int]:
        for group in self._groups.values():
            if name in group.names:
                return group, group.names.index(name)
        raise KeyError(name)  # pragma: no cover - every pair of the book is in a group

    # ----------------------------------------------------------------- the bar
    def update(self, prices: PriceBar, timestamp: Any = None) -> BookSignals:
        """Process one bar of the universe; return the signals of the pairs it updated.

        Parameters
        ----------
        prices
            A mapping or a pandas Series ``symbol -> price``. Symbols the book does not trade
            are ignored; a symbol that is absent, None or NaN leaves its pairs unchanged; a
            present price must be within [1e-30, 1e30], as in :meth:`pairs.StreamEngine.update`.
        timestamp
            As :meth:`pairs.StreamEngine.update`: optional, but once given always given and
            strictly increasing.

        Returns
        -------
        BookSignals
            ``"Y/X"`` -> :class:`~pairs.Signal` for every pair whose two prices are present,
            equal bit for bit to what its own StreamEngine would return.

        Raises
        ------
        DataError
            ``prices`` is not a mapping/Series, a price is not a real number, or a present
            price is not within [1e-30, 1e30]; or the timestamp is invalid.
        StateError
            The timestamp repeats or precedes the previous one. The book is then unchanged.
        """
        values = self._prices(prices)
        ts = self._check_timestamp(timestamp)
        logs = symbol_logs(values) if self._any_log else values
        n = len(self._names)
        out_f = np.empty((6, n))
        out_i = np.zeros((3, n), dtype=np.int64)
        bar_id = self._stamp(ts)
        marks = self._prices_of
        for g in self._groups.values():
            book_step(
                values,
                logs,
                g.iy,
                g.ix,
                g.book_pos,
                g.params,
                g.state,
                g.bufs,
                g.last,
                out_f,
                out_i,
                marks,
                bar_id,
            )
        self._n += 1
        self._last_ts = ts
        if len(self._stamps) > 2 * n + 64:
            self._prune()
        exits = self._guards(out_f, out_i) if self._guarded else None
        return BookSignals(ts, self._name_array, self._index, self._sized, out_f, out_i, self, exits)

    # ----------------------------------------------------------------- holdings, orders, fills
    def _mark(self, k: int) -> Legs:
        """Pair ``k``'s holdings marked at its last prices (a fresh, unstored one if none)."""
        legs = self._holdings.get(self._names[k]) or Legs()
        legs.mark(float(self._prices_of[k, 0]), float(self._prices_of[k, 1]))
        return legs

    def _orders_of(
        self, k: int, targets: tuple[float, float], exits: str | None
    ) -> tuple[tuple[Order, ...], str | None]:
        """Pair ``k``'s orders to ``targets`` (cut by its strategy's leverage limit) and the cut."""
        s = self._strategies[k]
        limit = None if s.leverage is None else limit_of(s)
        return capped_orders(self._mark(k), limit, targets, self._legs[k], s, exits or s.execution.exit_order)

    def _guards(self, out_f: np.ndarray, out_i: np.ndarray) -> dict[int, str]:
        """Guards of the pairs with one, updated at this bar in a position: close those that fire."""
        exits: dict[int, str] = {}
        for k in self._guarded:
            name = self._names[k]
            if not out_i[2, k] or not out_i[0, k] or name not in self._holdings:
                continue
            strategy = self._strategies[k]
            fired = guard(
                strategy.execution,
                self._mark(k),
                (float(out_f[4, k]), float(out_f[5, k])),
                strategy.execution.exit_order,
            )
            if fired is None:
                continue
            group, row = self._row_of(name)
            close_row(group.state[row], strategy.rule.cooldown)
            out_i[0, k], out_i[1, k] = 0, GUARD
            out_f[4, k] = out_f[5, k] = 0.0
            exits[k] = fired
        return exits

    def holdings(self, pair: Any) -> dict[str, float]:
        """Units of each leg of one pair (``"Y/X"`` or ``(y, x)``) reported by :meth:`fill`."""
        name = self._locate(pair, "pair")
        legs = self._holdings.get(name) or Legs()
        return dict(zip(self._legs[self._index[name]], legs.units, strict=True))

    def pnl(self, pair: Any) -> float:
        """P&L of one pair's holdings (as :attr:`pairs.StreamEngine.pnl`), at its symbols' last prices."""
        return self._mark(self._index[self._locate(pair, "pair")]).pnl()

    def orders(self, pair: Any) -> tuple[Order, ...]:
        """The orders that take one pair's holdings to its current targets (after fills)."""
        k = self._index[self._locate(pair, "pair")]
        if not self._sized[k]:
            return ()
        group, row = self._row_of(self._names[k])
        targets = (float(group.state[row, R_SIZE]), float(group.state[row, R_SIZE + 1]))
        return self._orders_of(k, targets, None)[0]

    def fill(
        self,
        pair: Any,
        symbol: str,
        quantity: float,
        price: float,
        *,
        fee: float = 0.0,
        timestamp: Any = None,
        fill_id: str | int | None = None,
    ) -> bool:
        """Report a fill of one leg of one pair (as :meth:`pairs.StreamEngine.fill`).

        Fills are attributed per pair: the orders of a pair's signal are that pair's, and so
        are their fills. ``pair`` may be None when ``symbol`` is traded by exactly one pair of
        the book; for a symbol several pairs trade it must be given (a router that nets the
        pairs' orders of one symbol into one exchange order splits its fills back by pair, with
        an id per part). Fill ids are remembered per pair.

        Returns
        -------
        bool
            True if applied, False for a ``fill_id`` already applied to that pair.
        """
        if pair is None:
            owners = [n for n, legs in zip(self._names, self._legs, strict=True) if symbol in legs]
            if len(owners) != 1:
                raise PairsError(
                    f"pair must be given for a fill of {symbol!r}, which {len(owners)} pairs of the book trade; got None."
                )
            name = owners[0]
        else:
            name = self._locate(pair, "pair")
        symbols = self._legs[self._index[name]]
        k = _leg(symbols, symbol)
        quantity, price, fee = _fill_numbers(quantity, price, fee)
        if timestamp is not None:
            next_timestamp(timestamp, None, "fill")
        legs = self._holdings.get(name)
        if legs is None:
            legs = Legs()
        applied = legs.apply(k, quantity, price, fee, _fill_id(fill_id))
        self._holdings[name] = legs
        return applied

    def _check_timestamp(self, value: Any) -> Stamp:
        return next_timestamp(value, self._last_ts, "bar")

    def _prune(self) -> None:
        used = set()
        for g in self._groups.values():
            used.update(np.unique(g.last).tolist())
        self._stamps = {k: v for k, v in self._stamps.items() if k in used}

    def _prices(self, prices: Any) -> np.ndarray:
        symbols = self._symbols
        if isinstance(prices, pd.Series):
            if not prices.index.is_unique:
                dup = prices.index[prices.index.duplicated()][0]
                raise DataError(f"prices must give each symbol once; got {dup!r} twice.")
            raw = prices.reindex(symbols).to_numpy()
            values = raw.astype(np.float64) if raw.dtype.kind in "fiu" else _checked(list(raw), symbols)
        elif isinstance(prices, Mapping):
            get = prices.get
            items = [get(s) for s in symbols]
            if set(map(type, items)) <= _FAST_TYPES:
                try:
                    values = np.array(items, dtype=np.float64).reshape(len(symbols))
                except OverflowError:  # an int beyond the float range, which _checked names
                    values = _checked(items, symbols)
            else:
                values = _checked(items, symbols)
        else:
            raise DataError(
                f"prices must be a mapping or a pandas Series of symbol -> price; got {type(prices).__name__}."
            )
        k = first_bad_price(values)
        if k >= 0:
            raise price_error(f"prices[{symbols[k]!r}]", float(values[k]), " (absent, None or NaN: missing)")
        return values

    # ----------------------------------------------------------------- persistence
    def _unique_strategies(self) -> tuple[list[Strategy], list[int]]:
        unique: dict[Strategy, int] = {}
        seen: dict[int, int] = {}  # by identity first: pairs mostly share one Strategy object
        index = []
        for s in self._strategies:
            k = seen.get(id(s))
            if k is None:
                k = seen[id(s)] = unique.setdefault(s, len(unique))
            index.append(k)
        return list(unique), index

    def _head(self, strategies: list[Strategy]) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "n_updates": self._n,
            "last_timestamp": _encode_timestamp(self._last_ts),
            "strategy": self._strategy.to_dict(),
            "strategies": [s.to_dict() for s in strategies],
        }

    def state_dict(self) -> dict[str, Any]:
        """The whole book as readable JSON data: every pair's engine state, its strategy, the book counters.

        Each pair's ``state`` is the ``state`` of :meth:`pairs.StreamEngine.state_dict`. For a
        compact and fast state file, :meth:`save` writes the same state in binary.
        """
        strategies, index = self._unique_strategies()
        states: dict[str, dict[str, Any]] = {}
        for group in self._groups.values():
            for name, row, last in zip(group.names, group.rows(), group.last.tolist(), strict=True):
                states[name] = {
                    "n_updates": int(row[S_N]),
                    "last_timestamp": _encode_timestamp(self._stamps[last] if last >= 0 else None),
                    **encode_row(row),
                }
        entries = [
            {"y": y, "x": x, "strategy": k, "state": {**states[name], "legs": self._mark(p).encode()}}
            for p, (name, (y, x), k) in enumerate(zip(self._names, self._legs, index, strict=True))
        ]
        return encode_floats({**self._head(strategies), "pairs": entries})

    def _packed(self) -> Packed:
        """The state as a JSON header and numpy arrays: what :meth:`save` writes in binary.

        Arrays: the legs (indices into the header's ``symbols``) and strategy index of every pair,
        then per group of pairs with the same settings: the pairs' positions in the book, the
        settings, the state rows, the buffer rows and the index of each pair's last timestamp
        in the header's ``stamps`` (-1: none).
        """
        strategies, index = self._unique_strategies()
        symbols = self._symbols
        where = {sym: k for k, sym in enumerate(symbols)}
        legs = np.array([(where[y], where[x]) for y, x in self._legs], dtype=np.int64).reshape(-1, 2)
        stamps: dict[int, int] = {}
        arrays: list[np.ndarray] = [legs, np.array(index, dtype=np.int64)]
        for group in self._groups.values():
            ids = [stamps.setdefault(b, len(stamps)) if b >= 0 else -1 for b in group.last.tolist()]
            arrays += [group.book_pos, group.params, group.state, group.bufs, np.array(ids, dtype=np.int64)]
        arrays.append(self._prices_of.copy())
        header = {
            **self._head(strategies),
            "symbols": symbols,
            "stamps": [_encode_timestamp(self._stamps[b]) for b in stamps],
            "groups": len(self._groups),
            "holdings": {name: legs.encode() for name, legs in self._holdings.items()},
        }
        return Packed(encode_floats(header), tuple(arrays))

    @classmethod
    def from_state(cls, state: Any) -> StreamBook:
        """Rebuild a book from :meth:`state_dict` output (also after a JSON round trip).

        The state is untrusted input: its shape and every pair's state are checked as
        :meth:`pairs.StreamEngine.from_state` checks one, and no pair may have a bar after the
        book's last one.

        Raises
        ------
        StateError
            ``state`` is not a complete, consistent book state of this format version.
        """
        if isinstance(state, Packed):
            return cls._from_packed(state)
        keys = ("format", "version", "n_updates", "last_timestamp", "strategy", "strategies", "pairs")
        default, strategies = _read_head(state, keys)
        version = state["version"]
        holdings: dict[str, Legs] = {}
        prices: list[list[float]] = []
        if not isinstance(state["pairs"], list):
            raise StateError(f"state['pairs'] must be a list; got {type(state['pairs']).__name__}.")
        entries: list[tuple[str, str, Strategy, np.ndarray | None, Stamp]] = []
        for k, entry in enumerate(state["pairs"]):
            where = f"state['pairs'][{k}]"
            check_keys(entry, ("y", "x", "strategy", "state"), where)
            y, x, chosen = _read_pair(entry["y"], entry["x"], entry, strategies, where)
            row = new_row(chosen)
            here = f"{where}['state']"
            pair_state = check_keys(
                entry["state"], (*_PAIR_KEYS, "legs") if version >= 2 else _PAIR_KEYS, here
            )
            n = read_int(pair_state, "n_updates", here, maximum=MAX_BARS)
            last_ts = _decode_timestamp(pair_state["last_timestamp"])
            decode_row(row, n, {k: pair_state[k] for k in _PAIR_KEYS}, here)
            entries.append((y, x, chosen, row, last_ts))
            name = pair_name(y, x)
            if version >= 2:
                legs = Legs.decode(pair_state["legs"], f"{here}['legs']")
                prices.append(legs.prices)
                if not legs.empty():
                    holdings[name] = legs
            elif row[S_SIZE] != 0.0 or row[S_SIZE + 1] != 0.0:
                holdings[name] = Legs.from_targets(row[S_SIZE], row[S_SIZE + 1])
        book = cls._restored(state, default, entries)
        book._holdings = holdings
        if prices:
            book._prices_of = np.array(prices, dtype=np.float64).reshape(-1, 2)
        return book

    @classmethod
    def _from_packed(cls, packed: Packed) -> StreamBook:
        head = packed.header
        keys = ("format", "version", "n_updates", "last_timestamp", "strategy", "strategies")
        version = head.get("version") if isinstance(head, dict) else None
        extra = ("holdings",) if version == VERSION else ()
        default, strategies = _read_head(head, (*keys, "symbols", "stamps", "groups", *extra))
        symbols, stamps, n_groups = head["symbols"], head["stamps"], head["groups"]
        if (
            not isinstance(symbols, list)
            or not all(isinstance(v, str) and v for v in symbols)
            or len(set(symbols)) != len(symbols)
        ):
            raise StateError(f"state['symbols'] must be a list of distinct symbols; got {symbols!r:.80}.")
        if not isinstance(stamps, list) or type(n_groups) is not int or n_groups < 0:
            raise StateError("state['stamps'] must be a list and state['groups'] a count; got other types.")
        arrays = packed.arrays
        tail = 1 if version == VERSION else 0  # the pairs' last prices
        if len(arrays) != 2 + 5 * n_groups + tail:
            raise StateError(
                f"state must hold 2 + 5 arrays per group (+ {tail}); got {len(arrays)} for {n_groups}."
            )
        legs, index = arrays[0], arrays[1]
        n = index.shape[0]
        if (
            legs.dtype != np.int64
            or index.dtype != np.int64
            or legs.shape != (n, 2)
            or (n and (legs.min() < 0 or legs.max() >= len(symbols) or (legs[:, 0] == legs[:, 1]).any()))
            or (n and (index.min() < 0 or index.max() >= len(strategies)))
        ):
            raise StateError(
                "state['pairs'] must be legs of two different known symbols and known strategies."
            )
        names = [f"{symbols[a]}/{symbols[b]}" for a, b in legs.tolist()]
        if len(set(names)) != n:
            raise StateError("state['pairs'] must hold distinct pairs; got a pair twice.")
        times = [_decode_timestamp(v) for v in stamps]
        templates = [new_row(s) for s in strategies]
        seen = np.zeros(n, dtype=np.int64)
        book = cls([], strategy=default)
        for g in range(n_groups):
            pos, params, state, bufs, ids = arrays[2 + 5 * g : 7 + 5 * g]
            k = pos.shape[0]
            if (
                pos.dtype != np.int64
                or ids.dtype != np.int64
                or params.shape != (P_WIDTH,)
                or state.shape != (k, R_WIDTH)
                or bufs.ndim != 2
                or bufs.shape[0] != k
                or ids.shape != (k,)
                or params.dtype != np.float64
                or state.dtype != np.float64
                or bufs.dtype != np.float64
                or (k and (pos.min() < 0 or pos.max() >= n))
                or (k and (ids.min() < -1 or ids.max() >= len(times)))
            ):
                raise StateError(f"state['groups'][{g}] must be consistent arrays; got shapes that disagree.")
            seen[pos] += 1
            width = S_BUF + bufs.shape[1]
            for j in np.unique(index[pos]).tolist():
                t = templates[j]
                if len(t) != width or not np.array_equal(t[:P_WIDTH], params):
                    raise StateError(
                        f"state['groups'][{g}] must have the settings of its pairs' strategies; got settings "
                        f"that differ from state['strategies'][{j}]."
                    )
                if strategies[j].hedge == "ols":
                    mine = state[index[pos] == j, R_HEDGE : R_HEDGE + 2]
                    if not (mine == t[S_HEDGE : S_HEDGE + 2]).all():
                        raise StateError(
                            f"state['groups'][{g}] must hold the beta and alpha of state['strategies'][{j}]; "
                            "got others."
                        )
            group = _Group(params.copy(), width)
            group.names = [names[i] for i in pos.tolist()]
            group.state, group.bufs = state, bufs
            group.last = np.array(
                [book._stamp(times[i]) if i >= 0 else -1 for i in ids.tolist()], dtype=np.int64
            )
            key = _group_key(params, width)
            if key in book._groups:
                raise StateError(f"state['groups'][{g}] must have settings of its own; got another group's.")
            book._groups[key] = group
        if (seen != 1).any():
            raise StateError(
                "state['groups'] must hold every pair exactly once; got a pair missing or twice."
            )
        book._names = names
        book._legs = [(symbols[a], symbols[b]) for a, b in legs.tolist()]
        book._strategies = [strategies[j] for j in index.tolist()]
        book._rebuild()
        book._holdings = _read_holdings(head, book) if version == VERSION else _targets_held(book)
        book._prices_of = np.full((n, 2), np.nan)
        if tail:
            last = arrays[-1]
            if last.dtype != np.float64 or last.shape != (n, 2) or (last <= 0).any() or np.isinf(last).any():
                raise StateError("state's last array must hold every pair's last prices (> 0 or nan).")
            book._prices_of = last.copy()
        return cls._finish(book, head)

    @classmethod
    def _restored(
        cls,
        state: dict[str, Any],
        default: Strategy,
        entries: list[tuple[str, str, Strategy, np.ndarray | None, Stamp]],
    ) -> StreamBook:
        book = cls([], strategy=default)
        try:
            book._insert(entries)
        except PairsError as exc:
            raise StateError(f"state['pairs'] must hold distinct pairs; got: {exc}") from None
        return cls._finish(book, state)

    @staticmethod
    def _finish(book: StreamBook, state: dict[str, Any]) -> StreamBook:
        """The book's counters from ``state``, then every invariant of its rows and times."""
        book._n = read_int(state, "n_updates", "state", maximum=MAX_BARS)
        book._last_ts = _decode_timestamp(state["last_timestamp"])
        for group in book._groups.values():
            check_rows(group.rows(), group.names)
            book._check_times(group)
        return book

    def _check_times(self, group: _Group) -> None:
        """No pair has a bar before its first update, more bars than the book, or a bar after the book's."""
        n = group.state[:, R_N]
        for k in np.flatnonzero((n == 0) & (group.last >= 0)).tolist():
            raise StateError(
                f"state['pairs'][{group.names[k]!r}]['state']['last_timestamp'] must be null before the "
                f"first update; got {self._stamps[int(group.last[k])]!r}."
            )
        if int(n.max(initial=0)) > self._n:
            k = int(np.argmax(n))
            raise StateError(
                f"state['pairs'][{group.names[k]!r}]['state']['n_updates'] must be at most the book's "
                f"n_updates ({self._n}); got {int(n[k])}."
            )
        last = self._last_ts
        for bar in np.unique(group.last[group.last >= 0]).tolist():
            ts = self._stamps[bar]
            try:
                later = last is None or ts > last  # type: ignore[operator]
            except TypeError:
                later = True
            if later:
                k = int(np.flatnonzero(group.last == bar)[0])
                raise StateError(
                    f"state['pairs'][{group.names[k]!r}]['state']['last_timestamp'] must be at most the "
                    f"book's last timestamp ({last!r}); got {ts!r}."
                )

    def save(self, path: str | os.PathLike[str], *, format: str = "infer") -> None:
        """Write the book's state with a SHA-256 checksum to ``path``, atomically (as StreamEngine.save).

        Parameters
        ----------
        path
            The state file. :meth:`load` reads either format, whatever the file's name.
        format
            ``"binary"``: compact and fast (a JSON header of strategies and pair names, then
            every row of running statistics as float64 bytes; about 50 times faster than JSON
            for thousands of pairs, see docs/benchmarks.md); ``"json"``: :meth:`state_dict` as
            readable text; ``"infer"`` (default): ``"json"`` for a path ending in ``.json``,
            else ``"binary"``.

        Raises
        ------
        PairsError
            ``path`` is not a str or os.PathLike, or ``format`` is not one of those.
        StateError
            The file cannot be written.
        """
        write_state_file(path, {"book": self.snapshot(path, format=format)}, body="book")

    def snapshot(self, path: str | os.PathLike[str], *, format: str = "infer") -> Any:
        """The state :meth:`save` writes to ``path`` in ``format``: :meth:`state_dict` or a binary pack."""
        if format not in ("infer", "binary", "json"):
            raise PairsError(f"format must be one of ['infer', 'binary', 'json']; got {format!r}.")
        if format == "infer":
            format = "json" if str(path).lower().endswith(".json") else "binary"
        return self.state_dict() if format == "json" else self._packed()

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> StreamBook:
        """Read a book written by :meth:`save` (binary or JSON).

        Raises
        ------
        StateError
            The file is missing, unreadable, truncated, corrupted (checksum mismatch), not a
            book state file, from another format version, or holds a pair state that cannot
            occur (see :meth:`pairs.StreamEngine.from_state`).
        """
        return cls.from_state(read_state_file(path, body="book", what="StreamBook state")["book"])


_PAIR_KEYS = ("n_updates", "last_timestamp", "hedge", "zscore", "rule", "sizing")


def _read_holdings(head: dict[str, Any], book: StreamBook) -> dict[str, Legs]:
    value = head["holdings"]
    if not isinstance(value, dict) or not all(name in book._index for name in value):
        raise StateError("state['holdings'] must map pairs of the book to their holdings; got other keys.")
    return {name: Legs.decode(legs, f"state['holdings'][{name!r}]") for name, legs in value.items()}


def _targets_held(book: StreamBook) -> dict[str, Legs]:
    """Holdings of a book saved before fills existed: each pair's targets (the bot traded them)."""
    out = {}
    for group in book._groups.values():
        for name, (yu, xu) in zip(group.names, group.state[:, R_SIZE : R_SIZE + 2].tolist(), strict=True):
            if yu != 0.0 or xu != 0.0:
                out[name] = Legs.from_targets(yu, xu)
    return out


def _same_settings(row: np.ndarray, template: np.ndarray) -> bool:
    # Settings and, for a fixed hedge, its beta and alpha (identical bits; NaN never occurs there).
    return bool(np.array_equal(row[:P_WIDTH], template[:P_WIDTH]))


def _read_head(state: Any, keys: tuple[str, ...]) -> tuple[Strategy, list[Strategy]]:
    check_keys(state, keys, "state")
    if state["format"] != FORMAT:
        raise StateError(f"state['format'] must be {FORMAT!r}; got {state['format']!r}.")
    version = state["version"]
    if type(version) is not int or version not in (1, VERSION):
        raise StateError(f"state['version'] must be 1 or {VERSION} (this version of pairs); got {version!r}.")
    default = _read_strategy(state["strategy"], "state['strategy']")
    if not isinstance(state["strategies"], list):
        raise StateError(f"state['strategies'] must be a list; got {type(state['strategies']).__name__}.")
    strategies = [_read_strategy(s, f"state['strategies'][{k}]") for k, s in enumerate(state["strategies"])]
    for k, chosen in enumerate(strategies):
        try:
            StreamEngine(chosen)
        except PairsError as exc:
            raise StateError(f"state['strategies'][{k}] must be a streamable strategy; got: {exc}") from None
    return default, strategies


def _read_pair(
    y: Any, x: Any, entry: dict[str, Any], strategies: list[Strategy], where: str
) -> tuple[str, str, Strategy]:
    try:
        y, x = _legs((y, x), where)
    except PairsError as exc:
        raise StateError(str(exc)) from None
    return y, x, strategies[read_int(entry, "strategy", where, maximum=len(strategies) - 1)]


def _read_strategy(data: Any, where: str) -> Strategy:
    try:
        return Strategy.from_dict(data)
    except (PairsError, TypeError) as exc:
        raise StateError(f"{where} must hold a valid strategy; got: {exc}") from None


def _checked(items: list[Any], symbols: list[str]) -> np.ndarray:
    """Prices of any Python/numpy types: None and NaN are missing, other non-reals are refused."""
    out = np.empty(len(items))
    for k, v in enumerate(items):
        if v is None or v is pd.NA:
            out[k] = math.nan
        elif isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
            raise DataError(f"prices[{symbols[k]!r}] must be a real number; got {v!r}.")
        else:
            try:
                out[k] = float(v)
            except OverflowError:  # an int beyond the float range
                raise DataError(
                    f"prices[{symbols[k]!r}] must be a finite number > 0; got {shown(v)}."
                ) from None
    return out
