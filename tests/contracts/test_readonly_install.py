"""Read-only installs (issue #22): which cache folders a kernel uses, and a hardened container.

The first tests choose folders in this process (``pairs._numba_cache.cache_layers``; root
ignores permission bits, so a folder is made unwritable by a plain file in its path or by
patching the write probe) and load a small kernel through two layers with numba. The last ones
run whole processes the way a container does: in a private mount namespace (``unshare -m``),
with the package, site-packages and HOME bind-mounted read-only (and the temporary folders when
nothing may be written at all), as root: a read-only mount refuses root too. They skip, saying
why, where no mount namespace can be made. No wall-clock assertions: whether a kernel was
compiled or loaded is read from numba's counters (``Dispatcher.stats``) and the files written.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import pairs
from pairs import _numba_cache
from pairs._numba_cache import Layers
from pairs.exceptions import PairsWarning

PACKAGE = Path(pairs.__file__).resolve().parent
UID = os.getuid() if hasattr(os, "getuid") else None


@pytest.fixture
def no_env_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No NUMBA_CACHE_DIR, a temporary folder of our own, no remembered folder choice."""
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    if "numba.core.config" in sys.modules:
        monkeypatch.setattr(sys.modules["numba.core.config"], "CACHE_DIR", "")
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(_numba_cache, "_warned", False)
    _numba_cache._layers.cache_clear()
    yield tmp_path
    _numba_cache._layers.cache_clear()


def _private_temp(base: Path) -> Path:
    return base / "tmp" / ("pairs-numba" if UID is None else f"pairs-numba-{UID}")


def _blocked(base: Path) -> Path:
    """A folder path no one can create: a plain file sits in its way."""
    (base / "file").write_text("")
    return base / "file" / "cache"


def test_unwritable_numba_cache_dir_falls_back_to_a_private_temporary_folder(
    no_env_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(_blocked(no_env_cache)))
    layers = _numba_cache.cache_layers(str(PACKAGE / "hedge"))
    temp = _private_temp(no_env_cache)
    assert layers.write is not None and Path(layers.write).parent == temp
    assert layers.read == (layers.write,) and layers.fallback
    if UID is not None:
        assert stat.S_IMODE(temp.stat().st_mode) & 0o077 == 0


def test_a_readonly_cache_is_read_before_the_folder_written(
    no_env_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # NUMBA_CACHE_DIR filled by `pairs warmup` when the image was built, read-only now.
    warm = no_env_cache / "warm"
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(warm))
    probe = _numba_cache._writable
    monkeypatch.setattr(
        _numba_cache, "_writable", lambda path: not path.startswith(str(warm)) and probe(path)
    )
    sub = _numba_cache._subfolder(str(PACKAGE / "hedge"))
    (warm / sub).mkdir(parents=True)
    layers = _numba_cache.cache_layers(str(PACKAGE / "hedge"))
    assert layers.read == (str(warm / sub), str(_private_temp(no_env_cache) / sub))
    assert layers.write == layers.read[-1] and layers.fallback


