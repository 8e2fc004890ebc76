"""Where numba caches the compiled kernels, and the ``njit`` every ``_kernels.py`` uses.

numba's own order stays: ``NUMBA_CACHE_DIR`` wins; otherwise a kernel is cached in the
``__pycache__`` folder beside its module when that folder is writable. When it is not (a
read-only install: system site-packages, a container image, a zip), kernels are cached in the
per-user folder :func:`user_cache_dir` (``$XDG_CACHE_HOME/pairs/numba``, by default
``~/.cache/pairs/numba``) instead of numba's generic one, so ``pairs warmup`` and the cache
survive a new virtual environment of the same files. Only our kernels are redirected (the
folder is set while each is decorated), never another library's, and nothing here imports
numba: the kernel modules do, on first use of an area that needs them.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
import tempfile
from collections.abc import Callable
from typing import Any

__all__ = ["cache_dirs", "cache_is_cold", "njit", "user_cache_dir"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__))
# The folders holding a _kernels.py, relative to the package.
KERNEL_FOLDERS = ("", "hedge", "trading", "coint", "screening", "stream")


def user_cache_dir() -> str:
    """Return the per-user numba cache of pairs: ``$XDG_CACHE_HOME/pairs/numba`` or its default."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(os.path.expanduser("~"), "AppData", "Local")
    elif sys.platform == "darwin":
        base = os.path.join(os.path.expanduser("~"), "Library", "Caches")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pairs", "numba")


@functools.cache
def _in_tree_writable(folder: str) -> bool:
    """numba's own test of its in-tree cache: create ``folder/__pycache__`` and a file in it."""
    path = os.path.join(folder, "__pycache__")
    try:
        os.makedirs(path, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError:
        return False
    return True


def _env_cache_dir() -> str | None:
    numba_config = sys.modules.get("numba.core.config")
    configured = getattr(numba_config, "CACHE_DIR", "") if numba_config is not None else ""
    return configured or os.environ.get("NUMBA_CACHE_DIR") or None


def _redirect(folder: str) -> str | None:
    """The cache folder to impose on kernels of ``folder``; None leaves numba's choice."""
    if _env_cache_dir() is not None or _in_tree_writable(folder):
        return None
    return user_cache_dir()


def cache_dirs() -> list[str]:
    """Return the folder holding the cached kernels of each kernel module, as numba names it."""
    root = _env_cache_dir()
    out = []
    for sub in KERNEL_FOLDERS:
        folder = os.path.join(_PACKAGE, sub) if sub else _PACKAGE
        base = root or _redirect(folder)
        if base is None:
            out.append(os.path.join(folder, "__pycache__"))
        else:
            # numba's get_suitable_cache_subpath: the folder's name and the SHA1 of its path.
            digest = hashlib.sha1(folder.encode()).hexdigest()
            out.append(os.path.join(base, f"{os.path.basename(folder)}_{digest}"))
    return out


def cache_is_cold() -> bool:
    """Whether some kernel module has nothing cached yet (a cheap look, no numba import)."""
    for folder in cache_dirs():
        try:
            names = os.listdir(folder)
        except OSError:
            return True
        if not any(name.startswith("_kernels.") and name.endswith(".nbi") for name in names):
            return True
    return False


@functools.cache
def kernel_sources_digest() -> str:
    """SHA-256 of every ``_kernels.py`` of the package: part of each kernel's cache key."""
    digest = hashlib.sha256()
    for sub in KERNEL_FOLDERS:
        try:
            with open(os.path.join(_PACKAGE, sub, "_kernels.py"), "rb") as source:
                digest.update(source.read())
        except OSError:  # not a plain folder (a zip): the files' own stamps still apply
            digest.update(sub.encode())
    return digest.hexdigest()


def _key_by_every_kernel_file(dispatcher: Any) -> Any:
    """Make the cache of ``dispatcher`` depend on every kernel file, not only its own.

    numba checks a cached kernel against its own file only, but the machine code also holds
    the kernels it calls from other files: after one of those changed (an upgrade, an edit of
    a source tree), the stale code would load. With the digest of every ``_kernels.py`` in the
    key, any change recompiles all of them. (numba keeps the key in the cache file object it
    makes at decoration; a numba without it keeps its own key.)
    """
    cache_file = getattr(getattr(dispatcher, "_cache", None), "_cache_file", None)
    stamp = getattr(cache_file, "_source_stamp", None)
    if stamp is not None:
        cache_file._source_stamp = (stamp, kernel_sources_digest())  # type: ignore[union-attr]
    return dispatcher


def njit(*args: Any, **options: Any) -> Any:
    """``numba.njit`` with the cache folder of this module (``cache=True`` is the default).

    Used as ``@njit``, ``@njit(cache=True)`` or with explicit signatures, like numba's.
    """
    import numba
    from numba.core import config

    options.setdefault("cache", True)

    def decorate(func: Callable[..., Any], signatures: tuple[Any, ...] = ()) -> Any:
        folder = _redirect(os.path.dirname(os.path.abspath(func.__code__.co_filename)))
        if folder is None:
            return _key_by_every_kernel_file(numba.njit(*signatures, **options)(func))
        # numba picks a function's cache locator when it is decorated: impose ours only then.
        saved = config.CACHE_DIR  # type: ignore[attr-defined]
        config.CACHE_DIR = folder  # type: ignore[attr-defined]
        try:
            return _key_by_every_kernel_file(numba.njit(*signatures, **options)(func))
        finally:
            config.CACHE_DIR = saved  # type: ignore[attr-defined]

    if len(args) == 1 and callable(args[0]) and not options.keys() - {"cache"}:
        return decorate(args[0])
    return lambda func: decorate(func, args)
