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
from pairs.strategy._selection import MIN_FORMATION

if TYPE_CHECKING:
    from pairs.strategy._selection import Selection

__all__ = ["COLUMNS", "MIN_FORMATION", "select_checked", "select_pairs"]

COLUMNS = ["y", "x", "rank", "score", "pvalue", "pvalue_adj", "distance", "beta", "alpha"]
COLUMNS += ["half_life", "crossings", "selected", "reason"]
_CHUNK = 2048


Cols = dict[str, np.ndarray]
_FLOATS = ("score", "pvalue", "pvalue_adj", "distance", "beta", "alpha")


def _cols(y: Any, x: Any, reason: str = "", **values: Any) -> Cols:
    """Candidate columns as arrays (floats NaN where not given)."""
    n = len(y)
    out: Cols = {"y": np.asarray(y, dtype=object), "x": np.asarray(x, dtype=object)}
    for name in _FLOATS:
        out[name] = np.broadcast_to(np.asarray(values.get(name, np.nan), dtype=np.float64), (n,)).copy()
    out["reason"] = np.full(n, reason, dtype=object)
    return out


def _join(parts: list[Cols]) -> Cols:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _coint_scores(sel: Selection, frame: pd.DataFrame) -> Cols:
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
    ty, tx = t["y"].to_numpy(dtype=object), t["x"].to_numpy(dtype=object)
    pvalue = t["pvalue"].to_numpy()
    parts = [
        _cols(
            np.where(flip, tx, ty),
            np.where(flip, ty, tx),
            score=pvalue,
            pvalue=pvalue,
            pvalue_adj=t["pvalue_adj"].to_numpy(),
            beta=t["beta"].to_numpy(),
            alpha=t["alpha"].to_numpy(),
        )
    ]
    if len(res.skipped):
        parts.append(_cols(res.skipped["y"].to_numpy(), res.skipped["x"].to_numpy(), "degenerate"))
    return _join(parts)


def _distance_scores(sel: Selection, values: np.ndarray, names: np.ndarray) -> Cols:
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
    return _cols(names[yi], names[xi], score=dist, distance=dist, beta=beta, alpha=alpha)


def _crossings(centred: np.ndarray) -> np.ndarray:
    """Sign changes along each row, a zero keeping the sign before it."""
    sign = np.sign(centred)
    # Carry the last non-zero sign over zeros: index of the last non-zero entry up to each column.
    last = np.maximum.accumulate(np.where(sign != 0, np.arange(sign.shape[1]), 0), axis=1)
    carried = np.take_along_axis(sign, last, axis=1)
    return np.count_nonzero((carried[:, 1:] != carried[:, :-1]) & (carried[:, :-1] != 0), axis=1)


def _spread_stats(table: Cols, values: np.ndarray, col: dict[Any, int]) -> tuple[np.ndarray, np.ndarray]:
    """Half-life and zero crossings of each row's formation spread ``y - beta x - alpha``."""
    yi = np.array([col[v] for v in table["y"]], dtype=np.int64)
    xi = np.array([col[v] for v in table["x"]], dtype=np.int64)
    beta, alpha = table["beta"], table["alpha"]
    n = len(yi)
    hl = np.full(n, np.nan)
    crossings = np.zeros(n, dtype=np.int64)
    for a in range(0, n, _CHUNK):
        b = min(a + _CHUNK, n)
        spread = (values[:, yi[a:b]] - beta[a:b] * values[:, xi[a:b]] - alpha[a:b]).T
        hl[a:b] = half_lives(np.ascontiguousarray(spread))
        crossings[a:b] = _crossings(spread - spread.mean(axis=1, keepdims=True))
    return hl, crossings


def _confirmed(sel: Selection, y: np.ndarray, x: np.ndarray, beta: float, alpha: float) -> bool:
    """Whether the confirming test of ``sel.confirm`` rejects its null at ``sel.confirm_size``."""
    level = f"{sel.confirm_size:.0%}"
    if sel.confirm == "kss":
        res: Any = kss(y - beta * x - alpha, trend="c")
    elif sel.confirm == "phillips_ouliaris":
        res = phillips_ouliaris(y, x)
    else:
        res = gregory_hansen(y, x)
    return bool(res.stat < res.crit_values[level])


