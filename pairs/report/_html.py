"""The HTML of a report: blocks rendered as one self-contained document, written atomically."""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from pairs._io import write_text_atomic
from pairs._results import ResultMixin, frame_html, rows_html
from pairs._validation import check_choice
from pairs.exceptions import PairsError

__all__ = ["Block", "render_report", "write_report"]

Block = tuple[str, Any]

_KINDS = ("heading", "text", "note", "table", "figure")
# Figures are rendered at _PNG_DPI and displayed at _CSS_PX_PER_INCH: 2x pixel density.
_PNG_DPI = 200
_CSS_PX_PER_INCH = 100
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #444; padding-bottom: .3rem; }
h2 { margin-top: 2.2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .9rem; }
caption { text-align: left; font-weight: 600; padding-bottom: .3rem; }
th, td { border: 1px solid #ddd; padding: .25rem .6rem; text-align: right; }
th { background: #f3f3f3; }
td:first-child, th:first-child, td.w { text-align: left; }
caption { white-space: nowrap; }
figure { margin: 1rem 0; }
img { max-width: 100%; height: auto; }
.note { font-size: 1.15rem; padding: .7rem 1rem; border-left: 5px solid #555; background: #f4f4f4; }
footer { margin-top: 3rem; color: #888; font-size: .8rem; }
"""


def _table(obj: Any, where: str) -> str:
    if isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[0], str):
        caption, inner = obj
        table = _table(inner, where)
        if "<caption>" in table:
            return table
        return table.replace("<table>", f"<table><caption>{html.escape(caption)}</caption>", 1)
    if isinstance(obj, ResultMixin):
        return rows_html(obj._summary_rows(), type(obj)._title)
    if isinstance(obj, pd.DataFrame):
        return frame_html(obj)
    if isinstance(obj, pd.Series):
        return rows_html(obj.items(), None if obj.name is None else str(obj.name))
    if isinstance(obj, Mapping):
        return rows_html(obj.items(), None)
    raise PairsError(
        f"{where} must be a result object, a mapping, a Series or a DataFrame; got {type(obj).__name__}."
    )


def _png(obj: Any, where: str) -> bytes:
    if isinstance(obj, (bytes, bytearray)):
        data = bytes(obj)
    elif hasattr(obj, "savefig"):
        buffer = io.BytesIO()
        obj.savefig(buffer, format="png", dpi=_PNG_DPI)
        data = buffer.getvalue()
    else:
        raise PairsError(f"{where} must be a matplotlib Figure or PNG bytes; got {type(obj).__name__}.")
    if not data.startswith(_PNG_SIGNATURE):
        raise PairsError(f"{where} must be PNG data; got bytes starting with {data[:8]!r}.")
    return data


def _alt(obj: Any) -> str:
    titles = [ax.get_title() for ax in getattr(obj, "axes", [])]
    return next((t for t in titles if t), "figure")


def _block(index: int, block: Any) -> str:
    where = f"blocks[{index}]"
    if not isinstance(block, tuple) or len(block) != 2:
        raise PairsError(f"{where} must be a (kind, object) tuple; got {block!r:.80}.")
    kind, obj = block
    check_choice(f"{where} kind", kind, _KINDS)
    if kind in ("heading", "text", "note") and not isinstance(obj, str):
        raise PairsError(f"{where} must hold a str for kind {kind!r}; got {type(obj).__name__}.")
    if kind == "heading":
        return f"<h2>{html.escape(obj)}</h2>"
    if kind == "text":
        paragraphs = [p.strip() for p in obj.split("\n\n") if p.strip()]
        return "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    if kind == "note":
        return f'<p class="note">{html.escape(obj)}</p>'
    if kind == "table":
        return _table(obj, where)
    encoded = base64.b64encode(_png(obj, where)).decode("ascii")
    width = ""
    if hasattr(obj, "get_figwidth"):
        width = f' width="{round(obj.get_figwidth() * _CSS_PX_PER_INCH)}"'
    alt = html.escape(_alt(obj))
    return f'<figure><img src="data:image/png;base64,{encoded}"{width} alt="{alt}"></figure>'


def render_report(title: str, blocks: Iterable[Block]) -> str:
    """Render a title and blocks as one self-contained HTML document.

    Parameters
    ----------
    title
        Document title and top heading.
    blocks
        ``(kind, obj)`` tuples, kind in ``"heading"``, ``"text"``, ``"note"``, ``"table"``,
        ``"figure"``
        (see :mod:`pairs.report`).

    Returns
    -------
    str
        The HTML document: inline CSS, figures as ``data:image/png;base64`` images, no
        external resource.

    Examples
    --------
    >>> doc = render_report("Demo", [("heading", "Numbers"), ("table", {"beta": 0.123456789})])
    >>> "<th>beta</th><td>0.123457</td>" in doc
    True
    """
    if not isinstance(title, str):
        raise PairsError(f"title must be a str; got {type(title).__name__}.")
    # Read at call time: pairs/__init__ may import this module before it defines __version__.
    from pairs import __version__

    body = "\n".join(_block(i, block) for i, block in enumerate(blocks))
    safe_title = html.escape(title)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{safe_title}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{safe_title}</h1>\n{body}\n"
        f"<footer>Generated by pairs {html.escape(__version__)}.</footer>\n</body>\n</html>\n"
    )


def write_report(path: str | os.PathLike[str], title: str, blocks: Iterable[Block]) -> Path:
    """Render a report and write it to ``path`` atomically.

    The document goes to a temporary file in the target directory, then replaces ``path`` in one
    rename, so a reader never sees a half-written report and a failure leaves no partial file.

    Parameters
    ----------
    path
        Destination ``.html`` file; its directory must exist.
    title, blocks
        As in :func:`render_report`.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = write_report(pathlib.Path(tmp) / "r.html", "Demo", [("text", "Hello.")])
    ...     "<p>Hello.</p>" in out.read_text(encoding="utf-8")
    True
    """
    if not isinstance(path, (str, os.PathLike)):
        raise PairsError(f"path must be a file path; got {type(path).__name__}.")
    target = Path(path)
    if not target.parent.is_dir():
        raise PairsError(f"path must be in an existing directory; got {str(target)!r}.")
    document = render_report(title, blocks)
    write_text_atomic(target, document, shared=True)
    return target
