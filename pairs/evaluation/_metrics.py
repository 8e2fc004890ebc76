"""Shared pieces of the backtests: annualisation, funding input, performance metrics."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pairs._validation import as_frame, check_float
from pairs.data._align import infer_bar
from pairs.exceptions import DataError, PairsError

__all__ = [
    "column_metrics",
    "funding_frame",
    "metrics",
    "periods_per_year",
    "ratio",
    "settled_funding",
    "trade_spans",
    "trades_table",
]


def periods_per_year(value: Any, index: pd.Index) -> float:
    """``value`` validated, or 365 days / the bar length of a DatetimeIndex (a 24/7 market)."""
    if value is not None:
        return check_float("periods_per_year", value, minimum=0.0, strict_min=True)
    if not isinstance(index, pd.DatetimeIndex):
        raise PairsError(
            "periods_per_year must be given when the prices have no DatetimeIndex; got None "
            f"with a {type(index).__name__}."
        )
    return pd.Timedelta(days=365) / infer_bar(index)


def funding_frame(funding: Any, index: pd.Index, names: tuple[Any, Any] = (None, None)) -> pd.DataFrame:
    """Per-bar funding rates with both columns ``"y"`` and ``"x"`` (0 for a missing leg).

    ``funding`` is either per-bar rates aligned to ``index`` (columns ``"y"`` and/or ``"x"``)
    or rates at their settlement timestamps, one column per symbol named like the price series
    ``names`` (as :func:`pairs.load_funding` returns them): each settlement is added to the
    first bar whose close (the next bar's open time; the last bar's open plus one bar) is at or
    after it, so it is paid on the units held over that bar.
    """
    if funding is None:
        return pd.DataFrame(0.0, index=index, columns=["y", "x"])
    if not isinstance(funding, pd.DataFrame):
        raise PairsError(
            f"funding must be a DataFrame with columns 'y' and/or 'x', or None; got {funding!r}."
        )
    if not set(funding.columns) <= {"y", "x"}:
        settled = settled_funding(funding, index, _symbol_legs(funding, names))
        return settled.reindex(columns=["y", "x"], fill_value=0.0)
    frame = as_frame(funding, "funding", min_length=1)
    if not frame.index.equals(index):
        raise DataError("funding index must equal the prices' index; got a misaligned index.")
    return frame.reindex(columns=["y", "x"], fill_value=0.0)


def _symbol_legs(funding: pd.DataFrame, names: tuple[Any, Any]) -> dict[str, Any]:
    legs = {
        leg: name
        for leg, name in zip(("y", "x"), names, strict=True)
        if name is not None and name in funding.columns
    }
    if not legs:
        raise PairsError(
            "funding must have columns 'y' and/or 'x', or columns named like the price series "
            f"{[n for n in names if n is not None]!r}; got {list(funding.columns)!r}."
        )
    return legs


def settled_funding(funding: pd.DataFrame, index: pd.Index, legs: dict[str, Any]) -> pd.DataFrame:
    """Settlements at their timestamps summed into the bar over which each is paid: one column per
    key of ``legs``, from the column of ``funding`` it names."""
    times = funding.index
    if not isinstance(times, pd.DatetimeIndex) or not isinstance(index, pd.DatetimeIndex):
        raise DataError(
            "funding index must equal the prices' index, or both must be a DatetimeIndex (settlement "
            f"times); got a {type(times).__name__} and prices on a {type(index).__name__}."
        )
    if (times.tz is None) != (index.tz is None):
        raise DataError(
            f"funding index must be tz-aware like the prices' index (or naive like it); got tz {times.tz} "
            f"and prices in {index.tz}."
        )
    bar = infer_bar(index) if len(index) > 1 else pd.Timedelta(0)
    closes = index[1:].append(index[-1:] + bar)
    at = closes.searchsorted(times.tz_convert(index.tz) if index.tz is not None else times, side="left")
    out = pd.DataFrame(0.0, index=index, columns=list(legs))
    for leg, name in legs.items():
        rates = pd.to_numeric(funding[name], errors="coerce").to_numpy(dtype=np.float64)
        if np.isinf(rates).any():
            raise DataError(f"funding column {name!r} must be finite or NaN (no settlement); got inf.")
        keep = (at < len(index)) & ~np.isnan(rates)
        column = np.zeros(len(index))
        np.add.at(column, at[keep], rates[keep])
        out[leg] = column
    return out


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` where ``den > 0``, else 0."""
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def metrics(r: np.ndarray, growth: np.ndarray, ppy: float) -> tuple[float, float, float, float]:
    """``(apr, sharpe, sortino, max_drawdown)`` of per-bar returns ``r`` and the growth of 1."""
    apr, sharpe, sortino = column_metrics(r[:, None], growth[-1:], ppy)
    peak = np.maximum.accumulate(np.concatenate(([1.0], growth)))[1:]
    max_dd = float(np.max(1.0 - growth / peak))
    return float(apr[0]), float(sharpe[0]), float(sortino[0]), max_dd


def column_metrics(r: np.ndarray, final: np.ndarray, ppy: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(apr, sharpe, sortino)`` of each column of per-bar returns ``r`` (bars x columns).

    ``final`` is each column's final growth of 1 (``apr`` is -1 once it is 0 or below);
    ``sharpe`` and ``sortino`` are NaN where the standard deviation (downside) is 0.
    """
    n = r.shape[0]
    alive = final > 0
    with np.errstate(over="ignore"):  # a huge gain over a few bars annualises to inf
        apr = np.where(alive, np.expm1(np.log(np.where(alive, final, 1.0)) * ppy / n), -1.0)
    std = np.std(r, axis=0, ddof=1) if n > 1 else np.zeros(r.shape[1])
    mean = np.mean(r, axis=0)
    downside = np.sqrt(np.mean(np.minimum(r, 0.0) ** 2, axis=0))
    root = np.sqrt(ppy)
    sharpe = np.divide(root * mean, std, out=np.full_like(mean, np.nan), where=std > 0)
    sortino = np.divide(root * mean, downside, out=np.full_like(mean, np.nan), where=downside > 0)
    return apr, sharpe, sortino


def trade_spans(side: np.ndarray) -> list[tuple[int, int | None]]:
    """``(entry bar, exit bar or None while open)`` of each run of one non-zero ``side``."""
    prev = np.concatenate(([0.0], side[:-1]))
    starts = np.flatnonzero((side != 0) & (side != prev))
    changes = np.flatnonzero(side != prev)
    spans: list[tuple[int, int | None]] = []
    for a in starts:
        later = changes[changes > a]
        spans.append((int(a), int(later[0]) if later.size else None))
    return spans


def trades_table(index: pd.Index, rows: list[tuple[Any, ...]], columns: list[str]) -> pd.DataFrame:
    """Trades with ``entry_time``, ``exit_time``, ``side``, ``bars`` then float columns."""
    trades = pd.DataFrame(rows, columns=columns)
    if isinstance(index, pd.DatetimeIndex):
        # One schema whatever the rows: pandas infers object (no trade) or naive (all NaT) otherwise.
        for col in ("entry_time", "exit_time"):
            trades[col] = pd.DatetimeIndex(trades[col].tolist(), dtype=index.dtype)
    dtypes = {col: "float64" for col in columns[4:]}
    return trades.astype({"side": "int64", "bars": "int64", **dtypes})
