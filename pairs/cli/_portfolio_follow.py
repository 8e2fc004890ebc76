"""``pairs signal --follow --portfolio FILE.json --state STATE.json``: a live portfolio for a bot.

Wide bars of the universe on stdin (as ``--book``: a header ``timestamp,COIN,...`` and one line per
bar, or JSON objects), one :class:`~pairs.stream.PortfolioSignal` JSON line per bar out: the net
units of each coin, the orders, each pair's position, and the pairs selected at a window's end.
The first run creates STATE.json from the portfolio file and ``--coins`` (the universe, in the
order of the backtest's columns) and ``--bar`` (with durations); later runs resume from it. The
single writer and exactly-once delivery are :class:`pairs.stream._delivery.Outbox`, as for
``--book``: a re-sent bar re-emits its stored line and is not applied again.

Fills come back on the same stdin as ``{"fill": {"symbol": COIN, "quantity", "price", "fee",
"timestamp", "fill_id"}}`` lines (:func:`pairs.cli._framing.parse_fill`), each applied with
:meth:`pairs.stream.PortfolioStream.fill` and answered by one line ``{"fill": {"fill_id",
"symbol", "applied"}, "holdings", "cash", "orders"}``, exactly once like a bar (``fill_id``
required: a re-sent last fill re-emits its line, an older one is answered ``"applied": false``).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pairs.cli._book import follow_wide
from pairs.cli._framing import Fill
from pairs.exceptions import DataError, PairsError, StateError
from pairs.strategy._portfolio import Portfolio
from pairs.stream._delivery import Outbox
from pairs.stream._portfolio import PortfolioStream
from pairs.stream._time import instant_id

__all__ = ["follow_portfolio"]

WHAT = "PortfolioStream state"


def _live(args: argparse.Namespace, outbox: Outbox) -> PortfolioStream:
    """The live book saved in STATE.json, or a new one from ``--portfolio`` and ``--coins``."""
    saved = outbox.read()
    spec = Portfolio.load(args.portfolio)
    if spec.fill_lag[1]:
        raise PairsError(
            "--portfolio must not fill at the next open in --follow, whose bars carry closes only (run "
            "PortfolioStream.update(..., opens=) from Python); got strategy.fill='next_open'."
        )
    coins = [c for c in args.coins.split(",") if c] if args.coins else None
    if saved is None:
        if not coins:
            raise PairsError(
                f"--coins must be given to create the live portfolio {str(outbox.path)!r} (e.g. --coins ADA,BNB,XRP)."
            )
        return PortfolioStream(spec, coins, bar=args.bar)
    live = PortfolioStream.from_state(saved)
    differ = [
        name
        for name, same in (("portfolio", live.portfolio == spec), ("coins", coins in (None, live.coins)))
        if not same
    ]
    if differ:
        raise StateError(
            f"options must match the live portfolio {str(outbox.path)!r} being resumed; got different {differ}."
        )
    delivery = outbox.delivery
    last = None if delivery is None else delivery["input"]["id"]
    if isinstance(last, dict) and set(last) == {"fill"}:
        if last["fill"] not in live._held.seen:
            raise StateError(
                f"state file {str(outbox.path)!r} must hold the fill of its delivery record; got "
                f"{last!r}, which the live portfolio has not applied."
            )
    elif delivery is not None and live.last_timestamp is not None and last != instant_id(live.last_timestamp):
        raise StateError(
            f"state file {str(outbox.path)!r} must hold the delivery of its last bar; got one for "
            f"{delivery['input']['id']!r} after bar {live.last_timestamp!r}."
        )
    return live


def _emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _fill(live: PortfolioStream, fill: Fill, outbox: Outbox) -> str:
    """Apply one fill and return its answer line, exactly once (as a bar)."""
    if fill.fill_id is None:
        raise DataError(
            "fill_id must be given with --portfolio (the exchange's id of the fill), so that a re-sent "
            "fill is not applied twice; got a fill without one."
        )
    if fill.pair is not None:
        raise DataError(f"pair must not be given with --portfolio (fills are per coin); got {fill.pair!r}.")

    def advance() -> tuple[Any, str]:
        applied = live.fill(
            fill.symbol,
            fill.quantity,
            fill.price,
            fee=fill.fee,
            timestamp=fill.timestamp,
            fill_id=fill.fill_id,
        )
        answer = {
            "fill": {"fill_id": fill.fill_id, "symbol": fill.symbol, "applied": applied},
            "holdings": live.holdings,
            "cash": live.ledger()["cash"],
            "orders": [o.to_dict() for o in live.orders()],
        }
        return live.state_dict(), json.dumps(answer, separators=(",", ":"))

    return outbox.deliver({"fill": fill.fill_id}, fill.values()[:-1], advance)


def follow_portfolio(args: argparse.Namespace) -> int:
    """Read wide bars from stdin; for each, save STATE.json with its line, then write the line."""
    if not args.follow:
        raise PairsError("--portfolio must be used with --follow (it reads bars from stdin).")
    if args.y is not None or args.output or args.book:
        raise PairsError("--portfolio reads bars from stdin; got price sources, --output or --book.")
    if not args.state:
        raise PairsError(
            "--state must be given with --portfolio (the live portfolio's state file); got none."
        )
    outbox = Outbox(args.state, what=WHAT, body="portfolio")
    try:
        live = _live(args, outbox)

        def bar(prices: dict[str, float | None], ts: Any) -> tuple[Any, str]:
            line = live.update(prices, ts).to_json()
            return live.state_dict(), line

        # _emit is looked up here, at the call, so that a test can wrap it (the kill -9 soak).
        follow_wide(
            outbox,
            live.coins,
            "--portfolio",
            "an ISO 8601 time",
            bar,
            lambda fill: _fill(live, fill, outbox),
            _emit,
        )
    finally:
        outbox.close()
    return 0
