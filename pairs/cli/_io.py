"""Command-line input and output: price sources, pair loading, and table/JSON/CSV rendering.

A price *source* on the command line is one of

* a CSV file in any layout :func:`pairs.read_prices` understands;
* a folder: every ``*.csv`` file in it (``pairs scan`` only);
* ``sample:COIN`` (a column of the bundled ``binance_1d`` sample), ``sample:NAME:COIN`` (a
  column of sample ``NAME``), or ``sample:NAME`` (every column of it, ``pairs scan`` only);
* with ``--yf``, Yahoo Finance tickers, through :func:`pairs.load_yfinance` and its cache.

An account filled at the next bar's open (``--fill next_open``) also reads the open prices of
both legs from the same sources (a CSV file's open column, the candles' opens of ccxt and Yahoo
Finance); the bundled samples hold closes only.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple, TextIO

import numpy as np
import pandas as pd

from pairs._results import _fmt, format_table, json_safe
from pairs._typing import PriceField
from pairs.data import SAMPLES, align, load_sample, load_yfinance, read_prices
from pairs.data._sources import CCXT_PREFIX, resolve_source
from pairs.exceptions import DataError

__all__ = [
    "Pair",
    "fields",
    "frame_text",
    "load_pair",
    "load_panel",
    "print_csv",
    "print_fields",
    "print_json",
    "print_record",
    "records",
    "records_json",
    "rows_text",
    "write_frame",
]

_SAMPLE = "sample:"
_DEFAULT_SAMPLE = "binance_1d"


class Pair(NamedTuple):
    """Aligned prices of ``y`` and ``x``, what alignment dropped, and the open prices if asked for."""

    y: pd.Series
    x: pd.Series
    gaps: int
    missing_bars: int
    open_y: pd.Series | None = None
    open_x: pd.Series | None = None

    def opens(self) -> dict[str, pd.Series]:
        """``open_y``, ``open_x`` of :func:`pairs.backtest` and :func:`pairs.sweep` (none if not read)."""
        if self.open_y is None or self.open_x is None:
            return {}
        return {"open_y": self.open_y, "open_x": self.open_x}

    def info(self) -> dict[str, Any]:
        """JSON-safe description of the data: names, span, number of bars and holes."""
        return {
            "y": str(self.y.name),
            "x": str(self.x.name),
            "n_obs": len(self.y),
            "start": json_safe(self.y.index[0]),
            "end": json_safe(self.y.index[-1]),
            "gaps": self.gaps,
            "missing_bars": self.missing_bars,
        }

    def headline(self, log: bool) -> str:
        """One line: ``ETH on BTC (log prices): 3065 bars, 2017-08-17 .. 2026-01-06, no gaps``."""
        span = f"{_day(self.y.index[0])} .. {_day(self.y.index[-1])}"
        holes = (
            "no gaps"
            if self.gaps == 0
            else f"{self.gaps} gap(s) totalling {self.missing_bars} missing bar(s) dropped"
        )
        kind = "log prices" if log else "prices"
        return f"{self.y.name} on {self.x.name} ({kind}): {len(self.y)} common bars, {span}, {holes}"


def _day(ts: Any) -> str:
    if isinstance(ts, pd.Timestamp):
        no_time = ts.hour == ts.minute == ts.second == 0
        return ts.strftime("%Y-%m-%d" if no_time else "%Y-%m-%d %H:%M")
    return str(ts)


def _sample_series(ref: str, *, whole: bool) -> list[pd.Series]:
    parts = ref[len(_SAMPLE) :].split(":")
    if len(parts) == 1 and parts[0] in SAMPLES:
        name, coin = parts[0], None
    elif len(parts) == 1:
        name, coin = _DEFAULT_SAMPLE, parts[0]
    elif len(parts) == 2:
        name, coin = parts
    else:
        raise DataError(f"source must look like sample:COIN or sample:NAME:COIN; got {ref!r}.")
    if name not in SAMPLES:
        raise DataError(f"source must name a bundled sample ({', '.join(SAMPLES)}); got {ref!r}.")
    frame = load_sample(name)
    if coin is None:
        if not whole:
            raise DataError(
                f"source must be one series such as sample:{frame.columns[0]}; got the whole sample {ref!r}."
            )
        return [frame[c].dropna() for c in frame.columns]
    if coin not in frame.columns:
        raise DataError(
            f"source must name a column of sample {name!r} ({', '.join(frame.columns)}); got {ref!r}."
        )
    return [frame[coin].dropna()]


def _ccxt_series(ref: str, args: argparse.Namespace, field: PriceField = "close") -> pd.Series:
    options: dict[str, Any] = {"timeframe": args.interval, "since": args.start, "until": args.end}
    if args.cache_dir:
        options["cache_dir"] = args.cache_dir
    return resolve_source(ref, field=field, **options)


def _source(
    ref: str,
    layout: str,
    *,
    whole: bool,
    args: argparse.Namespace | None = None,
    field: PriceField = "close",
    label: str = "SOURCE",
) -> list[tuple[pd.Series, str | None]]:
    """The series of one source, each with its file stem (None for samples and exchanges).

    ``field="open"`` (for ``--fill next_open``): a source without open prices is an error naming
    the argument ``label``.
    """
    if ref.startswith(_SAMPLE):
        if field != "close":
            raise DataError(
                f"{label} must be a source with {field} prices for --fill next_open (a CSV file with an "
                f"{field} column, ccxt:EXCHANGE:SYMBOL or a ticker with --yf); got {ref!r}, a bundled sample "
                "of closes."
            )
        return [(s, None) for s in _sample_series(ref, whole=whole)]
    if ref.startswith(CCXT_PREFIX) and args is not None:
        return [(_ccxt_series(ref, args, field), None)]
    path = Path(ref)
    if path.is_dir():
        if not whole:
            raise DataError(f"source must be a CSV file, not a folder; got {ref!r}.")
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv" and p.is_file())
        if not files:
            raise DataError(f"folder must contain .csv files; got none in {ref!r}.")
    else:
        files = [path]
    try:
        return [(read_prices(p, layout=layout, field=field), p.stem) for p in files]  # type: ignore[arg-type]
    except DataError as exc:
        if field == "close":
            raise
        raise DataError(
            f"{label} must be a source with {field} prices for --fill next_open; got {ref!r}: {exc}"
        ) from None


def _yfinance(
    tickers: Sequence[str], args: argparse.Namespace, field: PriceField = "close"
) -> list[pd.Series]:
    frame = load_yfinance(
        list(tickers),
        start=args.start,
        end=args.end,
        interval=args.interval,
        cache_dir=args.cache_dir,
        field=field,
    )
    return [frame[t].dropna() for t in tickers]


def _opens(label: str, ref: str, args: argparse.Namespace) -> pd.Series:
    """The open prices of source ``ref`` (argument ``label``), for ``--fill next_open``."""
    if args.yf:
        return _yfinance([ref], args, "open")[0]
    ((opens, _),) = _source(ref, args.layout, whole=False, args=args, field="open", label=label)
    return opens


def _on(opens: pd.Series, closes: pd.Series, label: str) -> pd.Series:
    """``opens`` on the bars of the aligned ``closes`` (read apart, they may span other bars)."""
    on = opens.reindex(closes.index).rename(closes.name)
    if on.isna().any():
        raise DataError(
            f"{label} must have an open price at every bar of its closes for --fill next_open; "
            f"got none at {on.index[on.isna()][0]}."
        )
    return on


def load_pair(args: argparse.Namespace, *, opens: bool = False) -> Pair:
    """Read ``args.y`` and ``args.x`` (sources, or tickers with ``--yf``) and align them.

    ``opens=True`` also reads the open prices of both legs, on the aligned bars.
    """
    if args.yf:
        y, x = _yfinance([args.y, args.x], args)
    else:
        ((y, _),) = _source(args.y, args.layout, whole=False, args=args)
        ((x, _),) = _source(args.x, args.layout, whole=False, args=args)
    if y.index.equals(x.index) and np.array_equal(y.to_numpy(), x.to_numpy()):
        raise DataError(f"Y and X must be two different series; got the same prices twice ({args.y!r}).")
    if y.name == x.name:
        # Two files of one symbol (say, two exchanges) are a valid pair; align needs two names.
        y, x = y.rename(f"{y.name}_y"), x.rename(f"{x.name}_x")
    prices, gaps = align(y, x)
    missing = int(gaps["missing_bars"].sum()) if len(gaps) else 0
    pair = Pair(prices.iloc[:, 0], prices.iloc[:, 1], len(gaps), missing)
    if not opens:
        return pair
    open_y = _on(_opens("Y", args.y, args), pair.y, "Y")
    open_x = _on(_opens("X", args.x, args), pair.x, "X")
    return pair._replace(open_y=open_y, open_x=open_x)


def load_panel(args: argparse.Namespace, field: PriceField = "close") -> pd.DataFrame:
    """Price panel of ``args.sources``, one column per series, outer-joined (NaN where absent)."""
    items: list[tuple[pd.Series, str | None]]
    if args.yf:
        items = [(s, None) for s in _yfinance(args.sources, args, field)]
    else:
        items = [
            item
            for ref in args.sources
            for item in _source(ref, args.layout, whole=True, args=args, field=field)
        ]
    names = [str(s.name) for s, _ in items]
    # Two files of one symbol (say, daily and hourly) keep apart under their file names.
    series = [s if names.count(str(s.name)) == 1 or stem is None else s.rename(stem) for s, stem in items]
    names = [str(s.name) for s in series]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DataError(f"sources must give series with unique names; got duplicates {dupes!r}.")
    return pd.concat({str(s.name): s for s in series}, axis=1, join="outer", sort=True)


def _short(value: float) -> str:
    """Four significant digits, without an exponent between 1e-4 and 1e6."""
    size = abs(value)
    if value == 0:
        return "0"
    if not math.isfinite(value):
        return str(value)
    if size >= 1e6 or size < 1e-4:
        return f"{value:.3e}"
    if size >= 1:
        return f"{value:.{max(0, 3 - math.floor(math.log10(size)))}f}"
    return f"{value:.4g}"


def _cell(value: Any, short: bool = False) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return ""
        return _short(float(value)) if short else _fmt(float(value))
    if isinstance(value, pd.Timestamp):
        return _day(value)
    return value


def frame_text(frame: pd.DataFrame, *, index: bool = True) -> str:
    """Aligned text table of a frame, numbers to four significant digits."""
    shown = frame.map(lambda v: _cell(v, short=True))
    shown.index = [_cell(i) for i in frame.index]
    return shown.to_string(index=index)


def rows_text(rows: list[tuple[str, Any]], title: str | None = None) -> str:
    """Aligned ``label  value`` block (the layout of ``summary()``)."""
    return format_table([(label, _cell(value)) for label, value in rows], title=title)


def print_json(data: Any, out: TextIO | None = None) -> None:
    """Print JSON-safe ``data`` (NaN becomes null), indented."""
    print(json.dumps(json_safe(data), indent=2), file=out or sys.stdout)


def fields(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """``(field, value)`` leaves of JSON-safe ``data``: keys joined by dots, list items by position."""
    data = json_safe(data)
    if isinstance(data, dict):
        items: Any = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        return [(prefix, data)]
    return [row for key, value in items for row in fields(value, f"{prefix}.{key}" if prefix else str(key))]


def print_fields(data: Any, out: TextIO | None = None) -> None:
    """Print ``data`` as CSV ``field,value`` rows (:func:`fields`; None is an empty cell).

    The ``--format csv`` of a command whose output is a record rather than a table: the same
    values as its JSON, floats at full precision.
    """
    writer = csv.writer(out or sys.stdout, lineterminator="\n")
    writer.writerow(["field", "value"])
    writer.writerows(fields(data))


def print_record(data: Any, fmt: str) -> None:
    """Print a record (nested JSON-safe data) as ``--format json`` or ``--format csv`` asks."""
    if fmt == "json":
        print_json(data)
    else:
        print_fields(data)


def print_csv(frame: pd.DataFrame, out: TextIO | None = None) -> None:
    """Print a frame as CSV with its index as the first column; floats at full precision."""
    (out or sys.stdout).write(_csv_text(frame))


def _csv_text(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=True, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    return buffer.getvalue()


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a frame as JSON-safe dicts, the index first under its name."""
    label = frame.index.name or "index"
    return [
        {label: json_safe(ts), **{c: json_safe(v) for c, v in zip(frame.columns, row, strict=True)}}
        for ts, row in zip(frame.index, frame.itertuples(index=False), strict=True)
    ]


def records_json(frame: pd.DataFrame) -> str:
    """JSON list of :func:`records`, one record per line: readable and diff-friendly at any length."""
    return "[\n" + ",\n".join(map(json.dumps, records(frame))) + "\n]\n"


def write_frame(frame: pd.DataFrame, path: str, fmt: str | None) -> str:
    """Write a frame to ``path`` as CSV or JSON (records), by ``fmt`` or the file extension."""
    target = Path(path)
    kind = fmt or {".csv": "csv", ".json": "json"}.get(target.suffix.lower())
    if kind not in ("csv", "json"):
        raise DataError(f"output must end in .csv or .json (or pass --format csv|json); got {str(target)!r}.")
    text = _csv_text(frame) if kind == "csv" else records_json(frame)
    target.write_text(text, encoding="utf-8")
    return kind
