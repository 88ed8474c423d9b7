"""Celery tasks of the online loop (thin: they call services)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="m6rec.online.tasks.flush_impressions", ignore_result=True)
def flush_impressions() -> int:
    """Beat: move the impression counters from Redis into the database."""
    from m6rec.online.impressions import flush_to_database

    return flush_to_database()
