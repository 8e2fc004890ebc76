"""Forked follow processes for the kill -9 soaks (test_follow_soak, test_follow_fills,
test_follow_portfolio_soak): a child with the command's stdin/stdout on pipes that SIGKILLs itself
at the k-th call of a chosen function."""

from __future__ import annotations

import io
import os
import signal
import sys
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

import pytest

from pairs.cli._main import main

Wrap = Callable[[Callable[..., Any], bool], Callable[..., Any]]


def _killer(k: int) -> Wrap:
    """``wrap(original, before)``: ``original`` that SIGKILLs its process at the ``k``-th call of any
    function wrapped by this killer, before (``before=True``) or after the call."""
    calls = {"n": 0}

    def hit() -> bool:
        calls["n"] += 1
        return calls["n"] == k

    def wrap(original: Callable[..., Any], before: bool) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if before and hit():
                os.kill(os.getpid(), signal.SIGKILL)
            out = original(*args, **kwargs)
            if not before and hit():
                os.kill(os.getpid(), signal.SIGKILL)
            return out

        return wrapper

    return wrap


def _spawn(argv: Sequence[str], install: Callable[[], None]) -> tuple[int, Any, Any]:
    """Fork ``pairs <argv>`` after ``install()``; ``(pid, its stdin, its stdout)`` as text files."""
    to_child_r, to_child_w = os.pipe()
    from_child_r, from_child_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns to pytest
        code = 70
        try:
            os.close(to_child_w)
            os.close(from_child_r)
            os.dup2(to_child_r, 0)
            os.dup2(from_child_w, 1)
            sys.stdin = io.TextIOWrapper(
                io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8"
            )
            sys.stdout = io.TextIOWrapper(
                io.FileIO(1, "w", closefd=False), encoding="utf-8", write_through=True
            )
            install()
            code = main(list(argv))
        finally:
            os._exit(code)
    os.close(to_child_r)
    os.close(from_child_w)
    return pid, os.fdopen(to_child_w, "w", buffering=1), os.fdopen(from_child_r, "r")


@pytest.fixture(scope="session")
def forking() -> SimpleNamespace:
    """``forking.killer(k)`` and ``forking.spawn(argv, install)`` (see the module docstring)."""
    return SimpleNamespace(killer=_killer, spawn=_spawn)
