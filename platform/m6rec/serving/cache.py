"""The per-process cache of loaded model bundles.

:class:`ModelCache` keeps loaded :class:`engine.recommender.Recommender` objects keyed by
``(tenant_id, version number)``, bounded both by entry count and by approximate memory
(``M6REC_MODEL_CACHE_SIZE`` / ``M6REC_MODEL_CACHE_MAX_BYTES``). Loads of one key are
serialised by a per-key lock; while a new version loads, other threads may keep serving the
tenant's previous model instead of waiting (``fallback``), so a promote never stalls traffic.
Thread-safe (gunicorn ``gthread`` workers serve requests from several threads). Its bytes
budget is why it is not an :class:`m6rec.common.caching.ExpiringCache`.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "ActiveRef",
    "CachedModel",
    "ModelCache",
    "approx_nbytes",
]

DEFAULT_MAX_ENTRIES = 8
DEFAULT_MAX_BYTES = 2 * 1024**3


def _dir_bytes(path: Path | None) -> int:
    if path is None:
        return 0
    try:
        path = Path(path)
        if path.is_file():
            return path.stat().st_size
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    except OSError:
        return 0


def approx_nbytes(obj: Any, *, bundle_path: Path | None = None, _depth: int = 0) -> int:
    """Approximate resident size of a loaded model: its numpy arrays plus its ONNX files.

    Walks the object's attributes (and dicts/lists/tuples inside them, three levels deep)
    adding up ``ndarray.nbytes``; ONNX sessions are not introspectable, so the on-disk size of
    the bundle's ``.onnx`` files stands in for them. Never less than the bundle's size on disk
    when nothing else is found.
    """
    seen: set[int] = set()

    def walk(value: Any, depth: int) -> int:
        if id(value) in seen or depth > 3:
            return 0
        seen.add(id(value))
        if isinstance(value, np.ndarray):
            return int(value.nbytes)
        if isinstance(value, dict):
            return sum(walk(v, depth + 1) for v in value.values())
        if isinstance(value, list | tuple):
            if len(value) > 10_000:
                return sys.getsizeof(value)
            return sum(walk(v, depth + 1) for v in value)
        attrs = getattr(value, "__dict__", None)
        if attrs is not None and depth < 3 and not isinstance(value, type):
            return sum(walk(v, depth + 1) for v in attrs.values())
        slots = getattr(type(value), "__slots__", ())
        if slots and depth < 3:
            return sum(walk(getattr(value, s, None), depth + 1) for s in slots)
        return 0

    arrays = walk(obj, _depth)
    onnx = 0
    if bundle_path is not None:
        try:
            onnx = sum(p.stat().st_size for p in Path(bundle_path).rglob("*.onnx"))
        except OSError:
            onnx = 0
    total = arrays + onnx
    return total if total > 0 else _dir_bytes(bundle_path)


@dataclass
class CachedModel:
    """A loaded model and its bookkeeping."""

    key: tuple[int, int]
    model: Any
    nbytes: int
    loaded_at: float = field(default_factory=time.monotonic)
    load_seconds: float = 0.0


class ModelCache:
    """Thread-safe LRU of loaded models bounded by count and approximate bytes.

    ``loader(path)`` builds a model from a bundle directory; ``sizer(model, path)`` estimates
    its bytes. The most recently inserted entry is never evicted by its own insertion, so a
    single model larger than ``max_bytes`` is still served (alone).
    """

    def __init__(
        self,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_bytes: int = DEFAULT_MAX_BYTES,
        loader: Callable[[Path], Any] | None = None,
        sizer: Callable[[Any, Path], int] | None = None,
        on_evict: Callable[[tuple[int, int]], None] | None = None,
    ) -> None:
        """``on_evict(key)``: called (under the cache's lock: keep it short) for each entry
        evicted to fit, so holders of the model can let go of it too."""
        if max_entries < 1:
            raise ValueError("max_entries must be >= 1")
        self.max_entries = int(max_entries)
        self.max_bytes = int(max_bytes)
        self._loader = loader
        self._sizer = sizer or (lambda model, path: approx_nbytes(model, bundle_path=path))
        self._on_evict = on_evict
        self._entries: OrderedDict[tuple[int, int], CachedModel] = OrderedDict()
        self._lock = threading.RLock()
        self._load_locks: dict[tuple[int, int], threading.Lock] = {}
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    # ------------------------------------------------------------------ inspection
    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._entries

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def keys(self) -> list[tuple[int, int]]:
        """Keys from least to most recently used."""
        with self._lock:
            return list(self._entries)

    @property
    def total_bytes(self) -> int:
        with self._lock:
            return sum(e.nbytes for e in self._entries.values())

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "entries": len(self._entries),
                "bytes": sum(e.nbytes for e in self._entries.values()),
                "max_entries": self.max_entries,
                "max_bytes": self.max_bytes,
                "hits": self.hits,
                "misses": self.misses,
                "evictions": self.evictions,
            }

    # ------------------------------------------------------------------ access
    def peek(self, key: tuple[int, int]) -> CachedModel | None:
        """The entry without touching LRU order or counters."""
        with self._lock:
            return self._entries.get(key)

    def get(self, key: tuple[int, int]) -> CachedModel | None:
        """The entry (marked most recently used), or ``None``."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple[int, int], model: Any, *, nbytes: int, load_seconds: float = 0.0):
        """Insert (or replace) an entry, then evict least recently used ones to fit."""
        entry = CachedModel(key=key, model=model, nbytes=int(nbytes), load_seconds=load_seconds)
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            self._evict_locked(keep=key)
        return entry

    def discard(self, key: tuple[int, int]) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def discard_tenant(self, tenant_id: int) -> None:
        with self._lock:
            for key in [k for k in self._entries if k[0] == tenant_id]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = self.evictions = 0

    def _evict_locked(self, *, keep: Hashable) -> None:
        def over() -> bool:
            total = sum(e.nbytes for e in self._entries.values())
            return len(self._entries) > self.max_entries or total > self.max_bytes

        while over() and len(self._entries) > 1:
            victim = next(iter(self._entries))
            if victim == keep:  # the newest entry alone is over budget: keep serving it
                break
            del self._entries[victim]
            self.evictions += 1
            if self._on_evict is not None:
                self._on_evict(victim)

    def get_or_load(
        self,
        key: tuple[int, int],
        path: Path | Callable[[], Path],
        *,
        fallback: CachedModel | None = None,
        loader: Callable[[Path], Any] | None = None,
    ) -> tuple[CachedModel, bool]:
        """The cached entry for ``key``, loading it from ``path`` on a miss.

        ``path`` may be a callable, resolved only when a load is needed (e.g. a remote bundle
        fetched into a local cache directory).

        Returns ``(entry, hit)``. When another thread is already loading ``key`` and a
        ``fallback`` entry (the tenant's previously served model) is given, returns
        ``(fallback, False)`` at once instead of waiting. Loader exceptions (e.g.
        ``engine.bundle.BundleError``) propagate; nothing is cached for them.
        """
        entry = self.get(key)
        if entry is not None:
            with self._lock:
                self.hits += 1
            return entry, True
        with self._lock:
            self.misses += 1
            load_lock = self._load_locks.setdefault(key, threading.Lock())
        if fallback is not None:
            if not load_lock.acquire(blocking=False):
                return fallback, False
        else:
            load_lock.acquire()
        try:
            entry = self.get(key)  # loaded by another thread while we waited
            if entry is not None:
                return entry, False
            load = loader or self._loader
            if load is None:
                raise RuntimeError("ModelCache has no loader")
            started = time.perf_counter()
            local = Path(path() if callable(path) else path)
            model = load(local)
            seconds = time.perf_counter() - started
            nbytes = self._sizer(model, local)
            return self.put(key, model, nbytes=nbytes, load_seconds=seconds), False
        finally:
            load_lock.release()
            with self._lock:
                if self._load_locks.get(key) is load_lock and not load_lock.locked():
                    self._load_locks.pop(key, None)


@dataclass(frozen=True)
class ActiveRef:
    """What serving needs to know about a tenant's active version."""

    version_id: int
    number: int
    bundle_uri: str
    bundle_sha256: str = ""
