"""The stream's leverage limit (issue #25 item 3): the account backtest's rule on the engine's orders.

* Reference: ETH/BTC daily (bundled Binance sample) replayed through ``StreamEngine`` with
  ``leverage``, each signal's orders filled in full at that bar's close with the strategy's fee by a
  simulated exchange, holds bar by bar the units of ``strategy.backtest`` (the account ledger with
  the same leverage, ``fill="close"``, fees, no slippage; tested by hand and against vectorbt in
  tests/evaluation), to 1e-12 of the largest holding; the equity (capital + the fills' P&L) agrees
  to 1e-9 of capital, and the bars whose orders were cut (``leverage_cut``) are the ledger's
  ``scaled``/``refused`` events, kind for kind. The limit binds on tens of bars at each limit (asserted).
* Property (hypothesis): on random price paths, gross exposure <= leverage x equity after every
  bar's fills that raised it, with and without lots.
* By hand: the ledger's hand example (1,000 of equity, 2x, 10 bps: k = 2000 / 3006, lots of 0.1 ->
  9.9 and -19.9), the next order refused at the limit, a close never cut.
* The state round-trips (a restored engine cuts as the original), a book's pair cuts as an engine
  of the same strategy, and ``pairs signal --follow --leverage`` writes ``leverage_cut`` lines.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pairs import Strategy, StreamBook, StreamEngine, load_sample
from pairs.cli._main import main
from pairs.stream._legs import Legs, Order
from pairs.stream._leverage import capped_orders, limit_of

PRICES = load_sample("binance_1d")[["ETH", "BTC", "LTC"]].dropna()
SYMBOLS = ("ETH", "BTC")


class CloseExchange:
    """Fills every order in full at the bar's close, charging ``fee_bps`` of the notional."""

    def __init__(self, fee_bps: float) -> None:
        self.rate = fee_bps / 1e4

    def fills(
        self, orders: tuple[Order, ...], prices: dict[str, float]
    ) -> list[tuple[str, float, float, float]]:
        out = []
        for o in orders:
            quantity = o.quantity if o.side == "buy" else -o.quantity
            price = prices[o.symbol]
            out.append((o.symbol, quantity, price, abs(quantity) * price * self.rate))
        return out


def _replay(engine: StreamEngine, frame: pd.DataFrame, fee_bps: float) -> tuple[np.ndarray, np.ndarray, list]:
    """Holdings and equity after each bar's fills, and the bars' signals."""
    exchange = CloseExchange(fee_bps)
    capital = engine.strategy.capital
    held, equity, signals = [], [], []
    for ts, y, x in zip(frame.index, frame["ETH"], frame["BTC"], strict=True):
        signal = engine.update(y, x, ts)
        for symbol, quantity, price, fee in exchange.fills(signal.orders, {"ETH": y, "BTC": x}):
            engine.fill(symbol, quantity, price, fee=fee)
        held.append(list(engine.holdings.values()))
        equity.append(capital + engine.pnl)
        signals.append(signal)
    return np.array(held), np.array(equity), signals


