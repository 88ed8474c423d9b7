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
    """Types declared by the installed domains (no DISTINCT scan of the table)."""

    title = "type"
    parameter_name = "type"

    def lookups(self, request, model_admin):
        from m6rec.plugins.registry import available_domains

        types = sorted({t for d in available_domains().values() for t in d.interaction_types})
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
