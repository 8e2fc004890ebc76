"""Cold start (issue #15): what ``import pairs`` loads, and a read-only install.

Each check runs in a fresh interpreter (a subprocess, no timeout). The read-only install is a
copy of the package whose folders cannot hold a ``__pycache__`` (a plain file sits in its
place, which stops root as well as other users) and, for other users, is also ``chmod -w``;
``NUMBA_CACHE_DIR`` is unset, so numba's kernels must go to the per-user folder
``$XDG_CACHE_HOME/pairs/numba``. No wall-clock assertions: the timings are in
benchmarks/cold_start.py and docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import pairs
from pairs import _numba_cache
from pairs.cli import _warmup

PACKAGE = Path(pairs.__file__).resolve().parent
HEAVY = ("statsmodels", "scipy.stats", "matplotlib", "dask", "numba")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(extra)
    return env


def _loaded(code: str, env: dict[str, str] | None = None) -> list[str]:
    """Run ``code`` in a fresh interpreter; return which of HEAVY it left in sys.modules."""
    probe = f"{code}\nimport sys, json\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env or _env()
    )
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def test_import_pairs_loads_no_heavy_dependency() -> None:
    assert _loaded("import pairs") == []


def test_public_names_load_only_what_they_need() -> None:
    assert _loaded("import pairs; pairs.read_prices; pairs.load_sample; import pairs.data") == []
    loaded = _loaded("import pairs; pairs.Strategy; pairs.kalman_hedge; pairs.rolling_hedge; pairs.zscore")
    assert not {"statsmodels", "scipy.stats", "matplotlib", "dask"} & set(loaded)


def test_cli_help_loads_no_heavy_dependency() -> None:
    code = "from pairs.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    assert _loaded(code) == []


def _stderr_at_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run ``python args`` with stderr on a pseudo-terminal; return its exit code and stderr."""
    master, terminal = pty.openpty()
    with subprocess.Popen(
        [sys.executable, *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=terminal, env=env
    ) as proc:
        os.close(terminal)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the process closed the terminal (it exited)
                break
            if not chunk:
                break
            chunks.append(chunk)
    os.close(master)
    return proc.returncode, b"".join(chunks).decode()


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal (pty)")
def test_cold_notice_only_when_a_kernel_compiles(tmp_path: Path) -> None:
    # A real cache, filled by the first run: the notice is about kernels numba compiles, not
    # about folders (screening has a _kernels.py and no kernel: its cache folder stays empty).
    env = _env(NUMBA_CACHE_DIR=str(tmp_path))
    fit = ["-m", "pairs", "fit", "sample:ETH", "sample:BTC", "--method", "rolling"]
    notice = "pairs: compiling numeric kernels on first use"
    code, err = _stderr_at_a_terminal(fit, env)
    assert code == 0 and err.count(notice) == 1 and err.count("\n") == 1, err
    assert str(tmp_path) in err
    assert list(tmp_path.rglob("*.nbi"))
    code, err = _stderr_at_a_terminal(fit, env)
    assert code == 0 and err == ""
    # Kernels the first command did not use are compiled now, so the notice is back.
    code, err = _stderr_at_a_terminal(["-m", "pairs", "test", "sample:ETH", "sample:BTC"], env)
    assert code == 0 and err.count(notice) == 1, err


def test_cold_notice_only_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_numba_cache, "_before_first_compile", None)
    monkeypatch.setattr(_warmup, "cmd_probe", lambda args: 0, raising=False)
    ran = _warmup.command("_warmup", "cmd_probe", compiles=True)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert ran(argparse.Namespace()) == 0
    assert _numba_cache._before_first_compile is None
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert ran(argparse.Namespace()) == 0
    assert _numba_cache._before_first_compile is _warmup._notice
    _warmup._notice(None)
    err = capsys.readouterr().err
    assert err.startswith("pairs: compiling numeric kernels on first use") and err.count("\n") == 1
    _warmup._notice("the numba kernel cache cannot be written in x")
    assert capsys.readouterr().err == "pairs: the numba kernel cache cannot be written in x\n"
    assert ran.__name__ == "cmd_probe"


def test_user_cache_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    if sys.platform in ("win32", "darwin"):
        pytest.skip("XDG_CACHE_HOME is the Linux convention")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert _numba_cache.user_cache_dir() == str(tmp_path / "pairs" / "numba")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert _numba_cache.user_cache_dir() == os.path.join(os.path.expanduser("~"), ".cache", "pairs", "numba")


