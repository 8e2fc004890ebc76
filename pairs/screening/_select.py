"""The selection step of a portfolio: rank the pairs of one formation window and keep the best.

Steps, for a :class:`~pairs.Selection` and a window of closes:

1. Candidates: every pair of coins with a price on every row of the window (pairs with a coin
   missing a price are listed with reason ``"missing prices"``).
2. Score: ``"coint"``: Engle-Granger as :func:`pairs.scan` (its tests and ranking, ``scan_panel``
   and ``ranked``, on the window's arrays: p-value, adjusted p-value, the hedge ``beta``/``alpha``
   of the reported regression); ``"distance"``: the sum of squared
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
from pairs.screening._scan import ranked, scan_panel
from pairs.strategy._selection import MIN_FORMATION

if TYPE_CHECKING:
    from pairs.strategy._selection import Selection

__all__ = ["COLUMNS", "MIN_FORMATION", "select_checked", "select_pairs"]

COLUMNS = ["y", "x", "rank", "score", "pvalue", "pvalue_adj", "distance", "beta", "alpha"]
COLUMNS += ["half_life", "crossings", "selected", "reason"]
_CHUNK = 2048
_BLOCK_VALUES = 50_000


Cols = dict[str, np.ndarray]
_FLOATS = ("score", "pvalue", "pvalue_adj", "distance", "beta", "alpha")


def _cols(yi: np.ndarray, xi: np.ndarray, reason: str = "", **values: Any) -> Cols:
    """Candidate columns as arrays: ``yi``/``xi`` are column numbers of the window (floats NaN where
    not given)."""
    n = len(yi)
    out: Cols = {"yi": np.asarray(yi, dtype=np.int64), "xi": np.asarray(xi, dtype=np.int64)}
    for name in _FLOATS:
        out[name] = np.broadcast_to(np.asarray(values.get(name, np.nan), dtype=np.float64), (n,)).copy()
    out["half_life"] = np.full(n, np.nan)
    out["crossings"] = np.zeros(n, dtype=np.int64)
    out["reason"] = np.full(n, reason, dtype=object)
    return out


def _coint_scores(sel: Selection, panel: np.ndarray, cols: np.ndarray) -> Cols:
    """Engle-Granger of every pair of the complete coins ``cols`` (their rows of ``panel``), as
    :func:`pairs.scan` with ``min_overlap`` the window's length, on the arrays of the checked window."""
    size = 0.05 if sel.size is None else sel.size
    yi, xi, _, _, out = scan_panel(np.ascontiguousarray(panel[cols]), panel.shape[1], direction=sel.direction)
    order, adj = ranked(out, sel.correction, size)
    flip = out.reverse[order]
    ty, tx = cols[yi[order]], cols[xi[order]]
    pvalue = out.pvalue[order]
    parts = [
        _cols(
            np.where(flip, tx, ty),
            np.where(flip, ty, tx),
            score=pvalue,
            pvalue=pvalue,
            pvalue_adj=adj,
            beta=out.beta[order],
            alpha=out.alpha[order],
        )
    ]
    degenerate = np.flatnonzero(np.isnan(out.pvalue))
    if degenerate.size:
        parts.append(_cols(cols[yi[degenerate]], cols[xi[degenerate]], "degenerate"))
    return _join(parts)


def _distance_scores(sel: Selection, values: np.ndarray, cols: np.ndarray) -> Cols:
    """Distance of every pair of the complete coins ``cols`` (their columns of ``values``)."""
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
    return _cols(cols[yi], cols[xi], score=dist, distance=dist, beta=beta, alpha=alpha)


def _join(parts: list[Cols]) -> Cols:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _crossings(centred: np.ndarray) -> np.ndarray:
    """Sign changes along each row, a zero keeping the sign before it."""
    neg = centred < 0
    out = np.count_nonzero(neg[:, 1:] != neg[:, :-1], axis=1)
    # Rows with a zero (or NaN) entry, rare: carry the last non-zero sign over the zeros.
    odd = np.flatnonzero((neg == (centred > 0)).any(axis=1))
    if odd.size:
        sign = np.sign(centred[odd])
        last = np.maximum.accumulate(np.where(sign != 0, np.arange(sign.shape[1]), 0), axis=1)
        carried = np.take_along_axis(sign, last, axis=1)
        out[odd] = np.count_nonzero((carried[:, 1:] != carried[:, :-1]) & (carried[:, :-1] != 0), axis=1)
    return out


