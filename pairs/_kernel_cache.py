"""numba's cache of one kernel over several folders (chosen by :mod:`pairs._numba_cache`).

numba's own cache lives in one folder, chosen when the kernel is decorated, which must be
writable even to load from it: a read-only folder filled by ``pairs warmup`` could not be used,
and without any writable folder numba refuses to decorate the kernel at all. This cache loads a
kernel from the first of its folders that holds it (with numba's index and data files, so the
folders are numba's format) and writes compiled kernels to the writable one, if any.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from numba.core.caching import (
    CompileResultCacheImpl,
    FunctionCache,
    IndexDataCacheFile,
    _CacheLocator,
    _SourceFileBackedLocatorMixin,
)

from pairs._numba_cache import Layers

__all__ = ["KernelCache"]


class _SourceLocator(_SourceFileBackedLocatorMixin, _CacheLocator):
    """numba's stamp (the source file's hash) and name of a kernel; its folders are the cache's."""

    def __init__(self, py_func: Callable[..., Any], py_file: str) -> None:
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno

    def get_cache_path(self) -> str:
        return os.path.dirname(self._py_file)

    @classmethod
    def from_function(cls, py_func: Callable[..., Any], py_file: str) -> _SourceLocator:
        return cls(py_func, py_file)


class _Impl(CompileResultCacheImpl):
    _locator_classes = [_SourceLocator]  # noqa: RUF012 (numba's attribute)


class KernelCache(FunctionCache):
    """Load from each folder of ``layers.read`` in turn; save to ``layers.write``.

    The key is numba's (the kernel's file, its bytecode, the signature, the CPU, Python)
    plus ``digest``; ``compiling()`` is called when nothing loads, before numba compiles.
    """

    _impl_class = _Impl

    def __init__(
        self, py_func: Callable[..., Any], layers: Layers, digest: str, compiling: Callable[[], None]
    ) -> None:
        super().__init__(py_func)
        stamp = (self._cache_file._source_stamp, digest)
        self._files = [IndexDataCacheFile(path, self._impl.filename_base, stamp) for path in layers.read]
        self._writer = None if layers.write is None else (layers.write, self._files[-1])
        # What numba's own attributes name (Dispatcher.stats, introspection): the folder written
        # to, else the first read; numba's file in the source folder when there is neither.
        self._cache_file._source_stamp = stamp
        if self._files:
            self._cache_file = self._files[-1] if self._writer else self._files[0]
            self._cache_path = layers.write or layers.read[0]
        self._compiling = compiling

    def has_index(self) -> bool:
        """Whether one of the folders holds an index of this kernel (it was compiled once)."""
        return any(os.path.exists(file._index_path) for file in self._files)

    def _load_overload(self, sig: Any, target_context: Any) -> Any:
        if not self._enabled:
            return None
        key = self._index_key(sig, target_context.codegen())
        for file in self._files:
            try:
                data = file.load(key)
            except OSError:  # a folder this user may list but not read
                continue
            if data is not None:
                return self._impl.rebuild(target_context, data)
        self._compiling()
        return None

    def _save_overload(self, sig: Any, data: Any) -> None:
        if not self._enabled or self._writer is None or not self._impl.check_cachable(data):
            return
        folder, file = self._writer
        try:
            os.makedirs(folder, exist_ok=True)
            file.save(self._index_key(sig, data.codegen), self._impl.reduce(data))
        except OSError:
            # Writable when chosen, not now (a full disk, a remount): the kernel runs from memory.
            return

    def flush(self) -> None:
        if self._writer is not None:
            self._writer[1].flush()
