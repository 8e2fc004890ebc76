"""Universe screening: Engle-Granger on every pair of a price panel, with multiple-testing correction.

Each pair is tested on its common history (rows where both coins have a price). Pairs sharing the
same rows form a group (a panel without NaN is one group); a group's pairs are cut into batches
that run through the compiled kernel of :mod:`pairs.screening._batch`, in this process, in a process
pool (``n_jobs``), or on a dask cluster (``backend="dask"``). The computation of a pair does not
depend on its batch or worker, so every backend and ``n_jobs`` returns identical numbers.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import math
import multiprocessing
import os
import sys
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from pairs._results import ResultMixin, Summary, format_table, frame_html, rows_html
from pairs._typing import Correction
from pairs._validation import (
    as_frame,
    check_choice,
    check_float,
    check_int,
    renamed_attribute,
    renamed_option,
)
from pairs.coint._bootstrap import resolve_boot
from pairs.coint._kernels import TREND_TERMS, default_max_lag
from pairs.coint._stationarity import resolve_lag_options
from pairs.exceptions import DataError, InsufficientDataError, MissingDependencyError, PairsError
from pairs.screening._batch import Batch, BatchOut, ScanState, init_worker, run_batch, worker_batch

__all__ = ["ScanResult", "ranked", "scan", "scan_panel"]

_SIZE = 0.05  # the default test size of scan

_MAX_BATCH = 1024
# Below this many pairs a scan takes well under a second: no progress bar unless forced.
_PROGRESS_MIN_PAIRS = 2000
_OUT_DTYPES: dict[str, type] = {field: np.float64 for field in BatchOut._fields} | {
    "lags": np.int64,
    "reverse": np.bool_,
}
_COLUMNS = ["y", "x", "stat", "pvalue", "pvalue_adj", "significant", "direction"]
_COLUMNS += ["beta", "alpha", "half_life", "lags", "n_obs"]


@dataclass(frozen=True, repr=False)
class ScanResult(ResultMixin):
    """Result of :func:`scan`.

    ``table`` has one row per tested pair, sorted by p-value (ties: statistic, then input order),
    with columns ``y``, ``x`` (``y`` is the column that comes first in the input), ``stat``,
    ``pvalue``, ``pvalue_adj``, ``significant`` (``pvalue_adj < size``), ``direction`` of the
    reported regression (``"y~x"``: y on x; ``"x~y"``: x on y), its hedge ratio ``beta`` and
    intercept ``alpha``, the ``half_life`` (bars) of its residual, the ADF ``lags`` and ``n_obs``
    (common-history length). With ``direction="both"`` it also has ``pvalue_forward`` (y~x) and
    ``pvalue_reverse`` (x~y). ``skipped`` lists the pairs not tested (``reason``: ``"overlap"``
    below ``min_overlap``, or ``"degenerate"``: a leg constant on the common history).
    """

    table: pd.DataFrame
    skipped: pd.DataFrame
    n_pairs: int
    n_tested: int
    n_skipped: int
    n_significant: int
    test: str
    correction: str
    size: float
    direction: str
    trend: str
    autolag: str | None
    max_lag: int | None
    min_overlap: int
    log: bool
    pvalue_method: str = "surface"
    n_boot: int | None = None
    seed: int | None = None
    _title = "Cointegration scan"
    alpha = renamed_attribute("size", "alpha")

    def _head(self, top: int) -> pd.DataFrame:
        return self.table.head(top)[["y", "x", "stat", "pvalue", "pvalue_adj", "beta", "half_life"]]

    def summary(self, top: int = 10) -> str:
        """Return the scan settings and counts, followed by the ``top`` rows of the table."""
        head = self._head(top)
        text = format_table(self._summary_rows(), title=self._title)
        return Summary(
            text if head.empty else f"{text}\n\n{head.to_string(float_format=lambda v: f'{v:.4g}')}"
        )

    def _repr_html_(self) -> str:
        head = self._head(10)
        return rows_html(self._summary_rows(), self._title) + ("" if head.empty else frame_html(head))


def _common_groups(valid: np.ndarray, yi: np.ndarray, xi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group id of every pair by its common-history rows, and the packed row mask of each group.

    Columns with the same missing-data pattern are merged first, so the work grows with the number
    of distinct patterns (listing dates), not with the number of pairs.
    """
    if valid.all():  # no missing value (a formation window of complete coins): one group, every row
        return np.zeros(len(yi), dtype=np.int64), np.packbits(valid[:1], axis=1)
    patterns, col_pattern = np.unique(np.packbits(valid, axis=1), axis=0, return_inverse=True)
    n_pat = len(patterns)
    keys: dict[bytes, int] = {}
    masks: list[np.ndarray] = []
    lookup = np.empty((n_pat, n_pat), dtype=np.int64)
    for a in range(n_pat):
        for offset, row in enumerate(patterns[a] & patterns[a:]):
            gid = keys.setdefault(row.tobytes(), len(keys))
            if gid == len(masks):
                masks.append(row)
            lookup[a, a + offset] = lookup[a + offset, a] = gid
    col_pattern = col_pattern.ravel()
    return lookup[col_pattern[yi], col_pattern[xi]], np.array(masks, dtype=np.uint8)


