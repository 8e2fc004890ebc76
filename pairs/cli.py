"""Command line interface: ``pairs <command> ...``; ``main(argv) -> int``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pairs.data import align, load_sample
from pairs.exceptions import PairsError

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> int:
    prices = load_sample("binance_1d")
    aligned, gaps = align(prices["ETH"], prices["BTC"])
    print(f"ETH and BTC daily closes: {len(aligned)} common bars, {len(gaps)} holes")
    print(aligned.tail().to_string())
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pairs", description="Hedge ratios, cointegration and spread signals.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="end-to-end analysis of the bundled data, offline")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (2 for user errors)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except PairsError as exc:
        print(f"pairs: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
