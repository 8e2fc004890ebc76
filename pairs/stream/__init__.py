"""Streaming for execution bots: :class:`StreamEngine` (one pair) and :class:`StreamBook` (many pairs)."""

from pairs.stream._book import BookSignals, StreamBook
from pairs.stream._engine import Signal, StreamEngine

__all__ = ["BookSignals", "Signal", "StreamBook", "StreamEngine"]
