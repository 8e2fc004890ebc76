"""Crash-safe file writes shared by the cache, the streaming state and the reports."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["write_text_atomic"]


def write_text_atomic(path: str | os.PathLike[str], text: str, *, shared: bool = False) -> Path:
    """Write ``text`` to ``path`` so that a crash leaves the old file or the new one, never a part.

    The text goes to a temporary file in the same directory, is flushed and fsynced, then
    replaces ``path`` with ``os.replace``; the directory is fsynced so the rename persists.
    ``shared=True`` gives the file the usual 0644 permissions (or keeps those of the file it
    replaces) instead of the private 0600 of a temporary file.
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        if shared:
            os.chmod(tmp, target.stat().st_mode & 0o777 if target.exists() else 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
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
