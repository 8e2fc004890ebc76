"""Crash-safe file writes shared by the cache, the streaming state and the reports."""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pairs.exceptions import DataError, PairsError

__all__ = ["check_path", "read_regular_file", "remove_stale_temps", "write_bytes_atomic", "write_text_atomic"]

# A temporary file of a killed writer older than this is removed even if its pid is unknown.
_STALE_SECONDS = 3600.0
_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[^.]+\.tmp$")
_cleaned: set[str] = set()


def check_path(value: Any, name: str = "path") -> Path:
    """``value`` as a :class:`~pathlib.Path`; a :class:`~pairs.exceptions.PairsError` for other types."""
    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)):
        raise PairsError(f"{name} must be a file path (str or os.PathLike); got {type(value).__name__}.")
    path = Path(value)
    if not str(path) or "\0" in str(path):
        raise PairsError(f"{name} must be a non-empty file path without NUL bytes; got {str(value)!r}.")
    return path


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _not_regular(mode: int) -> str | None:
    """What a file that is not a regular file is (None for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    return next((kind for test, kind in _KINDS if test(mode)), "not a regular file")


def read_regular_file(path: Path, limit: int, *, name: str = "path", what: str = "file") -> bytes:
    """The bytes of ``path``: a regular file (symlinks followed) of at most ``limit`` bytes.

    A directory, a FIFO, a device such as ``/dev/zero`` or a socket is refused before it is
    opened, so nothing blocks or reads without end; the open does not block either and the
    opened file is checked again, in case the path was swapped in between. Raises a
    :class:`~pairs.exceptions.DataError` naming ``name``: missing, unreadable, not a regular
    file, or larger than ``limit``.
    """
    shown = repr(str(path))
    try:
        kind = _not_regular(os.stat(path).st_mode)
        if kind is None:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            with os.fdopen(fd, "rb") as handle:
                kind = _not_regular(os.fstat(handle.fileno()).st_mode)
                data = handle.read(limit + 1) if kind is None else b""
    except FileNotFoundError:
        raise DataError(f"{name} must be an existing {what}; got {shown}.") from None
    except OSError as exc:
        raise DataError(f"{name} must be a readable {what}; got {shown} ({exc.strerror or exc}).") from None
    if kind is not None:
        raise DataError(f"{name} must be a readable, regular {what}; got {shown}, {kind}.")
    if len(data) > limit:
        raise DataError(f"{name} must be a {what} of at most {limit:,} bytes; got {shown}, larger.")
    return data


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True
    return True


def remove_stale_temps(path: str | os.PathLike[str]) -> list[Path]:
    """Delete temporary files that killed writes of ``path`` left behind; return those removed.

    A temporary file is named ``.NAME.PID.RANDOM.tmp``; it is stale when the process PID is
    gone, or (pid unknown, e.g. another host) when it is older than an hour. Temporary files
    of live writers are kept.
    """
    target = Path(os.path.realpath(path))
    removed: list[Path] = []
    try:
        names = os.listdir(target.parent)
    except OSError:
        return removed
    now = time.time()
    for entry in names:
        match = _TEMP.match(entry)
        if match is None or match["name"] != target.name:
            continue
        tmp = target.parent / entry
        try:
            old = now - tmp.stat().st_mtime > _STALE_SECONDS
        except OSError:
            continue
        if not _alive(int(match["pid"])) or old:
            with contextlib.suppress(OSError):
                tmp.unlink()
                removed.append(tmp)
    return removed


def write_text_atomic(path: str | os.PathLike[str], text: str, *, shared: bool = False) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically: :func:`write_bytes_atomic`."""
    return write_bytes_atomic(path, [text.encode("utf-8")], shared=shared)


def write_bytes_atomic(
    path: str | os.PathLike[str], chunks: Iterable[bytes | memoryview], *, shared: bool = False
) -> Path:
    """Write ``chunks`` one after the other to ``path`` so that a crash leaves the old file or the new one.

    The bytes go to a temporary file in the same directory, are flushed and fsynced, then
    replace ``path`` with ``os.replace``; the directory is fsynced so the rename persists.
    A symbolic link is written through: its target is replaced (created, for a dangling link)
    and the link kept. The file replaced keeps its permissions; a new file gets the private 0600
    of a temporary file, or the usual 0644 with ``shared=True``. The first write to a path in a
    process removes the temporary files of earlier killed writes (:func:`remove_stale_temps`).
    Returns the path of the file written (the link's target for a link).
    """
    target = Path(os.path.realpath(check_path(path)))
    key = str(target)
    if key not in _cleaned:
        remove_stale_temps(target)
        _cleaned.add(key)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp")
    try:
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o7777)
        elif shared:
            os.chmod(tmp, 0o644)
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    # Directories cannot be opened for fsync on every platform (Windows).
    if hasattr(os, "O_DIRECTORY"):
        dir_fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return target