def _batches(group: np.ndarray, size: int) -> list[tuple[np.ndarray, int]]:
    """Positions of the pairs of each batch (one history group per batch) and the group id."""
    order = np.argsort(group, kind="stable")
    starts = np.flatnonzero(np.r_[True, group[order][1:] != group[order][:-1]])
    ends = np.r_[starts[1:], len(order)]
    return [
        (order[i : min(i + size, end)], int(group[order[start]]))
        for start, end in zip(starts, ends, strict=True)
        for i in range(start, end, size)
    ]


def _progress_bar(progress: bool | None, total: int) -> Any:
    if progress is False or (progress is None and (total < _PROGRESS_MIN_PAIRS or not sys.stderr.isatty())):
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError as exc:
        if progress is None:
            return None
        raise MissingDependencyError(
            "progress=True requires tqdm; install it with `pip install 'pairs[progress]'`."
        ) from exc
    return tqdm(total=total, unit="pair", desc="scan", file=sys.stderr)


def _run_local(
    state: ScanState, batches: list[Batch], n_jobs: int
) -> Generator[tuple[int, BatchOut], None, None]:
    if n_jobs == 1 or len(batches) == 1:
        for i, batch in enumerate(batches):
            yield i, run_batch(state, batch)
        return
    # "spawn" behaves the same on every OS and is safe after threads (numba, dask) have started.
    pool = cf.ProcessPoolExecutor(
        max_workers=min(n_jobs, len(batches)),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=init_worker,
        initargs=(state,),
    )
    try:
        futures = {pool.submit(worker_batch, batch): i for i, batch in enumerate(batches)}
        for fut in cf.as_completed(futures):
            yield futures[fut], fut.result()
    finally:
        # On an error or interrupt, drop the queued batches instead of finishing them.
        pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def _dask_session(client: Any) -> Iterator[Any]:
    """Yield the client to use; close it afterwards when it was created here from an address."""
    try:
        import distributed
    except ImportError as exc:
        raise MissingDependencyError(
            "backend='dask' requires dask.distributed; install it with `pip install 'pairs[dask]'`."
        ) from exc
    if isinstance(client, distributed.Client):
        yield client
        return
    if isinstance(client, str):
        with distributed.Client(client) as owned:
            yield owned
        return
    if client is None:
        try:
            default = distributed.get_client()
        except ValueError:
            default = None
        if default is not None:
            yield default
            return
    raise PairsError(
        "client must be a dask.distributed Client or a scheduler address when backend='dask' "
        f"and no default client exists; got {client!r}."
    )


def _run_dask(
    state: ScanState, batches: list[Batch], client: Any
) -> Generator[tuple[int, BatchOut], None, None]:
    from distributed import as_completed

    state_future = client.scatter(state, broadcast=True, hash=False)
    futures = [client.submit(run_batch, state_future, batch, pure=False) for batch in batches]
    index = {fut.key: i for i, fut in enumerate(futures)}
    try:
        for fut, out in as_completed(futures, with_results=True):
            yield index[fut.key], out
    finally:
        client.cancel([*futures, state_future])


