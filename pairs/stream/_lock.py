"""One writer per state file: an OS lock on a sidecar ``FILE.lock``, held for a process's life.

``fcntl.flock`` (``msvcrt.locking`` on Windows) on ``<state>.lock`` next to the state file's
real path (a symbolic link and its target share one lock). The kernel drops the lock when
the process exits, even on ``kill -9``, so a stale lock cannot block a restart. The holder
writes its pid into the lock file so that a refused second writer can name it. The lock
file itself is never deleted: deleting it would let two processes lock two different files.
Used by ``pairs signal --follow --state`` and reusable by any writer of a state file.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import TracebackType

from pairs._io import check_path
from pairs.exceptions import StateError

__all__ = ["StateLock", "lock_path"]


def lock_path(path: str | os.PathLike[str]) -> Path:
    """The sidecar lock file of state file ``path`` (of its target, for a symbolic link)."""
    target = Path(os.path.realpath(check_path(path)))
    return target.with_name(target.name + ".lock")


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (BlockingIOError, PermissionError):
        return False
    return True


class StateLock:
    """An exclusive, non-blocking lock on one state file (a context manager).

    Raises
    ------
    StateError
        Another process holds the lock (the message names its pid), or the lock file cannot
        be created.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> state = pathlib.Path(tempfile.mkdtemp()) / "engine.json"
    >>> with StateLock(state):
    ...     StateLock(state).acquire()
    Traceback (most recent call last):
    pairs.exceptions.StateError: state ... is in use by another writer (pid ...); ...
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = check_path(path)
        self.lock_file = lock_path(path)
        self._fd: int | None = None

    def acquire(self) -> StateLock:
        """Take the lock or raise :class:`~pairs.exceptions.StateError` naming the holder."""
        try:
            fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StateError(
                f"state must be in a writable folder (for its lock file); got {str(self.lock_file)!r} "
                f"({exc.strerror or exc})."
            ) from None
        if not _try_lock(fd):
            try:
                holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
            except OSError:
                holder = "unknown"
            os.close(fd)
            raise StateError(
                f"state {str(self.path)!r} is in use by another writer (pid {holder}); got a second "
                f"writer (pid {os.getpid()}). One process per state file: stop the other one first "
                f"(lock file {str(self.lock_file)!r})."
            )
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        """Drop the lock (also done by the OS when the process ends)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def __enter__(self) -> StateLock:
        return self.acquire()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
