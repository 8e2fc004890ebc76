"""Command line interface: ``pairs <command> ...``; ``main(argv) -> int``.

Commands: ``demo``, ``fit``, ``test``, ``scan``, ``portfolio``, ``signal`` (also ``--follow`` for bots),
``backtest``, ``sweep`` and ``report``; ``pairs <command> --help`` shows options and examples, and
``docs/cli.md`` is the reference. A user error (bad path, unknown layout, too little data, bad
option) prints one line ``pairs: error: ...`` on stderr and returns 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from pairs import __version__
from pairs.cli._arguments import FORMATS
from pairs.cli._parsers import COMMANDS
from pairs.exceptions import PairsError

__all__ = ["FORMATS", "main"]


class _Parser(argparse.ArgumentParser):
    """Argument errors as one line ``pairs: error: ...`` (exit code 2), like library errors."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"pairs: error: {message} (see '{self.prog} --help')\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pairs",
        description="Hedge ratios, cointegration tests and spread signals for crypto pairs.",
        epilog="Run 'pairs <command> --help' for options and examples; start with 'pairs demo'.",
    )
    parser.add_argument("--version", action="version", version=f"pairs {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in COMMANDS:
        register(sub)
    return parser


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _os_error(exc: OSError) -> str:
    if exc.filename is not None and exc.strerror:
        return f"path must be accessible; got {str(exc.filename)!r}: {exc.strerror}."
    return str(exc)


INTERNAL_ERROR = 3
"""Exit code of an unexpected exception (a bug in pairs): one line on stderr, no traceback."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code.

    0 success; 1 the reader of stdout went away; 2 a user error (one line on stderr); 3 an
    unexpected internal error (one line on stderr; ``PAIRS_TRACEBACK=1`` adds the
    traceback); 130 an interrupt.

    Parameters
    ----------
    argv
        Arguments without the program name; default ``sys.argv[1:]``.

    Examples
    --------
    >>> main(["fit", "sample:ETH", "sample:BTC", "--log", "--format", "json"])  # doctest: +ELLIPSIS
    {
      "data": {
        "y": "ETH",
        "x": "BTC",
        "n_obs": 3065,
    ...
    0
    >>> main(["fit", "sample:NOPE", "sample:BTC"])
    2
    """
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
        return int(args.func(args))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except PairsError as exc:
        print(f"pairs: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`pairs scan ... | head`): silence the flush at exit.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 1
    except OSError as exc:
        print(f"pairs: error: {_one_line(_os_error(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        # Last resort: a bug must not look like a user error (2) or a closed pipe (1).
        if os.environ.get("PAIRS_TRACEBACK"):
            traceback.print_exc()
        print(
            f"pairs: internal error: {type(exc).__name__}: {_one_line(str(exc))[:500]} "
            "(a bug in pairs; set PAIRS_TRACEBACK=1 for the traceback and please report it).",
            file=sys.stderr,
        )
        return INTERNAL_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
