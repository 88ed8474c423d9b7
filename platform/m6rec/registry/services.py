"""Registry writes: create versions, the quality gate, promote / rollback / pin / fail.

Every service that touches a tenant's active version first locks the tenant row
(``SELECT ... FOR UPDATE``), so concurrent changes for one tenant are serialised; the partial
unique index on ``(tenant) WHERE status = 'active'`` is the last line of defence.
Every change of the active version writes an :class:`~m6rec.registry.models.AuditLog` row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from m6rec.online.selectors import running_experiment_id
from m6rec.registry.errors import NothingToRollBackError, VersionConflictError
from m6rec.registry.models import AuditLog, ModelVersion, gate_metric_of
from m6rec.registry.selectors import version_rollback_target
from m6rec.registry.signals import active_version_changed

logger = logging.getLogger(__name__)

Status = ModelVersion.Status
Action = AuditLog.Action


# ---------------------------------------------------------------------- helpers
def actor_label(actor: Any) -> tuple[str, Any]:
    """``(label, user or None)`` for an actor: a user, an API key, a string or ``None``."""
    if actor is None:
        return "system", None
    if isinstance(actor, str):
        return actor[:200], None
    if hasattr(actor, "get_username"):
        return f"user:{actor.get_username()}"[:200], actor
    for attr in ("label", "name", "prefix"):
        value = getattr(actor, attr, None)
        if value:
            return f"apikey:{value}"[:200], None
    return f"{type(actor).__name__.lower()}:{getattr(actor, 'pk', '?')}"[:200], None


def _lock_tenant(tenant):
    """Lock the tenant row for the rest of the transaction (serialises registry changes)."""
    return type(tenant).objects.select_for_update().get(pk=tenant.pk)


def audit_record(*, tenant, action: str, actor: Any, from_version=None, to_version=None, reason=""):
    label, user = actor_label(actor)
    return AuditLog.objects.create(
        tenant=tenant,
        action=action,
        actor=label,
        actor_user=user,
        from_version=from_version,
        to_version=to_version,
        reason=reason or "",
    )


def _notify(tenant_id: int, number: int | None) -> None:
    transaction.on_commit(
        lambda: active_version_changed.send(
            sender=ModelVersion, tenant_id=tenant_id, version_number=number
        )
    )


def _current_active(tenant) -> ModelVersion | None:
    return (
        ModelVersion.objects.select_for_update().filter(tenant=tenant, status=Status.ACTIVE).first()
    )


def _activate(*, version: ModelVersion, previous: ModelVersion | None, push: bool) -> None:
    """Retire ``previous`` (if any) and activate ``version``. ``push`` records ``previous`` as
    the rollback target (a promotion); a rollback keeps the target's own link (a pop)."""
    pinned = bool(previous and previous.pinned)
    if previous is not None:
        previous.status = Status.RETIRED
        previous.pinned = False
        previous.save(update_fields=["status", "pinned"])
    version.status = Status.ACTIVE
    version.activated_at = timezone.now()
    version.pinned = pinned or version.pinned
    fields = ["status", "activated_at", "pinned"]
    if push and previous is not None:
        version.previous_active = previous
        fields.append("previous_active")
    version.save(update_fields=fields)
    _notify(version.tenant_id, version.number)


# ---------------------------------------------------------------------- creation
def version_next_number(*, tenant) -> int:
    """The next per-tenant version number. Call inside a transaction after locking the tenant."""
    current = ModelVersion.objects.filter(tenant=tenant).aggregate(m=Max("number"))["m"]
    return (current or 0) + 1


@transaction.atomic
def version_create(
    *,
    tenant,
    number: int,
    bundle_uri: str,
    bundle_sha256: str,
    metrics: dict | None = None,
    hyperparameters: dict | None = None,
    data_counts: dict | None = None,
    run=None,
    notes: str = "",
) -> ModelVersion:
    """Register a new *candidate* version (the bundle must already be in place)."""
    return ModelVersion.objects.create(
        tenant=tenant,
        number=number,
        status=Status.CANDIDATE,
        bundle_uri=bundle_uri,
        bundle_sha256=bundle_sha256,
        metrics=metrics or {},
        hyperparameters=hyperparameters or {},
        data_counts=data_counts or {},
        run=run,
        notes=notes,
    )


