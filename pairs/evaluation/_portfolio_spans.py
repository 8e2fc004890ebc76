"""The portfolio's windows and each pair's streaks of selections (spans): what it trades, and when.

Rules in :mod:`pairs.evaluation._portfolio` (docs/portfolio.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pairs.exceptions import InsufficientDataError, MissingDependencyError
from pairs.strategy._batch import run_arrays
from pairs.strategy._portfolio import MIN_FORMATION, window_bars
from pairs.strategy._steps import log_values

if TYPE_CHECKING:
    from pairs.strategy._portfolio import Portfolio

__all__ = ["Span", "select_all", "select_windows", "spans_of", "window_plan"]


@dataclass
class Span:
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
    return select_all(portfolio, frame, windows, "local", None)


def select_all(
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


def spans_of(
    trading: int,
    portfolio: Portfolio,
    frame: pd.DataFrame,
    windows: list[tuple[int, int, int]],
    chosen: dict[tuple[str, str], list[int]],
    hedges: dict[tuple[str, str, int], tuple[float, float]],
) -> list[Span]:
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
            out.append(Span(y, x, f0, start, end, wins[i : j + 1], p, b))
            i = j + 1
    return out
