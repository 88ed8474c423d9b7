"""Registry admin: versions with their metrics and a gate-metric chart, promote / roll back /
pin actions (through the services, so every change is audited), a read-only audit log."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from m6rec.registry import selectors, services
from m6rec.registry.charts import gate_metric_svg
from m6rec.registry.errors import RegistryError
from m6rec.registry.models import AuditLog, ModelVersion

ADMIN_REASON = "Django admin action"


def _metric(version: ModelVersion, name: str) -> str:
    value = ((version.metrics or {}).get("validation") or {}).get(name)
    if isinstance(value, int | float):
        return f"{value:.4f}"
    return "—" if value is None else str(value)


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    # Fits a 1,400 px window beside the navigation and filter sidebars (a browser test checks
    # it): the three validation metrics share one column, the pin is a mark only where there
    # is one, dates are short; the activation time is on the version's page.
    list_display = (
        "version",
        "tenant",
        "status_badge",
        "pin_mark",
        "validation_metrics",
        "served_model",
        "interactions",
        "created",
        "run_link",
    )
    list_display_links = ("version",)
    list_filter = ("tenant", "status", "pinned")
    search_fields = ("tenant__slug", "notes")
    ordering = ("tenant__slug", "-number")
    actions = ["promote_selected", "rollback_tenants", "pin_selected", "unpin_tenants"]
    readonly_fields = [*(f.name for f in ModelVersion._meta.fields), "online_metrics"]
    list_select_related = ("tenant", "run")
    change_list_template = "admin/registry/modelversion/change_list.html"

    def has_add_permission(self, request) -> bool:
        return False  # versions come from training runs

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # keep the history (audit log references versions)

    @admin.display(description="version")
    def version(self, obj: ModelVersion) -> str:
        return f"v{obj.number}"

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: ModelVersion) -> str:
        colors = {"active": "#27ae60", "failed": "#c0392b", "candidate": "#b7950b"}
        return format_html(
            '<strong class="m6rec-status m6rec-status-{}" style="color:{}">{}</strong>',
            obj.status,
            colors.get(obj.status, "#555"),
            obj.status,
        )

    @admin.display(description="pin")
    def pin_mark(self, obj: ModelVersion) -> str:
        """📌 for the pinned version; the neutral empty mark otherwise (not a red ✖)."""
        if not obj.pinned:
            return ""
        return format_html('<span class="m6rec-pinned" title="pinned">{}</span>', "📌")

    @admin.display(description="validation nDCG@10 (P, R)")
    def validation_metrics(self, obj: ModelVersion) -> str:
        return format_html(
            '<span class="m6rec-metrics" title="validation nDCG@10; precision@10 · recall@10">'
            '<strong>{}</strong><br><small style="white-space:nowrap">P {} · R {}</small></span>',
            _metric(obj, "ndcg@10"),
            _metric(obj, "precision@10"),
            _metric(obj, "recall@10"),
        )

    @admin.display(description="model")
    def served_model(self, obj: ModelVersion) -> str:
        return str(((obj.metrics or {}).get("validation") or {}).get("model") or "—")

    @admin.display(description="interactions")
    def interactions(self, obj: ModelVersion):
        value = (obj.data_counts or {}).get("interactions")
        return f"{value:,}" if isinstance(value, int) else (value or "—")

    @admin.display(description="created", ordering="created_at")
    def created(self, obj: ModelVersion) -> str:
        return _when(obj.created_at)

    @admin.display(description="run")
    def run_link(self, obj: ModelVersion) -> str:
        if obj.run_id is None:
            return "—"
        url = reverse("admin:training_trainingrun_change", args=[obj.run_id])
        return format_html('<a href="{}">run {}</a>', url, obj.run_id)

    @admin.display(description="online metrics (last 30 days)")
    def online_metrics(self, obj: ModelVersion) -> str:
        """Next to the offline metrics: the version's daily click-through and conversion
        rates, attributed through recommendation ids (m6rec.online)."""
        from m6rec.online.charts import online_rates_svg
        from m6rec.online.selectors import version_online_metrics

        metrics = version_online_metrics(tenant=obj.tenant, number=obj.number)
        t = metrics["totals"]
        return format_html(
            "{}<p>{} impressions, {} clicks (CTR {}), {} conversions ({}); goal types: {}</p>",
            online_rates_svg(metrics),
            t["impressions"],
            t["clicks"],
            f"{t['ctr']['rate']:.2%}",
            t["conversions"],
            f"{t['conversion_rate']['rate']:.2%}",
            ", ".join(metrics["goal_types"]),
        )

    # ------------------------------------------------------------------ chart
    def changelist_view(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        tenant_id = request.GET.get("tenant__id__exact")
        series: dict[str, list] = {}
        from m6rec.tenants.models import Tenant

        tenants = Tenant.objects.all()
        if tenant_id and tenant_id.isdigit():
            tenants = tenants.filter(pk=int(tenant_id))
        else:
            with_versions = ModelVersion.objects.values_list("tenant_id", flat=True).distinct()
            tenants = tenants.filter(pk__in=with_versions)
        for tenant in tenants.order_by("slug")[:6]:
            series[tenant.slug] = selectors.gate_metric_series(tenant=tenant)
        extra_context["gate_chart"] = gate_metric_svg(series)
        return super().changelist_view(request, extra_context=extra_context)

    # ------------------------------------------------------------------ actions
    def _one(self, request, queryset: QuerySet) -> ModelVersion | None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version.", messages.WARNING)
            return None
        return queryset.first()

    @admin.action(description="Promote the selected version (make it active)")
    def promote_selected(self, request, queryset):
        version = self._one(request, queryset)
        if version is None:
            return
        try:
            services.version_promote(version=version, actor=request.user, reason=ADMIN_REASON)
        except RegistryError as exc:
            self.message_user(request, f"{version}: {exc.message}", messages.ERROR)
            return
        self.message_user(request, f"{version.tenant.slug}: v{version.number} is now active.")

    @admin.action(description="Roll back the selected versions' tenants to their previous version")
    def rollback_tenants(self, request, queryset):
        from m6rec.tenants.models import Tenant

        for tenant in Tenant.objects.filter(pk__in=queryset.values("tenant_id")):
            try:
                target = services.version_rollback(
                    tenant=tenant, actor=request.user, reason=ADMIN_REASON
                )
            except RegistryError as exc:
                self.message_user(request, f"{tenant.slug}: {exc.message}", messages.ERROR)
                continue
            self.message_user(
                request, f"{tenant.slug}: rolled back, v{target.number} is now active."
            )

    @admin.action(description="Pin the selected version (active, no automatic promotion)")
    def pin_selected(self, request, queryset):
        version = self._one(request, queryset)
        if version is None:
            return
        try:
            services.version_pin(version=version, actor=request.user, reason=ADMIN_REASON)
        except RegistryError as exc:
            self.message_user(request, f"{version}: {exc.message}", messages.ERROR)
            return
        self.message_user(
            request, f"{version.tenant.slug}: v{version.number} is active and pinned."
        )

    @admin.action(description="Unpin the selected versions' tenants (allow auto-promotion)")
    def unpin_tenants(self, request, queryset):
        from m6rec.tenants.models import Tenant

        for tenant in Tenant.objects.filter(pk__in=queryset.values("tenant_id")):
            services.version_unpin(tenant=tenant, actor=request.user, reason=ADMIN_REASON)
            self.message_user(request, f"{tenant.slug}: automatic promotion allowed again.")


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ("created_at", "tenant", "action", "actor", "from_v", "to_v", "reason")
    list_filter = ("tenant", "action")
    search_fields = ("actor", "reason", "tenant__slug")
    list_select_related = ("tenant", "from_version", "to_version")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="from")
    def from_v(self, obj: AuditLog) -> str:
        return f"v{obj.from_version.number}" if obj.from_version else "—"

    @admin.display(description="to")
    def to_v(self, obj: AuditLog) -> str:
        return f"v{obj.to_version.number}" if obj.to_version else "—"