# ---------------------------------------------------------------------- quality gate
@dataclass(frozen=True)
class GateDecision:
    promoted: bool
    reason: str
    candidate_metric: float | None
    active_metric: float | None


def promotion_margin() -> float:
    return float(settings.M6REC_PROMOTION_MARGIN)


def gate_decide(
    *,
    candidate_metric: float | None,
    active: ModelVersion | None,
    margin: float,
) -> GateDecision:
    """Pure gate logic: promote when there is no active version, or the candidate's validation
    nDCG@10 beats the active one's by more than ``margin``; never when the active is pinned."""
    active_metric = active.gate_metric if active is not None else None
    if active is None:
        return GateDecision(True, "first version for this tenant", candidate_metric, None)
    if active.pinned:
        return GateDecision(False, f"v{active.number} is pinned", candidate_metric, active_metric)
    if candidate_metric is None:
        return GateDecision(
            False, "candidate has no validation ndcg@10", candidate_metric, active_metric
        )
    if active_metric is None:
        return GateDecision(
            True, f"v{active.number} has no validation ndcg@10", candidate_metric, None
        )
    if candidate_metric > active_metric + margin:
        return GateDecision(
            True,
            f"validation ndcg@10 {candidate_metric:.4f} > {active_metric:.4f} "
            f"(v{active.number}) + margin {margin:g}",
            candidate_metric,
            active_metric,
        )
    return GateDecision(
        False,
        f"validation ndcg@10 {candidate_metric:.4f} does not beat {active_metric:.4f} "
        f"(v{active.number}) + margin {margin:g}",
        candidate_metric,
        active_metric,
    )


@transaction.atomic
def version_apply_gate(*, version: ModelVersion, margin: float | None = None) -> GateDecision:
    """Auto-promote the candidate ``version`` if it passes the quality gate (audited either way)."""
    tenant = _lock_tenant(version.tenant)
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != Status.CANDIDATE:
        raise VersionConflictError(
            f"v{version.number} is {version.status}; only candidates go through the gate"
        )
    active = _current_active(tenant)
    decision = gate_decide(
        candidate_metric=version.gate_metric,
        active=active,
        margin=promotion_margin() if margin is None else float(margin),
    )
    experiment = running_experiment_id(tenant=tenant) if active is not None else None
    if decision.promoted and experiment is not None:
        decision = GateDecision(
            False,
            f"{decision.reason}, but experiment {experiment} is running: the candidate waits "
            "(add it to an experiment, or promote it by hand)",
            decision.candidate_metric,
            decision.active_metric,
        )
    if decision.promoted:
        _activate(version=version, previous=active, push=True)
    audit_record(
        tenant=tenant,
        action=Action.AUTO_PROMOTE if decision.promoted else Action.GATE_REJECT,
        actor=None,
        from_version=active,
        to_version=version,
        reason=decision.reason,
    )
    return decision


# ---------------------------------------------------------------------- manual changes
@transaction.atomic
def version_promote(*, version: ModelVersion, actor: Any = None, reason: str = "") -> ModelVersion:
    """Make ``version`` the tenant's active version (a candidate or a retired one).

    Promoting the already active version changes nothing. A failed version cannot be promoted.
    A pin carries over to the new active version.
    """
    tenant = _lock_tenant(version.tenant)
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status == Status.FAILED:
        raise VersionConflictError(f"v{version.number} failed and cannot be promoted")
    if version.status == Status.ACTIVE:
        return version
    active = _current_active(tenant)
    _activate(version=version, previous=active, push=True)
    audit_record(
        tenant=tenant,
        action=Action.PROMOTE,
        actor=actor,
        from_version=active,
        to_version=version,
        reason=reason,
    )
    return version