def _spread_stats(table: Cols, panel: np.ndarray, rows: np.ndarray) -> None:
    """Half-life and zero crossings of the formation spread ``y - beta x - alpha`` of ``rows`` of the
    table (``panel``: one row of (log) prices per coin), written into the table."""
    yi, xi = table["yi"][rows], table["xi"][rows]
    beta, alpha = table["beta"][rows, None], table["alpha"][rows, None]
    # Blocks of about 400 kB, built in place: they stay in cache, where whole-table temporaries do not.
    step = max(1, _BLOCK_VALUES // panel.shape[1])
    for a in range(0, rows.size, step):
        b = min(a + step, rows.size)
        spread = panel[yi[a:b]]
        hedge = panel[xi[a:b]]
        hedge *= beta[a:b]
        spread -= hedge
        spread -= alpha[a:b]
        table["half_life"][rows[a:b]] = half_lives(spread)
        spread -= spread.mean(axis=1, keepdims=True)
        table["crossings"][rows[a:b]] = _crossings(spread)


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


def _walk(sel: Selection, table: Cols, panel: np.ndarray) -> np.ndarray:
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
    per_coin: dict[int, int] = {}
    cap = sel.max_pairs_per_coin
    kept = 0
    selected = np.zeros(len(reason), dtype=bool)
    ys, xs = table["yi"].tolist(), table["xi"].tolist()
    candidates = np.flatnonzero(ok)
    for i in candidates.tolist():
        y, x = ys[i], xs[i]
        if kept >= sel.top:
            reason[candidates[candidates >= i]] = "beyond top"
            break
        if cap is not None and (per_coin.get(y, 0) >= cap or per_coin.get(x, 0) >= cap):
            reason[i] = "coin cap"
        elif sel.confirm is not None and not _confirmed(
            sel, panel[y], panel[x], table["beta"][i], table["alpha"][i]
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
    raw = np.ascontiguousarray(frame.to_numpy(dtype=np.float64).T)  # one row per coin
    names = np.asarray(frame.columns, dtype=object)
    whole = ~np.isnan(raw).any(axis=1)
    cols = np.flatnonzero(whole)
    panel = np.log(raw) if sel.log else raw
    parts: list[Cols] = []
    if cols.size >= 2:
        if sel.method == "coint":
            table = _coint_scores(sel, panel, cols)
        else:
            table = _distance_scores(sel, np.ascontiguousarray(panel[cols].T), cols)
        _spread_stats(table, panel, np.flatnonzero(table["reason"] == ""))
        parts.append(table)
    if not whole.all():
        yi, xi = np.triu_indices(len(names), k=1)
        gap = ~(whole[yi] & whole[xi])
        parts.append(_cols(yi[gap], xi[gap], "missing prices"))
    if not parts:
        return _empty()
    table = _join(parts)
    score = np.where(np.isnan(table["score"]), np.inf, table["score"])
    keys = names.astype(str)
    order = np.lexsort((keys[table["xi"]], keys[table["yi"]], score))
    table = {k: v[order] for k, v in table.items()}
    selected = _walk(sel, table, panel)
    return pd.DataFrame(
        {
            "y": names[table["yi"]],
            "x": names[table["xi"]],
            "rank": np.arange(1, len(order) + 1, dtype=np.int64),
            **{k: table[k] for k in _FLOATS},
            "half_life": table["half_life"],
            "crossings": table["crossings"],
            "selected": selected,
            "reason": table["reason"],
        },
        columns=COLUMNS,
    )


def _empty() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in COLUMNS})
    return frame.astype({"y": object, "x": object, "rank": "int64", "crossings": "int64", "selected": bool})
