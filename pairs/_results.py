"""Shared behaviour of result objects: JSON-safe ``to_dict()``, text ``summary()``, HTML display.

Results are frozen dataclasses that inherit :class:`ResultMixin`. ``to_dict()``
turns every field into JSON-safe Python objects (NaN/inf become ``None``,
timestamps become ISO-8601 strings, pandas objects become nested dicts), so
``json.dumps(result.to_dict())`` always works. ``summary()`` returns a :class:`Summary`, a
``str`` that a notebook or the REPL shows as the text itself, and ``_repr_html_`` (what Jupyter
shows for a result) is the summary rows as an HTML table, every string escaped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import math
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ResultMixin", "Summary", "format_table", "frame_html", "json_safe", "rows_html"]


def _scalar(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, pd.Timedelta):
        return None if pd.isna(value) else value.isoformat()
    if value is None or isinstance(value, str):
        return value
    if value is pd.NaT:
        return None
    return str(value)


def _label(value: Any) -> Any:
    out = _scalar(value)
    return out if isinstance(out, (str, int)) or out is None else str(out)


def json_safe(value: Any) -> Any:
    """Convert ``value`` (scalars, arrays, pandas objects, containers) to JSON-safe data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if isinstance(value, ResultMixin):
            return value.to_dict()
        return {f.name: json_safe(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, pd.Series):
        return {
            "index": [_label(i) for i in value.index],
            "values": [json_safe(v) for v in value.to_numpy()],
            "name": _label(value.name),
        }
    if isinstance(value, pd.DataFrame):
        return {
            "index": [_label(i) for i in value.index],
            "columns": [_label(c) for c in value.columns],
            "data": [[json_safe(v) for v in row] for row in value.to_numpy()],
        }
    if isinstance(value, np.ndarray):
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, dict):
        return {str(_label(k)): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return _scalar(value)


def _fmt(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        f = float(value)
        if not math.isfinite(f):
            return str(f)
        if f != 0 and (abs(f) >= 1e6 or abs(f) < 1e-4):
            return f"{f:.4e}"
        return f"{f:.6g}"
    return str(value)


class Summary(str):
    """The text of a ``summary()``: a ``str`` whose repr is the text itself.

    Evaluated in a notebook cell or at the REPL, ``result.summary()`` then shows the aligned
    table rather than a quoted string full of ``\\n``; everything else sees a plain ``str``.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


def format_table(rows: list[tuple[str, Any]], title: str | None = None) -> str:
    """Render ``(label, value)`` rows as an aligned two-column text block."""
    width = max((len(label) for label, _ in rows), default=0)
    lines = []
    if title:
        lines += [title, "=" * max(len(title), width + 16)]
    lines += [f"{label:<{width}}  {_fmt(value)}" for label, value in rows]
    return "\n".join(lines)


_NUMBER = re.compile(r"^[+-]?(\d[\d,]*\.?\d*|\.\d+)(e[+-]?\d+)?[%x]?$|^(nan|inf|-inf|n/a)$")


def _td(value: Any) -> str:
    """A data cell: numbers right-aligned (CSS default), words left-aligned (class ``w``)."""
    text = _fmt(value)
    words = isinstance(value, str) and not _NUMBER.match(text)
    return f'<td class="w">{html.escape(text)}</td>' if words else f"<td>{html.escape(text)}</td>"


def rows_html(rows: Iterable[tuple[Any, Any]], caption: str | None = None) -> str:
    """``(label, value)`` rows as an HTML table, values formatted as :func:`format_table` prints them."""
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    body = "".join(f"<tr><th>{html.escape(str(k))}</th>{_td(v)}</tr>" for k, v in rows)
    return f"<table>{cap}<tbody>{body}</tbody></table>"


def frame_html(frame: pd.DataFrame) -> str:
    """A DataFrame as an HTML table (its index shown unless it is a RangeIndex), escaped."""
    show_index = not isinstance(frame.index, pd.RangeIndex)
    head = "<th>" + html.escape(str(frame.index.name or "")) + "</th>" if show_index else ""
    head += "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for label, values in zip(frame.index, frame.itertuples(index=False), strict=True):
        first = f"<th>{html.escape(str(label))}</th>" if show_index else ""
        rows.append("<tr>" + first + "".join(_td(v) for v in values) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


class ResultMixin:
    """Mixin for frozen result dataclasses: ``to_dict()``, ``summary()``, a short repr, HTML display."""

    __slots__ = ()  # lets a result declare slots (Signal); the others keep their __dict__
    _title: str = "Result"

    def to_dict(self) -> dict[str, Any]:
        """Return every field as JSON-safe data (``json.dumps`` works on the output)."""
        return {
            f.name: json_safe(getattr(self, f.name))
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
        }

    def _summary_rows(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = []
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, (pd.Series, pd.DataFrame, np.ndarray)):
                idx = value.index if isinstance(value, pd.Series) else None
                if (
                    idx is not None
                    and (pd.api.types.is_object_dtype(idx) or pd.api.types.is_string_dtype(idx))
                    and len(value) <= 12
                ):
                    rows += [(f"{f.name}[{k}]", v) for k, v in value.items()]  # type: ignore[union-attr]
                continue
            if isinstance(value, dict):
                rows += [(f"{f.name}[{k}]", v) for k, v in value.items() if not isinstance(v, dict)]
                continue
            rows.append((f.name, value))
        return rows

    def summary(self) -> str:
        """Return a human-readable text summary of the scalar results (a :class:`Summary`)."""
        return Summary(format_table(self._summary_rows(), title=self._title))

    def _repr_html_(self) -> str:
        # How IPython/Jupyter shows a result: the rows of summary(), as a table.
        return rows_html(self._summary_rows(), self._title)

    def __repr__(self) -> str:
        scalars = ", ".join(f"{name}={_fmt(value)}" for name, value in self._summary_rows()[:6])
        return f"{type(self).__name__}({scalars})"
