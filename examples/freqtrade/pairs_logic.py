"""The pairs logic of the freqtrade example: spread signals of two coins' candles, with a saved state,
and the orders of the two legs.

Plain pandas and ``pairs``: freqtrade is not imported here, so this module is tested without it
(tests/examples/test_freqtrade_logic.py). ``PairsStrategy.py`` calls it from freqtrade.

:class:`PairSignals` runs a :class:`pairs.Strategy` through a :class:`pairs.StreamEngine` one
closed candle at a time and returns, for every candle, the spread ``position`` (+1: long the
``y`` coin and short ``beta`` of the ``x`` coin; -1 the reverse; 0 flat) and freqtrade's
``enter_long``/``exit_long``/``enter_short``/``exit_short`` columns *for the y leg* (the x leg
trades the opposite side). Row ``t`` uses candles up to ``t`` only: the columns of a prefix of
the candles are the prefix of the columns (no look-ahead), and they equal
``strategy.run(y, x).position`` on the same candles.

With ``state_path`` the engine is saved (atomically, checksummed) after each call that saw a new
candle and loaded by the next process, so a restarted bot continues exactly where it stopped:
candles up to the saved one are not replayed (their columns are NaN / 0 in a new process),
later candles get the same columns as an uninterrupted run.

The two legs (:func:`leg_signals`, :func:`can_enter`, :func:`stake`, :func:`adjustment`) hold the
strategy's units: leg ``y`` holds ``y_units`` and leg ``x`` holds ``x_units`` (a negative number is a
short), entered together, re-sized together, exited together. :func:`replay` applies these rules candle
by candle as freqtrade's backtester applies a strategy's callbacks, for the comparison with
``pairs``' own account backtest (README.md).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

import pairs

COLUMNS = (
    "beta",
    "zscore",
    "position",
    "action",
    "enter_long",
    "exit_long",
    "enter_short",
    "exit_short",
    "y_units",
    "x_units",
)
LEGS = ("y", "x")


def merge_legs(y_candles: pd.DataFrame, x_candles: pd.DataFrame) -> pd.DataFrame:
    """One frame ``date, close_y, close_x`` of the candles both coins have (freqtrade's ``date`` column)."""
    left = y_candles[["date", "close"]].rename(columns={"close": "close_y"})
    right = x_candles[["date", "close"]].rename(columns={"close": "close_x"})
    return left.merge(right, on="date", how="inner").sort_values("date", ignore_index=True)


class PairSignals:
    """Spread signals of the candles of ``y`` (the coin hedged) and ``x`` (the hedge), causal and resumable.

    Parameters
    ----------
    strategy
        The :class:`pairs.Strategy` to run (hedge, z-score, entry/exit rule).
    state_path
        Engine state file: loaded if it exists, written after every call that saw a new candle.
        None: keep the engine in memory only (backtests).
    """

    def __init__(self, strategy: pairs.Strategy, state_path: str | Path | None = None) -> None:
        self.strategy = strategy
        self.state_path = None if state_path is None else Path(state_path)
        if self.state_path is not None and self.state_path.exists():
            self.engine = pairs.StreamEngine.load(self.state_path)
            if self.engine.strategy != strategy:
                raise ValueError(
                    f"state_path holds an engine of another strategy ({self.state_path}); delete it to start over."
                )
        else:
            self.engine = strategy.stream()
        self._rows: dict[pd.Timestamp, tuple] = {}

    def __call__(self, candles: pd.DataFrame, y: str = "close_y", x: str = "close_x") -> pd.DataFrame:
        """Columns :data:`COLUMNS` for every row of ``candles`` (a ``date`` column and the two closes).

        Rows newer than the last candle the engine saw are fed to it in order; earlier rows
        reuse what this object computed before (NaN / 0 for candles a previous process saw).
        Rows with a missing or non-positive close are skipped (their position is NaN).
        """
        engine = self.engine
        dates = pd.to_datetime(candles["date"], utc=True)
        last = engine.last_timestamp
        fed = False
        for ts, py, px in zip(dates, candles[y].to_numpy(float), candles[x].to_numpy(float), strict=True):
            if (last is not None and ts <= last) or not (py > 0 and px > 0 and math.isfinite(py + px)):
                continue
            before = engine.position
            signal = engine.update(py, px, ts)
            after = signal.position
            self._rows[ts] = (
                signal.beta,
                signal.zscore,
                after,
                signal.action,
                int(after == 1 and before != 1),
                int(before == 1 and after != 1),
                int(after == -1 and before != -1),
                int(before == -1 and after != -1),
                math.nan if signal.y_units is None else signal.y_units,
                math.nan if signal.x_units is None else signal.x_units,
            )
            last = ts
            fed = True
        if fed and self.state_path is not None:
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            engine.save(self.state_path)
        missing = (math.nan, math.nan, math.nan, None, 0, 0, 0, 0, math.nan, math.nan)
        rows = [self._rows.get(ts, missing) for ts in dates]
        out = pd.DataFrame(rows, columns=list(COLUMNS), index=candles.index)
        out["position"] = out["position"].astype(np.float64)  # NaN: a candle this process did not see
        for col in COLUMNS[4:8]:
            out[col] = out[col].astype(np.int64)
        return out

    def fill(self, leg: str, side: str, amount: float, price: float, fee: float, fill_id: str) -> bool:
        """Report a filled order of leg ``"y"`` or ``"x"`` to the engine (freqtrade's ``order_filled``).

        ``side`` is ``"buy"`` or ``"sell"``, ``amount`` the units filled (> 0), ``fee`` in the quote
        currency. The engine's holdings, entry prices and P&L then follow what the exchange filled,
        and the next signal's ``orders`` are computed from them. A fill id already applied (the
        callback repeated after a restart) is ignored: returns False. With ``state_path`` the engine
        is saved after the fill, so a restarted bot knows its holdings.
        """
        if leg not in ("y", "x") or side not in ("buy", "sell"):
            raise ValueError(f"leg must be 'y' or 'x' and side 'buy' or 'sell'; got {leg!r}, {side!r}.")
        quantity = amount if side == "buy" else -amount
        applied = self.engine.fill(leg, quantity, price, fee=fee, fill_id=fill_id)
        if applied and self.state_path is not None:
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            self.engine.save(self.state_path)
        return applied


# --- the two legs ----------------------------------------------------------------------------------


def leg_signals(signals: pd.DataFrame, leg: str) -> pd.DataFrame:
    """freqtrade's columns for one leg (``"y"`` or ``"x"``) from :class:`PairSignals`' columns.

    ``units`` is the leg's target (signed: negative is short, 0 flat, NaN unknown). The signals are
    levels, not transitions: ``enter_long`` is 1 on every candle where the leg should be long,
    ``exit_long`` on every candle where it should not. On a flip (long to short in one candle)
    freqtrade exits the old side and enters the new one on the same candle; a leg missing after a
    restart or an orphan exit is entered again.
    """
    if leg not in LEGS:
        raise ValueError(f"leg must be 'y' or 'x'; got {leg!r}.")
    units = signals[f"{leg}_units"].astype(np.float64)
    known = units.notna()
    side = np.sign(units.fillna(0.0))
    out = pd.DataFrame({"units": units}, index=signals.index)
    out["enter_long"] = (side > 0).astype(np.int64)
    out["exit_long"] = ((side <= 0) & known).astype(np.int64)
    out["enter_short"] = (side < 0).astype(np.int64)
    out["exit_short"] = ((side >= 0) & known).astype(np.int64)
    return out


def can_enter(y_units: float, x_units: float) -> bool:
    """Whether a leg may be entered: both legs have a target, on opposite sides (never one leg alone)."""
    return bool(np.isfinite(y_units) and np.isfinite(x_units) and y_units * x_units < 0)


# freqtrade truncates every amount to the market's lot: a stake worth exactly 0.977 units can come back
# as 0.97699999... and be cut to 0.976. Stakes are raised by one part in 10**9 (far less than a lot)
# so that the truncated amount is the one intended.
_ROUND_UP = 1.0 + 1e-9


def stake(units: float, rate: float, leverage: float = 1.0) -> float:
    """freqtrade's stake (margin in the quote currency) of an order of ``|units|`` at ``rate``."""
    return abs(units) * rate / leverage * _ROUND_UP


def adjustment(
    target_units: float, held_units: float, rate: float, leverage: float, held_stake: float
) -> float | None:
    """The stake for ``adjust_trade_position`` that makes an open leg hold ``target_units``.

    freqtrade buys ``stake * leverage / rate`` more of a leg for a positive stake (more short for a
    short), and for a negative one exits ``-stake * trade.amount / trade.stake_amount``
    (``held_stake`` is ``trade.stake_amount``), each truncated to the lot. None when there is
    nothing to do: no change, no target, or a target on the other side or flat (the exit signal
    closes the leg then).
    """
    # Units are whole lots, up to float rounding: a difference of 1e-9 of the position is none.
    same = abs(target_units - held_units) <= 1e-9 * abs(held_units)
    if not np.isfinite(target_units) or target_units * held_units <= 0 or same:
        return None
    if abs(target_units) > abs(held_units):
        return float((abs(target_units) - abs(held_units)) * rate / leverage * _ROUND_UP)
    return float(-(abs(held_units) - abs(target_units)) * held_stake / abs(held_units) * _ROUND_UP)


def replay(
    frame: pd.DataFrame, *, fee_bps: float, leverage: float = 1.0, fill: str = "close"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The bot's fills on ``frame`` (``close_y``, ``close_x``, ``y_units``, ``x_units`` per candle).

    Candle by candle, as freqtrade's backtester applies the callbacks: an open leg is re-sized
    (:func:`adjustment`) or, when its target left its side, exited; a leg without a trade (also one
    exited on this candle: a flip) is entered (:func:`stake`) when :func:`leg_signals` says so and
    :func:`can_enter` allows it. Every
    order pays ``fee_bps`` of its notional and fills at the candle's close (``fill="close"``,
    ``pairs``' default) or, as in freqtrade's backtester, at the next candle's open
    (``fill="next_open"``: columns ``open_y``, ``open_x`` needed; orders of the last candle are not
    filled). Returns the fills (``time, leg, units, price, fee``) and the units held after each
    candle's fills (columns ``y_units``, ``x_units``; with ``"next_open"`` indexed by the candle
    whose open filled them).
    """
    if fill not in ("close", "next_open"):
        raise ValueError(f"fill must be 'close' or 'next_open'; got {fill!r}.")
    if fill == "next_open":
        # The decision of candle t at the open of candle t + 1: shift the prices back one candle.
        nxt = frame[["open_y", "open_x"]].shift(-1).set_axis(["close_y", "close_x"], axis=1)
        moved = frame.drop(columns=["close_y", "close_x"]).join(nxt).iloc[:-1]
        fills, units = replay(moved, fee_bps=fee_bps, leverage=leverage)
        fills["time"] = fills["time"].map(pd.Series(frame.index[1:], index=frame.index[:-1]))
        return fills, units.set_axis(frame.index[1:])
    rate = fee_bps / 1e4
    held = {"y": 0.0, "x": 0.0}
    fills: list[tuple[pd.Timestamp, str, float, float, float]] = []
    rows = []
    for t, row in frame.iterrows():
        target = {leg: float(row[f"{leg}_units"]) for leg in LEGS}
        for leg in LEGS:
            price, have = float(row[f"close_{leg}"]), held[leg]
            order = 0.0
            # The amounts freqtrade derives from the stakes of stake() and adjustment(), truncated
            # to the lot, are the units asked (test_stake_and_adjustment_by_hand, README.md).
            if have != 0:
                if adjustment(target[leg], have, price, leverage, stake(have, price, leverage)) is not None:
                    order = target[leg] - have
                elif np.isfinite(target[leg]) and target[leg] * have <= 0:
                    order = -have
            # A leg exited on this candle may be entered again on it (a flip), as freqtrade does.
            if have + order == 0 and target[leg] != 0 and can_enter(target["y"], target["x"]):
                order += target[leg]
            if order:
                fills.append((t, leg, float(order), price, abs(order) * price * rate))
                held[leg] = 0.0 if order == -have else have + order
        rows.append((held["y"], held["x"]))
    units = pd.DataFrame(rows, index=frame.index, columns=["y_units", "x_units"])
    return pd.DataFrame(fills, columns=["time", "leg", "units", "price", "fee"]), units
