"""A freqtrade strategy trading the ETH/BTC spread with pairs (run by freqtrade, not by python).

Copy this file and pairs_logic.py into ``user_data/strategies/`` (see README.md). The spread
signal is computed by :class:`pairs_logic.PairSignals` from both coins' closed candles; each
leg is traded as its own freqtrade pair: ETH/USDT long when the spread position is +1 (long
ETH, short BTC), BTC/USDT long when it is -1; with ``can_short = True`` (futures) the other
side of each leg is shorted too. In dry-run/live the engine state is saved after every new
candle in ``user_data/pairs_state/`` and reloaded on restart, so a restarted bot continues
exactly where it stopped; in backtesting the engine lives in memory only.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import ClassVar

from freqtrade.strategy import IStrategy
from pandas import DataFrame

import pairs

sys.path.insert(0, str(Path(__file__).resolve().parent))  # freqtrade loads strategies by path
from pairs_logic import COLUMNS, PairSignals, merge_legs

# The pairs settings (also a strategy file: pairs.Strategy.load("ethbtc.json")).
SPREAD = pairs.Strategy(
    hedge="kalman", log_prices=True, delta=1e-5, zscore_window=30, rule={"entry_z": 2.0, "exit_z": 0.0}
)


class PairsStrategy(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "1d"
    can_short = False  # spot; set True with "trading_mode": "futures" to short the other side
    minimal_roi: ClassVar[dict[str, float]] = {"0": 100.0}  # exits come from the spread, not from ROI
    stoploss = -0.99
    use_exit_signal = True
    exit_profit_only = False
    process_only_new_candles = True
    startup_candle_count = 0  # the engine keeps its own history; see bot_start
    Y_PAIR = "ETH/USDT"
    X_PAIR = "BTC/USDT"

    def informative_pairs(self) -> list[tuple[str, str]]:
        return [(self.Y_PAIR, self.timeframe), (self.X_PAIR, self.timeframe)]

    def bot_start(self, **kwargs) -> None:
        live = self.dp.runmode.value in ("live", "dry_run")
        name = f"{self.Y_PAIR}_{self.X_PAIR}_{self.timeframe}.json".replace("/", "-")
        state = Path(self.config["user_data_dir"]) / "pairs_state" / name if live else None
        self.spread = PairSignals(SPREAD, state)

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        legs = merge_legs(
            self.dp.get_pair_dataframe(self.Y_PAIR, self.timeframe),
            self.dp.get_pair_dataframe(self.X_PAIR, self.timeframe),
        )
        signals = self.spread(legs).rename(columns={c: f"pairs_{c}" for c in COLUMNS})
        signals["date"] = legs["date"]
        return dataframe.merge(signals, on="date", how="left")

    def _sides(self, metadata: dict) -> tuple[str, str]:
        # The y leg follows the spread; the x leg takes the opposite side.
        return ("long", "short") if metadata["pair"] == self.Y_PAIR else ("short", "long")

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        long_side, short_side = self._sides(metadata)
        dataframe["enter_long"] = dataframe[f"pairs_enter_{long_side}"].fillna(0).astype(int)
        if self.can_short:
            dataframe["enter_short"] = dataframe[f"pairs_enter_{short_side}"].fillna(0).astype(int)
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        long_side, short_side = self._sides(metadata)
        dataframe["exit_long"] = dataframe[f"pairs_exit_{long_side}"].fillna(0).astype(int)
        if self.can_short:
            dataframe["exit_short"] = dataframe[f"pairs_exit_{short_side}"].fillna(0).astype(int)
        return dataframe
