"""One self-contained HTML report of a pair analysis.

A report is a title and a list of blocks ``(kind, obj)``:

* ``("heading", str)``: a section heading;
* ``("text", str)``: paragraphs (separated by blank lines), HTML-escaped;
* ``("note", str)``: a highlighted paragraph (the verdict), HTML-escaped;
* ``("table", obj)``: a result object (its ``summary()`` rows, numbers formatted exactly as
  ``summary()`` prints them), a mapping, a Series or a DataFrame; or ``(caption, obj)``;
* ``("figure", fig)``: a matplotlib Figure, embedded as a PNG rendered at 200 dpi and displayed
  at 100 CSS pixels per inch of figure (sharp on HiDPI screens), or PNG bytes shown as they are.

The HTML references nothing outside itself (no scripts, fonts or stylesheets to fetch), so the
file opens and renders offline, and can be mailed or archived as is. :func:`analysis_report`
builds the standard blocks of a pair (used by ``pairs report`` and ``pairs demo --report``).
"""

from pairs.report._html import Block, render_report, write_report
from pairs.report._pair import analysis_report
from pairs.report._portfolio import portfolio_report, portfolio_verdict
from pairs.report._sweep import sweep_blocks

__all__ = [
    "Block",
    "analysis_report",
    "portfolio_report",
    "portfolio_verdict",
    "render_report",
    "sweep_blocks",
    "write_report",
]
