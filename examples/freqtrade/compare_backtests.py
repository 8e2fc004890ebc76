"""Compare a freqtrade backtest of PairsStrategy with the bot's logic and ``pairs``' own account.

Run after ``freqtrade backtesting`` (README.md):

    python examples/freqtrade/compare_backtests.py user_data/backtest_results

It reads freqtrade's newest result (the ``.zip`` freqtrade writes), nets its orders per candle and leg,
and prints them against :func:`pairs_logic.replay` filled at the next candle's open (freqtrade's fill)
and ``pairs.backtest`` of the strategy's units filled at the signal candle's close (``pairs``' default).
No freqtrade import: the result file is plain JSON.
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from export_data import bundled_candles
from pairs_logic import PairSignals, merge_legs, replay

import pairs


def freqtrade_orders(results: str | Path) -> tuple[pd.DataFrame, float]:
    """The filled orders (``time, pair, units, price``; units signed: + buys) of the newest freqtrade
    backtest result in ``results`` (a folder, a ``.zip`` or a ``.json``), and its total profit."""
    path = Path(results)
    if path.is_dir():
        path = max(path.glob("backtest-result-*.zip"), key=lambda p: p.stat().st_mtime)
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            name = next(n for n in archive.namelist() if n.endswith(".json") and "_config" not in n)
            doc = json.loads(archive.read(name))
    else:
        doc = json.loads(path.read_text())
    trades = next(iter(doc["strategy"].values()))["trades"]
    rows = [
        (
            pd.Timestamp(order["order_filled_timestamp"], unit="ms", tz="UTC"),
            trade["pair"],
            order["amount"] if order["ft_order_side"] == "buy" else -order["amount"],
            order["safe_price"],
        )
        for trade in trades
        for order in trade["orders"]
    ]
    orders = pd.DataFrame(rows, columns=["time", "pair", "units", "price"])
    return orders.sort_values(["time", "pair"], kind="stable", ignore_index=True), sum(
        t["profit_abs"] for t in trades
    )


def net_orders(orders: pd.DataFrame) -> pd.DataFrame:
    """Orders netted per candle and pair (a flip's exit and entry on one candle are one order)."""
    net = orders.groupby(["time", "pair"], as_index=False).agg(
        units=("units", "sum"), price=("price", "last")
    )
    return net[net["units"].abs() > 1e-12].reset_index(drop=True)


def candles_frame(
    strategy: pairs.Strategy, start: str, end: str, y: str = "ETH", x: str = "BTC"
) -> pd.DataFrame:
    """The bundled candles of ``[start, end]`` with the strategy's columns and the opens, by date."""

    def span(coin: str) -> pd.DataFrame:
        c = bundled_candles(coin)
        return c[(c["date"] >= start) & (c["date"] <= end)].reset_index(drop=True)

    cy, cx = span(y), span(x)
    legs = merge_legs(cy, cx)
    frame = pd.concat([legs, PairSignals(strategy)(legs)], axis=1).set_index("date")
    frame["open_y"] = cy.set_index("date")["open"]
    frame["open_x"] = cx.set_index("date")["open"]
    return frame


def main(results: str, start: str = "2019-01-01", end: str = "2024-12-31") -> None:
    from PairsStrategy import LEVERAGE, SPREAD  # needs freqtrade installed, as the backtest did

    orders, profit = freqtrade_orders(results)
    frame = candles_frame(SPREAD, start, end)
    fills, _ = replay(frame, fee_bps=SPREAD.fee_bps, leverage=LEVERAGE, fill="next_open")
    pnl = -(fills["units"] * fills["price"]).sum() - fills["fee"].sum()
    ref = SPREAD.run(frame["close_y"], frame["close_x"]).frame[["y_units", "x_units"]].fillna(0.0)
    own = pairs.backtest(
        frame["close_y"], frame["close_x"], units=ref, capital=10_000, fee_bps=SPREAD.fee_bps
    )
    print(f"freqtrade: {len(net_orders(orders))} orders, profit {profit:,.2f}")
    print(f"replay (next open): {len(fills)} orders, profit {pnl:,.2f}")
    print(f"pairs.backtest (close): {own.n_trades} round trips, profit {own.equity.iloc[-1] - 10_000:,.2f}")


if __name__ == "__main__":
    main(*sys.argv[1:])
