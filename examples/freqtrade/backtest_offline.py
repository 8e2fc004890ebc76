"""Run ``freqtrade backtesting`` without network: the exchange's market list is served from a file.

freqtrade loads the exchange's markets at start-up, in backtesting too, with no switch to skip it
(freqtrade issues #5526 and #6077). This wrapper replaces ccxt's ``load_markets`` (sync and async) of
the exchange class by one that serves ``markets.json`` (ccxt's unified market structures of the
perpetuals traded, precisions and limits as Binance USD-M states them) and then runs freqtrade's own
command line unchanged:

    python examples/freqtrade/backtest_offline.py backtesting --config examples/freqtrade/config.json \\
        --userdir user_data --timerange 20190101-20241231

Nothing else is patched: candles, mark prices and funding rates come from the files of
``export_data.py``; fees from the config's ``fee``; leverage tiers from the file freqtrade ships for
dry runs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import ccxt
import ccxt.async_support

MARKETS = Path(__file__).resolve().parent / "markets.json"


def serve_markets(exchange: str = "binance", path: Path = MARKETS) -> None:
    """Make ``ccxt.<exchange>`` and ``ccxt.async_support.<exchange>`` load their markets from ``path``."""
    markets = json.loads(path.read_text())

    def load(self: Any, reload: bool = False, params: Any = None) -> Any:
        self.set_markets(markets)
        return self.markets

    async def load_async(self: Any, reload: bool = False, params: Any = None) -> Any:
        return load(self)

    getattr(ccxt, exchange).load_markets = load
    getattr(ccxt.async_support, exchange).load_markets = load_async


if __name__ == "__main__":
    from freqtrade.main import main

    serve_markets()
    sys.exit(main(sys.argv[1:]))
