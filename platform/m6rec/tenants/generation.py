"""A tenant's serving generation: a counter that every catalogue write moves on.

Web processes keep each tenant's catalogue in memory (``m6rec.serving.snapshot``) and read the
counter with the active model version, at most every ``M6REC_ACTIVE_VERSION_TTL`` seconds:
when it moved, they reload the catalogue. The counter moves after the write commits, in its
own statement, so it neither holds the tenant row locked during a write (concurrent writers
are not serialised) nor lets a reader see the new number before the rows it stands for.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F

from m6rec.tenants.models import Tenant

logger = logging.getLogger(__name__)

__all__ = ["generation_bump", "generation_bump_on_commit", "generation_get"]


def generation_bump(*, tenant_id: int) -> None:
    """Move the counter. Never raises: the write it follows has committed; a lost bump delays
    other processes until their catalogue's age reaches ``M6REC_CATALOG_TTL``."""
    try:
        Tenant.objects.filter(pk=tenant_id).update(serving_generation=F("serving_generation") + 1)
    except Exception:  # noqa: BLE001
        logger.warning("Could not move tenant %s's serving generation", tenant_id, exc_info=True)


def generation_bump_on_commit(*, tenant_id: int) -> None:
    """Move the counter once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: generation_bump(tenant_id=tenant_id))


def generation_get(*, tenant_id: int) -> int | None:
    """The tenant's generation, or None for no such tenant."""
    return Tenant.objects.filter(pk=tenant_id).values_list("serving_generation", flat=True).first()
