"""Receivers: a change of the active version outside an experiment stops that experiment."""

from __future__ import annotations

import logging

from django.dispatch import receiver

from m6rec.registry.signals import active_version_changed

logger = logging.getLogger(__name__)


@receiver(active_version_changed, dispatch_uid="m6rec.online.stop_stale_experiments")
def _stop_stale_experiments(sender, tenant_id: int, version_number: int | None, **kwargs) -> None:
    from m6rec.online.services import experiments_stop_for_new_active

    try:
        experiments_stop_for_new_active(tenant_id=tenant_id, version_number=version_number)
    except Exception:  # noqa: BLE001 - never fail the registry change that already committed
        logger.exception("Tenant %s: could not stop the running experiment", tenant_id)
