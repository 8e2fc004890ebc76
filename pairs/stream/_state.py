"""JSON codec of streaming state: non-finite floats as strings, strict readers naming the bad field.

Also the checksummed, untrusted-input-safe state *files* (:func:`write_state_file`,
:func:`read_state_file`) shared by :class:`~pairs.StreamEngine` and any other writer of a
streaming state (the CLI's exactly-once delivery record rides in the same file).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import os
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

from pairs._io import check_path, read_regular_file, write_bytes_atomic
from pairs.data._cache import loads_untrusted
from pairs.exceptions import DataError, StateError

__all__ = [
    "MAGIC",
    "MAX_STATE_BYTES",
    "MAX_STATE_DEPTH",
    "Packed",
    "canonical",
    "check_keys",
    "encode_array",
    "encode_floats",
    "read_float",
    "read_floats",
    "read_int",
    "read_state_file",
    "state_text",
    "write_state_file",
]

# The batch rolling kernel's singularity threshold (pairs.hedge._kernels).
_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def encode_floats(obj: Any) -> Any:
    """Return ``obj`` with every non-finite float replaced by ``"nan"``, ``"inf"`` or ``"-inf"``."""
    kind = type(obj)
    if kind is float and obj - obj == 0.0:  # finite: the common case first
        return obj
    if kind is str or kind is int or obj is None:
        return obj
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


def encode_array(values: np.ndarray) -> str:
    """``values`` as base64 of their little-endian float64 bytes: exact, NaN included, O(n) in C.

    Ring buffers are stored this way (about 10 times faster to write and read than a JSON list
    of numbers, and half its size); :func:`read_floats` reads both forms.
    """
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f8").tobytes()).decode("ascii")


def read_floats(data: dict[str, Any], key: str, length: int, where: str) -> np.ndarray:
    """``data[key]`` as exactly ``length`` floats: an :func:`encode_array` string or a JSON list.

    A list holds numbers or the strings of :func:`read_float` (the form written by pairs 0.x
    before the compact encoding; still read).
    """
    values = data[key]
    if isinstance(values, str):
        try:
            raw = base64.b64decode(values, validate=True)
        except (binascii.Error, ValueError):
            raw = None
        if raw is None or len(raw) != 8 * length:
            got = "invalid base64" if raw is None else f"{len(raw)} bytes"
            raise StateError(
                f"{where}[{key!r}] must be base64 of {length} float64 values ({8 * length} bytes); got {got}."
            )
        return np.frombuffer(raw, dtype="<f8").astype(np.float64)
    if not isinstance(values, list) or len(values) != length:
        got = f"{len(values)} values" if isinstance(values, list) else type(values).__name__
        raise StateError(f"{where}[{key!r}] must be a list of {length} numbers; got {got}.")
    return np.array([read_float({key: v}, key, where) for v in values], dtype=np.float64)


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


def check_keys(data: Any, keys: Any, where: str, optional: Any = ()) -> dict[str, Any]:
    """Return ``data`` if it is a dict with the keys ``keys`` (and any of ``optional``), else raise."""
    expected = sorted(keys)
    if not isinstance(data, dict) or sorted(k for k in data if k not in optional) != expected:
        got = sorted(data) if isinstance(data, dict) else type(data).__name__
        extra = f" (and optionally {sorted(optional)})" if optional else ""
        raise StateError(f"{where} must be a dict with keys {expected}{extra}; got {got!r}.")
    return data


# ----------------------------------------------------------------- state files
MAX_STATE_BYTES = 256 * 2**20
MAX_STATE_DEPTH = 16


def canonical(data: Any) -> str:
    """The JSON text a checksum is taken of: sorted keys, no spaces, no NaN tokens."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _digest(payload: dict[str, Any], body: str) -> str:
    # A file holding only the engine (written before deliveries existed) checksums the engine.
    data = payload[body] if list(payload) == [body] else payload
    return hashlib.sha256(canonical(data).encode()).hexdigest()