@transaction.atomic
def version_rollback(*, tenant, actor: Any = None, reason: str = "") -> ModelVersion:
    """Re-activate the version that was active before the current one; returns it.

    Raises :class:`NothingToRollBackError` when there is no previous (non-failed) version.
    """
    tenant = _lock_tenant(tenant)
    active = _current_active(tenant)
    target = version_rollback_target(tenant=tenant, from_version=active)
    if target is None:
        raise NothingToRollBackError(
            "there is no previous version to roll back to"
            + (f" (v{active.number} is the only one active so far)" if active else "")
        )
    target = ModelVersion.objects.select_for_update().get(pk=target.pk)
    _activate(version=target, previous=active, push=False)
    audit_record(
        tenant=tenant,
        action=Action.ROLLBACK,
        actor=actor,
        from_version=active,
        to_version=target,
        reason=reason,
    )
    return target


@transaction.atomic
def version_pin(*, version: ModelVersion, actor: Any = None, reason: str = "") -> ModelVersion:
    """Make ``version`` active (if it is not) and pin it: no automatic promotion replaces it
    until :func:`version_unpin`. Manual promote / rollback stay possible (the pin carries over).
    """
    tenant = _lock_tenant(version.tenant)
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status == Status.FAILED:
        raise VersionConflictError(f"v{version.number} failed and cannot be pinned")
    active = _current_active(tenant)
    if version.status != Status.ACTIVE:
        _activate(version=version, previous=active, push=True)
    version.pinned = True
    version.save(update_fields=["pinned"])
    audit_record(
        tenant=tenant,
        action=Action.PIN,
        actor=actor,
        from_version=active,
        to_version=version,
        reason=reason,
    )
    return version


@transaction.atomic
def version_unpin(*, tenant, actor: Any = None, reason: str = "") -> ModelVersion | None:
    """Allow automatic promotion again. Returns the (formerly pinned) active version."""
    tenant = _lock_tenant(tenant)
    active = _current_active(tenant)
    if active is None or not active.pinned:
        return active
    active.pinned = False
    active.save(update_fields=["pinned"])
    audit_record(
        tenant=tenant,
        action=Action.UNPIN,
        actor=actor,
        from_version=active,
        to_version=active,
        reason=reason,
    )
    return active


@transaction.atomic
def version_mark_failed(*, version: ModelVersion, reason: str, actor: Any = None) -> ModelVersion:
    """Mark ``version`` failed (e.g. its bundle fails checksum verification) and audit it.

    If it was the active version, the previous good version becomes active again (audited as
    a rollback); with none left the tenant has no active version (serving falls back to
    popularity). Idempotent: an already failed version is returned unchanged.
    """
    tenant = _lock_tenant(version.tenant)
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status == Status.FAILED:
        return version
    was_active = version.status == Status.ACTIVE
    version.status = Status.FAILED
    version.pinned = False
    version.notes = (version.notes + "\n" if version.notes else "") + f"failed: {reason}"
    version.save(update_fields=["status", "pinned", "notes"])
    audit_record(
        tenant=tenant,
        action=Action.FAIL,
        actor=actor,
        from_version=version,
        to_version=None,
        reason=reason,
    )
    logger.warning("tenant %s v%s marked failed: %s", tenant.pk, version.number, reason)
    if was_active:
        target = version_rollback_target(tenant=tenant, from_version=version)
        if target is not None:
            target = ModelVersion.objects.select_for_update().get(pk=target.pk)
            _activate(version=target, previous=None, push=False)
            audit_record(
                tenant=tenant,
                action=Action.ROLLBACK,
                actor=actor,
                from_version=version,
                to_version=target,
                reason=f"automatic rollback: v{version.number} failed ({reason})",
            )
        else:
            _notify(tenant.pk, None)
    return version


__all__ = [
    "GateDecision",
    "actor_label",
    "gate_decide",
    "gate_metric_of",
    "promotion_margin",
    "version_apply_gate",
    "version_create",
    "version_mark_failed",
    "version_next_number",
    "version_pin",
    "version_promote",
    "version_rollback",
    "version_unpin",
]
