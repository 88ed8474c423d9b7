"""Admin for catalog rows: searchable, filterable, no unbounded COUNT; interactions read-only."""

from __future__ import annotations

from django.contrib import admin

from m6rec.catalog.models import EndUser, Interaction, Item
from m6rec.common.admin import LargeTableAdminMixin


@admin.register(Item)
class ItemAdmin(LargeTableAdminMixin, admin.ModelAdmin):
    list_display = ["external_id", "tenant", "active", "categories", "updated_at"]
    list_filter = ["tenant", "active"]
    search_fields = ["=external_id"]
    list_select_related = ["tenant"]
    readonly_fields = ["created_at", "updated_at"]
    raw_id_fields = ["tenant"]


@admin.register(EndUser)
class EndUserAdmin(LargeTableAdminMixin, admin.ModelAdmin):
    list_display = ["external_id", "tenant", "updated_at"]
    list_filter = ["tenant"]
    search_fields = ["=external_id"]
    list_select_related = ["tenant"]
    readonly_fields = ["created_at", "updated_at"]
    raw_id_fields = ["tenant"]


class InteractionTypeFilter(admin.SimpleListFilter):
    """The interaction types of the tenant filtered on, else of the domains tenants use.

    Read from the domain plugins' declarations (no DISTINCT scan of the table), in each
    domain's declaration order.
    """

    title = "type"
    parameter_name = "type"
    tenant_parameter = "tenant__id__exact"

    def lookups(self, request, model_admin):
        from m6rec.plugins.registry import available_domains
        from m6rec.tenants.models import Tenant

        tenants = Tenant.objects.all()
        tenant_id = request.GET.get(self.tenant_parameter, "")
        if tenant_id.isdigit():
            tenants = tenants.filter(pk=int(tenant_id))
        in_use = list(tenants.order_by("domain").values_list("domain", flat=True).distinct())
        domains = available_domains()
        types: dict[str, None] = {}
        for name in in_use:
            domain = domains.get(name)
            if domain is not None:
                types.update(dict.fromkeys(domain.interaction_types))
        return [(t, t) for t in types]

    def queryset(self, request, queryset):
        return queryset.filter(type=self.value()) if self.value() else queryset


@admin.register(Interaction)
class InteractionAdmin(LargeTableAdminMixin, admin.ModelAdmin):
    list_display = ["id", "tenant", "user", "item", "type", "value", "timestamp", "event_id"]
    list_filter = ["tenant", InteractionTypeFilter]
    search_fields = ["=event_id", "=user__external_id", "=item__external_id"]
    list_select_related = ["tenant", "user", "item"]
    ordering = ["-id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