def state_text(payload: dict[str, Any], *, body: str = "engine") -> str:
    """The text :func:`write_state_file` writes: ``{"sha256": ..., **payload}`` as canonical JSON.

    Each value is serialised once: the checksummed text (:func:`canonical` of the payload, or
    of its body alone) is assembled from the same pieces the file holds.
    """
    try:
        parts = {key: canonical(value) for key, value in payload.items()}
    except (TypeError, ValueError) as exc:
        raise StateError(f"state must be JSON data; got {exc}.") from None
    if list(payload) == [body]:
        checked = parts[body]
    else:
        checked = "{" + ",".join(f"{json.dumps(key)}:{parts[key]}" for key in sorted(parts)) + "}"
    digest = hashlib.sha256(checked.encode()).hexdigest()
    return (
        '{"sha256":"'
        + digest
        + '",'
        + ",".join(f"{json.dumps(key)}:{text}" for key, text in parts.items())
        + "}"
    )


@dataclass(frozen=True)
class Packed:
    """A state whose bulk is numpy arrays: a JSON ``header`` and ``arrays`` (float64 or int64).

    :func:`write_state_file` writes a payload whose body is Packed as a binary state file:
    :data:`MAGIC`, the length of a canonical JSON text (the payload with the body's header, and
    each array's dtype and shape), that text, the arrays' little-endian bytes in C order, then
    the SHA-256 of everything before it (32 bytes).
    """

    header: dict[str, Any]
    arrays: tuple[np.ndarray, ...]


MAGIC = b"\x89PAIRS\x01\n"
_DTYPES = {"<f8": np.float64, "<i8": np.int64}
_LENGTH = struct.Struct("<Q")


