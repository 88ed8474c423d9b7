"""One immutable serving snapshot per tenant and process: what a request reads besides the
user's own history.

A :class:`TenantSnapshot` holds the loaded model of the tenant's active version
(:mod:`m6rec.serving.loading`), its running experiment (:mod:`m6rec.online.assignment`) and
its catalogue (:mod:`m6rec.serving.catalogue`: servable items, properties, categories, and
masks over the model's items for the engine). Requests take the snapshot as it is; nothing in
it changes after it is built.

Refresh, one rule: a snapshot is trusted for ``M6REC_ACTIVE_VERSION_TTL`` seconds; then the
tenant's serving generation (moved by every catalogue write, see
:mod:`m6rec.tenants.generation`), active version and running experiment are read (indexed
queries), and a new snapshot is built from them,
reusing the loaded model and the catalogue when they did not change. The catalogue is also
reloaded once it is ``M6REC_CATALOG_TTL`` seconds old (writes that bypass the services: a
direct SQL update) and after a write in this process. A catalogue that takes more than a few
milliseconds to load is reloaded for a change at most once per twenty times its load time, so
reloading a busy tenant's catalogue costs at most ~5% of a process. While one thread
refreshes, the others keep serving the previous snapshot; while PostgreSQL is unreachable the
previous snapshot serves.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings

from m6rec.common.caching import ExpiringCache
from m6rec.common.errors import is_database_outage
from m6rec.online.assignment import ArmChoice, RunningExperiment, arm_for, running_experiment_load
from m6rec.serving import loading
from m6rec.serving.catalogue import Catalogue, load_catalogue
from m6rec.serving.loading import ServingModel, VersionLoadError
from m6rec.tenants.generation import generation_get

logger = logging.getLogger(__name__)

__all__ = [
    "TenantSnapshot",
    "clear",
    "forget",
    "invalidate",
    "snapshot_for",
]

MAX_TENANTS = 4096
# a catalogue is reloaded for a newer generation at most once per this many times its own
# load time (bounds the reload work of a tenant whose catalogue changes all the time)
RELOAD_SPACING = 20.0
CHEAP_LOAD_S = 0.005  # faster loads than this are never deferred


@dataclass(frozen=True)
class TenantSnapshot:
    tenant_pk: int
    model: ServingModel | None  # None: no servable model, popularity from the database
    experiment: RunningExperiment | None
    catalogue: Catalogue

    def model_for(
        self, tenant, unit_id: str | None
    ) -> tuple[ServingModel | None, ArmChoice | None]:
        """The model serving ``unit_id`` (a user or session id; None: no experiment) and, while
        an experiment runs, its arm (:func:`m6rec.online.assignment.arm_for`). A candidate arm
        whose version cannot be loaded is ended (``online.services.experiment_end_arm``) and
        the control serves."""
        experiment = self.experiment if unit_id else None
        if experiment is None:
            return self.model, None
        arm = arm_for(experiment, unit_id)
        if arm.index > 0:
            try:
                model = loading.get_version_model(
                    tenant,
                    number=arm.version,
                    bundle_uri=arm.bundle_uri,
                    bundle_sha256=arm.bundle_sha256,
                )
                return model, ArmChoice(experiment.id, arm.index)
            except VersionLoadError as exc:
                _end_arm(tenant, experiment, arm.index, arm.version, exc)
        if self.model is None or self.model.version != experiment.control.version:
            return self.model, None  # the control changed under the experiment: not its traffic
        return self.model, ArmChoice(experiment.id, 0)


_snapshots: ExpiringCache[TenantSnapshot] = ExpiringCache(MAX_TENANTS)
_written: dict[int, int] = {}  # tenant → catalogue writes in this process not yet loaded
_locks: dict[int, threading.Lock] = {}
_locks_guard = threading.Lock()


def snapshot_for(tenant) -> TenantSnapshot:
    """The tenant's current snapshot (refreshed when older than ``M6REC_ACTIVE_VERSION_TTL``)."""
    snap = _snapshots.get(tenant.pk)
    if snap is not None:
        return snap
    stale = _snapshots.get(tenant.pk, stale_ok=True)
    lock = _lock(tenant.pk)
    if not lock.acquire(blocking=stale is None):
        return stale  # another thread is refreshing it
    try:
        snap = _snapshots.get(tenant.pk)
        return snap if snap is not None else _refresh(tenant, stale)
    finally:
        lock.release()


