"""The README's Python examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(
    index: int, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the examples write files (a strategy file)
    namespace: dict[str, object] = {}
    exec(compile(BLOCKS[index], f"README.md block {index}", "exec"), namespace)
    assert capsys.readouterr().out.strip()


def _cli_lines() -> list[str]:
    section = README.read_text(encoding="utf-8").split("## Command line", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block is not None
    return [line.split("  #")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_cli_commands_run_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io
    import shlex

    from pairs.cli import main

    monkeypatch.chdir(tmp_path)
    lines = _cli_lines()
    assert len(lines) >= 8
    for line in lines:
        stdin = ""
        if line.startswith("printf"):
            printf, line = (part.strip() for part in line.split("|", 1))
            stdin = shlex.split(printf)[1].encode().decode("unicode_escape")
        argv = shlex.split(line)
        assert argv[0] == "pairs", line
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(argv[1:])
        captured = capsys.readouterr()
        assert code == 0, f"{line}: {captured.err}"
        assert captured.out.strip(), line
