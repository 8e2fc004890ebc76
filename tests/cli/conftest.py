"""Forked follow processes for the kill -9 soaks (test_follow_soak, test_follow_fills,
test_follow_portfolio_soak): a child with the command's stdin/stdout on pipes that SIGKILLs itself
at the k-th call of a chosen function."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import ccxt
import pandas as pd
import pytest

from pairs.cli._main import main
from pairs.data._sample import sample_path

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


def _install(phase: str, wrap: Wrap, follow: Any, hooks: dict[str, tuple[Any, str]]) -> None:
    """In the child: wrap the function of ``phase`` so that it kills its process (``wrap``: a killer).

    ``hooks`` maps phases to the ``(owner, name)`` of a function killed before its call (e.g.
    ``"before_update"``); ``"in_save"`` (the atomic rename of a state), ``"after_save"`` and
    ``"after_emit"`` (before and after the ``follow`` module's ``_emit`` of a line) are common.
    """
    import pairs._io

    if phase in hooks:
        owner, name = hooks[phase]
        setattr(owner, name, wrap(getattr(owner, name), True))
    elif phase == "in_save":
        pairs._io.os.replace = wrap(os.replace, True)  # type: ignore[attr-defined]
    elif phase == "after_save":
        follow._emit = wrap(follow._emit, True)
    elif phase == "after_emit":
        follow._emit = wrap(follow._emit, False)


def _soak(
    argv: Sequence[str],
    install: Callable[[str, Wrap], None],
    lines: Sequence[str],
    *,
    phases: Sequence[str],
    min_kills: int,
    seed: int,
    k_max: int = 3,
    header: str = "",
    after_life: Callable[[], None] | None = None,
) -> tuple[list[str], dict[str, int]]:
    """A bot feeding ``lines`` in lockstep to follow processes killed at random phases.

    Each life runs ``pairs <argv>`` with ``install(phase, forking.killer(k))`` (``"outside"``: a
    SIGKILL from the bot at a random moment of the ``k``-th line; ``"none"`` once ``min_kills`` is
    reached); the bot writes ``header`` and then, as docs/cli.md tells it, re-sends the first line
    whose answer it did not read. Returns the answers read, in order, and the kills per phase; every
    life ends by SIGKILL or exit 0, and ``after_life()`` runs after each (e.g. the state loads).
    """
    rng = random.Random(seed)
    delivered: list[str] = []
    kills = dict.fromkeys(phases, 0)
    while len(delivered) < len(lines):
        phase = rng.choice(list(phases)) if sum(kills.values()) < min_kills else "none"
        k = rng.randint(1, k_max)
        pid, to_child, from_child = _spawn(argv, lambda phase=phase, k=k: install(phase, _killer(k)))
        answered = 0
        try:
            to_child.write(header)
            while len(delivered) < len(lines):
                to_child.write(lines[len(delivered)])  # the first line whose answer we did not read
                to_child.flush()
                if phase == "outside" and answered + 1 == k:
                    time.sleep(rng.uniform(0.0, 0.002))
                    os.kill(pid, signal.SIGKILL)
                answer = from_child.readline()
                if not answer:
                    break
                delivered.append(answer)
                answered += 1
        except BrokenPipeError:
            pass
        finally:
            try:
                to_child.close()
            except BrokenPipeError:
                pass
            from_child.close()
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            assert os.WTERMSIG(status) == signal.SIGKILL
            kills[phase] += 1
        else:
            assert os.WEXITSTATUS(status) == 0, f"{phase}, k={k}: exit {status}"
        if after_life is not None:
            after_life()
    assert sum(kills.values()) >= min_kills and all(kills.values()), kills
    return delivered, kills


@pytest.fixture(scope="session")
def forking() -> SimpleNamespace:
    """``forking.killer(k)``, ``forking.install(phase, wrap, follow, hooks)``, ``forking.spawn(argv, install)``
    and ``forking.soak(...)``."""
    return SimpleNamespace(killer=_killer, install=_install, spawn=_spawn, soak=_soak)


# --- ccxt's real Binance class with its network calls served offline ---------------------------------
MARKETS = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures" / "ccxt" / "binance_markets.json").read_text()
)


def klines(coin: str) -> list[list[Any]]:
    with open(sample_path(f"{coin}USDT_1d.csv"), newline="") as fh:
        return [
            [
                pd.Timestamp(r["timestamp"], tz="UTC").value // 10**6,
                *(float(r[k]) for k in ("open", "high", "low", "close", "volume")),
            ]
            for r in csv.DictReader(fh)
        ]


class OfflineBinance(ccxt.binance):  # type: ignore[misc]
    """ccxt's Binance with its three network calls (markets, time, candles) served offline."""

    candles: ClassVar[dict[str, list[list[Any]]]] = {"BTC/USDT": klines("BTC"), "ETH/USDT": klines("ETH")}

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__({"enableRateLimit": False})

    def milliseconds(self) -> int:
        return self.candles["BTC/USDT"][-1][0] + 86_400_000 + 3_600_000  # the last candle closed an hour ago

    def fetch_time(self, params: Any = None) -> int:
        return self.milliseconds()

    def load_markets(self, reload: bool = False, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.set_markets(MARKETS)
        return self.markets

    def fetch_ohlcv(
        self, symbol: str, timeframe: str = "1m", since: Any = None, limit: Any = None, params: Any = None
    ) -> list[list[Any]]:
        rows = [r for r in self.candles[symbol] if since is None or r[0] >= since]
        return [list(r) for r in rows[: min(limit or 500, 1000)]]


@pytest.fixture
def offline_binance(monkeypatch: pytest.MonkeyPatch) -> type:
    """``ccxt.binance`` is :class:`OfflineBinance` for the test (and no retry sleeps)."""
    import ccxt

    from pairs.data import _ccxt

    monkeypatch.setattr(ccxt, "binance", OfflineBinance)
    monkeypatch.setattr(_ccxt, "_sleep", lambda seconds: None)
    return OfflineBinance
