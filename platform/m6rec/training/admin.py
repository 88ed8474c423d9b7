"""Training admin: runs with stage and progress; "Add training run" = train a tenant now.

Also adds a "Train now" action to the tenant admin (when the tenants app registers one).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from m6rec.tenants.models import Tenant
from m6rec.training import services
from m6rec.training.errors import TrainingConflictError
from m6rec.training.models import TrainingRun, TrainingSchedule


class TrainNowForm(forms.ModelForm):
    class Meta:
        model = TrainingRun
        fields = ["tenant"]

    def clean_tenant(self):
        tenant = self.cleaned_data["tenant"]
        busy = TrainingRun.objects.filter(tenant=tenant, status__in=TrainingRun.IN_PROGRESS)
        if busy.exists():
            raise forms.ValidationError(
                f"{tenant.slug} already has a training run in progress (run {busy.first().pk})."
            )
        return tenant


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "tenant",
        "status",
        "stage",
        "progress_bar",
        "trigger",
        "requested_by_label",
        "created_at",
        "duration",
        "version_link",
        "short_error",
    )
    list_filter = ("status", "trigger", "tenant")
    search_fields = ("tenant__slug", "error_message")
    list_select_related = ("tenant", "version")
    actions = ["cancel_runs"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = TrainNowForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["tenant"]
        return [f.name for f in TrainingRun._meta.fields if f.name != "id"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [f.name for f in TrainingRun._meta.fields]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        try:
            run = services.training_run_create(
                tenant=obj.tenant, trigger=TrainingRun.Trigger.ADMIN, requested_by=request.user
            )
        except TrainingConflictError as exc:
            self.message_user(request, exc.message, messages.WARNING)
            run = TrainingRun.objects.get(pk=exc.details["run_id"])
        obj.pk = run.pk
        obj.__dict__.update({k: v for k, v in run.__dict__.items() if not k.startswith("_")})

    @admin.display(description="progress", ordering="progress")
    def progress_bar(self, obj: TrainingRun) -> str:
        return format_html(
            '<progress max="100" value="{}" title="{}%"></progress> {}%',
            f"{obj.progress:.0f}",
            f"{obj.progress:.0f}",
            f"{obj.progress:.0f}",
        )

    @admin.display(description="duration")
    def duration(self, obj: TrainingRun) -> str:
        seconds = obj.duration_seconds
        return "—" if seconds is None else f"{seconds:.0f} s"

    @admin.display(description="version")
    def version_link(self, obj: TrainingRun) -> str:
        if obj.version_id is None:
            return "—"
        url = reverse("admin:registry_modelversion_change", args=[obj.version_id])
        return format_html('<a href="{}">v{}</a>', url, obj.version.number)

    @admin.display(description="error")
    def short_error(self, obj: TrainingRun) -> str:
        text = obj.error_message or ""
        return text if len(text) <= 80 else text[:77] + "..."

    @admin.action(description="Cancel the selected queued/running runs")
    def cancel_runs(self, request, queryset):
        n = 0
        for run in queryset.filter(status__in=TrainingRun.IN_PROGRESS):
            services.training_run_cancel(run=run, actor=request.user)
            n += 1
        self.message_user(request, f"Cancelled {n} run(s).")


@admin.register(TrainingSchedule)
class TrainingScheduleAdmin(admin.ModelAdmin):
    list_display = ("tenant", "enabled", "train_every_hours", "train_after_new_interactions")
    list_filter = ("enabled",)
    search_fields = ("tenant__slug",)


@admin.action(description="Train now (queue a training run)")
def train_now(modeladmin, request, queryset):
    for tenant in queryset:
        try:
            run = services.training_run_create(
                tenant=tenant, trigger=TrainingRun.Trigger.ADMIN, requested_by=request.user
            )
        except TrainingConflictError as exc:
            modeladmin.message_user(request, f"{tenant.slug}: {exc.message}", messages.WARNING)
            continue
        url = reverse("admin:training_trainingrun_change", args=[run.pk])
        modeladmin.message_user(
            request,
            format_html('{}: queued <a href="{}">training run {}</a>.', tenant.slug, url, run.pk),
        )


def _add_tenant_action() -> None:
    """Offer "Train now" on the tenant list (the tenants app owns that admin)."""
    if not admin.site.is_registered(Tenant):
        return
    model_admin = admin.site.get_model_admin(Tenant)
    actions = list(model_admin.actions or [])
    if train_now not in actions:
        model_admin.actions = [*actions, train_now]


_add_tenant_action()