@pytest.fixture(scope="module")
def readonly_install(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    base = tmp_path_factory.mktemp("readonly")
    site = base / "site"
    shutil.copytree(PACKAGE, site / "pairs", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    folders = [p for p in (site / "pairs").rglob("*") if p.is_dir()] + [site / "pairs"]
    for folder in folders:
        (folder / "__pycache__").write_bytes(b"")
    for path in [*(site / "pairs").rglob("*"), site / "pairs"]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    (base / "home").mkdir()
    env = _env(
        PYTHONPATH=str(site),
        HOME=str(base / "home"),
        XDG_CACHE_HOME=str(base / "xdg"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    yield base, env
    for path in [*(site / "pairs").rglob("*"), site / "pairs"]:
        path.chmod(stat.S_IRWXU)


def _run(args: list[str], base: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=base)


def _cached(base: Path) -> list[Path]:
    return sorted((base / "xdg" / "pairs" / "numba").rglob("*.nbi"))


def test_readonly_install_caches_in_the_user_folder(readonly_install: tuple[Path, dict[str, str]]) -> None:
    base, env = readonly_install
    where = _run(["-c", "import pairs; print(pairs.__file__)"], base, env)
    assert where.stdout.strip() == str(base / "site" / "pairs" / "__init__.py")

    cli = _run(
        ["-m", "pairs", "fit", "sample:ETH", "sample:BTC", "--method", "rolling", "--format", "json"],
        base,
        env,
    )
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["data"]["y"] == "ETH"
    code = (
        "import pairs\np = pairs.load_sample()\n"
        "r = pairs.kalman_hedge(p['ETH'], p['BTC'])\nprint(float(r.beta.iloc[-1]))"
    )
    lib = _run(["-c", code], base, env)
    assert lib.returncode == 0, lib.stderr
    names = {p.name.split("-")[0] for p in _cached(base)}
    assert {"_kernels._single", "_kernels._kalman_paths"} <= names
    assert not list((base / "site").rglob("*.nbi"))
    # A second process loads what the first compiled: nothing new is written.
    before = _cached(base)
    again = _run(["-m", "pairs", "fit", "sample:ETH", "sample:BTC", "--method", "rolling"], base, env)
    assert again.returncode == 0 and _cached(base) == before


@pytest.mark.slow
def test_demo_runs_from_a_readonly_install(readonly_install: tuple[Path, dict[str, str]]) -> None:
    base, env = readonly_install
    demo = _run(["-m", "pairs", "demo", "--format", "json"], base, env)
    assert demo.returncode == 0, demo.stderr
    assert "screen" in json.loads(demo.stdout)
    assert not list((base / "site").rglob("*.nbi"))
    assert any(p.parent.name.startswith("coint_") for p in _cached(base))


@pytest.mark.slow
def test_warmup_compiles_every_kernel(capsys: pytest.CaptureFixture[str]) -> None:
    assert _warmup.cmd_warmup(argparse.Namespace(format="json")) == 0
    assert _warmup.uncompiled_kernels() == []
    out, err = capsys.readouterr()
    assert "pairs: done in" in err
    printed = json.loads(out)
    assert printed["uncompiled"] == [] and sorted(printed["compiled"]) == sorted(_warmup.kernels())


@pytest.mark.slow
def test_a_change_in_a_callee_file_recompiles_its_callers(tmp_path: Path) -> None:
    # engine_step (stream/_kernels.py) holds the machine code of kalman_step (hedge/_kernels.py).
    # numba checks a cached kernel against its own file only; pairs adds the digest of every
    # _kernels.py to the key, so an edit of the callee's file recompiles the caller too.
    site = tmp_path / "site"
    shutil.copytree(PACKAGE, site / "pairs", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    env = _env(PYTHONPATH=str(site), NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    probe = (
        "import pairs\n"
        "from pairs.stream import _kernels\n"
        "pairs.StreamEngine(log_prices=True).update(2000.0, 40000.0)\n"
        "stats = _kernels.engine_step.stats\n"
        "print(sum(stats.cache_hits.values()), sum(stats.cache_misses.values()))"
    )

    def hits_and_misses() -> list[str]:
        out = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=tmp_path
        )
        assert out.returncode == 0, out.stderr
        return out.stdout.split()[-2:]

    first, again = hits_and_misses(), hits_and_misses()
    assert again[0] != "0" and first[0] == "0"  # compiled, then loaded from the cache
    callee = site / "pairs" / "hedge" / "_kernels.py"
    callee.write_text(callee.read_text() + "\n# an edit of the callee's file\n")
    assert hits_and_misses()[0] == "0"  # compiled again, not the stale machine code
    assert hits_and_misses()[0] != "0"


def test_every_kernel_cache_is_keyed_by_every_kernel_file() -> None:
    from pairs import _kernels as base_kernels
    from pairs.coint import _kernels as coint_kernels
    from pairs.hedge import _kernels as hedge_kernels
    from pairs.screening import _kernels as screening_kernels
    from pairs.stream import _kernels as stream_kernels
    from pairs.trading import _kernels as trading_kernels

    modules = (base_kernels, coint_kernels, hedge_kernels, screening_kernels, stream_kernels, trading_kernels)
    digest = _numba_cache.kernel_sources_digest()
    kernels = [
        value
        for module in modules
        for value in vars(module).values()
        if getattr(value, "_cache", None) is not None and value.__module__ == module.__name__
    ]
    assert len(kernels) > 20
    for kernel in kernels:
        assert kernel._cache._cache_file._source_stamp[1] == digest, kernel.__name__
