"""Admin: the interactions type filter lists the filtered tenant's types, else those of the
domains tenants use, never every installed domain's."""

import re

import pytest
from django.urls import reverse

from domains.content import ContentDomain
from domains.ecommerce import EcommerceDomain
from m6rec.common.testing import make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "pw"))
    return client


def _type_choices(html: str) -> list[str]:
    return re.findall(r'href="\?[^"]*type=([\w-]+)', html)


def test_type_filter_follows_the_tenant_filter(staff):
    shop = make_tenant("shop", domain="ecommerce")
    news = make_tenant("news", domain="content")
    url = reverse("admin:catalog_interaction_changelist")
    choices = _type_choices(staff.get(f"{url}?tenant__id__exact={shop.pk}").content.decode())
    assert choices == list(EcommerceDomain.interaction_types)
    choices = _type_choices(staff.get(f"{url}?tenant__id__exact={news.pk}").content.decode())
    assert choices == list(ContentDomain.interaction_types)
    both = _type_choices(staff.get(url).content.decode())
    assert set(both) == set(EcommerceDomain.interaction_types) | set(
        ContentDomain.interaction_types
    )
    assert "enroll" not in both  # education: no tenant uses it


def test_type_filter_is_empty_without_tenants(staff):
    html = staff.get(reverse("admin:catalog_interaction_changelist")).content.decode()
    assert _type_choices(html) == []
