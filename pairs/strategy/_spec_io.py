"""Reading and writing spec files (strategy, selection, portfolio): atomic JSON, bounded reads."""

from __future__ import annotations

import json
import os
from typing import Any

from pairs._io import check_path, read_regular_file, write_text_atomic
from pairs._validation import check_keys
from pairs.exceptions import DataError, PairsError

__all__ = ["MAX_SPEC_BYTES", "check_header", "read_spec", "write_spec"]

MAX_SPEC_BYTES = 1_000_000


def write_spec(data: dict[str, Any], path: str | os.PathLike[str] | None) -> str:
    """``data`` as indented JSON text, written atomically to ``path`` if given."""
    text = json.dumps(data, indent=2) + "\n"
    if path is not None:
        try:
            write_text_atomic(check_path(path), text)
        except OSError as exc:
            raise DataError(
                f"path must be a writable file; got {str(path)!r} ({exc.strerror or exc})."
            ) from None
    return text


def read_spec(path: str | os.PathLike[str], what: str) -> Any:
    """The JSON content of a spec file of kind ``what`` (e.g. ``"strategy"``).

    The file must be a regular file of at most :data:`MAX_SPEC_BYTES`: a FIFO or a device such as
    ``/dev/zero`` is refused before it is opened (:func:`pairs._io.read_regular_file`).
    """
    raw = read_regular_file(check_path(path), MAX_SPEC_BYTES, what=f"{what} file")
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise DataError(f"path must hold {what} JSON; got invalid JSON in {str(path)!r} ({exc}).") from None


def check_header(data: Any, fmt: str, version: int, known: set[str], what: str) -> dict[str, Any]:
    """``data`` without its ``format``/``version`` keys, checked against ``fmt``, ``version`` and ``known``."""
    data = check_keys(data, {*known, "format", "version"}, f" (a {what} file)")
    got_fmt = data.pop("format", fmt)
    got_version = data.pop("version", version)
    if got_fmt != fmt:
        raise PairsError(f"data['format'] must be {fmt!r}; got {got_fmt!r}.")
    if got_version != version or isinstance(got_version, bool):
        raise PairsError(f"data['version'] must be {version}; got {got_version!r}.")
    return data
