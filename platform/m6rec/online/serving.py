"""The online loop's part of a recommendation request: which model serves it (the active
version, or an experiment arm's), and what every response carries out (a
``recommendation_id``, impressions counted, explanations when asked).

Nothing here writes to the database on the request path: the arm comes from a memo and a
hash, the id is signed not stored, impressions go to an in-process buffer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from m6rec.online import assignment, impressions, tokens
from m6rec.serving.loading import ServingModel, VersionLoadError, get_version_model
from m6rec.serving.snapshot import TenantSnapshot

logger = logging.getLogger(__name__)

__all__ = ["ArmChoice", "explanations", "issue", "model_for"]


@dataclass(frozen=True)
class ArmChoice:
    experiment_id: int
    arm: int


def model_for(
    tenant, *, snapshot: TenantSnapshot, unit_id: str | None
) -> tuple[ServingModel | None, ArmChoice | None]:
    """The model serving ``unit_id`` (a user or session id; None = no experiment) and, when
    the tenant's snapshot has a running experiment, its arm. A candidate arm whose version
    cannot be loaded is ended (``online.services.experiment_end_arm``) and the control serves."""
    experiment = snapshot.experiment if unit_id else None
    active = snapshot.model
    if experiment is None:
        return active, None
    arm = assignment.arm_for(experiment, unit_id)
    if arm.index > 0:
        try:
            model = get_version_model(
                tenant,
                number=arm.version,
                bundle_uri=arm.bundle_uri,
                bundle_sha256=arm.bundle_sha256,
            )
            return model, ArmChoice(experiment.id, arm.index)
        except VersionLoadError as exc:
            from m6rec.online.services import experiment_end_arm

            logger.error(
                "Tenant %s experiment %s: arm %s (v%s) cannot be served: %s",
                tenant.pk,
                experiment.id,
                arm.index,
                arm.version,
                exc,
            )
            experiment_end_arm(experiment_id=experiment.id, arm=arm.index, reason=str(exc))
            arm = experiment.control
    model = active
    if model is None or model.version != experiment.control.version:
        return model, None  # the control changed under the experiment: not experiment traffic
    return model, ArmChoice(experiment.id, 0)


def issue(
    *,
    tenant,
    item_ids: list[str],
    model_version: int | None,
    strategy: str,
    surface: str,
    arm: ArmChoice | None,
    user_id: str | None,
    count: bool = True,
) -> str:
    """The response's ``recommendation_id``, its impressions counted unless ``count`` is False
    (never raises for the counting)."""
    experiment_id = arm.experiment_id if arm is not None else None
    arm_index = arm.arm if arm is not None else None
    if count:
        try:
            impressions.record(
                tenant_id=tenant.pk,
                items=len(item_ids),
                model_version=model_version,
                strategy=strategy,
                surface=surface,
                experiment_id=experiment_id,
                arm=arm_index,
            )
            _count(surface=surface, strategy=strategy, items=len(item_ids))
        except Exception:  # noqa: BLE001 - counting must never break serving
            logger.warning("impressions not counted", exc_info=True)
    return tokens.encode(
        tenant_id=tenant.pk,
        item_ids=item_ids,
        model_version=model_version,
        strategy=strategy,
        surface=surface,
        experiment_id=experiment_id,
        arm=arm_index,
        user_id=user_id,
    )


def _count(*, surface: str, strategy: str, items: int) -> None:
    try:
        from m6rec.ops import metrics
    except ImportError:
        return
    metrics.observe_impressions(surface=surface, strategy=strategy, count=items)


def explanations(
    recommender: Any,
    item_ids: list[str],
    *,
    strategy: str,
    user_id: str | None = None,
    history: list[tuple[str, float]] | None = None,
    similar_to: str | None = None,
) -> dict[str, dict[str, Any]]:
    """item id → ``{"kind", "because": [{"item_id", "weight"}]}``.

    ``kind``: ``item_item`` / ``mf`` (the user's history items that contributed most, their
    share of the item's positive evidence as ``weight``), ``similar`` (similar-items lists:
    the item asked about), ``popularity`` (no personal evidence: the item is popular).
    """
    if strategy != "model":
        return {i: {"kind": "popularity", "because": []} for i in item_ids}
    if similar_to is not None:
        return {i: {"kind": "similar", "because": [{"item_id": similar_to}]} for i in item_ids}
    if recommender is None:
        return {i: {"kind": "model", "because": []} for i in item_ids}
    kind = "item_item" if recommender.ctx.item_item is not None else "mf"
    found = recommender.explain(item_ids, user_id=user_id, history=history)
    out = {}
    for i in item_ids:
        because = [{"item_id": h, "weight": round(w, 4)} for h, w in found.get(i, ())]
        out[i] = {"kind": kind if because else "model", "because": because}
    return out
