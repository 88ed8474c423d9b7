"""Which model serves a tenant, loaded through the per-process LRU of bundles.

The tenant's snapshot (:mod:`m6rec.serving.snapshot`) asks :func:`load_active` for the model
of the active version whenever it refreshes: the loaded bundle from :data:`model_cache`
(loading it on a miss, while other threads keep serving the tenant's previous model). A bundle
that fails verification (:class:`engine.bundle.BundleError`, or a manifest whose sha256
differs from the registry's) is never served: the version is marked failed through the
registry (which rolls back to the previous good version when it was active) and the model of
whatever is active after that serves, or popularity.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

from m6rec.serving.cache import ActiveRef, CachedModel, ModelCache

if TYPE_CHECKING:  # serving imports the engine only when a bundle loads
    from engine.recommender import Recommender

logger = logging.getLogger(__name__)

__all__ = [
    "ServingModel",
    "fetch_active",
    "get_version_model",
    "load_active",
    "model_cache",
    "reset_caches",
]

MAX_FAILOVERS = 3


class BundleStorageError(Exception):
    """The bundle could not be fetched from storage (transient; the version is not failed)."""


class BundleMismatch(Exception):
    """The bundle's manifest does not match the sha256 the registry recorded."""


@dataclass(frozen=True)
class ServingModel:
    """A loaded recommender and the version number it belongs to."""

    recommender: Recommender
    version: int
    cache_hit: bool


def fetch_active(tenant) -> ActiveRef | None:
    """The tenant's active version as serving needs it (one query), or None."""
    from m6rec.registry.selectors import version_get_active

    version = version_get_active(tenant=tenant)
    if version is None:
        return None
    return ActiveRef(
        version_id=version.pk,
        number=int(version.number),
        bundle_uri=version.bundle_uri,
        bundle_sha256=version.bundle_sha256 or "",
    )


def _load_recommender(path: Path) -> Any:
    from engine.recommender import Recommender

    recommender = Recommender.load(path)
    if settings.M6REC_GC_FREEZE:
        from m6rec.ops.gcfreeze import freeze_long_lived

        freeze_long_lived()  # the model and the modules it imported live as long as the worker
    return recommender


def _evicted(key: tuple[int, int]) -> None:
    """An evicted model must not stay in memory through the tenant's serving snapshot."""
    from m6rec.serving.snapshot import forget

    forget(key[0])


def _new_cache() -> ModelCache:
    return ModelCache(
        max_entries=int(settings.M6REC_MODEL_CACHE_SIZE),
        max_bytes=int(settings.M6REC_MODEL_CACHE_MAX_BYTES),
        loader=_load_recommender,
        on_evict=_evicted,
    )


model_cache: ModelCache = _new_cache()
_failed: set[tuple[int, int]] = set()  # keys that failed verification in this process
_state_lock = threading.Lock()


def reset_caches() -> None:
    """Forget every loaded model, re-reading the cache settings (tests, reloads)."""
    global model_cache
    with _state_lock:
        model_cache = _new_cache()
        _failed.clear()


def _bundle_path(uri: str) -> Path:
    from m6rec.registry.storage import BundleStorageError as StorageError
    from m6rec.registry.storage import bundle_local_path

    try:
        return Path(bundle_local_path(uri=uri))
    except (StorageError, OSError) as exc:
        raise BundleStorageError(str(exc)) from exc


def _verified_loader(expected_sha256: str):
    """Loader that also checks the manifest against the registry's recorded sha256."""

    def load(path: Path) -> Any:
        if expected_sha256:
            manifest = Path(path) / "manifest.json"
            try:
                digest = hashlib.sha256(manifest.read_bytes()).hexdigest()
            except OSError as exc:
                raise BundleMismatch(f"cannot read {manifest}: {exc}") from exc
            if digest != expected_sha256:
                raise BundleMismatch(
                    f"manifest.json sha256 {digest[:12]}… differs from the registry's "
                    f"{expected_sha256[:12]}…"
                )
        return _load_recommender(path)

    return load


