"""``pairs scan``: every pair of a universe, ranked, with multiple-testing correction."""

from __future__ import annotations

import argparse

import pandas as pd

from pairs.cli._io import frame_text, load_panel, print_csv, print_json, records
from pairs.screening._scan import scan

__all__ = ["cmd_scan"]


def cmd_scan(args: argparse.Namespace) -> int:
    """``pairs scan``: Engle-Granger on every pair of a universe, ranked, with correction."""
    panel = load_panel(args)
    res = scan(
        panel,
        size=args.size,
        correction=args.correction,
        min_overlap=args.min_overlap,
        direction=args.direction,
        log=bool(args.log),
        n_jobs=args.n_jobs,
        progress=None,
    )
    top = res.table if args.top == 0 else res.table.head(args.top)
    top = top.set_axis(pd.RangeIndex(1, len(top) + 1, name="rank"))
    if args.format == "json":
        settings = {
            k: getattr(res, k) for k in ("test", "correction", "size", "direction", "min_overlap", "log")
        }
        counts = {k: getattr(res, k) for k in ("n_pairs", "n_tested", "n_skipped", "n_significant")}
        print_json(
            {
                "n_series": panel.shape[1],
                **counts,
                "settings": settings,
                "pairs": records(top),
                "skipped": res.skipped.to_dict("records"),
            }
        )
    elif args.format == "csv":
        print_csv(top)
    else:
        kind = "log prices" if args.log else "prices"
        print(
            f"Engle-Granger ({res.direction}), {kind}, {panel.shape[1]} series: {res.n_tested} pairs tested, "
            f"{res.n_skipped} skipped (< {res.min_overlap} common bars, or constant)"
        )
        print(f"{res.correction} correction at size {res.size:g}: {res.n_significant} significant pair(s)")
        if len(top):
            cols = ["y", "x", "stat", "pvalue", "pvalue_adj", "significant", "beta", "half_life", "n_obs"]
            print()
            print(frame_text(top[cols]))
    return 0
