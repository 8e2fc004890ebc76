"""Streaming for execution bots: :class:`StreamEngine` (one pair) and :class:`StreamBook` (many pairs)."""

from pairs.stream._book import BookSignals, StreamBook
from pairs.stream._engine import Signal, StreamEngine
from pairs.stream._legs import Order
from pairs.stream._portfolio import PortfolioSignal, PortfolioStream

__all__ = [
    "BookSignals",
    "Order",
    "PortfolioSignal",
    "PortfolioStream",
    "Signal",
    "StreamBook",
    "StreamEngine",
]
