"""Per-tenant training runs: services that feed a tenant's data to the engine, Celery tasks."""
