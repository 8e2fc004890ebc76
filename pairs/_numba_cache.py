"""Where numba caches the compiled kernels, and the ``njit`` every ``_kernels.py`` uses.

The cache of a kernel module is a list of folders (:func:`cache_layers`), in this order:
``NUMBA_CACHE_DIR`` if set (numba's setting), else the ``__pycache__`` beside the module and then
the per-user folder :func:`user_cache_dir` (``$XDG_CACHE_HOME/pairs/numba``, by default
``~/.cache/pairs/numba``); then a private folder of the user in the temporary folder. The list
stops at the first writable folder: a kernel is loaded from the first folder that holds it and
written to that writable one. So a read-only install (system site-packages, a container run
read-only, no writable HOME) loads the kernels ``pairs warmup`` compiled into the package or into
``NUMBA_CACHE_DIR`` when the image was built, and when no folder at all is writable the kernels
are compiled in memory: nothing fails for want of a cache, and one warning per process says so.
Only our kernels use these folders (each gets its cache when decorated), never another
library's, and nothing here imports numba: the kernel modules do, on first use of an area.
"""

from __future__ import annotations

import functools
import hashlib
import os
import stat
import sys
import tempfile
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

from pairs.exceptions import PairsWarning

__all__ = ["cache_layers", "cache_root", "njit", "on_first_compile", "user_cache_dir"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__))
# The folders holding a _kernels.py, relative to the package (their digest keys every kernel).
KERNEL_FOLDERS = ("", "hedge", "trading", "coint", "screening", "stream", "evaluation")
ADVICE = (
    "set NUMBA_CACHE_DIR to a writable folder, or compile the kernels ahead with 'pairs warmup' "
    "(see 'Read-only installs' in docs/performance.md)"
)


class Layers(NamedTuple):
    """The cache folders of one kernel module."""

    read: tuple[str, ...]
    """Folders a kernel is loaded from, first match wins; ``write``, if any, is the last."""
    write: str | None
    """The folder compiled kernels are written to; None: none is writable."""
    fallback: bool
    """Whether ``write`` is not where the user or the install would have them (the temporary folder, or none)."""


def user_cache_dir() -> str:
    """Return the per-user numba cache of pairs: ``$XDG_CACHE_HOME/pairs/numba`` or its default."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(os.path.expanduser("~"), "AppData", "Local")
    elif sys.platform == "darwin":
        base = os.path.join(os.path.expanduser("~"), "Library", "Caches")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pairs", "numba")


def _private_temp_dir() -> str | None:
    """This user's folder in the temporary folder; None when there is none we can trust."""
    uid = os.getuid() if hasattr(os, "getuid") else None
    try:
        tmp = tempfile.gettempdir()
        # tempfile falls back to the working folder: no cache folder dropped into a project.
        if os.path.realpath(tmp) == os.path.realpath(os.getcwd()):
            return None
        path = os.path.join(tmp, "pairs-numba" if uid is None else f"pairs-numba-{uid}")
        os.makedirs(path, mode=0o700, exist_ok=True)
        info = os.lstat(path)
    except OSError:
        return None
    # Loading a kernel unpickles it: a folder another user made (or can write) could run their code.
    if uid is not None and (not stat.S_ISDIR(info.st_mode) or info.st_uid != uid or info.st_mode & 0o077):
        return None
    return path


def _writable(path: str) -> bool:
    """numba's test of a cache folder: create it and a file in it."""
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


def _subfolder(folder: str) -> str:
    # numba's get_suitable_cache_subpath: the folder's name and the SHA1 of its path.
    return f"{os.path.basename(folder)}_{hashlib.sha1(folder.encode()).hexdigest()}"


@functools.cache
def _layers(folder: str, root: str | None) -> Layers:
    if root is not None:
        wanted = [os.path.join(root, _subfolder(folder))]
    else:
        wanted = [os.path.join(folder, "__pycache__"), os.path.join(user_cache_dir(), _subfolder(folder))]
    read: list[str] = []
    for path in wanted:
        if _writable(path):
            return Layers((*read, path), path, False)
        if os.path.isdir(path):
            read.append(path)
    temp = _private_temp_dir()
    if temp is not None and _writable(os.path.join(temp, _subfolder(folder))):
        path = os.path.join(temp, _subfolder(folder))
        return Layers((*read, path), path, True)
    return Layers(tuple(read), None, True)


def cache_layers(folder: str) -> Layers:
    """Return the cache folders of the kernel module in ``folder`` (see the module's docstring)."""
    return _layers(os.path.abspath(folder), _env_cache_dir())


def cache_root() -> str | None:
    """Return the folder compiled kernels of the package go to; None when none is writable."""
    write = cache_layers(_PACKAGE).write
    return None if write is None else os.path.dirname(write)


_before_first_compile: Callable[[str | None], None] | None = None
_warned = False


def on_first_compile(callback: Callable[[str | None], None] | None) -> None:
    """Have ``callback`` called before the first kernel this process compiles (the CLI's notice).

    It gets the warning the library would give (no writable cache folder, or only the temporary
    one), to print instead, or None.
    """
    global _before_first_compile
    _before_first_compile = callback


def _compiling(layers: Layers) -> None:
    """Called by a kernel's cache before numba compiles the kernel."""
    global _before_first_compile, _warned
    callback, _before_first_compile = _before_first_compile, None
    message = None
    if layers.fallback and not _warned:
        _warned = True
        wanted = _env_cache_dir() or f"the package folder or {user_cache_dir()}"
        if layers.write is None:
            where = "no folder is, so kernels are compiled again in every process"
        else:
            where = f"kernels compiled now go to {os.path.dirname(layers.write)}"
        message = f"the numba kernel cache cannot be written in {wanted}; {where}: {ADVICE}."
    if callback is not None:
        callback(message)
    elif message is not None:
        warnings.warn(message, PairsWarning, stacklevel=2)


@functools.cache
def kernel_sources_digest() -> str:
    """SHA-256 of every ``_kernels.py`` of the package: part of each kernel's cache key.

    numba checks a cached kernel against its own file only, but the machine code also holds the
    kernels it calls from other files: after one of those changed (an upgrade, an edit of a
    source tree), the stale code would load. With this digest in the key, any change recompiles
    all of them.
    """
    digest = hashlib.sha256()
    for sub in KERNEL_FOLDERS:
        try:
            with open(os.path.join(_PACKAGE, sub, "_kernels.py"), "rb") as source:
                digest.update(source.read())
        except OSError:  # not a plain folder (a zip): the files' own stamps still apply
            digest.update(sub.encode())
    return digest.hexdigest()


def njit(func: Callable[..., Any] | None = None, **options: Any) -> Any:
    """``numba.njit`` with the cache of this module (``cache=True`` is the default).

    Used as ``@njit`` or ``@njit(**options)``, like numba's; ``cache=False`` keeps the kernel in
    memory only.
    """

    def decorate(func: Callable[..., Any]) -> Any:
        import numba

        from pairs._kernel_cache import KernelCache

        dispatcher = numba.njit(**{**options, "cache": False})(func)
        if options.get("cache", True):
            layers = cache_layers(os.path.dirname(os.path.abspath(func.__code__.co_filename)))
            # numba's Dispatcher.enable_caching sets this attribute to its own one-folder cache.
            dispatcher._cache = KernelCache(
                func, layers, kernel_sources_digest(), functools.partial(_compiling, layers)
            )
        return dispatcher

    return decorate if func is None else decorate(func)
