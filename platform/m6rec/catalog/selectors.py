"""Catalog reads, always scoped to one tenant.

Training (issue #4) streams interactions with :func:`interaction_chunks` or loads them whole
with :func:`interaction_arrays`; serving reads one user's history with
:func:`user_history`; domain features come from :func:`item_records` / :func:`user_records`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import QuerySet

from m6rec.catalog.models import EndUser, Interaction, Item
from m6rec.tenants.models import Tenant

DEFAULT_CHUNK_SIZE = 100_000
ARRAY_KEYS = ("id", "user_pk", "item_pk", "user_id", "item_id", "type", "value", "timestamp")


def item_get(*, tenant: Tenant, item_id: str) -> Item | None:
    return Item.objects.filter(tenant=tenant, external_id=item_id).first()


def user_get(*, tenant: Tenant, user_id: str) -> EndUser | None:
    return EndUser.objects.filter(tenant=tenant, external_id=user_id).first()


def item_list(*, tenant: Tenant) -> QuerySet[Item]:
    return Item.objects.filter(tenant=tenant)


def user_list(*, tenant: Tenant) -> QuerySet[EndUser]:
    return EndUser.objects.filter(tenant=tenant)


def interaction_count(*, tenant: Tenant, since: datetime | None = None) -> int:
    qs = Interaction.objects.filter(tenant=tenant)
    if since is not None:
        qs = qs.filter(timestamp__gte=since)
    return qs.count()


def item_external_ids(*, tenant: Tenant) -> dict[int, str]:
    """Primary key → external id of every item of the tenant."""
    return dict(Item.objects.filter(tenant=tenant).values_list("id", "external_id").iterator())


def user_external_ids(*, tenant: Tenant) -> dict[int, str]:
    """Primary key → external id of every end user of the tenant."""
    return dict(EndUser.objects.filter(tenant=tenant).values_list("id", "external_id").iterator())


def _raw_chunks(
    *, tenant: Tenant, chunk_size: int, since: datetime | None, until: datetime | None
) -> Iterator[list[tuple]]:
    """Rows ``(id, user_pk, item_pk, type, value, epoch seconds)`` in (timestamp, id) order."""
    if connection.vendor == "postgresql":
        sql = [
            "SELECT id, user_id, item_id, type, value, EXTRACT(EPOCH FROM timestamp)::float8",
            "FROM catalog_interaction WHERE tenant_id = %s",
        ]
        params: list[Any] = [tenant.pk]
        if since is not None:
            sql.append("AND timestamp >= %s")
            params.append(since)
        if until is not None:
            sql.append("AND timestamp < %s")
            params.append(until)
        sql.append("ORDER BY timestamp, id")
        with connection.chunked_cursor() as cursor:  # server-side cursor on PostgreSQL
            cursor.execute(" ".join(sql), params)
            while rows := cursor.fetchmany(chunk_size):
                yield rows
        return
    qs = Interaction.objects.filter(tenant=tenant)
    if since is not None:
        qs = qs.filter(timestamp__gte=since)
    if until is not None:
        qs = qs.filter(timestamp__lt=until)
    values = qs.order_by("timestamp", "id").values_list(
        "id", "user_id", "item_id", "type", "value", "timestamp"
    )
    batch: list[tuple] = []
    for row in values.iterator(chunk_size=min(chunk_size, 10_000)):
        batch.append((*row[:5], row[5].timestamp()))
        if len(batch) >= chunk_size:
            yield batch
            batch = []
    if batch:
        yield batch


def interaction_chunks(
    *,
    tenant: Tenant,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Iterator[dict[str, np.ndarray]]:
    """A tenant's interactions in (timestamp, id) order, ``chunk_size`` rows at a time.

    Each chunk is a dict of equal-length arrays: ``id`` int64, ``user_pk``/``item_pk`` int64
    (database keys), ``user_id``/``item_id`` object (external id strings), ``type`` object
    (str), ``value`` float32, ``timestamp`` float64 (seconds since the epoch, UTC). Memory stays
    bounded by the chunk size plus the tenant's id maps.
    """
    users = user_external_ids(tenant=tenant)
    items = item_external_ids(tenant=tenant)
    for rows in _raw_chunks(tenant=tenant, chunk_size=chunk_size, since=since, until=until):
        ids, user_pk, item_pk, types, values, ts = zip(*rows, strict=True)
        yield {
            "id": np.fromiter(ids, dtype=np.int64, count=len(rows)),
            "user_pk": np.fromiter(user_pk, dtype=np.int64, count=len(rows)),
            "item_pk": np.fromiter(item_pk, dtype=np.int64, count=len(rows)),
            "user_id": np.array([users[u] for u in user_pk], dtype=object),
            "item_id": np.array([items[i] for i in item_pk], dtype=object),
            "type": np.array(types, dtype=object),
            "value": np.fromiter(values, dtype=np.float32, count=len(rows)),
            "timestamp": np.fromiter(ts, dtype=np.float64, count=len(rows)),
        }


def interaction_arrays(
    *, tenant: Tenant, since: datetime | None = None, until: datetime | None = None
) -> dict[str, np.ndarray]:
    """All of :func:`interaction_chunks` concatenated (same keys; empty arrays when none)."""
    chunks = list(interaction_chunks(tenant=tenant, since=since, until=until))
    if not chunks:
        dtypes = {
            "id": np.int64,
            "user_pk": np.int64,
            "item_pk": np.int64,
            "value": np.float32,
            "timestamp": np.float64,
        }
        return {k: np.empty(0, dtype=dtypes.get(k, object)) for k in ARRAY_KEYS}
    return {k: np.concatenate([c[k] for c in chunks]) for k in ARRAY_KEYS}


def user_history(*, tenant: Tenant, user_id: str, limit: int = 1000) -> list[dict[str, Any]]:
    """The user's most recent interactions, newest first: ``item_id, type, value, timestamp``.

    Empty when the tenant has no such user.
    """
    rows = (
        Interaction.objects.filter(tenant=tenant, user__tenant=tenant, user__external_id=user_id)
        .order_by("-timestamp", "-id")
        .values_list("item__external_id", "type", "value", "timestamp")[:limit]
    )
    return [{"item_id": i, "type": t, "value": v, "timestamp": ts} for i, t, v, ts in rows]


def item_records(*, tenant: Tenant, active_only: bool = False) -> list[Any]:
    """The tenant's items as :class:`domains.records.ItemRecord` (ordered by primary key)."""
    from domains.records import ItemRecord

    qs = Item.objects.filter(tenant=tenant).order_by("id")
    if active_only:
        qs = qs.filter(active=True)
    return [
        ItemRecord(item_id=x, properties=p or {}, categories=tuple(c or ()), active=a)
        for x, p, c, a in qs.values_list(
            "external_id", "properties", "categories", "active"
        ).iterator(chunk_size=10_000)
    ]


def user_records(*, tenant: Tenant) -> list[Any]:
    """The tenant's end users as :class:`domains.records.UserRecord` (ordered by primary key)."""
    from domains.records import UserRecord

    qs = EndUser.objects.filter(tenant=tenant).order_by("id")
    return [
        UserRecord(user_id=x, properties=p or {})
        for x, p in qs.values_list("external_id", "properties").iterator(chunk_size=10_000)
    ]
