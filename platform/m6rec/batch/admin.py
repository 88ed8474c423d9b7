"""Batch jobs in the admin: status, progress and the output (read-only; created by the API
or ``manage.py batch_recommendations``)."""

from __future__ import annotations

from django.contrib import admin

from m6rec.batch.models import BatchJob


@admin.register(BatchJob)
class BatchJobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "tenant",
        "status",
        "k",
        "all_users",
        "users_done",
        "users_total",
        "progress_percent",
        "model_version",
        "created_at",
        "finished_at",
        "attempts",
    )
    list_filter = ("status", "tenant")
    search_fields = ("tenant__slug", "error_message", "output_uri")
    list_select_related = ("tenant",)
    exclude = ("user_ids", "parts")

    @admin.display(description="progress")
    def progress_percent(self, obj: BatchJob) -> str:
        return f"{obj.progress:.1f}%"

    def get_queryset(self, request):
        return super().get_queryset(request).defer("user_ids", "parts")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