def test_a_readonly_package_reads_its_own_cache_then_the_user_folder(
    no_env_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `pip install pairs && pairs warmup` as root in an image, run as another user (or read-only).
    package = no_env_cache / "site" / "pairs"
    (package / "__pycache__").mkdir(parents=True)
    probe = _numba_cache._writable
    monkeypatch.setattr(
        _numba_cache, "_writable", lambda path: not path.startswith(str(package)) and probe(path)
    )
    layers = _numba_cache.cache_layers(str(package))
    user = no_env_cache / "xdg" / "pairs" / "numba"
    assert layers.read[0] == str(package / "__pycache__")
    assert len(layers.read) == 2 and Path(layers.read[1]).parent == user
    assert layers.write == layers.read[1] and not layers.fallback


def test_no_writable_folder_means_no_cache(no_env_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(_blocked(no_env_cache)))
    monkeypatch.setattr(tempfile, "tempdir", str(_blocked(no_env_cache)))
    assert _numba_cache.cache_layers(str(PACKAGE)) == Layers((), None, True)
    assert _numba_cache.cache_root() is None


def test_a_temporary_folder_others_can_write_is_not_used(no_env_cache: Path) -> None:
    if UID is None:
        pytest.skip("file ownership and modes are POSIX")
    temp = _private_temp(no_env_cache)
    temp.mkdir()
    temp.chmod(0o777)
    assert _numba_cache._private_temp_dir() is None
    temp.chmod(0o700)
    assert _numba_cache._private_temp_dir() == str(temp)
    if UID == 0:  # made by another user first
        os.chown(temp, 65534, -1)
        assert _numba_cache._private_temp_dir() is None


def test_one_warning_per_process(no_env_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nowhere = Layers((), None, True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            _numba_cache._compiling(nowhere)
    assert [type(w.message) for w in caught] == [PairsWarning]
    assert "compiled again in every process" in str(caught[0].message)
    assert "NUMBA_CACHE_DIR" in str(caught[0].message)
    # The CLI at a terminal prints it itself, in its one line, instead of a warning.
    monkeypatch.setattr(_numba_cache, "_warned", False)
    said: list[str | None] = []
    _numba_cache.on_first_compile(said.append)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _numba_cache._compiling(Layers(("t",), "t", True))
        _numba_cache._compiling(Layers(("t",), "t", True))
    assert not caught and len(said) == 1 and "kernels compiled now go to" in str(said[0])
    _numba_cache.on_first_compile(None)


def _kernel_module(source: Path, name: str, layers: Layers, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import ``source`` as module ``name`` with its kernels cached in ``layers``."""
    monkeypatch.setattr(_numba_cache, "cache_layers", lambda folder: layers)
    spec = importlib.util.spec_from_file_location(name, source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _hits_misses(kernel: object) -> tuple[int, int]:
    stats = kernel.stats  # type: ignore[attr-defined]
    return sum(stats.cache_hits.values()), sum(stats.cache_misses.values())


def test_a_kernel_loads_from_a_readonly_layer_and_saves_to_the_writable_one(
    no_env_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = no_env_cache / "src" / "kern.py"
    source.parent.mkdir()
    source.write_text("from pairs._numba_cache import njit\n\n\n@njit\ndef twice(x):\n    return 2 * x\n")
    warm, fresh = no_env_cache / "warm", no_env_cache / "fresh"
    first = _kernel_module(source, "kern_first", Layers((str(warm),), str(warm), False), monkeypatch)
    assert first.twice(1.5) == 3.0 and _hits_misses(first.twice) == (0, 1)
    warm_files = sorted(warm.iterdir())
    assert [p.suffix for p in warm_files] == [".nbc", ".nbi"]

    layers = Layers((str(warm), str(fresh)), str(fresh), True)
    again = _kernel_module(source, "kern_again", layers, monkeypatch)
    assert again.twice(1.5) == 3.0 and _hits_misses(again.twice) == (1, 0)
    assert not fresh.exists() and again.twice._cache.has_index()
    # A signature the read-only folder lacks: compiled, written to the writable one only.
    with pytest.warns(PairsWarning, match="kernels compiled now go to"):
        assert again.twice(2) == 4
    assert _hits_misses(again.twice) == (1, 1)
    assert sorted(warm.iterdir()) == warm_files and sorted(p.suffix for p in fresh.iterdir()) == [
        ".nbc",
        ".nbi",
    ]


# --- A hardened container: read-only mounts in a private mount namespace -----------------------

TEMP_FOLDERS = [p for p in ("/tmp", "/var/tmp", "/usr/tmp") if os.path.isdir(p)]
STATS = (
    "\nimport json, sys\n"
    "from numba.core.registry import CPUDispatcher\n"
    "kernels = {id(v): v for n, m in list(sys.modules.items()) if n.startswith('pairs')"
    " and n.endswith('_kernels') for v in vars(m).values() if isinstance(v, CPUDispatcher)}.values()\n"
    "print(json.dumps([sum(sum(k.stats.cache_hits.values()) for k in kernels),"
    " sum(sum(k.stats.cache_misses.values()) for k in kernels)]))\n"
)
KALMAN = "import pairs\np = pairs.load_sample()\nprint(float(pairs.kalman_hedge(p['ETH'], p['BTC']).beta.iloc[-1]))"
CLI = ["fit", "sample:ETH", "sample:BTC", "--method", "kalman", "--format", "json"]


@functools.cache
def _unshare() -> tuple[list[str], str]:
    """The command that starts a process in a private mount namespace, and why not when empty."""
    if sys.platform != "linux" or shutil.which("unshare") is None or shutil.which("mount") is None:
        return [], "needs Linux with unshare(1) and mount(1)"
    command = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "--map-root-user", "-m"]
    with tempfile.TemporaryDirectory() as folder:
        probe = subprocess.run(
            [
                *command,
                "--",
                "sh",
                "-c",
                _mounts([folder]) + f" && ! touch {shlex.quote(folder)}/x 2>/dev/null",
            ],
            capture_output=True,
            text=True,
        )
    if probe.returncode != 0:
        return (
            [],
            f"cannot make a read-only mount in a private mount namespace ({' '.join(command)}): {probe.stderr.strip()}",
        )
    return command, ""


def _mounts(paths: list[str]) -> str:
    return " && ".join(
        f"mount --bind {p} {p} && mount -o remount,ro,bind {p} {p}" for p in map(shlex.quote, paths)
    )


@pytest.fixture(scope="module")
def install(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the package in ``site`` (mounted read-only by each run) and an empty ``home``."""
    command, reason = _unshare()
    if not command:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("container")
    shutil.copytree(PACKAGE, base / "site" / "pairs", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (base / "home").mkdir()
    return base


def _container(
    base: Path, args: list[str], *, readonly: list[Path], **env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``python args`` with the install, site-packages, HOME and ``readonly`` read-only."""
    drop = ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME", "TMPDIR", "TEMP", "TMP", "PYTHONDONTWRITEBYTECODE")
    environ = {k: v for k, v in os.environ.items() if k not in drop}
    environ.update(PYTHONPATH=str(base / "site"), HOME=str(base / "home"), **env)
    paths = [*readonly, base / "site", Path(sysconfig.get_paths()["purelib"]), base / "home"]
    script = " && ".join(
        [
            _mounts([str(p) for p in paths]),
            f"cd {shlex.quote(str(base / 'home'))}",
            shlex.join([sys.executable, *args]),
        ]
    )
    return subprocess.run(
        [*_unshare()[0], "--", "sh", "-c", script], capture_output=True, text=True, env=environ
    )


def _written(base: Path) -> list[Path]:
    return [p for p in base.rglob("*") if p.suffix in (".nbi", ".nbc")]


@pytest.mark.slow
def test_no_writable_folder_at_all_still_runs(install: Path) -> None:
    # Read-only package, HOME and temporary folders: kernels are compiled in memory, one warning.
    cli = _container(install, ["-m", "pairs", *CLI], readonly=[Path(p) for p in TEMP_FOLDERS])
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["data"]["y"] == "ETH"
    assert cli.stderr.count("PairsWarning") == 1 and "compiled again in every process" in cli.stderr
    assert not _written(install / "site") and not _written(install / "home")
    warmup = _container(install, ["-m", "pairs", "warmup"], readonly=[Path(p) for p in TEMP_FOLDERS])
    assert warmup.returncode == 2 and warmup.stderr.startswith("pairs: error: no writable folder")


@pytest.mark.slow
def test_unwritable_home_caches_in_the_temporary_folder(install: Path) -> None:
    temp = install / "tmp"
    temp.mkdir()
    first = _container(install, ["-c", KALMAN + STATS], readonly=[], TMPDIR=str(temp))
    assert first.returncode == 0, first.stderr
    assert first.stderr.count("PairsWarning") == 1 and str(_private_temp(install)) in first.stderr
    saved = _written(temp)
    assert saved and not _written(install / "site") and not _written(install / "home")
    again = _container(install, ["-c", KALMAN + STATS], readonly=[], TMPDIR=str(temp))
    assert again.returncode == 0 and "Warning" not in again.stderr, again.stderr
    hits, misses = json.loads(again.stdout.splitlines()[-1])
    assert hits > 0 and misses == 0
    assert _written(temp) == saved


@pytest.mark.slow
def test_kernels_precompiled_by_warmup_load_from_a_readonly_install(install: Path) -> None:
    # The image build: `NUMBA_CACHE_DIR=/opt/cache pairs warmup` (writable then); the container:
    # everything read-only, the cache folder too, and no temporary folder, so a kernel missing
    # from the cache could be compiled only in memory, with a warning.
    cache = install / "cache"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPATH=str(install / "site"), NUMBA_CACHE_DIR=str(cache))
    warmup = subprocess.run(
        [sys.executable, "-m", "pairs", "warmup"], capture_output=True, text=True, env=env, cwd=install
    )
    assert warmup.returncode == 0, warmup.stderr
    baked = sorted(_written(cache))
    readonly = [cache, *(Path(p) for p in TEMP_FOLDERS)]

    lib = _container(install, ["-c", KALMAN + STATS], readonly=readonly, NUMBA_CACHE_DIR=str(cache))
    assert lib.returncode == 0 and "Warning" not in lib.stderr, lib.stderr
    hits, misses = json.loads(lib.stdout.splitlines()[-1])
    assert hits > 0 and misses == 0

    code = f"import sys\nfrom pairs.cli import main\nrc = main({CLI!r})\n{STATS}sys.exit(rc)"
    cli = _container(install, ["-c", code], readonly=readonly, NUMBA_CACHE_DIR=str(cache))
    assert cli.returncode == 0 and "Warning" not in cli.stderr, cli.stderr
    hits, misses = json.loads(cli.stdout.splitlines()[-1])
    assert hits > 0 and misses == 0
    assert sorted(_written(cache)) == baked and not _written(install / "site")


@pytest.mark.slow
def test_kernels_compiled_into_the_package_load_when_it_is_readonly(install: Path, tmp_path: Path) -> None:
    # `pip install pairs && pairs warmup` as root in an image: the kernels sit in the package's
    # __pycache__ folders, which the container mounts read-only (one kernel family here).
    shutil.copytree(install / "site", tmp_path / "site", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "home").mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "PYTHONDONTWRITEBYTECODE")}
    env.update(PYTHONPATH=str(tmp_path / "site"), HOME=str(tmp_path / "home"))
    build = subprocess.run(
        [sys.executable, "-c", KALMAN], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert build.returncode == 0, build.stderr
    baked = sorted(_written(tmp_path / "site"))
    assert baked and not _written(tmp_path / "home")

    run = _container(tmp_path, ["-c", KALMAN + STATS], readonly=[Path(p) for p in TEMP_FOLDERS])
    assert run.returncode == 0 and "Warning" not in run.stderr, run.stderr
    hits, misses = json.loads(run.stdout.splitlines()[-1])
    assert hits > 0 and misses == 0
    assert sorted(_written(tmp_path)) == baked