def _binary_chunks(payload: dict[str, Any], body: str) -> list[bytes | memoryview]:
    packed: Packed = payload[body]
    arrays = [np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")) for a in packed.arrays]
    for a in arrays:
        if a.dtype.str not in _DTYPES:
            raise StateError(f"state arrays must be float64 or int64; got {a.dtype}.")
    doc = {**payload, body: packed.header, "arrays": [[a.dtype.str, list(a.shape)] for a in arrays]}
    try:
        head = canonical(doc).encode()
    except (TypeError, ValueError) as exc:
        raise StateError(f"state must be JSON data; got {exc}.") from None
    chunks: list[bytes | memoryview] = [MAGIC, _LENGTH.pack(len(head)), head]
    chunks += [a.reshape(-1).data.cast("B") if a.size else b"" for a in arrays]
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return [*chunks, digest.digest()]


def _read_binary(raw: bytes, name: str, body: str, optional: tuple[str, ...], what: str) -> dict[str, Any]:
    bad = f"path must be an intact {what} file; got "
    if len(raw) < len(MAGIC) + _LENGTH.size + 32:
        raise StateError(f"{bad}a truncated binary file {name!r}.")
    view = memoryview(raw)
    if hashlib.sha256(view[:-32]).digest() != raw[-32:]:
        raise StateError(
            f"{bad}a checksum mismatch in {name!r} (the file was truncated, corrupted or edited)."
        )
    start = len(MAGIC) + _LENGTH.size
    (length,) = _LENGTH.unpack_from(raw, len(MAGIC))
    if length > len(raw) - start - 32:
        raise StateError(f"{bad}a header longer than the file in {name!r}.")
    try:
        doc = loads_untrusted(
            bytes(view[start : start + length]),
            what=f"state file {name!r}",
            max_bytes=MAX_STATE_BYTES,
            max_depth=MAX_STATE_DEPTH,
        )
    except DataError as exc:
        raise StateError(f"{bad}an unreadable header in {name!r} ({exc})") from None
    _check_payload(doc, name, body, optional, ("arrays",))
    shapes = doc.pop("arrays")
    arrays = []
    offset = start + length
    for spec in shapes if isinstance(shapes, list) else [None]:
        if (
            not isinstance(spec, list)
            or len(spec) != 2
            or spec[0] not in _DTYPES
            or not isinstance(spec[1], list)
            or not all(type(d) is int and 0 <= d < 2**40 for d in spec[1])
        ):
            raise StateError(f"{bad}array descriptions [dtype, shape] in {name!r}; got {spec!r:.80}.")
        count = int(np.prod(spec[1], dtype=np.int64))
        size = 8 * count
        if offset + size > len(raw) - 32:
            raise StateError(f"{bad}arrays longer than the file in {name!r}.")
        arrays.append(np.frombuffer(raw, dtype=spec[0], count=count, offset=offset).reshape(spec[1]).copy())
        offset += size
    if offset != len(raw) - 32:
        raise StateError(f"{bad}{len(raw) - 32 - offset} bytes after the arrays in {name!r}.")
    if not isinstance(doc[body], dict):
        raise StateError(f"{bad}a header whose {body!r} is not a dict in {name!r}.")
    doc[body] = Packed(doc[body], tuple(arrays))
    return doc  # type: ignore[no-any-return]


def _check_payload(doc: Any, name: str, body: str, optional: tuple[str, ...], extra: tuple[str, ...]) -> None:
    keys = {"sha256", body} if not extra else {body, *extra}
    if not isinstance(doc, dict) or not keys <= set(doc) or not set(doc) <= {*keys, *optional}:
        got = sorted(doc) if isinstance(doc, dict) else type(doc).__name__
        raise StateError(
            f"state file {name!r} must be a dict with keys {sorted(keys)} (and optionally "
            f"{sorted(optional)}); got {got!r}."
        )


def write_state_file(path: str | os.PathLike[str], payload: dict[str, Any], *, body: str = "engine") -> None:
    """Write ``{"sha256": ..., **payload}`` atomically; ``payload[body]`` is the state proper.

    Further keys of ``payload`` (e.g. ``"delivery"``: the last input and the output line it
    produced, see :mod:`pairs.cli._follow`) are covered by the same checksum, so the state and
    the record of what it emitted are durable together or not at all. A body that is a
    :class:`Packed` state is written as a binary state file (see there).
    """
    target = check_path(path)
    binary = isinstance(payload[body], Packed)
    chunks = _binary_chunks(payload, body) if binary else [state_text(payload, body=body).encode()]
    try:
        write_bytes_atomic(target, chunks)
    except OSError as exc:
        raise StateError(
            f"path must be a writable state file; got {str(path)!r} ({exc.strerror or exc})."
        ) from None


def read_state_file(
    path: str | os.PathLike[str],
    *,
    body: str = "engine",
    optional: tuple[str, ...] = ("delivery",),
    what: str,
) -> dict[str, Any]:
    """Read and verify a file of :func:`write_state_file`: ``payload`` with ``body`` and any ``optional``.

    The file is untrusted input: at most :data:`MAX_STATE_BYTES`, nested at most
    :data:`MAX_STATE_DEPTH` deep, integers of at most 20 digits, finite floats, and a matching
    SHA-256. Every failure is a :class:`~pairs.exceptions.StateError` naming the file.
    """
    name = str(path)
    target = check_path(path)
    try:
        raw = read_regular_file(target, MAX_STATE_BYTES, what=f"{what} file")
    except DataError as exc:  # missing, unreadable, a FIFO or a device, too large
        raise StateError(str(exc)) from None
    if raw.startswith(MAGIC):
        return _read_binary(raw, name, body, optional, what)
    try:
        doc = loads_untrusted(
            raw, what=f"state file {name!r}", max_bytes=MAX_STATE_BYTES, max_depth=MAX_STATE_DEPTH
        )
    except DataError as exc:
        raise StateError(
            f"path must be a {what} file; got unreadable JSON in {name!r} (truncated or corrupted: {exc})"
        ) from None
    _check_payload(doc, name, body, optional, ())
    payload = {k: v for k, v in doc.items() if k != "sha256"}
    try:
        digest = _digest(payload, body)
    except (TypeError, ValueError):  # pragma: no cover - loads_untrusted returns JSON data only
        digest = ""
    if digest != doc["sha256"]:
        raise StateError(
            f"path must be an intact {what} file; got a checksum mismatch in {name!r} "
            "(the file was corrupted or edited)."
        )
    return payload
