"""The selection step of a portfolio: rank the pairs of one formation window and keep the best.

Steps, for a :class:`~pairs.Selection` and a window of closes:

1. Candidates: every pair of coins with a price on every row of the window (pairs with a coin
   missing a price are listed with reason ``"missing prices"``).
2. Score: ``"coint"``: Engle-Granger through :func:`pairs.scan` (p-value, adjusted p-value, the
   hedge ``beta``/``alpha`` of the reported regression); ``"distance"``: the sum of squared
   differences of the prices normalised to 1 at the first row (log prices minus their first value
   with ``log=True``), with the hedge of that spread (``beta = y_0 / x_0``, or 1 on logs).
3. Formation spread ``y - beta x - alpha``: its half-life (bars) and zero crossings (sign changes
   of the spread minus its mean).
4. Rank by score (ties by ``(y, x)``), then walk the ranking: a pair is kept when it passes the
   significance (``"coint"`` with ``size``), half-life and crossing filters, fewer than ``top``
   pairs are kept, neither coin already has ``max_pairs_per_coin`` kept pairs, and the
   confirming test (``confirm``), run only on the pairs that reach this point, rejects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pairs._validation import as_frame
from pairs.coint._gregory_hansen import gregory_hansen
from pairs.coint._kernels import half_lives
from pairs.coint._kss import kss
from pairs.coint._phillips_ouliaris import phillips_ouliaris
from pairs.exceptions import InsufficientDataError
from pairs.screening._scan import scan

if TYPE_CHECKING:
    from pairs.strategy._selection import Selection

__all__ = ["COLUMNS", "MIN_FORMATION", "select_pairs"]

COLUMNS = ["y", "x", "rank", "score", "pvalue", "pvalue_adj", "distance", "beta", "alpha"]
COLUMNS += ["half_life", "crossings", "selected", "reason"]
# The shortest formation window: Engle-Granger needs it (scan's smallest min_overlap).
MIN_FORMATION = 30
_CHUNK = 2048


def _empty() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in COLUMNS})
    return frame.astype({"y": object, "x": object, "rank": "int64", "crossings": "int64", "selected": bool})


def _coint_scores(sel: Selection, frame: pd.DataFrame) -> pd.DataFrame:
    size = 0.05 if sel.size is None else sel.size
    res = scan(
        frame,
        size=size,
        correction=sel.correction,
        direction=sel.direction,
        log=sel.log,
        min_overlap=len(frame),
    )
    t = res.table
    flip = (t["direction"] == "x~y").to_numpy()
    y = np.where(flip, t["x"], t["y"])
    x = np.where(flip, t["y"], t["x"])
    out = pd.DataFrame(
        {
            "y": y,
            "x": x,
            "score": t["pvalue"].to_numpy(),
            "pvalue": t["pvalue"].to_numpy(),
            "pvalue_adj": t["pvalue_adj"].to_numpy(),
            "distance": np.nan,
            "beta": t["beta"].to_numpy(),
            "alpha": t["alpha"].to_numpy(),
        }
    )
    skipped = res.skipped
    if len(skipped):
        out = pd.concat(
            [out, pd.DataFrame({"y": skipped["y"], "x": skipped["x"], "reason": "degenerate"})],
            ignore_index=True,
        )
    return out


def _distance_scores(sel: Selection, values: np.ndarray, names: np.ndarray) -> pd.DataFrame:
    first = values[0]
    norm = values - first if sel.log else values / first
    yi, xi = np.triu_indices(values.shape[1], k=1)
    dist = np.empty(yi.size)
    for a in range(0, yi.size, _CHUNK):
        b = min(a + _CHUNK, yi.size)
        diff = norm[:, yi[a:b]] - norm[:, xi[a:b]]
        dist[a:b] = np.einsum("ij,ij->j", diff, diff)
    beta = np.ones(yi.size) if sel.log else first[yi] / first[xi]
    alpha = first[yi] - first[xi] if sel.log else np.zeros(yi.size)
    return pd.DataFrame(
        {
            "y": names[yi],
            "x": names[xi],
            "score": dist,
            "pvalue": np.nan,
            "pvalue_adj": np.nan,
            "distance": dist,
            "beta": beta,
            "alpha": alpha,
        }
    )


def _crossings(centred: np.ndarray) -> np.ndarray:
    """Sign changes along each row, a zero keeping the sign before it."""
    sign = np.sign(centred)
    # Carry the last non-zero sign over zeros: index of the last non-zero entry up to each column.
    last = np.maximum.accumulate(np.where(sign != 0, np.arange(sign.shape[1]), 0), axis=1)
    carried = np.take_along_axis(sign, last, axis=1)
    return np.count_nonzero((carried[:, 1:] != carried[:, :-1]) & (carried[:, :-1] != 0), axis=1)


def _spread_stats(table: pd.DataFrame, values: np.ndarray, names: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Half-life and zero crossings of each row's formation spread ``y - beta x - alpha``."""
    col = {name: i for i, name in enumerate(names)}
    yi = np.array([col[v] for v in table["y"]], dtype=np.int64)
    xi = np.array([col[v] for v in table["x"]], dtype=np.int64)
    beta, alpha = table["beta"].to_numpy(), table["alpha"].to_numpy()
    hl = np.full(len(table), np.nan)
    crossings = np.zeros(len(table), dtype=np.int64)
    for a in range(0, len(table), _CHUNK):
        b = min(a + _CHUNK, len(table))
        spread = (values[:, yi[a:b]] - beta[a:b] * values[:, xi[a:b]] - alpha[a:b]).T
        hl[a:b] = half_lives(np.ascontiguousarray(spread))
        crossings[a:b] = _crossings(spread - spread.mean(axis=1, keepdims=True))
    return hl, crossings