@pytest.mark.parametrize("lots", [(0.0, 0.0), (0.01, 0.0001)], ids=["fractional", "lots"])
@pytest.mark.parametrize("leverage", [0.7, 1.2, 2.0])
def test_the_engine_holds_the_units_of_the_account_backtest(
    lots: tuple[float, float], leverage: float
) -> None:
    strategy = Strategy(log_prices=True, capital=10_000.0, leverage=leverage, lot_size=lots, fee_bps=10)
    engine = StreamEngine(strategy, symbols=SYMBOLS)
    held, equity, signals = _replay(engine, PRICES, strategy.fee_bps)
    cuts = [s.leverage_cut for s in signals]
    ledger = strategy.backtest(PRICES["ETH"], PRICES["BTC"])
    assert ledger.fill == "close" and ledger.slippage_paid == 0.0
    units = ledger.units.to_numpy()
    np.testing.assert_allclose(held, units, rtol=0, atol=1e-12 * np.abs(units).max())
    np.testing.assert_allclose(equity, ledger.equity.to_numpy(), rtol=0, atol=1e-9 * strategy.capital)
    events = ledger.events
    assert "liquidation" not in set(events["event"])
    cut_events = events[events["event"].isin(["scaled", "refused"])]
    assert [(PRICES.index[t], c) for t, c in enumerate(cuts) if c is not None] == list(
        zip(cut_events["time"], cut_events["event"], strict=True)
    )
    # The limit binds: orders scaled and refused on many bars.
    assert cuts.count("scaled") > 20 and cuts.count("refused") > 20
    # After every bar's fills the gross exposure is within the limit, or the bar did not raise it.
    prices = PRICES[["ETH", "BTC"]].to_numpy()
    gross = (np.abs(held) * prices).sum(axis=1)
    before = np.r_[0.0, (np.abs(held[:-1]) * prices[1:]).sum(axis=1)]
    raised = gross > before * (1 + 1e-12)
    assert (gross[raised] <= leverage * equity[raised] * (1 + 1e-9)).all()


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    leverage=st.floats(0.2, 1.5),  # above about 1.2 these paths never reach the limit
    fee_bps=st.sampled_from([0.0, 10.0, 50.0]),
    lots=st.sampled_from([(0.0, 0.0), (0.01, 0.01), (1.0, 0.1)]),
    log_prices=st.booleans(),
)
def test_gross_exposure_stays_within_the_limit_after_every_order(
    seed: int, leverage: float, fee_bps: float, lots: tuple[float, float], log_prices: bool
) -> None:
    rng = np.random.default_rng(seed)
    n = 80
    idx = pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC")
    steps = rng.normal(0, 0.04, (n, 2))
    frame = pd.DataFrame(
        {
            "ETH": 100 * np.exp(np.cumsum(steps[:, 0])),
            "BTC": 50 * np.exp(np.cumsum(steps[:, 1] + 0.5 * steps[:, 0])),
        },
        index=idx,
    )
    strategy = Strategy(
        hedge="rolling",
        window=6,
        log_prices=log_prices,
        rule={"entry_z": 1.0, "exit_z": 0.0},
        capital=1_000.0,
        leverage=leverage,
        lot_size=lots,
        fee_bps=fee_bps,
    )
    held, equity, signals = _replay(StreamEngine(strategy, symbols=SYMBOLS), frame, fee_bps)
    prices = frame.to_numpy()
    gross = (np.abs(held) * prices).sum(axis=1)
    before = np.r_[0.0, (np.abs(held[:-1]) * prices[1:]).sum(axis=1)]
    raised = gross > before * (1 + 1e-12)
    assert (gross[raised] <= leverage * equity[raised] * (1 + 1e-9)).all()
    # A bar whose orders were not cut reached its targets (no min_notional here); a cut one did not.
    targets = np.array([(s.y_units, s.x_units) for s in signals])
    reached = np.isclose(held, targets, rtol=1e-9, atol=1e-12).all(axis=1)
    cut = np.array([s.leverage_cut is not None for s in signals])
    assert reached[~cut].all()
    assert not reached[np.array([s.leverage_cut == "refused" for s in signals])].any()


def _hand_legs() -> Legs:
    legs = Legs()
    legs.mark(100.0, 50.0)
    return legs


