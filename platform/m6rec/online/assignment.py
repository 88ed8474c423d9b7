"""Which experiment arm serves a request: the tenant's running experiment (read with the
tenant's serving snapshot, :mod:`m6rec.serving.snapshot`, so refreshed every
``M6REC_ACTIVE_VERSION_TTL`` seconds as the active version is), and a stable hash of (tenant,
experiment, unit id) over the arms' shares.

No per-user state: the same user always lands in the same arm of an experiment, in every
process, across restarts and model reloads. An arm that has ended (stopped by an admin, or
its version failed to load) sends its units to the control.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = ["Arm", "ArmChoice", "RunningExperiment", "arm_for", "running_experiment_load"]


@dataclass(frozen=True)
class Arm:
    index: int
    version: int
    share: float
    bundle_uri: str
    bundle_sha256: str
    live: bool


@dataclass(frozen=True)
class ArmChoice:
    """The experiment arm a response was served by (carried in its recommendation id)."""

    experiment_id: int
    arm: int


@dataclass(frozen=True)
class RunningExperiment:
    id: int
    tenant_id: int
    arms: tuple[Arm, ...]

    @property
    def control(self) -> Arm:
        return self.arms[0]


def arm_for(experiment: RunningExperiment, unit_id: str) -> Arm:
    """The arm of ``unit_id`` (a user or session id): a uniform draw in [0, 1) from sha256 of
    (tenant, experiment, unit), placed on the arms' cumulative shares; an ended arm → control.
    """
    h = hashlib.sha256(f"{experiment.tenant_id}:{experiment.id}:{unit_id}".encode()).digest()
    u = int.from_bytes(h[:8], "big") / 2.0**64
    edge = 0.0
    chosen = experiment.arms[-1]
    for arm in experiment.arms:
        edge += arm.share
        if u < edge:
            chosen = arm
            break
    return chosen if chosen.live else experiment.control


def running_experiment_load(tenant) -> RunningExperiment | None:
    """The tenant's running experiment from the database (two queries), or None."""
    from m6rec.online.models import Experiment
    from m6rec.registry.models import ModelVersion

    exp = (
        Experiment.objects.filter(tenant=tenant, status=Experiment.Status.RUNNING)
        .only("pk", "arms")
        .first()
    )
    if exp is None:
        return None
    numbers = [int(a["version"]) for a in exp.arms]
    versions = {
        v.number: v
        for v in ModelVersion.objects.filter(tenant=tenant, number__in=numbers).only(
            "number", "bundle_uri", "bundle_sha256", "status"
        )
    }
    arms = []
    for index, spec in enumerate(exp.arms):
        v = versions.get(int(spec["version"]))
        live = v is not None and not spec.get("ended") and v.status != ModelVersion.Status.FAILED
        arms.append(
            Arm(
                index=index,
                version=int(spec["version"]),
                share=float(spec["share"]),
                bundle_uri=v.bundle_uri if v is not None else "",
                bundle_sha256=(v.bundle_sha256 or "") if v is not None else "",
                live=live or index == 0,
            )
        )
    return RunningExperiment(id=exp.pk, tenant_id=tenant.pk, arms=tuple(arms))