def _confirmed(sel: Selection, row: int, table: pd.DataFrame, logs: pd.DataFrame) -> bool:
    """Whether the confirming test of ``sel.confirm`` rejects its null at ``sel.confirm_size``."""
    y, x = logs[table["y"].iat[row]], logs[table["x"].iat[row]]
    level = f"{sel.confirm_size:.0%}"
    if sel.confirm == "kss":
        spread = y - table["beta"].iat[row] * x - table["alpha"].iat[row]
        res: Any = kss(spread, trend="c")
    elif sel.confirm == "phillips_ouliaris":
        res = phillips_ouliaris(y, x)
    else:
        res = gregory_hansen(y, x)
    return bool(res.stat < res.crit_values[level])


def _walk(sel: Selection, table: pd.DataFrame, logs: pd.DataFrame | None) -> pd.DataFrame:
    reason = table["reason"].to_numpy(dtype=object)
    ok = reason == ""
    if sel.method == "coint" and sel.size is not None:
        bad = ok & ~(table["pvalue_adj"].to_numpy() < sel.size)
        reason[bad], ok = "not significant", ok & ~bad
    if sel.min_half_life is not None or sel.max_half_life is not None:
        hl = table["half_life"].to_numpy()
        lo = -np.inf if sel.min_half_life is None else sel.min_half_life
        hi = np.inf if sel.max_half_life is None else sel.max_half_life
        bad = ok & ~((hl >= lo) & (hl <= hi))
        reason[bad], ok = "half-life", ok & ~bad
    bad = ok & (table["crossings"].to_numpy() < sel.min_crossings)
    reason[bad], ok = "crossings", ok & ~bad
    per_coin: dict[Any, int] = {}
    cap = sel.max_pairs_per_coin
    kept = 0
    selected = np.zeros(len(table), dtype=bool)
    ys, xs = table["y"].to_numpy(), table["x"].to_numpy()
    for i in np.flatnonzero(ok):
        y, x = ys[i], xs[i]
        if kept >= sel.top:
            reason[np.flatnonzero(ok)[np.flatnonzero(ok) >= i]] = "beyond top"
            break
        if cap is not None and (per_coin.get(y, 0) >= cap or per_coin.get(x, 0) >= cap):
            reason[i] = "coin cap"
        elif sel.confirm is not None and logs is not None and not _confirmed(sel, int(i), table, logs):
            reason[i] = "not confirmed"
        else:
            selected[i] = True
            kept += 1
            per_coin[y] = per_coin.get(y, 0) + 1
            per_coin[x] = per_coin.get(x, 0) + 1
    table["selected"] = selected
    table["reason"] = reason
    return table


def select_pairs(sel: Selection, prices: Any) -> pd.DataFrame:
    """:meth:`pairs.Selection.select`: the ranked candidate table of one formation window."""
    frame = as_frame(prices, "prices", allow_nan=True, positive=True, min_columns=2)
    if len(frame) < MIN_FORMATION:
        raise InsufficientDataError(
            f"prices must have at least {MIN_FORMATION} rows (a formation window); got {len(frame)}."
        )
    complete = frame.columns[frame.notna().all().to_numpy()]
    names = list(frame.columns)
    if len(complete) >= 2:
        full = frame[complete]
        values = np.log(full.to_numpy()) if sel.log else full.to_numpy()
        if sel.method == "coint":
            table = _coint_scores(sel, full)
        else:
            table = _distance_scores(sel, values, np.asarray(complete, dtype=object))
        table["reason"] = table["reason"].fillna("") if "reason" in table else ""
        tested = (table["reason"] == "").to_numpy()
        hl = np.full(len(table), np.nan)
        crossings = np.zeros(len(table), dtype=np.int64)
        hl[tested], crossings[tested] = _spread_stats(table[tested], values, list(complete))
        table["half_life"], table["crossings"] = hl, crossings
    else:
        table = _empty()
    incomplete = [c for c in names if c not in set(complete)]
    if incomplete:
        position = {c: i for i, c in enumerate(names)}
        rows = [
            (a, b) if position[a] < position[b] else (b, a)
            for i, a in enumerate(names)
            for b in names[i + 1 :]
            if a in incomplete or b in incomplete
        ]
        missing = pd.DataFrame(rows, columns=["y", "x"])
        missing["reason"] = "missing prices"
        table = pd.concat([table, missing], ignore_index=True)
    if table.empty:
        return _empty()
    order = np.lexsort(
        (table["x"].astype(str), table["y"].astype(str), table["score"].fillna(np.inf).to_numpy())
    )
    table = table.iloc[order].reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1, dtype=np.int64)
    table["crossings"] = table["crossings"].fillna(0).astype("int64")
    logs = None
    if sel.confirm is not None and len(complete) >= 2:
        logs = np.log(frame[complete]) if sel.log else frame[complete]
    table = _walk(sel, table, logs)
    return table[COLUMNS].astype({"selected": bool})