def test_a_cut_order_by_hand() -> None:
    # The ledger's hand example (tests/evaluation/test_margin.py): 1,000 of equity, limit 2x,
    # 10 bps fee, asking 15 y at 100 (1,500) and -30 x at 50 (1,500) from flat. The gross exposure
    # after k of the order is 3000 k and the equity 1000 - 3 k (the fee on 3000 k of notional):
    # 3000 k = 2 (1000 - 3 k) -> k = 2000 / 3006.
    strategy = Strategy(capital=1_000.0, leverage=2.0, fee_bps=10)
    legs = _hand_legs()
    orders, cut = capped_orders(legs, limit_of(strategy), (15.0, -30.0), SYMBOLS, strategy, "together")
    k = 2000 / 3006
    assert cut == "scaled"
    assert [(o.symbol, o.side, o.reduce_only) for o in orders] == [
        ("ETH", "buy", False),
        ("BTC", "sell", False),
    ]
    np.testing.assert_allclose([o.quantity for o in orders], [15 * k, 30 * k], rtol=1e-12)
    # With lots of 0.1 the units after the cut are rounded toward zero: 9.98 -> 9.9, -19.96 -> -19.9.
    lotted = strategy.replace(lot_size=(0.1, 0.1))
    orders, cut = capped_orders(legs, limit_of(lotted), (15.0, -30.0), SYMBOLS, lotted, "together")
    assert cut == "scaled" and [o.quantity for o in orders] == [9.9, 19.9]
    # Filled at those prices with the fee: gross 990 + 995 = 1985 <= 2 x (1000 - 1.985).
    legs.apply(0, 9.9, 100.0, 0.99, None)
    legs.apply(1, -19.9, 50.0, 0.995, None)
    assert legs.pnl() == pytest.approx(-1.985, rel=1e-12)
    assert 9.9 * 100 + 19.9 * 50 <= 2 * (1000 + legs.pnl())
    # The next bar asks for the rest at a 10% loss on y: the account is above its limit, the order
    # is refused; a smaller target (an order that lowers the gross exposure) is never cut.
    legs.mark(90.0, 50.0)
    assert capped_orders(legs, limit_of(lotted), (15.0, -30.0), SYMBOLS, lotted, "together") == (
        (),
        "refused",
    )
    orders, cut = capped_orders(legs, limit_of(lotted), (5.0, -10.0), SYMBOLS, lotted, "together")
    assert cut is None and [o.quantity for o in orders] == [4.9, 9.9]
    closes, cut = capped_orders(legs, limit_of(lotted), (0.0, 0.0), SYMBOLS, lotted, "together")
    assert cut is None and all(o.reduce_only for o in closes)
    # A cut leg below min_notional is still sent (the ledger fills it): at 0.2x, 3000 k = 0.2 (1000 - 3 k),
    # k = 200 / 3000.6, about 100 of notional per leg against a minimum of 500.
    small = strategy.replace(leverage=0.2, min_notional=(500.0, 500.0))
    orders, cut = capped_orders(_hand_legs(), limit_of(small), (15.0, -30.0), SYMBOLS, small, "together")
    k = 200 / 3000.6
    assert cut == "scaled"
    np.testing.assert_allclose([o.quantity for o in orders], [15 * k, 30 * k], rtol=1e-12)
    # Without leverage nothing is cut.
    free = lotted.replace(leverage=None)
    assert limit_of(free) is None
    assert capped_orders(legs, None, (15.0, -30.0), SYMBOLS, free, "together")[1] is None


def _fill_all(
    target: Any, signal: Any, prices: dict[str, float], fee_bps: float, pair: str | None = None
) -> None:
    for symbol, quantity, price, fee in CloseExchange(fee_bps).fills(signal.orders, prices):
        if pair is None:
            target.fill(symbol, quantity, price, fee=fee)
        else:
            target.fill(pair, symbol, quantity, price, fee=fee)


def test_a_restored_engine_cuts_as_the_original(tmp_path: Path) -> None:
    strategy = Strategy(log_prices=True, capital=10_000.0, leverage=1.2, lot_size=(0.01, 0.0001))
    frame = PRICES.iloc[:900]
    engine = StreamEngine(strategy, symbols=SYMBOLS)
    _replay(engine, frame.iloc[:600], strategy.fee_bps)
    engine.save(tmp_path / "engine.json")
    restored = StreamEngine.load(tmp_path / "engine.json")
    again = StreamEngine.from_state(json.loads(json.dumps(engine.state_dict())))
    cuts = 0
    for ts, y, x in zip(frame.index[600:], frame["ETH"].iloc[600:], frame["BTC"].iloc[600:], strict=True):
        signals = [e.update(y, x, ts) for e in (engine, restored, again)]
        assert signals[0] == signals[1] == signals[2]
        assert signals[0].to_json() == signals[1].to_json()
        cuts += signals[0].leverage_cut is not None
        for e in (engine, restored, again):
            _fill_all(e, signals[0], {"ETH": y, "BTC": x}, strategy.fee_bps)
    assert cuts > 10
    assert engine.state_dict() == restored.state_dict() == again.state_dict()


def test_a_book_pair_cuts_as_an_engine_of_its_strategy() -> None:
    strategies = {
        ("ETH", "BTC"): Strategy(log_prices=True, capital=10_000.0, leverage=1.2),
        ("LTC", "BTC"): Strategy(log_prices=True, capital=5_000.0, leverage=0.8, lot_size=(0.01, 0.0001)),
    }
    book = StreamBook(strategies)
    engines = {pair: StreamEngine(s, symbols=pair) for pair, s in strategies.items()}
    frame = PRICES.iloc[:700]
    cuts = 0
    for ts, row in frame.iterrows():
        bar = row.to_dict()
        booked = book.update(bar, ts)
        for pair, engine in engines.items():
            signal = engine.update(bar[pair[0]], bar[pair[1]], ts)
            assert booked[pair].to_json() == signal.to_json()  # NaN != NaN: compare the lines
            cuts += signal.leverage_cut is not None
            prices = {pair[0]: bar[pair[0]], pair[1]: bar[pair[1]]}
            _fill_all(engine, signal, prices, 10.0)
            _fill_all(book, signal, prices, 10.0, pair="/".join(pair))
            assert book.orders(pair) == engine.orders()
    assert cuts > 50


