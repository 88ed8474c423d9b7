"""Per-tenant domain configuration validation for admin forms (no database)."""

from django import forms

from m6rec.plugins.forms import DomainConfigFormMixin, domain_config_errors, domain_config_help


class TenantLikeForm(DomainConfigFormMixin, forms.Form):
    domain_config_exclude_keys = ("training",)
    domain = forms.CharField()
    config = forms.JSONField(required=False)


def test_valid_config_passes():
    form = TenantLikeForm(
        data={"domain": "ecommerce", "config": '{"repurchase_policy": "never", "training": {}}'}
    )
    assert form.is_valid(), form.errors


def test_bad_overrides_are_reported_per_field():
    config = '{"interaction_weights": {"view": 50}, "rules": {"teleport": true}}'
    form = TenantLikeForm(data={"domain": "ecommerce", "config": config})
    assert not form.is_valid()
    messages = form.errors["config"]
    assert "rules.teleport: Unknown field." in messages
    assert any(m.startswith("interaction_weights.add_to_cart: Must be greater") for m in messages)


def test_domain_is_a_choice_of_installed_plugins():
    form = TenantLikeForm(data={"domain": "retail", "config": "{}"})
    assert not form.is_valid()
    assert "domain" in form.errors
    choices = dict(form.fields["domain"].choices)
    assert "health" in choices


def test_helpers():
    assert domain_config_errors("content", {"freshness_weight": 3}) == [
        "freshness_weight: 3 is greater than the maximum of 1"
    ]
    assert domain_config_errors("nope", {})[0].startswith('Unknown domain "nope"')
    assert '"repurchase_policy": "consumables"' in domain_config_help("ecommerce")
    form = TenantLikeForm(initial={"domain": "health"})
    assert "health domain" in form.fields["config"].help_text