def _execute(
    state: ScanState,
    group: np.ndarray,
    yi: np.ndarray,
    xi: np.ndarray,
    *,
    backend: str,
    jobs: int,
    client: Any,
    batch_size: int | None,
    progress: bool | None,
) -> BatchOut:
    """Test the pairs ``(yi[k], xi[k])`` of history groups ``group[k]`` on the chosen backend."""
    full = BatchOut(**{field: np.empty(len(yi), dtype=dtype) for field, dtype in _OUT_DTYPES.items()})
    with contextlib.ExitStack() as stack:
        bar = _progress_bar(progress, len(yi))
        if bar is not None:
            stack.callback(bar.close)
        if backend == "dask":
            client = stack.enter_context(_dask_session(client))
            jobs = max(1, sum(client.nthreads().values()))
        size = batch_size or max(1, min(_MAX_BATCH, math.ceil(len(yi) / (4 * jobs))))
        plan = _batches(group, size)
        batches = [Batch(g, yi[idx], xi[idx]) for idx, g in plan]
        run = _run_local(state, batches, jobs) if backend == "local" else _run_dask(state, batches, client)
        for i, out in stack.enter_context(contextlib.closing(run)):
            for dest, src in zip(full, out, strict=True):
                dest[plan[i][0]] = src
            if bar is not None:
                bar.update(len(plan[i][0]))
    return full


def _correct(pvalue: np.ndarray, correction: str, size: float) -> np.ndarray:
    if correction == "none" or pvalue.size == 0:
        return pvalue.copy()
    from statsmodels.stats.multitest import multipletests  # statsmodels loads on first use

    return multipletests(pvalue, alpha=size, method=correction)[1]


def ranked(out: BatchOut, correction: str, size: float) -> tuple[np.ndarray, np.ndarray]:
    """Positions in ``out`` of the tested pairs (degenerate ones dropped) in the table's order, and
    their adjusted p-values in that order."""
    tested = np.flatnonzero(~np.isnan(out.pvalue))
    # Ties (p-values clipped at 0 or 1) are broken by the statistic, then by input order.
    order = tested[np.lexsort((tested, out.stat[tested], out.pvalue[tested]))]
    return order, _correct(out.pvalue[order], correction, size)


