"""Options shared by the commands: the data and pair sources, the strategy flags and ``--format``."""

from __future__ import annotations

import argparse
from typing import Any

from pairs._settings import SETTINGS
from pairs._typing import layouts

__all__ = ["FORMATS"]

FORMATS = ("table", "json", "csv")
"""``--format`` choices, the same for every command (csv: a table or series, or ``field,value`` rows)."""


def _add_format(parser: argparse.ArgumentParser, default: str | None = "table", shown: str = "table") -> None:
    parser.add_argument(
        "--format", choices=FORMATS, default=default, help=f"output format (default: {shown})"
    )


def _add_data(parser: argparse.ArgumentParser, *, log: bool = True) -> None:
    group = parser.add_argument_group("data")
    if log:
        group.add_argument("--log", action="store_true", default=None, help="work on log prices")
    group.add_argument(
        "--layout",
        choices=("auto", *layouts()),
        default="auto",
        help="CSV layout (default: detect from the header)",
    )
    group.add_argument(
        "--yf", action="store_true", help="the sources are Yahoo Finance tickers (cached download)"
    )
    group.add_argument("--start", metavar="DATE", help="with --yf or ccxt: first date, e.g. 2022-01-01")
    group.add_argument("--end", metavar="DATE", help="with --yf or ccxt: end date (exclusive)")
    group.add_argument(
        "--interval", metavar="I", default="1d", help="with --yf or ccxt: bar interval (default: 1d)"
    )
    group.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="with --yf: cache folder (default: $PAIRS_CACHE_DIR or ~/.cache/pairs)",
    )


def _add_pair(parser: argparse.ArgumentParser, *, optional: bool = False, log: bool = True) -> None:
    nargs = "?" if optional else None
    parser.add_argument("y", metavar="Y", nargs=nargs, help="asset hedged (price source)")
    parser.add_argument("x", metavar="X", nargs=nargs, help="hedge (price source)")
    _add_data(parser, log=log)


def _add_signal_options(parser: argparse.ArgumentParser) -> None:
    """``--strategy FILE`` and a flag per setting of :data:`pairs._settings.SETTINGS`, by section.

    The flags default to None (not given): a given flag overrides the strategy file's setting,
    and the help shows the default of ``pairs.Strategy()`` from the same table.
    """
    spec = parser.add_argument_group("strategy (defaults: pairs.Strategy(); see 'pairs strategy')")
    spec.add_argument(
        "--strategy",
        metavar="FILE",
        help="strategy file (JSON, as written by 'pairs strategy'); flags given override its settings",
    )
    groups: dict[str, Any] = {}
    for s in SETTINGS:
        if s.group not in groups:
            groups[s.group] = parser.add_argument_group(s.group)
        options: dict[str, Any] = {"help": s.help.format(default=s.default)}
        if s.choices is not None:
            options["choices"] = s.choices
        else:
            options.update(metavar=s.metavar, type=s.kind)
        if s.nargs is not None:
            options["nargs"] = s.nargs
        if s.dest is not None:
            options["dest"] = s.dest
        groups[s.group].add_argument(s.flag, **options)
