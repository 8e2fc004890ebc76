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
"""

from __future__ import annotations

import json
import math
import numbers
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from pairs._validation import check_int
from pairs.exceptions import DataError, PairsError, StateError
from pairs.strategy import Strategy
from pairs.stream._engine import FORMAT as ENGINE_FORMAT
from pairs.stream._engine import VERSION as ENGINE_VERSION
from pairs.stream._engine import (
    Signal,
    Stamp,
    StreamEngine,
    _decode_timestamp,
    _encode_timestamp,
    _signal,
    next_timestamp,
)
from pairs.stream._kernels import (
    F_FIXED,
    F_KALMAN,
    F_ROLLING,
    F_SIZE,
    F_WIDTH,
    F_Z,
    HEDGE_FIXED,
    HEDGE_KALMAN,
    HEDGE_ROLLING,
    I_FIRST,
    I_HBARS,
    I_LAST,
    I_N,
    I_RULE,
    I_WIDTH,
    I_ZBARS,
    book_step,
    first_bad_price,
    symbol_logs,
)
from pairs.stream._online import KalmanHedge, RollingHedge, RollingZScore
from pairs.stream._state import check_keys, encode_floats, read_int, read_state_file, write_state_file
from pairs.trading._kernels import Z_CODES, ewm_alpha
from pairs.trading._rules import ACTIONS, _kernel_args

__all__ = ["BookSignals", "StreamBook"]

FORMAT = "pairs.StreamBook"
VERSION = 1

_ACTIONS = np.asarray(ACTIONS, dtype=object)
_FAST_TYPES = frozenset({float, int, np.float64, np.float32, np.int64, np.int32, type(None)})
# Settings that do not change what a stream computes (a fixed hedge's beta/alpha are per pair).
_NOT_KERNEL = ("beta", "alpha", "fee_bps", "slippage_bps")
_HEDGES = {"kalman": HEDGE_KALMAN, "rolling": HEDGE_ROLLING, "ols": HEDGE_FIXED}

COLUMNS = ("beta", "alpha", "spread", "zscore", "position", "action", "y_units", "x_units")


def pair_name(y: str, x: str) -> str:
    """The key of a pair in a book: ``"Y/X"``."""
    return f"{y}/{x}"


class BookSignals(Mapping[str, Signal]):
    """The signals of one bar of a :class:`StreamBook`: pair name ``"Y/X"`` -> :class:`~pairs.Signal`.

    Holds the pairs updated at this bar (both prices present), in book order. Signals are built
    on access; ``arrays`` and ``frame`` give the same numbers as numpy arrays and a DataFrame.
    """

    __slots__ = ("_f", "_i", "_idx", "_index", "_names", "_sized", "timestamp")

    def __init__(
        self,
        timestamp: Stamp,
        names: np.ndarray,
        index: dict[str, int],
        sized: np.ndarray,
        out_f: np.ndarray,
        out_i: np.ndarray,
    ) -> None:
        self.timestamp = timestamp
        self._names = names
        self._index = index
        self._sized = sized
        self._f = out_f
        self._i = out_i
        self._idx = np.flatnonzero(out_i[2])

    def __len__(self) -> int:
        return int(self._idx.shape[0])

    def __iter__(self) -> Iterator[str]:
        return iter(self._names[self._idx].tolist())

    def __getitem__(self, key: Any) -> Signal:
        name = pair_name(*key) if isinstance(key, tuple) and len(key) == 2 else key
        k = self._index.get(name) if isinstance(name, str) else None
        if k is None or not self._i[2, k]:
            raise KeyError(key)
        f, i = self._f, self._i
        sized = bool(self._sized[k])
        return _signal(
            self.timestamp,
            float(f[0, k]),
            float(f[1, k]),
            float(f[2, k]),
            float(f[3, k]),
            int(i[0, k]),
            float(f[4, k]) if sized else None,
            float(f[5, k]) if sized else None,
            ACTIONS[int(i[1, k])],
        )

    def __repr__(self) -> str:
        return f"BookSignals(timestamp={self.timestamp!r}, updated={len(self)})"

    @property
    def names(self) -> list[str]:
        """Names of the pairs updated at this bar, in book order."""
        return self._names[self._idx].tolist()

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        """Columns ``beta, alpha, spread, zscore, position, action, y_units, x_units`` of the updated pairs.

        ``y_units``/``x_units`` are NaN for pairs whose strategy has no ``capital``.
        """
        idx, f, i = self._idx, self._f, self._i
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
        idx = self._idx
        return self._names[idx[self._i[1, idx] != 0]].tolist()


class _Group:
    """Pairs whose strategies share every kernel setting: parameters plus one state row per pair."""

    def __init__(self, strategy: Strategy) -> None:
        s = strategy
        entry, exit_, stop, max_hold, cooldown = _kernel_args(s.rule)
        ewm_a = ewm_alpha(s.zscore_halflife) if s.zscore_method == "ewm" else 0.0
        self.fparams = np.array(
            [
                s.delta / (1.0 - s.delta),
                s.obs_var,
                ewm_a,
                entry,
                exit_,
                stop,
                0.0 if s.capital is None else s.capital,
                s.lot_size[0],
                s.lot_size[1],
                s.rebalance_band,
            ]
        )
        self.iparams = np.array(
            [
                _HEDGES[s.hedge],
                Z_CODES[s.zscore_method],
                int(s.log_prices),
                max_hold,
                cooldown,
                int(s.capital is not None),
                int(s.sizing_mode == "beta_neutral"),
            ],
            dtype=np.int64,
        )
        self.log = s.log_prices
        self.hwin = s.window if s.hedge == "rolling" else 1
        self.zwin = s.z_window if s.zscore_method == "rolling" else 1
        self.names: list[str] = []
        self.fstate = np.zeros((0, F_WIDTH))
        self.istate = np.zeros((0, I_WIDTH), dtype=np.int64)
        self.ybuf = np.zeros((0, self.hwin))
        self.xbuf = np.zeros((0, self.hwin))
        self.zbuf = np.zeros((0, self.zwin))
        self.iy = self.ix = self.book_pos = np.zeros(0, dtype=np.int64)

    def append(self, names: list[str], rows: list[tuple[np.ndarray, ...]]) -> None:
        self.names = self.names + names
        f, i, yb, xb, zb = (np.array(col) for col in zip(*rows, strict=True))
        self.fstate = np.concatenate([self.fstate, f])
        self.istate = np.concatenate([self.istate, i])
        self.ybuf = np.concatenate([self.ybuf, yb])
        self.xbuf = np.concatenate([self.xbuf, xb])
        self.zbuf = np.concatenate([self.zbuf, zb])

    def keep(self, mask: np.ndarray) -> None:
        self.names = [n for n, k in zip(self.names, mask.tolist(), strict=True) if k]
        self.fstate, self.istate = self.fstate[mask], self.istate[mask]
        self.ybuf, self.xbuf, self.zbuf = self.ybuf[mask], self.xbuf[mask], self.zbuf[mask]

    def row_from_engine(self, engine: StreamEngine) -> tuple[np.ndarray, ...]:
        f = np.zeros(F_WIDTH)
        i = np.zeros(I_WIDTH, dtype=np.int64)
        yb, xb, zb = np.zeros(self.hwin), np.zeros(self.hwin), np.zeros(self.zwin)
        h = engine._hedge
        if isinstance(h, KalmanHedge):
            f[slice(*F_KALMAN)] = [h.beta, h.alpha, h.p00, h.p01, h.p11, h.ref_y, h.ref_x]
            i[I_FIRST] = int(h.first)
        elif isinstance(h, RollingHedge):
            f[slice(*F_ROLLING)] = h.stats
            i[I_HBARS] = h.bars
            yb[:], xb[:] = h.bufs
        else:
            f[slice(*F_FIXED)] = [h.beta, h.alpha]
        z = engine._z
        if z is not None:
            f[F_Z[0] : F_Z[0] + z.stats.shape[0]] = z.stats
        if isinstance(z, RollingZScore):
            i[I_ZBARS] = z.bars
            zb[:] = z.bufs[0]
        i[slice(*I_RULE)] = engine._rule_state
        f[slice(*F_SIZE)] = [engine._held_y, engine._held_x, engine._last_pos, engine._ref_beta]
        i[I_N] = engine._n
        i[I_LAST] = -1
        return f, i, yb, xb, zb

    def engine_from_row(self, k: int, strategy: Strategy, last_ts: Stamp) -> StreamEngine:
        engine = StreamEngine(strategy)
        f, i = self.fstate[k], self.istate[k]
        h = engine._hedge
        if isinstance(h, KalmanHedge):
            h.beta, h.alpha, h.p00, h.p01, h.p11, h.ref_y, h.ref_x = f[slice(*F_KALMAN)].tolist()
            h.first = bool(i[I_FIRST])
        elif isinstance(h, RollingHedge):
            h.stats[:] = f[slice(*F_ROLLING)]
            h.bars = int(i[I_HBARS])
            h.bufs[0][:], h.bufs[1][:] = self.ybuf[k], self.xbuf[k]
        z = engine._z
        if z is not None:
            z.stats[:] = f[F_Z[0] : F_Z[0] + z.stats.shape[0]]
        if isinstance(z, RollingZScore):
            z.bars = int(i[I_ZBARS])
            z.bufs[0][:] = self.zbuf[k]
        engine._rule_state = [int(v) for v in i[slice(*I_RULE)]]
        engine._held_y, engine._held_x, engine._last_pos, engine._ref_beta = f[slice(*F_SIZE)].tolist()
        engine._n = int(i[I_N])
        engine._last_ts = last_ts
        return engine


def _group_key(strategy: Strategy) -> str:
    settings = strategy.to_dict()
    for name in _NOT_KERNEL:
        settings.pop(name)
    return json.dumps(settings, sort_keys=True)


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
        self._groups: dict[str, _Group] = {}
        self._stamps: dict[int, Stamp] = {}
        self._next_id = 0
        self._n = 0
        self._last_ts: Stamp = None
        self._insert([(y, x, s, None) for y, x, s in _pair_specs(pairs, strategy)])

    # ----------------------------------------------------------------- membership
    def _insert(self, entries: list[tuple[str, str, Strategy, StreamEngine | None]]) -> None:
        names = [pair_name(y, x) for y, x, _, _ in entries]
        known = set(self._names)
        for name in names:
            if name in known:
                raise PairsError(f"pairs must be new and distinct; got {name!r} twice.")
            known.add(name)
        templates: dict[Strategy, StreamEngine] = {}
        batches: dict[str, tuple[list[str], list[tuple[np.ndarray, ...]]]] = {}
        for name, (_, _, strategy, engine) in zip(names, entries, strict=True):
            if engine is None:
                if strategy not in templates:
                    templates[strategy] = StreamEngine(strategy)
                engine = templates[strategy]
            key = _group_key(strategy)
            group = self._groups.get(key)
            if group is None:
                group = self._groups[key] = _Group(strategy)
            row = group.row_from_engine(engine)
            if engine._last_ts is not None:
                row[1][I_LAST] = self._stamp(engine._last_ts)
            batch = batches.setdefault(key, ([], []))
            batch[0].append(name)
            batch[1].append(row)
        for key, (group_names, rows) in batches.items():
            self._groups[key].append(group_names, rows)
        self._names += names
        self._legs += [(y, x) for y, x, _, _ in entries]
        self._strategies += [s for _, _, s, _ in entries]
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
        where = {s: k for k, s in enumerate(self._symbols)}
        for group in self._groups.values():
            pos = np.array([self._index[n] for n in group.names], dtype=np.int64)
            group.book_pos = pos
            group.iy = np.array([where[self._legs[p][0]] for p in pos.tolist()], dtype=np.int64)
            group.ix = np.array([where[self._legs[p][1]] for p in pos.tolist()], dtype=np.int64)
        self._name_array = np.array(self._names, dtype=object)
        self._sized = np.array([s.capital is not None for s in self._strategies], dtype=bool)
        self._any_log = any(g.log for g in self._groups.values())

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
        self._insert([(y, x, s, None) for y, x, s in _pair_specs(pairs, strategy)])

    def remove(self, pairs: Iterable[Any]) -> None:
        """Remove pairs (names ``"Y/X"`` or ``(y, x)`` tuples) between bars; the others are unchanged."""
        if isinstance(pairs, (str, tuple)):
            pairs = [pairs]
        drop = {self._locate(p, "pairs") for p in pairs}
        for group in self._groups.values():
            group.keep(np.array([n not in drop for n in group.names], dtype=bool))
        keep = [n not in drop for n in self._names]
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
            out[group.book_pos] = group.istate[:, I_RULE[0]]
        return pd.Series(out, index=pd.Index(self._names, name="pair"), name="position")

    def strategy_of(self, pair: Any) -> Strategy:
        """The strategy of one pair (``"Y/X"`` or ``(y, x)``)."""
        return self._strategies[self._index[self._locate(pair, "pair")]]

    def engine(self, pair: Any) -> StreamEngine:
        """A :class:`~pairs.StreamEngine` holding this pair's exact state (it continues identically)."""
        name = self._locate(pair, "pair")
        strategy = self._strategies[self._index[name]]
        group = self._groups[_group_key(strategy)]
        k = group.names.index(name)
        last = int(group.istate[k, I_LAST])
        return group.engine_from_row(k, strategy, self._stamps[last] if last >= 0 else None)

    # ----------------------------------------------------------------- the bar
    def update(self, prices: Any, timestamp: Any = None) -> BookSignals:
        """Process one bar of the universe; return the signals of the pairs it updated.

        Parameters
        ----------
        prices
            A mapping or a pandas Series ``symbol -> price``. Symbols the book does not trade
            are ignored; a symbol that is absent, None or NaN leaves its pairs unchanged.
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
            price is not finite and > 0; or the timestamp is invalid.
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
        for g in self._groups.values():
            book_step(
                values,
                logs,
                g.iy,
                g.ix,
                g.book_pos,
                g.fparams,
                g.iparams,
                g.fstate,
                g.istate,
                g.ybuf,
                g.xbuf,
                g.zbuf,
                out_f,
                out_i,
                bar_id,
            )
        self._n += 1
        self._last_ts = ts
        if len(self._stamps) > 2 * n + 64:
            self._prune()
        return BookSignals(ts, self._name_array, self._index, self._sized, out_f, out_i)

    def _check_timestamp(self, value: Any) -> Stamp:
        return next_timestamp(value, self._last_ts, "bar")

    def _prune(self) -> None:
        used = set()
        for g in self._groups.values():
            used.update(np.unique(g.istate[:, I_LAST]).tolist())
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
                values = np.array(items, dtype=np.float64).reshape(len(symbols))
            else:
                values = _checked(items, symbols)
        else:
            raise DataError(
                f"prices must be a mapping or a pandas Series of symbol -> price; got {type(prices).__name__}."
            )
        k = first_bad_price(values)
        if k >= 0:
            raise DataError(
                f"prices[{symbols[k]!r}] must be a finite number > 0 (absent, None or NaN: missing); "
                f"got {float(values[k])!r}."
            )
        return values

    # ----------------------------------------------------------------- persistence
    def state_dict(self) -> dict[str, Any]:
        """The whole book as JSON data: every pair's engine state, its strategy and the book counters."""
        unique: dict[Strategy, int] = {}
        entries = []
        for name, (y, x), strategy in zip(self._names, self._legs, self._strategies, strict=True):
            k = unique.setdefault(strategy, len(unique))
            entries.append({"y": y, "x": x, "strategy": k, "state": self.engine(name).state_dict()["state"]})
        return encode_floats(
            {
                "format": FORMAT,
                "version": VERSION,
                "n_updates": self._n,
                "last_timestamp": _encode_timestamp(self._last_ts),
                "strategy": self._strategy.to_dict(),
                "strategies": [s.to_dict() for s in unique],
                "pairs": entries,
            }
        )

    @classmethod
    def from_state(cls, state: Any) -> StreamBook:
        """Rebuild a book from :meth:`state_dict` output (also after a JSON round trip).

        Raises
        ------
        StateError
            ``state`` is not a complete book state of this format version.
        """
        keys = ("format", "version", "n_updates", "last_timestamp", "strategy", "strategies", "pairs")
        check_keys(state, keys, "state")
        if state["format"] != FORMAT:
            raise StateError(f"state['format'] must be {FORMAT!r}; got {state['format']!r}.")
        version = state["version"]
        if type(version) is not int or version != VERSION:
            raise StateError(f"state['version'] must be {VERSION} (this version of pairs); got {version!r}.")
        default = _read_strategy(state["strategy"], "state['strategy']")
        if not isinstance(state["strategies"], list):
            raise StateError(f"state['strategies'] must be a list; got {type(state['strategies']).__name__}.")
        strategies = [
            _read_strategy(s, f"state['strategies'][{k}]") for k, s in enumerate(state["strategies"])
        ]
        if not isinstance(state["pairs"], list):
            raise StateError(f"state['pairs'] must be a list; got {type(state['pairs']).__name__}.")
        entries: list[tuple[str, str, Strategy, StreamEngine | None]] = []
        for k, entry in enumerate(state["pairs"]):
            where = f"state['pairs'][{k}]"
            check_keys(entry, ("y", "x", "strategy", "state"), where)
            try:
                y, x = _legs((entry["y"], entry["x"]), where)
            except PairsError as exc:
                raise StateError(str(exc)) from None
            s = read_int(entry, "strategy", where, maximum=len(strategies) - 1)
            doc = {"format": ENGINE_FORMAT, "version": ENGINE_VERSION, "strategy": state["strategies"][s]}
            try:
                engine = StreamEngine.from_state({**doc, "state": entry["state"]})
            except StateError as exc:
                raise StateError(f"{where} must hold a valid engine state; got: {exc}") from None
            entries.append((y, x, strategies[s], engine))
        book = cls([], strategy=default)
        try:
            book._insert(entries)
        except PairsError as exc:
            raise StateError(f"state['pairs'] must hold distinct pairs; got: {exc}") from None
        book._n = read_int(state, "n_updates", "state")
        book._last_ts = _decode_timestamp(state["last_timestamp"])
        return book

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`state_dict` with a SHA-256 checksum to ``path``, atomically (as StreamEngine.save).

        Raises
        ------
        PairsError
            ``path`` is not a str or os.PathLike.
        StateError
            The file cannot be written.
        """
        write_state_file(path, {"book": self.state_dict()}, body="book")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> StreamBook:
        """Read a book written by :meth:`save`.

        Raises
        ------
        StateError
            The file is missing, unreadable, truncated, corrupted (checksum mismatch), not a
            book state file, from another format version, or holds a pair state that cannot
            occur (see :meth:`pairs.StreamEngine.from_state`).
        """
        return cls.from_state(read_state_file(path, body="book", what="StreamBook state")["book"])


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
            out[k] = float(v)
    return out
