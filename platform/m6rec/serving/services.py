"""Recommendation logic behind the serving endpoints (no HTTP here).

Each public function returns a :class:`Recommendations`: the final items (domain rules and
request filters applied, cut to ``k``), the version number of the model that produced them
(``None`` for database popularity) and the strategy (``"model"`` or ``"popularity"``).

The request path, top-down, each module once: the API key (``m6rec.common.auth``) → the
tenant's snapshot (:mod:`m6rec.serving.snapshot`: the catalogue in memory, and the model that
serves this request, the active one or the user's experiment arm) → the user and their
history (one query, :mod:`m6rec.serving.selectors`) → the engine ranks the servable items and
the domain rules run (:mod:`m6rec.serving.candidates`) → the response's recommendation id,
impressions and, when asked, explanations (:mod:`m6rec.online.serving`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from domains.records import Candidate, InteractionRecord, UserRecord
from m6rec.common.errors import is_database_outage
from m6rec.online import serving as online
from m6rec.online.assignment import ArmChoice
from m6rec.serving import selectors
from m6rec.serving.candidates import (
    Context,
    History,
    context_for,
    db_popular_fetch,
    finish,
    model_fetch,
    model_popular_fetch,
    weighted_history,
)
from m6rec.serving.loading import ServingModel

logger = logging.getLogger(__name__)

__all__ = [
    "MODEL",
    "POPULARITY",
    "Recommendations",
    "UnknownItem",
    "recommend_for_items",
    "recommend_for_user",
    "recommend_popular",
    "recommend_similar",
]

MODEL = "model"
POPULARITY = "popularity"


class UnknownItem(LookupError):
    """The item id does not exist for this tenant (another tenant's ids included)."""


@dataclass
class Recommendations:
    items: list[Candidate]
    model_version: int | None
    strategy: str
    cache_hit: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    recommendation_id: str = ""
    experiment: ArmChoice | None = None
    explanations: dict[str, dict[str, Any]] | None = None


# ---------------------------------------------------------------------- helpers
def _done(
    tenant,
    result: Recommendations,
    *,
    surface: str,
    arm: ArmChoice | None = None,
    user_id: str | None = None,
    count: bool = True,
) -> Recommendations:
    """Sign the response's recommendation id, count its impressions (unless ``count`` is
    False) and the metrics."""
    result.experiment = arm if result.model_version is not None else None
    result.recommendation_id = online.issue(
        tenant=tenant,
        item_ids=[c.item_id for c in result.items],
        model_version=result.model_version,
        strategy=result.strategy,
        surface=surface,
        arm=result.experiment,
        user_id=user_id,
        count=count,
    )
    return _observe(result)


def _observe(result: Recommendations) -> Recommendations:
    try:
        from m6rec.ops import metrics
    except ImportError:  # ops not installed in this build
        return result
    try:
        metrics.observe_recommendation(strategy=result.strategy, model_version=result.model_version)
        if result.cache_hit is True:
            metrics.cache_hit()
        elif result.cache_hit is False:
            metrics.cache_miss()
    except Exception:  # noqa: BLE001 - metrics must never break serving
        logger.debug("metrics failed", exc_info=True)
    return result


def _popularity(
    ctx: Context,
    model: ServingModel | None,
    *,
    k: int,
    exclude: Iterable[str] = (),
    user: UserRecord | None = None,
    history: Sequence[InteractionRecord] = (),
) -> Recommendations:
    fetch = model_popular_fetch(model, ctx) if model is not None else db_popular_fetch(ctx)
    items = finish(ctx, fetch, k=k, exclude=exclude, user=user, history=history)
    return Recommendations(
        items=items,
        model_version=model.version if model is not None else None,
        strategy=POPULARITY,
        cache_hit=model.cache_hit if model is not None else None,
    )


# ---------------------------------------------------------------------- public API
def recommend_for_user(
    *,
    tenant,
    user_id: str,
    k: int = 10,
    exclude_seen: bool = True,
    category: str | None = None,
    exclude: Sequence[str] = (),
    explain: bool | None = None,
    count_impressions: bool = True,
) -> Recommendations:
    """Top-``k`` for a stored (or unknown) end user, folding in their stored interactions.

    A user whose stored interactions are exactly those the model was trained on (same count
    and largest key) gets the trained vector, and their rows are not read at all unless a
    domain rule asks for the history. An unknown user, or one the model cannot place (no
    usable history), gets popularity. While an experiment runs, the user's arm picks the
    model. ``explain`` (default: the domain's) adds why each item was recommended.
    ``count_impressions=False``: the items are not shown to anyone now (a batch export), so
    the online metrics do not count them.
    """
    ctx = context_for(tenant, category)
    limit = int(settings.M6REC_SERVING_HISTORY_LIMIT)
    model, arm = ctx.snapshot.model_for(tenant, user_id)

    def done(result: Recommendations, history=None) -> Recommendations:
        if _explaining(ctx, explain):
            result.explanations = online.explanations(
                model.recommender if model is not None else None,
                [c.item_id for c in result.items],
                strategy=result.strategy,
                user_id=user_id,
                history=history,
            )
        return _done(
            tenant, result, surface="user", arm=arm, user_id=user_id, count=count_impressions
        )

    rec = model.recommender if model is not None else None
    # the stored rows the model was trained on for this user: unchanged, they are not read
    trained_on = rec.training_rows(user_id) if rec is not None else None
    found = _unless_outage(
        lambda: selectors.user_with_history(
            tenant=tenant,
            catalogue=ctx.catalogue,
            user_id=user_id,
            limit=limit,
            unless_stored=trained_on,
        ),
        served=lambda: rec is not None,
    )  # None while PostgreSQL is down: the bundle's own view of the user (trained or not)
    if found is not None and found.history is None:
        # nothing stored since training: the trained vector, the bundle's seen items
        user = UserRecord(user_id=user_id, properties=found.properties)
        records = History(
            user_id, lambda: selectors.user_history(tenant=tenant, user_pk=found.pk, limit=limit)
        )
        fetch = model_fetch(rec.recommend, ctx, model, user_id=user_id, exclude_seen=exclude_seen)
        items = finish(ctx, fetch, k=k, exclude=set(exclude), user=user, history=records)
        return done(_model_result(model, items))
    rows: list[selectors.HistoryRow] = []
    user: UserRecord | None = None
    if found is not None:
        user = UserRecord(user_id=user_id, properties=found.properties)
        rows = found.history
    history = weighted_history(ctx, rows)
    records = History(user_id, rows)
    history_ids = frozenset(i for i, _ in history)
    seen: set[str] = set()
    if exclude_seen:
        seen = set(history_ids)
        if found is not None and found.stored[0] > len(rows):  # older interactions: seen too
            seen |= selectors.user_seen_item_ids(catalogue=ctx.catalogue, user_pk=found.pk)
    excluded = set(exclude) | seen
    if rec is not None:
        # no stored interactions: the trained vector for a known user, popularity otherwise
        fold_in = history or None
        # a user the model was trained on needs no scan of the history to decide
        strategy = rec.strategy_for(user_id, None)
        if strategy != MODEL and fold_in is not None:
            strategy = rec.strategy_for(user_id, fold_in)
        if strategy == MODEL:
            fetch = model_fetch(
                rec.recommend,
                ctx,
                model,
                left_out=history_ids if exclude_seen else frozenset(),
                user_id=user_id,
                exclude_seen=exclude_seen,
                history=fold_in,
            )
            items = finish(ctx, fetch, k=k, exclude=excluded, user=user, history=records)
            return done(_model_result(model, items), history=fold_in)
    return done(_popularity(ctx, model, k=k, exclude=excluded, user=user, history=records))


def _unless_outage(read: Callable[[], Any], *, served: Callable[[], bool], fallback=lambda: None):
    """``read()``; while PostgreSQL is unreachable, ``fallback()`` when the loaded model can
    answer without the database (``served()``, asked only then), else the outage propagates
    (a JSON 503).

    Answered from memory during an outage: users the model knows (their trained vector and
    training items), unknown users and sessions (the model's popularity, sessions of items it
    knows), similar items of items it knows; candidates are checked against the last known
    catalogue state. Needs the database: anything that writes, category filters not seen
    recently, API keys this process has never verified.
    """
    try:
        return read()
    except Exception as exc:
        if not (is_database_outage(exc) and served()):
            raise
        logger.warning("PostgreSQL unreachable: serving from the loaded model (%s)", exc)
        return fallback()


def _explaining(ctx: Context, explain: bool | None) -> bool:
    if explain is not None:
        return explain
    return bool((ctx.config.get("online") or {}).get("explain", False))


def _model_result(model: ServingModel, items: list[Candidate]) -> Recommendations:
    return Recommendations(
        items=items, model_version=model.version, strategy=MODEL, cache_hit=model.cache_hit
    )


def recommend_for_items(
    *,
    tenant,
    item_ids: Sequence[str],
    k: int = 10,
    category: str | None = None,
    exclude: Sequence[str] = (),
    session_id: str | None = None,
    explain: bool | None = None,
) -> Recommendations:
    """Top-``k`` for an anonymous session from its recent items (the items are excluded).

    Ids the tenant or the model does not know are ignored; with none left, popularity.
    ``session_id`` (optional) places the session in a running experiment's arm.
    """
    ctx = context_for(tenant, category)
    model, arm = ctx.snapshot.model_for(tenant, session_id)
    known = _unless_outage(
        lambda: selectors.existing_item_ids(
            tenant=tenant, catalogue=ctx.catalogue, item_ids=item_ids
        ),
        served=lambda: model is not None,
        fallback=lambda: {i for i in item_ids if model.recommender.knows_item(i)},
    )
    recent = [i for i in dict.fromkeys(item_ids) if i in known]
    excluded = set(exclude) | set(item_ids)
    records = [InteractionRecord(user_id="", item_id=i, type="view") for i in recent]
    result = None
    if model is not None and recent:
        rec = model.recommender
        if rec.strategy_for(None, [(i, 1.0) for i in recent]) == MODEL:
            fetch = model_fetch(rec.recommend_from_items, ctx, model, item_ids=recent)
            items = finish(ctx, fetch, k=k, exclude=excluded, history=records)
            result = _model_result(model, items)
    if result is None:
        result = _popularity(ctx, model, k=k, exclude=excluded, history=records)
    if _explaining(ctx, explain):
        result.explanations = online.explanations(
            model.recommender if model is not None else None,
            [c.item_id for c in result.items],
            strategy=result.strategy,
            history=[(i, 1.0) for i in recent],
        )
    return _done(tenant, result, surface="session", arm=arm)


def recommend_similar(
    *, tenant, item_id: str, k: int = 10, explain: bool | None = None
) -> Recommendations:
    """Items similar to ``item_id``; raises :class:`UnknownItem` when the tenant has no such
    item. An item the model has not seen (or no model) gets popularity."""
    ctx = context_for(tenant, None)
    model = ctx.snapshot.model
    exists = ctx.catalogue.exists(item_id) or _unless_outage(
        lambda: bool(selectors.existing_item_ids(tenant=tenant, catalogue=ctx.catalogue,
                                                 item_ids=[item_id])),
        served=lambda: model is not None and model.recommender.knows_item(item_id),
        fallback=lambda: True,  # the model knows the item
    )  # fmt: skip
    if not exists:
        raise UnknownItem(item_id)
    excluded = {item_id}
    if model is not None and model.recommender.knows_item(item_id):
        rec, eligible = model.recommender, ctx.eligible(model)

        def fetch(n: int, excl: frozenset[str]) -> list[tuple[str, float]]:
            got = rec.similar_items(item_id, k=n + len(excl), allowed_items=eligible)
            return [(i, s) for i, s in got if i not in excl][:n]

        items = finish(ctx, fetch, k=k, exclude=excluded)
        return _similar_done(tenant, ctx, _model_result(model, items), item_id, explain)
    return _similar_done(
        tenant, ctx, _popularity(ctx, model, k=k, exclude=excluded), item_id, explain
    )


def _similar_done(tenant, ctx, result: Recommendations, item_id: str, explain) -> Recommendations:
    if _explaining(ctx, explain):
        result.explanations = online.explanations(
            None, [c.item_id for c in result.items], strategy=result.strategy, similar_to=item_id
        )
    return _done(tenant, result, surface="similar")


def recommend_popular(
    *, tenant, k: int = 10, category: str | None = None, explain: bool | None = None
) -> Recommendations:
    """The tenant's most popular servable items (from the active model, else the database)."""
    ctx = context_for(tenant, category)
    result = _popularity(ctx, ctx.snapshot.model, k=k)
    if _explaining(ctx, explain):
        result.explanations = online.explanations(
            None, [c.item_id for c in result.items], strategy=POPULARITY
        )
    return _done(tenant, result, surface="popular")
