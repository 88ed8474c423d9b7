"""Experiment writes: start, stop, end an arm, promote the winner (audited like the registry).

Every change locks the tenant row first (as the registry does), so it serialises with
promotions and rollbacks; the partial unique index allows one running experiment per tenant.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from m6rec.online.errors import ExperimentConflict, ExperimentInvalid, ExperimentNotFound
from m6rec.online.models import Experiment
from m6rec.registry.models import AuditLog, ModelVersion
from m6rec.registry.services import actor_label, audit_record, version_promote
from m6rec.serving.snapshot import invalidate

__all__ = [
    "experiment_end_arm",
    "experiment_promote_winner",
    "experiment_start",
    "experiment_stop",
]

METRICS = ("conversion", "ctr")
logger = logging.getLogger(__name__)


def _lock_tenant(tenant):
    return type(tenant).objects.select_for_update().get(pk=tenant.pk)


def _forget_on_commit(tenant_id: int) -> None:
    transaction.on_commit(lambda: invalidate(tenant_id))


@transaction.atomic
def experiment_start(
    *,
    tenant,
    name: str,
    candidates: Sequence[int],
    shares: Sequence[float] | None = None,
    metric: str = "conversion",
    min_impressions_per_arm: int = 1000,
    confidence: float = 0.95,
    actor: Any = None,
) -> Experiment:
    """Start an A/B test: the active version (arm 0, the control) against ``candidates``
    (version numbers of this tenant, status ``candidate``).

    ``shares``: one per arm, control first, each in (0, 1), summing to 1 (default: equal).
    Raises :class:`ExperimentInvalid` (400) for bad arguments and :class:`ExperimentConflict`
    (409) when the tenant has no active version or already runs an experiment.
    """
    tenant = _lock_tenant(tenant)
    candidates = [int(c) for c in candidates]
    errors = _argument_errors(candidates, shares, metric, min_impressions_per_arm, confidence)
    if errors:
        raise ExperimentInvalid("The experiment is invalid.", details=errors)
    active = ModelVersion.objects.filter(tenant=tenant, status=ModelVersion.Status.ACTIVE).first()
    if active is None:
        raise ExperimentConflict(
            "The tenant has no active version to serve as the control; promote one first."
        )
    found = {v.number: v for v in ModelVersion.objects.filter(tenant=tenant, number__in=candidates)}
    problems = {}
    for index, number in enumerate(candidates):
        version = found.get(number)
        if version is None:
            problems[f"candidates[{index}]"] = [f"Version {number} not found."]
        elif version.status != ModelVersion.Status.CANDIDATE:
            problems[f"candidates[{index}]"] = [
                f"Version {number} is {version.status}; only candidate versions can be tested "
                "against the active one."
            ]
    if problems:
        raise ExperimentInvalid("The experiment is invalid.", details=problems)
    if Experiment.objects.filter(tenant=tenant, status=Experiment.Status.RUNNING).exists():
        raise ExperimentConflict("An experiment is already running for this tenant; stop it first.")
    arm_shares = list(shares) if shares else [1.0 / (len(candidates) + 1)] * (len(candidates) + 1)
    arms = [{"version": active.number, "share": arm_shares[0], "ended": None}]
    arms += [
        {"version": n, "share": s, "ended": None}
        for n, s in zip(candidates, arm_shares[1:], strict=True)
    ]
    label, _ = actor_label(actor)
    try:
        with transaction.atomic():
            experiment = Experiment.objects.create(
                tenant=tenant,
                name=name,
                arms=arms,
                metric=metric,
                min_impressions_per_arm=min_impressions_per_arm,
                confidence=confidence,
                created_by=label,
            )
    except IntegrityError:  # a concurrent start won the race
        raise ExperimentConflict(
            "An experiment is already running for this tenant; stop it first."
        ) from None
    audit_record(
        tenant=tenant,
        action=AuditLog.Action.EXPERIMENT_START,
        actor=actor,
        from_version=active,
        to_version=found[candidates[0]],
        reason=f"experiment {experiment.pk} {name!r}: "
        + ", ".join(f"v{a['version']} {a['share']:.0%}" for a in arms),
    )
    _forget_on_commit(tenant.pk)
    return experiment


def _argument_errors(candidates, shares, metric, min_impressions, confidence) -> dict:
    errors: dict[str, list[str]] = {}
    if not candidates:
        errors["candidates"] = ["Give at least one candidate version."]
    elif len(set(candidates)) != len(candidates):
        errors["candidates"] = ["Each candidate version may appear once."]
    elif len(candidates) > 8:
        errors["candidates"] = ["At most 8 candidate versions."]
    if shares is not None and candidates:
        if len(shares) != len(candidates) + 1:
            errors["shares"] = [
                f"Give one share per arm, the control first: {len(candidates) + 1} values."
            ]
        elif any(not (isinstance(s, int | float) and 0 < s < 1) for s in shares):
            errors["shares"] = ["Each share must be a number between 0 and 1 (exclusive)."]
        elif not math.isclose(sum(shares), 1.0, abs_tol=1e-6):
            errors["shares"] = [f"The shares must sum to 1; they sum to {sum(shares):g}."]
    if metric not in METRICS:
        errors["metric"] = [f"One of: {', '.join(METRICS)}."]
    if not 10 <= int(min_impressions) <= 100_000_000:
        errors["min_impressions_per_arm"] = ["Between 10 and 100,000,000."]
    if not 0.5 <= float(confidence) < 1:
        errors["confidence"] = ["Between 0.5 and 1 (exclusive), e.g. 0.95."]
    return errors


def _running(tenant, experiment_id: int) -> Experiment:
    try:
        experiment = Experiment.objects.select_for_update().get(pk=experiment_id, tenant=tenant)
    except Experiment.DoesNotExist:
        raise ExperimentNotFound(f"Experiment {experiment_id} not found.") from None
    if experiment.status != Experiment.Status.RUNNING:
        raise ExperimentConflict(f"Experiment {experiment_id} is not running.")
    return experiment


@transaction.atomic
def experiment_stop(
    *, tenant, experiment_id: int, actor: Any = None, reason: str = ""
) -> Experiment:
    """Stop a running experiment, freezing its results; every unit goes back to the active
    version."""
    from m6rec.online.selectors import experiment_results

    tenant = _lock_tenant(tenant)
    experiment = _running(tenant, experiment_id)
    experiment.result = experiment_results(experiment=experiment)
    experiment.status = Experiment.Status.STOPPED
    experiment.stopped_at = timezone.now()
    experiment.stop_reason = reason or "stopped"
    experiment.save(update_fields=["result", "status", "stopped_at", "stop_reason"])
    audit_record(
        tenant=tenant,
        action=AuditLog.Action.EXPERIMENT_STOP,
        actor=actor,
        reason=f"experiment {experiment.pk}: {experiment.stop_reason}",
    )
    _forget_on_commit(tenant.pk)
    return experiment


@transaction.atomic
def experiment_promote_winner(*, tenant, experiment_id: int, actor: Any = None) -> ModelVersion:
    """Stop the experiment and promote its winner (audited as a promotion). Raises
    :class:`ExperimentConflict` when the results name no winner yet."""
    from m6rec.online.selectors import experiment_results

    tenant = _lock_tenant(tenant)
    experiment = _running(tenant, experiment_id)
    results = experiment_results(experiment=experiment)
    winner = results["decision"]["winner_arm"]
    if winner is None:
        raise ExperimentConflict(
            f"Experiment {experiment_id} has no winner yet ({results['decision']['status']}: "
            f"{results['decision']['explanation']}); wait for the horizon, or stop it."
        )
    number = experiment.arms[winner]["version"]
    version = ModelVersion.objects.get(tenant=tenant, number=number)
    experiment_stop(
        tenant=tenant,
        experiment_id=experiment_id,
        actor=actor,
        reason=f"winner arm {winner} (v{number}) promoted",
    )
    return version_promote(
        version=version, actor=actor, reason=f"winner of experiment {experiment_id}"
    )


def experiment_end_arm(*, experiment_id: int, arm: int, reason: str) -> None:
    """End one candidate arm (its version cannot be served); its units go to the control.
    Idempotent; never raises (called from the request path)."""
    try:
        with transaction.atomic():
            experiment = Experiment.objects.select_for_update().filter(pk=experiment_id).first()
            if experiment is None or not 0 < arm < len(experiment.arms):
                return
            if experiment.arms[arm].get("ended"):
                return
            experiment.arms[arm]["ended"] = reason[:500] or "ended"
            experiment.save(update_fields=["arms"])
            tenant_id = experiment.tenant_id
            _forget_on_commit(tenant_id)
    except Exception:  # noqa: BLE001 - serving goes on with the control either way
        logger.exception("could not end arm %s of %s", arm, experiment_id)
        return
    invalidate(tenant_id)


def experiments_stop_for_new_active(*, tenant_id: int, version_number: int | None) -> None:
    """The active version changed outside the experiment (promotion, rollback, failure): a
    running experiment whose control is no longer active stops, its results frozen."""
    from m6rec.tenants.models import Tenant

    experiment = Experiment.objects.filter(
        tenant_id=tenant_id, status=Experiment.Status.RUNNING
    ).first()
    if experiment is None or experiment.arms[0]["version"] == version_number:
        return
    tenant = Tenant.objects.get(pk=tenant_id)
    with contextlib.suppress(ExperimentConflict):  # stopped meanwhile
        experiment_stop(
            tenant=tenant,
            experiment_id=experiment.pk,
            actor=None,
            reason=f"the active version changed to v{version_number} outside the experiment",
        )
