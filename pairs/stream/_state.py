"""JSON codec of streaming state: non-finite floats as strings, strict readers naming the bad field."""

from __future__ import annotations

import math
from typing import Any

from pairs.exceptions import StateError

__all__ = ["check_keys", "encode_floats", "read_float", "read_floats", "read_int"]

# The batch rolling kernel's singularity threshold (pairs.hedge._kernels).
_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def encode_floats(obj: Any) -> Any:
    """Return ``obj`` with every non-finite float replaced by ``"nan"``, ``"inf"`` or ``"-inf"``."""
    if isinstance(obj, float):
        if math.isfinite(obj):
            return obj
        return "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    if isinstance(obj, dict):
        return {k: encode_floats(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [encode_floats(v) for v in obj]
    return obj


def read_float(data: dict[str, Any], key: str, where: str) -> float:
    """``data[key]`` as a float: a JSON number or one of ``"nan"``, ``"inf"``, ``"-inf"``."""
    value = data[key]
    if isinstance(value, str) and value in _NONFINITE:
        return _NONFINITE[value]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise StateError(f"{where}[{key!r}] must be a number; got {value!r}.")
    return float(value)


def read_floats(data: dict[str, Any], key: str, length: int, where: str) -> list[float]:
    """``data[key]`` as a list of exactly ``length`` floats (encoded as by :func:`read_float`)."""
    values = data[key]
    if not isinstance(values, list) or len(values) != length:
        got = f"{len(values)} values" if isinstance(values, list) else type(values).__name__
        raise StateError(f"{where}[{key!r}] must be a list of {length} numbers; got {got}.")
    return [read_float({key: v}, key, where) for v in values]


def read_int(
    data: dict[str, Any], key: str, where: str, *, minimum: int = 0, maximum: int | None = None
) -> int:
    """``data[key]`` as an integer in ``[minimum, maximum]``."""
    value = data[key]
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        bounds = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise StateError(f"{where}[{key!r}] must be an integer {bounds}; got {value!r}.")
    return value


def check_keys(data: Any, keys: Any, where: str) -> dict[str, Any]:
    """Return ``data`` if it is a dict with exactly the keys ``keys``, else raise naming ``where``."""
    expected = sorted(keys)
    if not isinstance(data, dict) or sorted(data) != expected:
        got = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise StateError(f"{where} must be a dict with keys {expected}; got {got!r}.")
    return data
