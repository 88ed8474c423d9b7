"""Registry signals.

``active_version_changed`` is sent after the transaction that changed a tenant's active version
commits (promote, automatic promotion, rollback, failure). Keyword arguments: ``tenant_id``,
``version_number`` (the new active number or ``None``). Serving caches may listen to it; they
must not rely on it alone (other processes learn the change from the database).
"""

from django.dispatch import Signal

active_version_changed = Signal()
