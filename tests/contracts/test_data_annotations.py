"""Public functions annotate their data (with the array-like aliases of pairs._typing), never ``Any``.

``ArrayLike1D`` (a Series, 1-d array or sequence) and ``ArrayLike2D`` (a DataFrame, 2-d array or
mapping) say what a function accepts; ``mypy pairs`` checks the bodies against them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pairs

DATA = {"y", "x", "series", "spread", "prices", "returns", "position", "zscore", "y_price", "x_price"}
ALIASES = ("ArrayLike1D", "ArrayLike2D")


def _public_callables() -> dict[str, Callable[..., Any]]:
    out: dict[str, Callable[..., Any]] = {}
    for name in pairs.__all__:
        obj = getattr(pairs, name)
        if inspect.isfunction(obj):
            out[name] = obj
        elif inspect.isclass(obj):
            for method in ("run", "backtest", "warmup"):
                if inspect.isfunction(getattr(obj, method, None)):
                    out[f"{name}.{method}"] = getattr(obj, method)
    return out


def test_data_arguments_are_array_likes() -> None:
    checked = 0
    for name, function in _public_callables().items():
        for param in inspect.signature(function).parameters.values():
            if param.name not in DATA or not isinstance(param.annotation, str):
                continue
            if name in ("StreamEngine.update", "StreamBook.update"):
                continue  # one bar of floats, not data series
            assert "Any" not in param.annotation, (name, param.name, param.annotation)
            checked += any(alias in param.annotation for alias in ALIASES)
    assert checked >= 40
