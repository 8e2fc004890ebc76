"""Exactly-once delivery for a process that turns input records into output lines with a state file.

The protocol (``pairs signal --follow --state``, reusable by any follow loop over a state):

1. :class:`Outbox` takes the state file's :class:`~pairs.stream._lock.StateLock` (one writer)
   and reads the file, if any: the state proper and the *delivery record* of the last input,
   ``{"input": {"id": ..., "values": ...}, "output": "<line>"}``.
2. For each input record, :meth:`Outbox.replayed` first: the record with the last input's id
   and the same values returns the stored output line (re-emitted, not re-applied); the same
   id with other values is a :class:`~pairs.exceptions.StateError` naming both.
3. Otherwise the state is advanced, and :meth:`Outbox.commit` writes the new state together
   with the new delivery record in one atomic, checksummed file *before* the line is
   written out.

A crash before the commit loses nothing (the record was not applied; re-sending it applies
it); a crash after it loses nothing either (re-sending it re-emits the stored line). So a
client that re-sends, after a restart, the first record whose output it did not read gets
every output exactly once, in order.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pairs._io import check_path
from pairs.exceptions import StateError
from pairs.stream import _state
from pairs.stream._lock import StateLock

__all__ = ["Outbox"]


def _check_delivery(value: Any, where: str) -> dict[str, Any] | None:
    if value is None:
        return None
    _state.check_keys(value, ("input", "output"), where)
    _state.check_keys(value["input"], ("id", "values"), f"{where}['input']")
    if not isinstance(value["output"], str) or "\n" in value["output"]:
        raise StateError(f"{where}['output'] must be one line of text; got {value['output']!r:.80}.")
    return value


class Outbox:
    """The state file of one follow loop: lock, read, replay check and atomic commit.

    Parameters
    ----------
    path
        The state file (created by the first :meth:`commit`).
    what
        What the state is, for messages (e.g. ``"StreamEngine state"``).
    body
        The key of the state proper in the file (``"engine"``).
    """

    def __init__(self, path: str | os.PathLike[str], *, what: str, body: str = "engine") -> None:
        self.path: Path = check_path(path)
        self.what = what
        self.body = body
        self.delivery: dict[str, Any] | None = None
        self._lock = StateLock(self.path).acquire()

    def read(self) -> Any:
        """The saved state proper, or None when the file does not exist yet."""
        if not self.path.exists():  # a dangling link too: its target is created by the first commit
            return None
        payload = _state.read_state_file(self.path, body=self.body, what=self.what)
        self.delivery = _check_delivery(payload.get("delivery"), f"state file {str(self.path)!r}['delivery']")
        return payload[self.body]

    def replayed(self, ident: Any, values: Any) -> str | None:
        """The stored output if ``(ident, values)`` is the last input again; None for a new input."""
        last = self.delivery
        if last is None or last["input"]["id"] != ident:
            return None
        if last["input"]["values"] != values:
            if isinstance(ident, dict) and "fill" in ident:
                raise StateError(
                    f"fill must repeat the fields of the last fill to be re-sent (fill_id {ident['fill']!r}); "
                    f"got {values!r}, but the state holds {last['input']['values']!r} for that fill_id."
                )
            raise StateError(
                f"bar must repeat the prices of the last bar to be re-sent (timestamp {ident!r}); got "
                f"{values!r}, but the state holds {last['input']['values']!r} for that timestamp."
            )
        return str(last["output"])

    def commit(self, state: Any, ident: Any, values: Any, output: str) -> None:
        """Write the state with the delivery record of ``output``, atomically, before it is emitted."""
        delivery = {"input": {"id": ident, "values": values}, "output": output}
        _state.write_state_file(self.path, {self.body: state, "delivery": delivery}, body=self.body)
        self.delivery = delivery

    def deliver(self, ident: Any, values: Any, advance: Any) -> str:
        """The output line of an input, exactly once: the stored line of a re-sent last input, else
        ``advance()`` (which applies the input and returns ``(state, line)``) committed first."""
        stored = self.replayed(ident, values)
        if stored is not None:
            return stored
        state, line = advance()
        self.commit(state, ident, values, line)
        return str(line)

    def close(self) -> None:
        """Release the lock (the OS releases it anyway when the process ends)."""
        self._lock.release()
