"""Registry reads. Every query is scoped to one tenant."""

from __future__ import annotations

from django.db.models import QuerySet

from m6rec.registry.models import AuditLog, ModelVersion, gate_metric_of


def version_get_active(*, tenant) -> ModelVersion | None:
    """The tenant's active version, or ``None`` (serve popularity)."""
    return (
        ModelVersion.objects.filter(tenant=tenant, status=ModelVersion.Status.ACTIVE)
        .order_by("-activated_at")
        .first()
    )


def version_get_active_number(*, tenant_id: int) -> int | None:
    """Cheap check for serving: the active version's number (one indexed query)."""
    return (
        ModelVersion.objects.filter(tenant_id=tenant_id, status=ModelVersion.Status.ACTIVE)
        .values_list("number", flat=True)
        .first()
    )


def version_list(*, tenant) -> QuerySet[ModelVersion]:
    """The tenant's versions, newest first."""
    return ModelVersion.objects.filter(tenant=tenant).select_related("run").order_by("-number")


def version_get(*, tenant, number: int) -> ModelVersion | None:
    """One version by its per-tenant number; ``None`` when the tenant has no such version."""
    return ModelVersion.objects.filter(tenant=tenant, number=number).first()


def version_rollback_target(*, tenant, from_version: ModelVersion | None = None):
    """The version a rollback would activate: the one active before ``from_version``.

    ``from_version`` defaults to the active version. Follows ``previous_active`` links (a stack:
    promotion pushes, rollback pops), skipping versions that are no longer retired (failed ones).
    When the tenant has no active version at all, the most recently activated retired version.
    ``None`` when there is nothing to roll back to.
    """
    start = from_version if from_version is not None else version_get_active(tenant=tenant)
    if start is None:
        return (
            ModelVersion.objects.filter(
                tenant=tenant, status=ModelVersion.Status.RETIRED, activated_at__isnull=False
            )
            .order_by("-activated_at", "-number")
            .first()
        )
    seen: set[int] = {start.pk}
    node = start.previous_active
    while node is not None and node.pk not in seen:
        seen.add(node.pk)
        if node.status == ModelVersion.Status.RETIRED:
            return node
        node = node.previous_active
    return None


def audit_list(*, tenant) -> QuerySet[AuditLog]:
    return AuditLog.objects.filter(tenant=tenant).select_related("from_version", "to_version")


def gate_metric_series(*, tenant, limit: int = 50) -> list[tuple[int, float | None, str]]:
    """(number, validation nDCG@10, status) for the tenant's latest versions, oldest first."""
    rows = list(
        ModelVersion.objects.filter(tenant=tenant)
        .order_by("-number")
        .values_list("number", "metrics", "status")[:limit]
    )
    return [(n, gate_metric_of(m), s) for n, m, s in reversed(rows)]
