"""``pairs test``: the cointegration battery on one pair (:func:`pairs.coint.coint_report`)."""

from __future__ import annotations

import argparse

from pairs.cli._fit import prices_for
from pairs.cli._io import load_pair, print_record
from pairs.coint import coint_report

__all__ = ["cmd_test"]


def cmd_test(args: argparse.Namespace) -> int:
    """``pairs test``: the cointegration battery on one pair, verdict first."""
    pair = load_pair(args)
    yv, xv = prices_for(pair, args.log)
    report = coint_report(yv, xv, size=args.size, trend=args.trend, k_ar_diff=args.k_ar_diff)
    if args.format != "table":
        print_record({"data": pair.info(), "log": bool(args.log), **report.to_dict()}, args.format)
    else:
        print(pair.headline(args.log))
        print()
        print(report.summary())
    return 0