def _walk(sel: Selection, table: Cols, values: np.ndarray | None, col: dict[Any, int]) -> np.ndarray:
    """Which rows are selected (in rank order); ``table["reason"]`` says why the others are not."""
    reason = table["reason"]
    ok = reason == ""
    if sel.method == "coint" and sel.size is not None:
        bad = ok & ~(table["pvalue_adj"] < sel.size)
        reason[bad], ok = "not significant", ok & ~bad
    if sel.min_half_life is not None or sel.max_half_life is not None:
        hl = table["half_life"]
        lo = -np.inf if sel.min_half_life is None else sel.min_half_life
        hi = np.inf if sel.max_half_life is None else sel.max_half_life
        bad = ok & ~((hl >= lo) & (hl <= hi))
        reason[bad], ok = "half-life", ok & ~bad
    bad = ok & (table["crossings"] < sel.min_crossings)
    reason[bad], ok = "crossings", ok & ~bad
    per_coin: dict[Any, int] = {}
    cap = sel.max_pairs_per_coin
    kept = 0
    selected = np.zeros(len(reason), dtype=bool)
    ys, xs = table["y"], table["x"]
    candidates = np.flatnonzero(ok)
    for i in candidates:
        y, x = ys[i], xs[i]
        if kept >= sel.top:
            reason[candidates[candidates >= i]] = "beyond top"
            break
        if cap is not None and (per_coin.get(y, 0) >= cap or per_coin.get(x, 0) >= cap):
            reason[i] = "coin cap"
        elif (
            sel.confirm is not None
            and values is not None
            and not _confirmed(sel, values[:, col[y]], values[:, col[x]], table["beta"][i], table["alpha"][i])
        ):
            reason[i] = "not confirmed"
        else:
            selected[i] = True
            kept += 1
            per_coin[y] = per_coin.get(y, 0) + 1
            per_coin[x] = per_coin.get(x, 0) + 1
    return selected


def select_pairs(sel: Selection, prices: Any) -> pd.DataFrame:
    """:meth:`pairs.Selection.select`: the ranked candidate table of one formation window."""
    frame = as_frame(prices, "prices", allow_nan=True, positive=True, min_columns=2)
    if len(frame) < MIN_FORMATION:
        raise InsufficientDataError(
            f"prices must have at least {MIN_FORMATION} rows (a formation window); got {len(frame)}."
        )
    return select_checked(sel, frame)


def select_checked(sel: Selection, frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`select_pairs` of a frame already checked (a window of a checked portfolio's prices)."""
    raw = frame.to_numpy()
    names = list(frame.columns)
    whole = ~np.isnan(raw).any(axis=0)
    complete = [c for c, keep in zip(names, whole, strict=True) if keep]
    col = {c: i for i, c in enumerate(complete)}
    parts: list[Cols] = []
    values = None
    if len(complete) >= 2:
        full = raw[:, whole]
        values = np.log(full) if sel.log else full
        if sel.method == "coint":
            table = _coint_scores(sel, frame[complete])
        else:
            table = _distance_scores(sel, values, np.asarray(complete, dtype=object))
        table["half_life"] = np.full(len(table["y"]), np.nan)
        table["crossings"] = np.zeros(len(table["y"]), dtype=np.int64)
        tested = table["reason"] == ""
        sub = {k: v[tested] for k, v in table.items()}
        table["half_life"][tested], table["crossings"][tested] = _spread_stats(sub, values, col)
        parts.append(table)
    if not all(whole):
        idx = [
            (i, j) for i in range(len(names)) for j in range(i + 1, len(names)) if not (whole[i] and whole[j])
        ]
        missing = _cols([names[i] for i, _ in idx], [names[j] for _, j in idx], "missing prices")
        missing["half_life"] = np.full(len(idx), np.nan)
        missing["crossings"] = np.zeros(len(idx), dtype=np.int64)
        parts.append(missing)
    if not parts:
        return _empty()
    table = _join(parts)
    score = np.where(np.isnan(table["score"]), np.inf, table["score"])
    order = np.lexsort((table["x"].astype(str), table["y"].astype(str), score))
    table = {k: v[order] for k, v in table.items()}
    selected = _walk(sel, table, values, col)
    out = pd.DataFrame(
        {
            "y": table["y"],
            "x": table["x"],
            "rank": np.arange(1, len(order) + 1, dtype=np.int64),
            **{k: table[k] for k in _FLOATS},
            "half_life": table["half_life"],
            "crossings": table["crossings"].astype(np.int64),
            "selected": selected,
            "reason": table["reason"],
        },
        columns=COLUMNS,
    )
    return out


def _empty() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in COLUMNS})
    return frame.astype({"y": object, "x": object, "rank": "int64", "crossings": "int64", "selected": bool})
