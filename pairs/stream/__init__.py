"""Streaming for execution bots: :class:`StreamEngine` (one pair) built from a :class:`~pairs.Strategy`."""

from pairs.stream._engine import Signal, StreamEngine

__all__ = ["Signal", "StreamEngine"]
