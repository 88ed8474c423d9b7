"""Batch recommendations: top-K for all (or listed) users of a tenant, written as gzip JSON
Lines into the bundle storage by a resumable Celery job."""