def _bundle_errors() -> tuple[type[BaseException], ...]:
    from engine.bundle import BundleError

    return (BundleError, BundleMismatch, FileNotFoundError)


def _mark_failed(tenant, number: int, reason: str) -> None:
    from m6rec.registry.models import ModelVersion
    from m6rec.registry.services import version_mark_failed

    logger.error(
        "Tenant %s model v%s failed verification and will not be served: %s",
        tenant.pk,
        number,
        reason,
    )
    version = ModelVersion.objects.filter(tenant=tenant, number=number).first()
    if version is None or version.status == ModelVersion.Status.FAILED:
        return
    try:
        version_mark_failed(version=version, reason=f"serving: {reason}", actor=None)
    except Exception:  # noqa: BLE001 - never fail the request because the registry write did
        logger.exception("Could not mark tenant %s v%s failed", tenant.pk, number)


def load_active(
    tenant,
    ref: ActiveRef | None,
    *,
    previous: ServingModel | None = None,
    refetch: Callable[[], ActiveRef | None] | None = None,
) -> ServingModel | None:
    """The model of the active version ``ref`` (None: no active version, serve popularity).

    ``previous``: the model the tenant was served with until now; it keeps serving while
    another thread loads the new version. A version that fails verification is marked failed
    and the active version is read again (``refetch``, default :func:`fetch_active`), up to
    ``MAX_FAILOVERS`` times.
    """
    refetch = refetch or (lambda: fetch_active(tenant))
    refetched = False
    for _ in range(MAX_FAILOVERS):
        if ref is None:
            return None
        key = (tenant.pk, ref.number)
        if key in _failed:
            if refetched:
                return None  # the registry still names a version we could not verify
            ref, refetched = refetch(), True
            continue
        fallback: CachedModel | None = None
        if previous is not None and previous.version != ref.number:
            old = (tenant.pk, previous.version)
            fallback = model_cache.peek(old) if old not in _failed else None
        try:
            entry, hit = model_cache.get_or_load(
                key,
                lambda uri=ref.bundle_uri: _bundle_path(uri),
                fallback=fallback,
                loader=_verified_loader(ref.bundle_sha256),
            )
        except BundleStorageError:  # storage unreachable: not the bundle's fault, retry later
            logger.exception("Tenant %s v%s: bundle storage failed", tenant.pk, ref.number)
            return _serving(fallback) if fallback is not None else None
        except _bundle_errors() as exc:
            with _state_lock:
                _failed.add(key)
            _mark_failed(tenant, ref.number, f"{type(exc).__name__}: {exc}")
            ref, refetched = refetch(), True
            continue
        return ServingModel(recommender=entry.model, version=entry.key[1], cache_hit=hit)
    return None


def _serving(entry: CachedModel) -> ServingModel:
    return ServingModel(recommender=entry.model, version=entry.key[1], cache_hit=False)


class VersionLoadError(Exception):
    """A non-active version (an experiment arm) could not be loaded or verified."""


def get_version_model(tenant, *, number: int, bundle_uri: str, bundle_sha256: str) -> ServingModel:
    """A specific version of ``tenant`` (an experiment's candidate arm), through the same
    cache and verification as the active one. Raises :class:`VersionLoadError` when the bundle
    is unreachable or fails verification; a version that failed verification is also marked
    failed in the registry (never served again), as an active one would be."""
    key = (tenant.pk, int(number))
    if key in _failed:
        raise VersionLoadError(f"v{number} failed verification in this process")
    try:
        entry, hit = model_cache.get_or_load(
            key, lambda: _bundle_path(bundle_uri), loader=_verified_loader(bundle_sha256)
        )
    except BundleStorageError as exc:
        raise VersionLoadError(f"bundle storage: {exc}") from exc
    except _bundle_errors() as exc:
        with _state_lock:
            _failed.add(key)
        _mark_failed(tenant, int(number), f"{type(exc).__name__}: {exc}")
        raise VersionLoadError(f"{type(exc).__name__}: {exc}") from exc
    return ServingModel(recommender=entry.model, version=entry.key[1], cache_hit=hit)
