"""The online loop's part of a recommendation response: what every response carries out (a
``recommendation_id``, impressions counted, explanations when asked). Which model serves a
request, the active version or an experiment arm's, is the tenant snapshot's
(:meth:`m6rec.serving.snapshot.TenantSnapshot.model_for`).

Nothing here writes to the database on the request path: the id is signed not stored,
impressions go to an in-process buffer.
"""

from __future__ import annotations

import logging
from typing import Any

from m6rec.online import impressions, tokens
from m6rec.online.assignment import ArmChoice

logger = logging.getLogger(__name__)

__all__ = ["explanations", "issue"]


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
