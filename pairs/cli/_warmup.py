"""``pairs warmup``: compile every numba kernel into the cache ahead of first use.

Also the lazy command loader of the CLI: a command's module (and numpy, pandas, numba,
statsmodels behind it) is imported when that command runs, so ``pairs --help`` stays fast,
and one line on stderr says so at a terminal when a command is about to compile a kernel (the
first that is not in the cache). This module imports nothing heavy at import time.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from pairs._numba_cache import ADVICE, cache_root, on_first_compile

__all__ = ["cmd_warmup", "command", "exercises", "kernels", "uncompiled_kernels"]

COLD_NOTICE = (
    "pairs: compiling numeric kernels on first use; this happens once per install "
    "(cached in {where}; 'pairs warmup' does it ahead)..."
)


def _notice(warning: str | None) -> None:
    """One line on stderr before the first compile, for a person watching a terminal."""
    print(f"pairs: {warning}" if warning else COLD_NOTICE.format(where=_where()), file=sys.stderr, flush=True)


def _where() -> str:
    return cache_root() or "memory only: no folder is writable"


def command(module: str, name: str, *, compiles: bool = True) -> Callable[[argparse.Namespace], int]:
    """Return a command function that imports ``pairs.cli.<module>`` only when it runs."""

    def run(args: argparse.Namespace) -> int:
        if compiles and sys.stderr.isatty():
            on_first_compile(_notice)
        func = getattr(importlib.import_module(f"pairs.cli.{module}"), name)
        return int(func(args))

    run.__name__ = name
    return run


def exercises() -> Iterator[tuple[str, Callable[[], object]]]:
    """Yield ``(label, call)``: public calls that, between them, reach every kernel.

    Calls are small (a few hundred bars of the bundled data): what costs is compiling, once.
    The types of the arguments are those the library passes itself, so the cache entries
    written here are the ones later calls load.
    """
    import numpy as np
    import pandas as pd

    import pairs

    prices = pairs.load_sample()
    ly = np.log(prices["ETH"]).iloc[-500:]
    lx = np.log(prices["BTC"]).iloc[-500:]
    legs = pd.concat([lx, np.log(prices["BNB"]).iloc[-500:]], axis=1)
    strategies = [
        pairs.Strategy(log_prices=True, capital=10_000.0, lot_size=(0.01, 0.0001), rebalance_band=0.05),
        pairs.Strategy(hedge="kalman", zscore_method="innovation", log_prices=True),
        pairs.Strategy(hedge="rolling", zscore_method="ewm", zscore_halflife=20.0),
        pairs.Strategy(hedge="ols", zscore_method="expanding", capital=1_000.0, sizing_mode="dollar_neutral"),
    ]

    def stream(strategy: Any) -> None:
        # A streamed OLS hedge is a fixed beta (fitted on a training set).
        engine = (strategy.replace(beta=1.0) if strategy.hedge == "ols" else strategy).stream()
        engine.warmup(ly.iloc[:-20], lx.iloc[:-20])
        for ts, yv, xv in zip(ly.index[-20:], ly.iloc[-20:], lx.iloc[-20:], strict=True):
            engine.update(float(yv), float(xv), ts)

    yield (
        "hedge ratios",
        lambda: (
            pairs.rolling_hedge(ly, lx, window=60),
            pairs.rolling_hedge(ly, legs, window=60),
            pairs.expanding_hedge(ly, lx),
            pairs.ewm_hedge(ly, lx, halflife=30.0),
        ),
    )
    yield (
        "Kalman filter",
        lambda: (
            pairs.kalman_hedge(ly, lx, noise_units="log"),
            pairs.kalman_hedge(ly, lx, noise_units="log", fit="mle"),
            pairs.kalman_hedge(ly, lx, noise_units="log", fit="em", em_iter=5),
        ),
    )
    yield (
        "cointegration tests",
        lambda: (
            pairs.coint_report(ly, lx),
            pairs.adf(ly - lx, autolag="bic"),
            pairs.adf(ly - lx, autolag="t-stat"),
            pairs.rolling_coint(ly, lx, window=120, step=20),
            pairs.rolling_coint(ly, lx, window=120, step=20, test="adf_spread"),
            pairs.breakdown(ly, lx, window=120, step=20),
            pairs.adf(ly - lx, pvalue="bootstrap", n_boot=19, seed=0),
            pairs.engle_granger(ly, lx, pvalue="bootstrap", n_boot=19, seed=0),
            pairs.half_life(ly - lx, method="median_unbiased"),
        ),
    )

    def batches() -> None:
        from pairs.coint._kernels import adf_batch, eg_stat_batch

        panel = np.column_stack([ly, lx, legs.iloc[:, 1]])
        adf_batch(panel, 5)
        eg_stat_batch(panel[:, [0, 2]], panel[:, [1, 1]])

    yield "batched tests", batches
    yield "screening", lambda: pairs.scan(prices.iloc[-500:, :5], log=True)
    yield "strategies", lambda: [s.run(ly, lx).backtest() for s in strategies]
    yield "sweeps", lambda: pairs.sweep(strategies[2], {"rule.entry_z": [1.5, 2.0]}, ly, lx)

    def book(strategy: Any) -> None:
        from pairs.stream import StreamBook

        universe = np.log(prices[["BTC", "ETH", "LTC"]].iloc[-30:])
        trading = StreamBook([("ETH", "BTC"), ("LTC", "BTC")], strategy=strategy)
        for ts, row in universe.iterrows():
            trading.update(row, ts)

    yield "streaming", lambda: [stream(s) for s in strategies]  # type: ignore[func-returns-value]
    yield "stream book", lambda: [book(s) for s in strategies[:3]]  # type: ignore[func-returns-value]

    def portfolio() -> None:
        universe = prices[["BTC", "ETH", "LTC", "XRP"]].dropna().iloc[-120:]
        spec = pairs.Portfolio(
            pairs.Strategy(hedge="rolling", window=10), pairs.Selection(top=1), formation=40, trading=20
        )
        spec.backtest(universe)
        live = spec.stream(list(universe.columns))
        for ts, row in universe.iterrows():
            live.update(row, ts)

    yield "portfolio", portfolio


def _cached(kernel: Any) -> bool:
    # A kernel compiled inside a caller loaded from the cache is not loaded itself: an index of
    # its own in the cache (numba's) says whether it was compiled once.
    has_index = getattr(getattr(kernel, "_cache", None), "has_index", None)
    return bool(kernel.signatures) or (has_index is not None and has_index())


def kernels() -> dict[str, bool]:
    """The numba kernels of the imported kernel modules, each with whether it is compiled or cached.

    Kernels inlined into their callers (``inline="always"``) are never compiled on their own and
    are not listed.
    """
    from numba.core.registry import CPUDispatcher

    out = {}
    for name, module in sorted(sys.modules.items()):
        if name.startswith("pairs") and name.endswith("_kernels") and module is not None:
            for attr, value in vars(module).items():
                if (
                    isinstance(value, CPUDispatcher)
                    and value.__module__ == name
                    and value.targetoptions.get("inline") != "always"
                ):
                    out[f"{name}.{attr}"] = _cached(value)
    return out


def uncompiled_kernels() -> list[str]:
    """Name the numba kernels of the imported kernel modules neither compiled nor in the cache."""
    return [name for name, ready in kernels().items() if not ready]


def _print_kernels(fmt: str, where: str, seconds: float, status: dict[str, bool]) -> None:
    """stdout of ``pairs warmup``: every kernel and whether it is compiled, as ``--format`` asks."""
    from pairs.cli._io import print_csv, print_json, rows_text

    if fmt == "json":
        compiled = [name for name, ready in status.items() if ready]
        missing = [name for name, ready in status.items() if not ready]
        print_json({"cache": where, "seconds": seconds, "compiled": compiled, "uncompiled": missing})
    elif fmt == "csv":
        import pandas as pd

        print_csv(pd.DataFrame({"compiled": status}).rename_axis("kernel"))
    else:
        rows = [(name, "compiled" if ready else "not compiled") for name, ready in status.items()]
        print(rows_text(rows, title=f"{sum(status.values())} of {len(status)} kernels in {where}"))


def cmd_warmup(args: argparse.Namespace) -> int:
    """Run :func:`exercises` with a line per step on stderr; print every kernel and its state."""
    where = cache_root()
    if where is None:
        print(f"pairs: error: no writable folder for the kernel cache; {ADVICE}.", file=sys.stderr)
        return 2
    print(f"pairs: compiling every kernel into {where} (a minute or so on an empty cache)", file=sys.stderr)
    start = time.perf_counter()
    with warnings.catch_warnings():
        # The calls are for their compiled code, not their numbers (few bars, short EM).
        warnings.simplefilter("ignore")
        for label, call in exercises():
            t0 = time.perf_counter()
            call()
            print(f"  {label}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    status = kernels()
    missing = [name for name, ready in status.items() if not ready]
    seconds = time.perf_counter() - start
    print(f"pairs: done in {seconds:.1f} s", file=sys.stderr)
    if missing:
        print(f"pairs: not compiled (used only by other inputs): {', '.join(missing)}", file=sys.stderr)
    _print_kernels(args.format, where, seconds, status)
    return 0
