"""Celery queues for training: small tenants never wait behind a large tenant's run.

Workers consume ``small`` and ``large`` separately (deploy/: one worker pool per queue). The
training code calls ``queue_for(interaction_count)`` when it enqueues ``train_tenant``::

    train_tenant.apply_async(args=[run.id], queue=queue_for(interaction_count))

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
