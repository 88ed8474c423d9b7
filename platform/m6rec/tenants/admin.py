"""Admin for tenants and API keys. A key's secret is shown once, when it is created."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone

from m6rec.tenants.models import ALL_SCOPES, KEY_PREFIX, ApiKey, Tenant, generate_token, hash_token
from m6rec.tenants.services import validate_domain_config

# The admin site's branding (this app's admin module loads first of the project's).
admin.site.site_header = "M6-Rec administration"
admin.site.site_title = "M6-Rec administration"


def _domain_choices():
    from m6rec.plugins.registry import domain_choices

    return domain_choices()


class TenantForm(forms.ModelForm):
    domain = forms.ChoiceField(choices=_domain_choices)

    class Meta:
        model = Tenant
        fields = ["slug", "name", "domain", "config", "unknown_refs", "active"]

    def clean(self):
        data = super().clean()
        if data.get("domain"):
            try:
                validate_domain_config(domain_name=data["domain"], config=data.get("config"))
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    self.add_error(field if field in self.fields else None, errors)
        return data


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    can_delete = False
    fields = ["name", "display_prefix", "scopes", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="prefix")
    def display_prefix(self, obj):
        return f"{KEY_PREFIX}{obj.prefix}_…"


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    form = TenantForm
    list_display = ["slug", "name", "domain", "unknown_refs", "active", "created_at"]
    list_filter = ["active", "domain", "unknown_refs"]
    search_fields = ["slug", "name"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [ApiKeyInline]


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=[(s, s) for s in ALL_SCOPES],
        widget=forms.CheckboxSelectMultiple,
        initial=list(ALL_SCOPES),
    )

    class Meta:
        model = ApiKey
        fields = ["tenant", "name", "scopes", "rate_limit"]

    def clean_rate_limit(self):
        rate = self.cleaned_data.get("rate_limit", "").strip()
        if rate:
            from rest_framework.throttling import SimpleRateThrottle

            try:
                SimpleRateThrottle.parse_rate(None, rate)
            except (ValueError, KeyError, IndexError):
                raise ValidationError(
                    'Use "<number>/<sec|min|hour|day>", e.g. "600/min".'
                ) from None
        return rate


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = [
        "display_prefix",
        "name",
        "tenant",
        "scopes",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["tenant", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "tenant__slug"]
    list_select_related = ["tenant"]
    readonly_fields = ["display_prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["tenant", "name", "scopes", "rate_limit"]
        return [
            "display_prefix",
            "tenant",
            "name",
            "scopes",
            "rate_limit",
            *self.readonly_fields[1:],
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [*self.readonly_fields, "tenant"]

    @admin.display(description="key prefix")
    def display_prefix(self, obj):
        return f"{KEY_PREFIX}{obj.prefix}_…" if obj.prefix else "-"

    def save_model(self, request, obj, form, change):
        if not change:
            token, obj.prefix = generate_token()
            obj.secret_hash = hash_token(token)
            super().save_model(request, obj, form, change)
            messages.warning(
                request,
                f"New API key for {obj.tenant.slug}: {token} — copy it now, it is shown only "
                "this once (only its prefix is stored in clear).",
            )
            return
        super().save_model(request, obj, form, change)

    @admin.action(description="Revoke selected API keys")
    def revoke(self, request, queryset):
        from m6rec.tenants.services import api_key_cache_clear

        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        api_key_cache_clear()
        self.message_user(request, f"Revoked {count} API key(s).", messages.SUCCESS)
