"""A freqtrade strategy trading a spread of two perpetuals with pairs (run by freqtrade, not by python).

Copy this file and pairs_logic.py into ``user_data/strategies/`` (see README.md). Futures mode, both
legs: the spread signal and the units of each leg come from :class:`pairs_logic.PairSignals` (a
``pairs.Strategy`` with ``capital``, run one closed candle at a time); leg ``y`` holds ``y_units`` and
leg ``x`` holds ``x_units`` (negative: short), entered together, re-sized together
(``adjust_trade_position``) and exited together. The two pairs are read from the config
(``"pairs_spread": {"y": ..., "x": ...}``, default the first two pairs of the whitelist). In dry-run and
live the engine state is saved after every new candle in ``user_data/pairs_state/`` and reloaded on
restart; the open trades themselves are kept by freqtrade's database, so a restarted bot keeps its
positions and continues exactly where it stopped.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from freqtrade.persistence import Trade
from freqtrade.strategy import IStrategy
from pandas import DataFrame

import pairs

sys.path.insert(0, str(Path(__file__).resolve().parent))  # freqtrade loads strategies by path
from pairs_logic import COLUMNS, PairSignals, adjustment, can_enter, leg_signals, merge_legs, stake

# The pairs settings (also a strategy file: pairs.Strategy.load("spread.json")). A position of 1 holds
# a gross notional of `capital` (quote currency) over both legs, beta-neutral, in the perpetuals' lots,
# re-sized when beta moves by more than 5%.
SPREAD = pairs.Strategy(
    hedge="kalman",
    log_prices=True,
    delta=1e-5,
    zscore_window=30,
    rule={"entry_z": 2.0, "exit_z": 0.0},
    capital=5_000,
    lot_size=(0.001, 0.001),
    rebalance_band=0.05,
    fee_bps=5,
)
LEVERAGE = 1.0  # margin = notional on each leg (isolated): far from liquidation


class PairsStrategy(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "1d"
    can_short = True
    position_adjustment_enable = True
    minimal_roi: ClassVar[dict[str, float]] = {"0": 100.0}  # exits come from the spread, not from ROI
    stoploss = -0.99
    use_exit_signal = True
    exit_profit_only = False
    process_only_new_candles = True
    startup_candle_count = 0  # the engine keeps its own history

    def bot_start(self, **kwargs: Any) -> None:
        legs = self.config.get("pairs_spread") or {}
        whitelist = self.config["exchange"]["pair_whitelist"]
        self.pair_of = {"y": legs.get("y", whitelist[0]), "x": legs.get("x", whitelist[1])}
        self.leg_of = {pair: leg for leg, pair in self.pair_of.items()}
        live = self.dp.runmode.value in ("live", "dry_run")
        name = f"{self.pair_of['y']}_{self.pair_of['x']}_{self.timeframe}.json".replace("/", "-").replace(
            ":", "-"
        )
        state = Path(self.config["user_data_dir"]) / "pairs_state" / name if live else None
        self.spread = PairSignals(SPREAD, state)

    def informative_pairs(self) -> list[tuple[str, str]]:
        return [(pair, self.timeframe) for pair in self.pair_of.values()]

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        legs = merge_legs(
            self.dp.get_pair_dataframe(self.pair_of["y"], self.timeframe),
            self.dp.get_pair_dataframe(self.pair_of["x"], self.timeframe),
        )
        signals = self.spread(legs)
        columns = signals.rename(columns={c: f"pairs_{c}" for c in COLUMNS})
        own = leg_signals(signals, self.leg_of[metadata["pair"]]).rename(columns=lambda c: f"leg_{c}")
        merged = columns.join(own)
        merged["date"] = legs["date"]
        return dataframe.merge(merged, on="date", how="left")

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        for col in ("enter_long", "enter_short"):
            dataframe[col] = dataframe[f"leg_{col}"].fillna(0).astype(int)
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        for col in ("exit_long", "exit_short"):
            dataframe[col] = dataframe[f"leg_{col}"].fillna(0).astype(int)
        return dataframe

    def order_filled(
        self, pair: str, trade: Trade, order: Any, current_time: datetime, **kwargs: Any
    ) -> None:
        """Report every fill to the engine: its holdings and P&L follow the exchange, not the targets."""
        if pair in self.leg_of and order.safe_filled:
            fee = float(order.safe_fee_base or 0.0) * float(order.safe_price)
            self.spread.fill(
                self.leg_of[pair],
                order.ft_order_side,
                float(order.safe_filled),
                float(order.safe_price),
                fee,
                str(order.order_id),
            )

    def _last(self, pair: str) -> Any:
        frame, _ = self.dp.get_analyzed_dataframe(pair, self.timeframe)
        return frame.iloc[-1]

    def custom_exit(
        self,
        pair: str,
        trade: Trade,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        **kwargs: Any,
    ) -> str | None:
        # A leg whose other leg is gone (liquidated, closed by hand) is closed too; the pair is
        # entered again, both legs together, on a later candle if the spread still wants it.
        # A leg opened on this candle is not an orphan yet: its partner enters on the same candle.
        other = self.pair_of["x" if self.leg_of[pair] == "y" else "y"]
        if trade.open_date_utc >= current_time or Trade.get_trades_proxy(pair=other, is_open=True):
            return None
        return "orphan_leg"

    def confirm_trade_entry(
        self,
        pair: str,
        order_type: str,
        amount: float,
        rate: float,
        time_in_force: str,
        current_time: datetime,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> bool:
        # Never one leg alone: both legs must want opposite sides on this candle.
        row = self._last(pair)
        return can_enter(row["pairs_y_units"], row["pairs_x_units"])

    def leverage(
        self,
        pair: str,
        current_time: datetime,
        current_rate: float,
        proposed_leverage: float,
        max_leverage: float,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> float:
        return min(LEVERAGE, max_leverage)

    def custom_stake_amount(
        self,
        pair: str,
        current_time: datetime,
        current_rate: float,
        proposed_stake: float,
        min_stake: float | None,
        max_stake: float,
        leverage: float,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> float:
        units = self._last(pair)["leg_units"]
        return min(stake(units, current_rate, leverage), max_stake)

    def adjust_trade_position(
        self,
        trade: Trade,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        min_stake: float | None,
        max_stake: float,
        **kwargs: Any,
    ) -> float | None:
        held = -trade.amount if trade.is_short else trade.amount
        return adjustment(
            self._last(trade.pair)["leg_units"], held, current_rate, trade.leverage, trade.stake_amount
        )
