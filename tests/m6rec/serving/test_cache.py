"""The per-process model LRU (no database, no engine)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from m6rec.serving.cache import ModelCache, approx_nbytes


class _Model:
    def __init__(self, name: str, nbytes: int = 100) -> None:
        self.name = name
        self.nbytes = nbytes


def _cache(**kwargs) -> ModelCache:
    kwargs.setdefault("loader", lambda path: _Model(path.name))
    kwargs.setdefault("sizer", lambda model, path: model.nbytes)
    return ModelCache(**kwargs)


def test_evicts_least_recently_used_beyond_count():
    cache = _cache(max_entries=2, max_bytes=10**9)
    for n in (1, 2):
        cache.get_or_load((1, n), Path(f"v{n}"))
    cache.get((1, 1))  # touch v1: v2 becomes the LRU entry
    cache.get_or_load((1, 3), Path("v3"))
    assert cache.keys() == [(1, 1), (1, 3)]
    assert cache.stats()["evictions"] == 1
    assert len(cache) == 2


def test_evicts_beyond_memory_budget():
    cache = ModelCache(
        max_entries=10, max_bytes=250, loader=lambda p: _Model(p.name), sizer=lambda m, p: 100
    )
    for n in range(1, 5):
        cache.get_or_load((7, n), Path(f"v{n}"))
        assert cache.total_bytes <= 250
    assert cache.keys() == [(7, 3), (7, 4)]


def test_single_model_over_budget_is_still_served_alone():
    cache = ModelCache(max_entries=4, max_bytes=50, loader=lambda p: _Model(p.name))
    cache.put((1, 1), _Model("a"), nbytes=40)
    entry = cache.put((1, 2), _Model("b"), nbytes=500)
    assert cache.keys() == [(1, 2)]
    assert cache.get((1, 2)) is entry


def test_hits_and_misses_are_counted():
    cache = _cache()
    _, hit = cache.get_or_load((1, 1), Path("v1"))
    assert hit is False
    _, hit = cache.get_or_load((1, 1), Path("v1"))
    assert hit is True
    assert cache.stats()["hits"] == 1 and cache.stats()["misses"] == 1


def test_concurrent_misses_load_once():
    calls = []
    gate = threading.Event()

    def slow_loader(path):
        calls.append(path)
        gate.wait(2)
        return _Model(path.name)

    cache = _cache(loader=slow_loader)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get_or_load((1, 9), Path("v9"))))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    time.sleep(0.1)
    gate.set()
    for t in threads:
        t.join(5)
    assert len(calls) == 1
    assert len({id(entry.model) for entry, _ in results}) == 1


def test_fallback_is_served_while_another_thread_loads_the_new_version():
    started, release = threading.Event(), threading.Event()

    def slow_loader(path):
        started.set()
        release.wait(5)
        return _Model(path.name)

    cache = _cache(loader=slow_loader)
    old = cache.put((1, 1), _Model("v1"), nbytes=10)
    loaded = []
    loader_thread = threading.Thread(
        target=lambda: loaded.append(cache.get_or_load((1, 2), Path("v2"), fallback=old))
    )
    loader_thread.start()
    assert started.wait(2)
    # another request meanwhile: not blocked, gets the old model
    t0 = time.perf_counter()
    entry, hit = cache.get_or_load((1, 2), Path("v2"), fallback=old)
    assert time.perf_counter() - t0 < 0.5
    assert entry is old and hit is False
    release.set()
    loader_thread.join(5)
    assert loaded[0][0].key == (1, 2)
    assert cache.get_or_load((1, 2), Path("v2"))[0].model.name == "v2"


def test_loader_errors_propagate_and_cache_nothing():
    def broken(path):
        raise RuntimeError("checksum mismatch")

    cache = _cache(loader=broken)
    with pytest.raises(RuntimeError):
        cache.get_or_load((1, 1), Path("v1"))
    assert (1, 1) not in cache


def test_discard_tenant_only_drops_that_tenant():
    cache = _cache()
    for key in [(1, 1), (1, 2), (2, 1)]:
        cache.put(key, _Model(str(key)), nbytes=1)
    cache.discard_tenant(1)
    assert cache.keys() == [(2, 1)]


def test_approx_nbytes_counts_arrays_inside_objects(tmp_path):
    inner = SimpleNamespace(q=np.zeros((100, 10), dtype=np.float32), ids=["a"] * 3)
    model = SimpleNamespace(p=np.zeros(1000, dtype=np.float64), inner=inner, meta={"x": 1})
    (tmp_path / "fusion.onnx").write_bytes(b"x" * 123)
    assert approx_nbytes(model, bundle_path=tmp_path) == 8000 + 4000 + 123
    assert approx_nbytes(object(), bundle_path=tmp_path) == 123


def test_evicted_keys_are_reported():
    evicted = []
    cache = _cache(max_entries=2, on_evict=evicted.append)
    for name in ("a", "b", "c"):
        cache.get_or_load((1, ord(name)), Path(name))
    assert evicted == [(1, ord("a"))]