def test_pairs_signal_follow_passes_the_leverage(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    frame = PRICES.iloc[:200]
    lines = "".join(
        f"{ts.isoformat()},{y!r},{x!r}\n"
        for ts, y, x in zip(frame.index, frame["ETH"], frame["BTC"], strict=True)
    )
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(lines.encode()), encoding="utf-8"))
    argv = ["signal", "--follow", "--log", "--capital", "10000", "--leverage", "0.5"]
    assert main(argv) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    engine = Strategy(log_prices=True, capital=10_000.0, leverage=0.5).stream()
    expected = [
        engine.update(y, x, ts).to_dict()
        for ts, y, x in zip(frame.index, frame["ETH"], frame["BTC"], strict=True)
    ]
    assert out == json.loads(json.dumps(expected))
    # No fills: every entry asks for 1x of capital against a 0.5x limit, so it is scaled.
    assert {line.get("leverage_cut") for line in out} == {None, "scaled"}


def test_a_spot_long_is_cut_to_the_cash_by_hand() -> None:
    # The ledger's second limit: spot longs worth at most the equity after the order's cost. From
    # flat with 1,000 and 10 bps, asking 15 y at 100 (spot, 1,500) and -30 x at 50 (perpetual,
    # 1,500): 1500 k = 1000 - 3 k -> k = 1000 / 1503, with no leverage limit at all.
    strategy = Strategy(capital=1_000.0, fee_bps=10, market=("spot", "perp"))
    orders, cut = capped_orders(
        _hand_legs(), limit_of(strategy), (15.0, -30.0), SYMBOLS, strategy, "together"
    )
    k = 1000 / 1503
    assert cut == "scaled"
    np.testing.assert_allclose([o.quantity for o in orders], [15 * k, 30 * k], rtol=1e-12)
    # With a limit of 1.5x as well the smaller cut wins: 3000 k = 1.5 (1000 - 3 k), k = 1500 / 3004.5.
    both = strategy.replace(leverage=1.5)
    orders, _ = capped_orders(_hand_legs(), limit_of(both), (15.0, -30.0), SYMBOLS, both, "together")
    np.testing.assert_allclose(
        [o.quantity for o in orders], [15 * 1500 / 3004.5, 30 * 1500 / 3004.5], rtol=1e-12
    )
    # A spot short needs no cash: nothing is cut.
    short = Strategy(capital=1_000.0, fee_bps=10, market=("spot", "perp"))
    assert capped_orders(_hand_legs(), limit_of(short), (-5.0, 10.0), SYMBOLS, short, "together")[1] is None


def test_the_engine_holds_the_units_of_a_spot_account_backtest() -> None:
    # ETH against BTC, both spot, beta-neutral on log prices, without a leverage limit: the
    # ledger's cash limit on the spot long is the only cut; the replay equals the backtest.
    strategy = Strategy(
        log_prices=True, capital=10_000.0, fee_bps=10, market=("spot", "spot"), zscore_window=60
    )
    engine = StreamEngine(strategy, symbols=SYMBOLS)
    held, _, signals = _replay(engine, PRICES, strategy.fee_bps)
    ledger = strategy.backtest(PRICES["ETH"], PRICES["BTC"])
    units = ledger.units.to_numpy()
    np.testing.assert_allclose(held, units, rtol=0, atol=1e-12 * np.abs(units).max())
    cuts = [s.leverage_cut for s in signals]
    events = ledger.events[ledger.events["event"].isin(["scaled", "refused"])]
    assert [(PRICES.index[t], c) for t, c in enumerate(cuts) if c is not None] == list(
        zip(events["time"], events["event"], strict=True)
    )
    assert cuts.count("scaled") > 20 and cuts.count("refused") > 20  # the cash binds after losses
