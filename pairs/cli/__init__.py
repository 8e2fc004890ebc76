"""The ``pairs`` command line: ``main(argv) -> int``, one private module per command."""

from pairs.cli._main import main

__all__ = ["main"]