def _finish(
    names: np.ndarray,
    yi: np.ndarray,
    xi: np.ndarray,
    n_obs: np.ndarray,
    keep: np.ndarray,
    out: BatchOut,
    direction: str,
    correction: str,
    size: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sorted, corrected table of the tested pairs and the table of skipped ones."""
    pos = np.flatnonzero(keep)
    order, adj = ranked(out, correction, size)
    at = pos[order]
    table = pd.DataFrame(
        {
            "y": names[yi[at]],
            "x": names[xi[at]],
            "stat": out.stat[order],
            "pvalue": out.pvalue[order],
            "pvalue_adj": adj,
            "significant": adj < size,
            "direction": np.where(out.reverse[order], "x~y", "y~x"),
            "beta": out.beta[order],
            "alpha": out.alpha[order],
            "half_life": out.half_life[order],
            "lags": out.lags[order],
            "n_obs": n_obs[at],
        },
        columns=_COLUMNS,
    )
    if direction == "both":
        table["pvalue_forward"] = out.pvalue_forward[order]
        table["pvalue_reverse"] = out.pvalue_reverse[order]
    degenerate = np.isnan(out.pvalue)
    drop = np.r_[np.flatnonzero(~keep), pos[degenerate]]
    skipped = pd.DataFrame(
        {
            "y": names[yi[drop]],
            "x": names[xi[drop]],
            "n_obs": n_obs[drop],
            "reason": ["overlap"] * int((~keep).sum()) + ["degenerate"] * int(degenerate.sum()),
        }
    )
    return table, skipped


def _validate(
    prices: Any, log: Any, n_jobs: Any, backend: str, client: Any, progress: Any
) -> tuple[pd.DataFrame, int]:
    if not isinstance(prices, pd.DataFrame):
        raise DataError(
            f"prices must be a pandas DataFrame with one column per coin; got {type(prices).__name__}."
        )
    if not isinstance(log, (bool, np.bool_)):
        raise PairsError(f"log must be a bool; got {log!r}.")
    if progress is not None and not isinstance(progress, (bool, np.bool_)):
        raise PairsError(f"progress must be None, True or False; got {progress!r}.")
    jobs = check_int("n_jobs", n_jobs, minimum=-1)
    if jobs == 0:
        raise PairsError("n_jobs must be a positive integer or -1 (all cores); got 0.")
    if client is not None and backend != "dask":
        raise PairsError(f"client must be None unless backend='dask'; got {type(client).__name__}.")
    frame = as_frame(prices, "prices", allow_nan=True, positive=bool(log), min_columns=2)
    return frame, (os.cpu_count() or 1) if jobs == -1 else jobs


def scan_panel(
    panel: np.ndarray,
    overlap: int,
    *,
    direction: str = "y~x",
    trend: str = "c",
    max_lag: int | None = None,
    autolag: str | None = "bic",
    boot: tuple[int, int] | None = None,
    backend: str = "local",
    jobs: int = 1,
    client: Any = None,
    batch_size: int | None = None,
    progress: bool | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, BatchOut]:
    """The tests of :func:`scan` on a checked C-contiguous ``(n_coins, n_bars)`` panel (logged if wanted).

    Returns every pair ``(yi, xi)`` (``yi < xi``), its common-history length ``n_obs``, ``keep``
    (``n_obs >= overlap``) and the results of the kept pairs, in that order.
    """
    yi, xi = np.triu_indices(panel.shape[0], k=1)
    group, masks = _common_groups(~np.isnan(panel), yi, xi)
    group_obs = np.unpackbits(masks, axis=1, count=panel.shape[1]).sum(axis=1, dtype=np.int64)
    n_obs = group_obs[group]
    keep = n_obs >= overlap
    state = ScanState(
        panel=panel,
        masks=masks,
        max_lags=np.array([default_max_lag(int(n), 0) if max_lag is None else max_lag for n in group_obs]),
        trend=trend,
        autolag=autolag,
        both=direction == "both",
        boot=boot,
    )
    pos = np.flatnonzero(keep)
    out = _execute(
        state,
        group[pos],
        yi[pos],
        xi[pos],
        backend=backend,
        jobs=jobs,
        client=client,
        batch_size=batch_size,
        progress=progress,
    )
    return yi, xi, n_obs, keep, out


def scan(
    prices: pd.DataFrame,
    *,
    test: Literal["engle_granger"] = "engle_granger",
    size: float = _SIZE,
    correction: Correction = "fdr_bh",
    min_overlap: int = 100,
    direction: Literal["y~x", "both"] = "y~x",
    trend: Literal["n", "c", "ct", "ctt"] = "c",
    max_lag: int | None = None,
    autolag: Literal["aic", "bic", "t-stat"] | None = "bic",
    log: bool = False,
    n_jobs: int = 1,
    backend: Literal["local", "dask"] = "local",
    client: Any = None,
    batch_size: int | None = None,
    progress: bool | None = None,
    alpha: float | None = None,
    pvalue: Literal["surface", "bootstrap"] = "surface",
    n_boot: int = 499,
    seed: int = 0,
) -> ScanResult:
    """Test every pair of columns of a price panel for cointegration, with multiple-testing correction.

    Each pair ``(y, x)`` (``y`` is the column that comes first in ``prices``) is tested with
    :func:`pairs.coint._engle_granger` on its common history, the rows where both have a value;
    pairs with fewer than ``min_overlap`` common rows are skipped and counted. The p-values of the
    tested pairs are then adjusted for multiple testing with statsmodels' ``multipletests``.

    Parameters
    ----------
    prices
        Prices (or log prices), one column per coin, NaN where a coin has no price (e.g. before
        its listing). Sorted unique index.
    test
        ``"engle_granger"`` (null: no cointegration; statsmodels ``coint``).
    size
        Test size (significance level) of ``significant``, in (0, 1): ``pvalue_adj < size``.
    correction
        ``"fdr_bh"`` (Benjamini-Hochberg false-discovery rate), ``"bonferroni"`` (family-wise
        error) or ``"none"``.
    min_overlap
        Smallest common history to test a pair, at least 30 bars.
    direction
        ``"y~x"`` regresses y on x; ``"both"`` tests both regressions and reports the one with the
        larger p-value, as ``engle_granger(direction="both")`` (one hypothesis per pair).
    trend, max_lag, autolag
        As :func:`pairs.coint._engle_granger`; the default ``max_lag`` depends on each pair's
        overlap, a given ``max_lag`` must be ``<= (min_overlap - 4) // 2``.
    log
        Test log prices (``prices`` must then be strictly positive).
    n_jobs
        Worker processes of the local backend (``-1``: all cores).
    backend
        ``"local"`` or ``"dask"`` (needs ``dask.distributed``).
    client
        With ``backend="dask"``: a ``distributed.Client``, a scheduler address, or None for the
        current default client. The panel is scattered once to every worker.
    batch_size
        Pairs per task (default: about four tasks per worker, at most 1024). Results do not
        depend on it.
    progress
        tqdm progress bar: None shows it for scans of 2,000+ pairs when stderr is a terminal.
    alpha
        Deprecated: the former name of ``size`` (``alpha`` is an intercept everywhere else),
        accepted with a ``FutureWarning`` until the next release; giving it with a ``size``
        other than the default is an error.
    pvalue, n_boot, seed
        P-values of each pair's test, as :func:`pairs.coint._engle_granger`: ``"surface"``
        (default) or ``"bootstrap"`` (sieve wild bootstrap with ``n_boot`` paths; robust to
        volatility clustering). A pair's bootstrap p-value depends on ``seed`` and its own data
        only, not on the other pairs, batches or backend. On a simulated null-heavy universe
        under GARCH-t innovations Benjamini-Hochberg keeps the false-discovery rate below 5%
        with it (docs/statistics.md).

    Returns
    -------
    ScanResult
        ``table`` sorted by p-value, ``skipped`` pairs, counts and settings; ``summary()``.

    Examples
    --------
    >>> import pairs
    >>> prices = pairs.load_sample("binance_1d")[["BTC", "ETH", "LTC", "SOL"]]
    >>> res = scan(prices, log=True, min_overlap=2000)
    >>> res.n_tested, res.n_skipped, list(res.skipped["x"])
    (3, 3, ['SOL', 'SOL', 'SOL'])
    >>> list(res.table.columns[:6])
    ['y', 'x', 'stat', 'pvalue', 'pvalue_adj', 'significant']
    """
    check_choice("test", test, ("engle_granger",))
    check_choice("correction", correction, ("fdr_bh", "bonferroni", "none"))
    check_choice("direction", direction, ("y~x", "both"))
    check_choice("trend", trend, TREND_TERMS)
    check_choice("backend", backend, ("local", "dask"))
    size = renamed_option("size", size, "alpha", alpha, _SIZE)
    level = check_float("size", size, minimum=0.0, maximum=1.0, strict_min=True, strict_max=True)
    overlap = check_int("min_overlap", min_overlap, minimum=30)
    resolve_lag_options(max_lag, autolag, overlap, 0)
    if max_lag is not None and max_lag > (overlap - 4) // 2:
        raise InsufficientDataError(
            f"max_lag must be <= (min_overlap - 4) // 2 = {(overlap - 4) // 2} so that every tested "
            f"pair keeps residual degrees of freedom; got {max_lag}."
        )
    chunk = None if batch_size is None else check_int("batch_size", batch_size, minimum=1)
    boot = resolve_boot(pvalue, n_boot, seed)
    frame, jobs = _validate(prices, log, n_jobs, backend, client, progress)
    if len(frame) < overlap:
        raise InsufficientDataError(
            f"prices must have at least min_overlap={overlap} rows; got {len(frame)}."
        )

    values = frame.to_numpy().T
    panel = np.ascontiguousarray(np.log(values) if log else values)
    yi, xi, n_obs, keep, out = scan_panel(
        panel,
        overlap,
        direction=direction,
        trend=trend,
        max_lag=max_lag,
        autolag=autolag,
        boot=boot,
        backend=backend,
        jobs=jobs,
        client=client,
        batch_size=chunk,
        progress=progress,
    )
    table, skipped = _finish(
        np.asarray(frame.columns, dtype=object), yi, xi, n_obs, keep, out, direction, correction, level
    )
    return ScanResult(
        table=table,
        skipped=skipped,
        n_pairs=len(yi),
        n_tested=len(table),
        n_skipped=len(skipped),
        n_significant=int(table["significant"].sum()),
        test=test,
        correction=correction,
        size=level,
        direction=direction,
        trend=trend,
        autolag=autolag,
        max_lag=None if max_lag is None else int(max_lag),
        min_overlap=overlap,
        log=bool(log),
        pvalue_method=pvalue,
        n_boot=None if boot is None else boot[0],
        seed=None if boot is None else boot[1],
    )
