"""A deleted job (admin, or its tenant deleted) takes its files with it, once committed."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from m6rec.batch import storage
from m6rec.batch.models import BatchJob

logger = logging.getLogger(__name__)


@receiver(post_delete, sender=BatchJob, dispatch_uid="m6rec.batch.remove_files")
def _remove_files(sender, instance: BatchJob, **kwargs) -> None:
    slug, job_id, uri = instance.tenant.slug, instance.pk, instance.output_uri

    def remove() -> None:
        try:
            storage.job_remove(tenant_slug=slug, job_id=job_id, uri=uri)
        except Exception:  # noqa: BLE001 - storage hiccups must not break a delete
            logger.warning("batch job %s: files not removed", job_id, exc_info=True)

    transaction.on_commit(remove)
