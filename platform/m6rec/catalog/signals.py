"""Catalog signals.

``items_changed`` is sent when a tenant's items were written through the catalogue services
(upsert, delete; items created by interaction ingestion only move the tenant's serving
generation, see ``catalog.services.interactions_ingest``): once right away, for readers in the
writing transaction, and again after the transaction commits. Keyword arguments:
``tenant_id``, ``item_ids`` (external ids). Serving's snapshot of the tenant listens in this
process; other processes learn the change from the tenant's serving generation, moved after
the commit (:mod:`m6rec.tenants.generation`).
"""

from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal

from m6rec.tenants.generation import generation_bump_on_commit

items_changed = Signal()


def notify_items_changed(*, tenant_id: int, item_ids: Iterable[str]) -> None:
    ids = tuple(item_ids)
    if not ids:
        return

    def send() -> None:
        items_changed.send(sender=None, tenant_id=tenant_id, item_ids=ids)

    send()
    # a reader may have cached the old row between the write and the commit
    transaction.on_commit(send)
    generation_bump_on_commit(tenant_id=tenant_id)
