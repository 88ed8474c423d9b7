"""Operations: health and readiness probes, Prometheus metrics, request ids, JSON logs, queues.

Public helpers other apps call (all cheap, never raise on bad label values):

- ``m6rec.ops.metrics``: ``observe_recommendation``, ``observe_training``, ``cache_hit``,
  ``cache_miss``, ``track_training``.
- ``m6rec.ops.request_id``: ``get_request_id()`` for the current request or Celery task.
- ``m6rec.ops.queues``: ``queue_for(interaction_count)`` and ``tenant_queue(tenant_id=…)`` pick the
  Celery queue of a tenant's size for training and batch jobs.
"""
