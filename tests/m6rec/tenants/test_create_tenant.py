"""``create_tenant``: validates the domain, prints the API key alone on the last line."""

import io

import pytest
from django.core.management import CommandError, call_command

from m6rec.common.testing import api_client
from m6rec.tenants.models import ApiKey, Tenant

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("create_tenant", *args, stdout=out)
    return out.getvalue()


def test_prints_a_working_all_scopes_key_on_its_last_line():
    output = run("shop", "--name", "Shop", "--domain", "ecommerce")
    last = output.rstrip("\n").splitlines()[-1]
    assert last.startswith("m6r_") and " " not in last
    tenant = Tenant.objects.get(slug="shop")
    assert (tenant.name, tenant.domain, tenant.unknown_refs) == ("Shop", "ecommerce", "create")
    key = ApiKey.objects.get(tenant=tenant)
    assert sorted(key.scopes) == ["admin", "ingest", "recommend"]
    assert last not in output.splitlines()[0]  # only on its own line
    assert api_client(last).get("/api/v1/items").status_code == 200


def test_unknown_domain_is_refused_naming_the_choices():
    with pytest.raises(CommandError, match='Unknown domain "nope".*content'):
        run("x", "--name", "X", "--domain", "nope")
    assert not Tenant.objects.exists()


def test_bad_config_and_duplicate_slug_are_refused():
    with pytest.raises(CommandError, match="config"):
        run("x", "--name", "X", "--domain", "content", "--config", '{"bogus": true}')
    with pytest.raises(CommandError, match="not valid JSON"):
        run("x", "--name", "X", "--domain", "content", "--config", "{")
    run("x", "--name", "X", "--domain", "content", "--unknown-refs", "reject")
    assert Tenant.objects.get(slug="x").unknown_refs == "reject"
    with pytest.raises(CommandError, match="already exists"):
        run("x", "--name", "X", "--domain", "content")


def test_platform_training_keys_sit_beside_the_domain_config():
    config = '{"train_every_hours": 24, "training": {"time_budget_s": 30}}'
    run("news", "--name", "News", "--domain", "content", "--config", config)
    tenant = Tenant.objects.get(slug="news")
    assert tenant.config["train_every_hours"] == 24
    assert tenant.domain_config == {}  # what the plugin validates and reads
