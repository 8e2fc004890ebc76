"""The outputs shown in the README and docs are what the code prints today (issue #22).

Each marked block (``<!-- render: ... -->``) of the files in ``tools/render_docs.py``'s ``DOCS``
is regenerated from the code on the bundled data and compared with the file, one test per block.
A failure means the docs are stale: run ``python tools/render_docs.py`` and review the diff.
"""

from __future__ import annotations

import difflib
import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("render_docs", ROOT / "tools" / "render_docs.py")
assert _spec is not None and _spec.loader is not None
render_docs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(render_docs)

# Blocks that take seconds (the whole demo, a report with its figures, two scans of 78 pairs).
SLOW = ("cli pairs demo", "pairs report", "python scan_raw_vs_log", "pairs portfolio")
BLOCKS = [
    pytest.param(
        doc, spec, id=f"{doc}:{spec[:60]}", marks=[pytest.mark.slow] if any(s in spec for s in SLOW) else []
    )
    for doc in render_docs.DOCS
    for spec in render_docs.specs((ROOT / doc).read_text(encoding="utf-8"))
]


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with render_docs.workspace() as path:
        yield path


def test_every_doc_has_rendered_blocks() -> None:
    counts = {
        doc: len(render_docs.specs((ROOT / doc).read_text(encoding="utf-8"))) for doc in render_docs.DOCS
    }
    assert counts["docs/cli.md"] >= 10 and counts["README.md"] >= 1 and counts["docs/backtest.md"] >= 1


@pytest.mark.parametrize(("doc", "spec"), BLOCKS)
def test_documented_output_is_current(doc: str, spec: str, folder: Path) -> None:
    text = (ROOT / doc).read_text(encoding="utf-8")
    fresh = render_docs.render(text, folder, only=lambda s: s == spec)
    diff = "".join(difflib.unified_diff(text.splitlines(True), fresh.splitlines(True), doc, "code", n=1))
    assert fresh == text, f"{doc} is stale; run `python tools/render_docs.py`:\n{diff}"


def test_render_reports_errors_and_masks(folder: Path) -> None:
    # A user error shows its one stderr line; a mask hides platform-dependent numbers.
    text = "<!-- render: cli mask=(\\d+)\\scommon pairs fit sample:ETH sample:BTC --window 0 -->\nold\n<!-- /render -->"
    out = render_docs.render(text, folder)
    assert out.startswith("<!-- render: cli mask=") and "\nold\n" not in out
    body = out.split("-->\n", 1)[1]
    assert body.startswith("```\n$ pairs fit sample:ETH sample:BTC --window 0\npairs: error: ")
    assert "--window" in body and body.endswith("```\n<!-- /render -->")
    masked = render_docs.render(text.replace("--window 0", "--log"), folder)
    assert "(log prices): ... common bars" in masked
    with pytest.raises(ValueError, match="render kind must be 'cli' or 'python'"):
        render_docs.render("<!-- render: shell ls -->\n<!-- /render -->", folder)
