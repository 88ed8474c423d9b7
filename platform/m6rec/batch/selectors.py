"""Batch job reads, and the users a job writes (tenant-scoped)."""

from __future__ import annotations

from django.db.models import QuerySet

from m6rec.batch.models import BatchJob


def job_get(*, tenant, job_id: int) -> BatchJob | None:
    """A tenant's job by id; ``None`` for a missing id *and* for another tenant's job."""
    return BatchJob.objects.filter(tenant=tenant, pk=job_id).select_related("tenant").first()


def job_list(*, tenant) -> QuerySet[BatchJob]:
    """The tenant's jobs (without the listed user ids, which may be long)."""
    return BatchJob.objects.filter(tenant=tenant).defer("user_ids", "parts")


def job_in_progress(*, tenant) -> BatchJob | None:
    return BatchJob.objects.filter(tenant=tenant, status__in=BatchJob.IN_PROGRESS).first()


def user_bounds(*, tenant) -> tuple[int, int]:
    """(number of end users, largest end-user row id) of the tenant now."""
    from django.db.models import Count, Max

    from m6rec.catalog.models import EndUser

    got = EndUser.objects.filter(tenant=tenant).aggregate(n=Count("id"), top=Max("id"))
    return int(got["n"] or 0), int(got["top"] or 0)


def users_after(*, tenant, after_pk: int, up_to_pk: int, limit: int) -> list[tuple[int, str]]:
    """(row id, user id) of the tenant's users with ``after_pk < id <= up_to_pk``, by id."""
    from m6rec.catalog.models import EndUser

    return list(
        EndUser.objects.filter(tenant=tenant, pk__gt=after_pk, pk__lte=up_to_pk)
        .order_by("pk")
        .values_list("pk", "external_id")[:limit]
    )
