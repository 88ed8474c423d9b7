"""The online-loop benchmark's experiment (online_loop.py): a candidate version holding a copy
of the tenant's active bundle, and an experiment splitting users 50/50 between the two, started
and stopped between measurements.
"""

from __future__ import annotations

import shutil

ARM_NOTE = "online_loop benchmark: a copy of the active bundle"


def ensure_candidate(tenant) -> int:
    """A candidate version of ``tenant`` holding a copy of its active bundle (created once)."""
    from m6rec.registry.models import ModelVersion
    from m6rec.registry.selectors import version_get_active
    from m6rec.registry.services import version_create, version_next_number
    from m6rec.registry.storage import (
        bundle_local_path,
        bundle_publish,
        bundle_staging_dir,
        manifest_sha256,
    )

    found = ModelVersion.objects.filter(
        tenant=tenant, status=ModelVersion.Status.CANDIDATE, notes=ARM_NOTE
    ).first()
    if found is not None:
        return int(found.number)
    active = version_get_active(tenant=tenant)
    number = version_next_number(tenant=tenant)
    staging = bundle_staging_dir(tenant_slug=tenant.slug, label=f"v{number}")
    staging.rmdir()
    shutil.copytree(bundle_local_path(uri=active.bundle_uri), staging)
    sha = manifest_sha256(staging)
    uri = bundle_publish(staging_dir=staging, tenant_slug=tenant.slug, number=number)
    version_create(
        tenant=tenant,
        number=number,
        bundle_uri=uri,
        bundle_sha256=sha,
        metrics=active.metrics,
        notes=ARM_NOTE,
    )
    return number


def stop_experiments(tenant) -> None:
    from m6rec.online.models import Experiment
    from m6rec.online.services import experiment_stop

    for pk in Experiment.objects.filter(tenant=tenant, status="running").values_list(
        "pk", flat=True
    ):
        experiment_stop(tenant=tenant, experiment_id=pk, reason="online_loop benchmark")


def start_experiment(tenant, candidate: int) -> int:
    from m6rec.online.services import experiment_start

    stop_experiments(tenant)
    return experiment_start(
        tenant=tenant, name="online_loop benchmark", candidates=[candidate], shares=[0.5, 0.5]
    ).pk


def set_mode(tenant, candidate: int, mode: str) -> None:
    """Start (``experiment``) or stop (``none``) the tenant's experiment; the gunicorn workers
    see it when their snapshot of the tenant refreshes (M6REC_ACTIVE_VERSION_TTL, 2 s here)."""
    if mode == "experiment":
        start_experiment(tenant, candidate)
    else:
        stop_experiments(tenant)
