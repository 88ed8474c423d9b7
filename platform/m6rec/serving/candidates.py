"""The candidate pipeline behind every recommendation: the engine (or popularity) ranks the
tenant's servable items → the tenant's domain rules → cut to ``k``.

The engine receives the servable items of the request (active, in its category) as a mask
over its own items (:meth:`Catalogue.eligible`), so what it returns can be served; the
snapshot's catalogue confirms it (the authoritative check, also for popularity from the
database) and gives the properties. It is asked for ``3 × k`` candidates, so the domain rules
can drop some; when they leave fewer than ``k``, the pool grows (×3, up to four rounds) with
everything already seen excluded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from domains.records import Candidate, InteractionRecord, UserRecord
from m6rec.plugins.registry import get_domain
from m6rec.serving import selectors
from m6rec.serving.catalogue import Catalogue
from m6rec.serving.loading import ServingModel
from m6rec.serving.snapshot import TenantSnapshot, snapshot_for

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


@dataclass(frozen=True)
class Context:
    """One request's view of its tenant: the snapshot, the domain and the category filter."""

    tenant: Any
    snapshot: TenantSnapshot
    domain: Any
    config: dict[str, Any]
    category: str | None

    @property
    def catalogue(self) -> Catalogue:
        return self.snapshot.catalogue

    def eligible(self, model: ServingModel) -> np.ndarray | None:
        """The request's servable items as a mask over ``model``'s items (None: all)."""
        return self.catalogue.eligible(model.recommender, self.category)


def context_for(tenant, category: str | None) -> Context:
    domain = get_domain(tenant.domain)
    config = domain.resolve_config(tenant.domain_config)
    return Context(tenant, snapshot_for(tenant), domain, config, category)


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
    """Fetch ``3 × k`` servable candidates, apply the domain rules, cut to ``k`` (each further
    round fetches a larger pool and applies the rules to all of it)."""
    rejected: set[str] = set(exclude)
    n = OVERFETCH * k
    result: list[Candidate] = []
    for _ in range(MAX_ROUNDS):
        got = fetch(n, frozenset(rejected))
        raw = [(i, s) for i, s in got if i not in rejected]
        servable = ctx.catalogue.servable((i for i, _ in raw), category=ctx.category)
        candidates = [
            Candidate(item_id=i, score=float(s), properties=servable[i])
            for i, s in raw
            if i in servable
        ]
        rejected.update(i for i, _ in raw if i not in servable)
        result = ctx.domain.apply_rules(
            user=user, history=history, candidates=candidates, config=ctx.config
        )
        if len(result) >= k or len(got) < n or not raw:
            break
        n *= OVERFETCH
    return list(result)[:k]


def model_fetch(
    call: Callable[..., list[tuple[str, float]]],
    ctx: Context,
    model: ServingModel,
    *,
    left_out: frozenset[str] = frozenset(),
    **kwargs,
) -> Fetch:
    """``left_out``: items the engine call leaves out by itself (the folded-in history with
    ``exclude_seen``), not passed again as ``exclude_items``."""
    eligible = ctx.eligible(model)

    def fetch(n: int, excluded: frozenset[str]) -> list[tuple[str, float]]:
        exclude_items = excluded - left_out if left_out else excluded
        return list(call(k=n, exclude_items=exclude_items, allowed_items=eligible, **kwargs))

    return fetch


def model_popular_fetch(model: ServingModel, ctx: Context) -> Fetch:
    def fetch(n: int, excluded: frozenset[str]) -> list[tuple[str, float]]:
        got = ctx.catalogue.popular(model.recommender, n + len(excluded), ctx.category)
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
