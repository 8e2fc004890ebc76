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


def funding_frame(funding: Any, index: pd.Index) -> pd.DataFrame:
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