def invalidate(tenant_id: int | None = None, *, catalogue: bool = False) -> None:
    """Refresh the tenant's snapshot (every tenant's: None) on its next request (a promotion,
    rollback, experiment change or catalogue write in this process); ``catalogue``: this
    process changed the catalogue, reload it then whatever its generation says."""
    if tenant_id is None:
        _snapshots.clear()
        return
    if catalogue:
        _written[tenant_id] = _written.get(tenant_id, 0) + 1
    _snapshots.expire(tenant_id)  # stale: other threads serve it while one refreshes


def forget(tenant_id: int) -> None:
    """Drop the tenant's snapshot (its model left the LRU: the snapshot must not hold it)."""
    _snapshots.pop(tenant_id)


def clear() -> None:
    """Forget every snapshot and loaded model of this process (tests, reloads)."""
    _snapshots.clear()
    _written.clear()
    loading.reset_caches()


def _lock(tenant_pk: int) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(tenant_pk, threading.Lock())


def _refresh(tenant, stale: TenantSnapshot | None) -> TenantSnapshot:
    ttl = float(settings.M6REC_ACTIVE_VERSION_TTL)
    written = _written.get(tenant.pk, 0)
    try:
        generation = generation_get(tenant_id=tenant.pk) or 0
        active = loading.fetch_active(tenant)
        experiment = running_experiment_load(tenant)
        model = loading.load_active(
            tenant, active, previous=stale.model if stale is not None else None
        )
        catalogue = stale.catalogue if stale is not None else None
        reload = catalogue is None or _outdated(catalogue, generation, written=bool(written))
        if reload:
            catalogue = load_catalogue(tenant_pk=tenant.pk, generation=generation)
    except Exception as exc:
        if stale is None or not is_database_outage(exc):
            raise
        return _snapshots.put(tenant.pk, stale, ttl)  # serve what we have; try again later
    if reload and written and _written.get(tenant.pk) == written:  # none since this load began
        _written.pop(tenant.pk, None)
    kept = dataclasses.replace(model, cache_hit=True) if model is not None else None
    # stored even with a TTL of 0 (expired at once): the next refresh reuses its parts
    snap = TenantSnapshot(tenant.pk, kept, experiment, catalogue)
    _snapshots.put(tenant.pk, snap, ttl)
    # this request reports whether it had to load the model
    return dataclasses.replace(snap, model=model) if model is not kept else snap


def _outdated(catalogue: Catalogue, generation: int, *, written: bool) -> bool:
    age = time.monotonic() - catalogue.loaded_at
    if age >= float(settings.M6REC_CATALOG_TTL):
        return True
    if catalogue.generation == generation and not written:
        return False
    # changed: reload, but a catalogue that is slow to load at most once per RELOAD_SPACING
    # load times (a stream of writes would otherwise keep the process reloading it)
    return catalogue.load_seconds < CHEAP_LOAD_S or age >= RELOAD_SPACING * catalogue.load_seconds


def _end_arm(tenant, experiment: RunningExperiment, arm: int, version: int, exc) -> None:
    from m6rec.online.services import experiment_end_arm  # online.services invalidates us

    logger.error(
        "Tenant %s experiment %s: arm %s (v%s) cannot be served: %s",
        tenant.pk, experiment.id, arm, version, exc,
    )  # fmt: skip
    experiment_end_arm(experiment_id=experiment.id, arm=arm, reason=str(exc))
