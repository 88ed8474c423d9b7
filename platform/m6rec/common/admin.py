"""Admin helpers for large tables: no unbounded COUNT(*)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property


class EstimatedCountPaginator(Paginator):
    """Counts at most ``count_cap`` rows; an unfiltered PostgreSQL table uses the planner's
    estimate (``pg_class.reltuples``) instead of scanning. Pages past the cap are not offered.

    Use with ``show_full_result_count = False`` on the ModelAdmin.
    """

    count_cap = 100_000

    @cached_property
    def count(self) -> int:
        qs = self.object_list
        if not isinstance(qs, QuerySet):
            return super().count
        if not qs.query.where:
            estimate = self._estimate(qs)
            if estimate is not None and estimate > self.count_cap:
                return estimate
        return qs.order_by()[: self.count_cap].count()

    @staticmethod
    def _estimate(qs: QuerySet) -> int | None:
        connection = connections[qs.db]
        if connection.vendor != "postgresql":
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
                [qs.model._meta.db_table],
            )
            row = cursor.fetchone()
        return int(row[0]) if row and row[0] is not None and row[0] >= 0 else None


class LargeTableAdminMixin:
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50
