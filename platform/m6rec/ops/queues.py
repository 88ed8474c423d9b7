"""Celery queues for training and batch jobs: small tenants never wait behind a large tenant.

Workers consume ``small`` and ``large`` separately (deploy/: one worker pool per queue). The
training and batch services send their tasks to the tenant's queue::

    train_tenant.apply_async(args=[run.id], queue=tenant_queue(tenant_id=run.tenant_id))

``queue_for(interaction_count)`` picks the queue from a count already known.

The threshold is the setting ``M6REC_LARGE_TENANT_INTERACTIONS`` (environment variable of the
same name; default 1,000,000 interactions).
"""

from __future__ import annotations

from django.conf import settings

QUEUE_SMALL = "small"
QUEUE_LARGE = "large"
QUEUES = (QUEUE_SMALL, QUEUE_LARGE)


def large_tenant_threshold() -> int:
    return int(settings.M6REC_LARGE_TENANT_INTERACTIONS)


def queue_for(interaction_count: int) -> str:
    """``"large"`` for a tenant with at least the threshold's interactions, else ``"small"``."""
    if interaction_count < 0:
        raise ValueError("interaction_count must be >= 0")
    return QUEUE_LARGE if interaction_count >= large_tenant_threshold() else QUEUE_SMALL


def tenant_queue(*, tenant_id: int) -> str:
    """The queue of a tenant's size: :func:`queue_for` of its interaction count (one query)."""
    from m6rec.catalog.models import Interaction

    return queue_for(Interaction.objects.filter(tenant_id=tenant_id).count())
