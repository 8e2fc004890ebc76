"""One compiled signature per kernel on the first run's path (cold start, issue #15).

numba compiles a kernel again for each new combination of argument types; a read-only array
(what pandas 3 hands out) or a literal constant is a different type, and each extra signature
costs seconds on an empty cache. A fresh interpreter (a subprocess, no timeout) with an empty
numba cache (a warm one hides the callees: they are loaded inside their callers) runs public
calls of ``pairs demo`` with read-only pandas input and with writable arrays, and every kernel
it compiled must have exactly one signature.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CODE = """
import json, sys
import numpy as np
import pairs
from numba.core.registry import CPUDispatcher

prices = pairs.load_sample("binance_1d")[["BTC", "ETH", "LTC"]].dropna().iloc[:400]
logp = np.log(prices)
y, x = logp["ETH"], logp["BTC"]
pairs.engle_granger(y, x)
pairs.engle_granger(y.to_numpy().copy(), x.to_numpy().copy())
pairs.adf(y - x)
pairs.adf((y - x).to_numpy().copy())
pairs.adf(y - x, pvalue="bootstrap", n_boot=19)
pairs.engle_granger(y, x, pvalue="bootstrap", n_boot=19)
pairs.scan(logp, progress=False)
strategy = pairs.Strategy(log_prices=True)
strategy.run(prices["ETH"], prices["BTC"])
engine = strategy.stream()
engine.warmup(prices["ETH"].iloc[:-5], prices["BTC"].iloc[:-5])
for ts, a, b in zip(prices.index[-5:], prices["ETH"].iloc[-5:], prices["BTC"].iloc[-5:]):
    engine.update(a, b, ts)
account = pairs.Strategy(log_prices=True, capital=1e4)
account.backtest(prices["ETH"], prices["BTC"])
grid = {"rule.entry_z": [1.5, 2.0], "fill": ["close", "next_close"], "leverage": [None, 1.0]}
pairs.sweep(account, grid, prices["ETH"], prices["BTC"])
pairs.sweep(account.replace(capital=None), grid, prices["ETH"], prices["BTC"])
out = {}
for name, module in sorted(sys.modules.items()):
    if name.startswith("pairs") and name.endswith("_kernels") and module is not None:
        for attr, value in vars(module).items():
            if isinstance(value, CPUDispatcher) and value.__module__ == name and value.signatures:
                out[f"{name}.{attr}"] = [str(s) for s in value.signatures]
print(json.dumps(out))
"""


@pytest.mark.slow
def test_each_kernel_compiles_one_signature(tmp_path: Path) -> None:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True, env=env)
    signatures = json.loads(result.stdout.strip().splitlines()[-1])
    for kernel in ("transition", "_rule_rows", "_rolling_z"):
        assert f"pairs.trading._kernels.{kernel}" in signatures
    assert "pairs.hedge._kernels._kalman_paths" in signatures
    for kernel in ("_coint_rows", "_adf_rows", "_half_lives", "_cholesky_upper", "sieve_paths"):
        assert f"pairs.coint._kernels.{kernel}" in signatures
    assert "pairs._kernels.any_constant" in signatures
    # The account ledger, called by the backtest (from Python) and by the sweep's compiled pass.
    for kernel in ("_kernels.ledger_kernel", "_backtest_kernels.sweep_kernel"):
        assert f"pairs.evaluation.{kernel}" in signatures
    several = {name: sigs for name, sigs in signatures.items() if len(sigs) > 1}
    assert several == {}
