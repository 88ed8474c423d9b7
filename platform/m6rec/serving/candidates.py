"""The candidate pipeline behind every recommendation: over-fetch from the engine (or
popularity) → check against the catalogue → the tenant's domain rules → cut to ``k``.

The engine (or popularity) is asked for ``3 × k`` candidates that respect the request filters
it understands (``exclude_items``, ``allowed_items`` for a category); the survivors are checked
against the catalogue (exists, active, category: the authoritative filter), handed to the
domain rules, and cut to ``k``. When too few survive, the pool is enlarged (×3, up to four
rounds) with everything already rejected excluded.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from domains.records import Candidate, InteractionRecord, UserRecord
from m6rec.plugins.registry import get_domain
from m6rec.serving import selectors
from m6rec.serving.loading import ServingModel

__all__ = [
    "Context",
    "Fetch",
    "History",
    "context_for",
    "db_popular_fetch",
    "finish",
    "model_fetch",
    "model_popular_fetch",
    "weighted_history",
]

OVERFETCH = 3
MAX_ROUNDS = 4


@dataclass
class Context:
    tenant: Any
    domain: Any
    config: dict[str, Any]
    category: str | None
    allowed: frozenset[str] | None  # items of the category (engine-side pre-filter)


def context_for(tenant, category: str | None) -> Context:
    domain = get_domain(tenant.domain)
    config = domain.resolve_config(tenant.domain_config)
    allowed = (
        selectors.category_item_ids(tenant=tenant, category=category)
        if category is not None
        else None
    )
    return Context(tenant, domain, config, category, allowed)


def weighted_history(ctx: Context, rows: Sequence[selectors.HistoryRow]) -> list[tuple[str, float]]:
    """(item id, confidence) per stored interaction, oldest first, with the domain's weights."""
    memo: dict[tuple[str, float], float] = {}
    for key in {(r[1], r[2]) for r in rows}:  # few distinct (type, value) pairs per user
        try:
            memo[key] = float(ctx.domain.interaction_weight(key[0], key[1], config=ctx.config))
        except ValueError:  # a type the domain no longer declares: neutral weight
            memo[key] = 1.0
    return [(item_id, memo[type_, value]) for item_id, type_, value, _ts in rows]


class History(Sequence[InteractionRecord]):
    """The user's stored interactions as :class:`InteractionRecord`, built on first use.

    Domain rules receive it as ``history``; only some read it (ecommerce's repurchase rules,
    say), and building a record with an aware ``datetime`` per interaction for every request
    would cost about as much as scoring the model. ``rows`` may be a callable that reads them
    (a user whose rows were not read because the model was trained on exactly those).
    """

    __slots__ = ("_built", "_rows", "_user_id")

    def __init__(
        self,
        user_id: str,
        rows: Sequence[selectors.HistoryRow] | Callable[[], Sequence[selectors.HistoryRow]],
    ) -> None:
        self._user_id = user_id
        self._rows = rows
        self._built: list[InteractionRecord] | None = None

    def _stored(self) -> Sequence[selectors.HistoryRow]:
        if callable(self._rows):
            self._rows = self._rows()
        return self._rows

    def _records(self) -> list[InteractionRecord]:
        if self._built is None:
            self._built = [
                InteractionRecord(
                    user_id=self._user_id,
                    item_id=i,
                    type=t,
                    value=v,
                    timestamp=datetime.fromtimestamp(ts, tz=UTC),
                )
                for i, t, v, ts in self._stored()
            ]
        return self._built

    def __getitem__(self, index):
        return self._records()[index]

    def __iter__(self) -> Iterator[InteractionRecord]:
        return iter(self._records())

    def __len__(self) -> int:
        return len(self._stored())

    def __repr__(self) -> str:
        return f"History({self._user_id!r})"


Fetch = Callable[[int, frozenset[str]], list[tuple[str, float]]]


def finish(
    ctx: Context,
    fetch: Fetch,
    *,
    k: int,
    exclude: Iterable[str] = (),
    user: UserRecord | None = None,
    history: Sequence[InteractionRecord] = (),
) -> list[Candidate]:
    """Over-fetch, filter against the catalogue, apply domain rules, cut to ``k``."""
    rejected: set[str] = set(exclude)
    n = OVERFETCH * k
    result: list[Candidate] = []
    for _ in range(MAX_ROUNDS):
        got = fetch(n, frozenset(rejected))
        raw = [(i, s) for i, s in got if i not in rejected]
        servable = selectors.items_servable(
            tenant=ctx.tenant, item_ids=(i for i, _ in raw), category=ctx.category
        )
        candidates = [
            Candidate(item_id=i, score=float(s), properties=servable[i])
            for i, s in raw
            if i in servable
        ]
        rejected.update(i for i, _ in raw if i not in servable)
        result = ctx.domain.apply_rules(
            user=user, history=history, candidates=candidates, config=ctx.config
        )
        exhausted = len(got) < n
        if len(result) >= k or exhausted or not raw:
            break
        n *= OVERFETCH
    return list(result)[:k]


def model_fetch(
    call: Callable[..., list[tuple[str, float]]],
    ctx: Context,
    *,
    left_out: frozenset[str] = frozenset(),
    **kwargs,
) -> Fetch:
    """``left_out``: items the engine call leaves out by itself (the folded-in history with
    ``exclude_seen``), not passed again as ``exclude_items``."""

    def fetch(n: int, excluded: frozenset[str]) -> list[tuple[str, float]]:
        exclude_items = excluded - left_out if left_out else excluded
        return list(call(k=n, exclude_items=exclude_items, allowed_items=ctx.allowed, **kwargs))

    return fetch


_POPULAR_MEMO_SIZE = 256
_popular_memo: weakref.WeakKeyDictionary[Any, dict[tuple, tuple]] = weakref.WeakKeyDictionary()


def model_popular(recommender, k: int, allowed: frozenset[str] | None) -> list:
    """``recommender.popular`` memoised per loaded bundle (a pure function of its arrays)."""
    try:
        per_model = _popular_memo.get(recommender)
        if per_model is None:
            per_model = _popular_memo.setdefault(recommender, {})
    except TypeError:  # not weak-referenceable: no memo
        return list(recommender.popular(k=k, allowed_items=allowed))
    key = (k, allowed)
    got = per_model.get(key)
    if got is None:
        got = tuple(recommender.popular(k=k, allowed_items=allowed))
        if len(per_model) >= _POPULAR_MEMO_SIZE:
            per_model.clear()
        per_model[key] = got
    return list(got)


def model_popular_fetch(model: ServingModel, ctx: Context) -> Fetch:
    def fetch(n: int, excluded: frozenset[str]) -> list[tuple[str, float]]:
        got = model_popular(model.recommender, n + len(excluded), ctx.allowed)
        return [(i, s) for i, s in got if i not in excluded][:n]

    return fetch


def db_popular_fetch(ctx: Context) -> Fetch:
    def fetch(n: int, excluded: frozenset[str]) -> list[tuple[str, float]]:
        rows = selectors.popular_item_counts(tenant=ctx.tenant, category=ctx.category)
        out = [(i, s) for i, s in rows if i not in excluded][:n]
        if len(out) < n and len(rows) >= 1000:  # the memoised top list ran dry: ask the DB
            rows = selectors.popular_item_counts(
                tenant=ctx.tenant, category=ctx.category, exclude=excluded, limit=n
            )
            out = rows[:n]
        return out

    return fetch
