"""The domain registry: discovery, contract checks, duplicates, disabling (no database)."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest
from django.apps import apps
from django.test import override_settings

from domains.content import ContentDomain
from domains.ecommerce import EcommerceDomain
from m6rec.plugins import registry
from m6rec.plugins.errors import (
    ContractViolationError,
    DuplicateDomainError,
    FailedToLoadPlugin,
    UnknownDomainError,
)

BUILT_INS = {"ecommerce", "content", "social", "health", "education"}


class FakeEntryPoint:
    """An entry point whose ``load()`` returns ``target`` or raises it."""

    def __init__(self, name: str, target: object, value: str | None = None) -> None:
        self.name, self._target = name, target
        self.value = value or f"fake_module:{getattr(target, '__name__', name)}"

    def load(self) -> object:
        if isinstance(self._target, BaseException):
            raise self._target
        return self._target


class NegativeWeights(EcommerceDomain):
    name = "negative"
    interaction_types = {"view": -1.0, "purchase": 2.0}
    weight_order = ()


class BadSchema(EcommerceDomain):
    name = "badschema"
    item_schema = {"type": "object", "properties": {"price": {"type": "money"}}}


class MisorderedWeights(EcommerceDomain):
    name = "misordered"
    interaction_types = {"view": 5.0, "add_to_cart": 4.0, "purchase": 10.0}


@pytest.fixture(autouse=True)
def _restore_registry():
    """Tests may reload the registry; put the start-up state back afterwards (cheaply)."""
    registry.available_domains()
    saved = registry._domains, registry._disabled
    yield
    registry._domains, registry._disabled = saved


def test_built_ins_register_through_the_entry_point_group():
    eps = {ep.name: ep for ep in registry.discover()}
    assert set(eps) >= BUILT_INS
    for name in BUILT_INS:
        assert eps[name].dist is None or eps[name].dist.name == "m6rec"
    domains = registry.available_domains()
    assert set(domains) >= BUILT_INS
    assert isinstance(registry.get_domain("content"), ContentDomain)
    assert registry.get_domain("content") is registry.get_domain("content")


def test_unknown_domain_lists_available_ones():
    with pytest.raises(UnknownDomainError) as info:
        registry.get_domain("retail")
    message = str(info.value)
    assert '"retail"' in message
    for name in BUILT_INS:
        assert name in message
    assert isinstance(info.value, LookupError)


def test_failed_import_names_the_plugin():
    ep = EntryPoint(name="ghost", value="no_such_module_xyz:GhostDomain", group=registry.GROUP)
    with pytest.raises(FailedToLoadPlugin) as info:
        registry.load_domains([ep])
    assert info.value.plugin_name == "ghost"
    assert 'Domain plugin "ghost" (no_such_module_xyz:GhostDomain) failed to load' in str(
        info.value
    )
    assert "ModuleNotFoundError" in str(info.value)


def test_failing_constructor_names_the_plugin():
    def factory():
        raise RuntimeError("needs an API key")

    with pytest.raises(FailedToLoadPlugin, match='"boom".*RuntimeError: needs an API key'):
        registry.load_domains([FakeEntryPoint("boom", factory)])


@pytest.mark.parametrize(
    ("cls", "problem"),
    [
        (NegativeWeights, 'weight of "view" must be a positive finite number'),
        (BadSchema, "item_schema: invalid JSON Schema"),
        (MisorderedWeights, "not strictly increasing"),
        (object, "expected a domains.base.Domain subclass"),
    ],
)
def test_contract_violation_names_the_plugin_and_the_problem(cls, problem):
    name = getattr(cls, "name", "thing")
    with pytest.raises(ContractViolationError) as info:
        registry.load_domains([FakeEntryPoint(name, cls)])
    assert info.value.plugin_name == name
    assert f'Domain plugin "{name}"' in str(info.value)
    assert problem in str(info.value)


def test_name_must_match_the_entry_point_name():
    with pytest.raises(ContractViolationError, match='differs from the entry-point name "shop"'):
        registry.load_domains([FakeEntryPoint("shop", EcommerceDomain)])


def test_duplicate_names_are_rejected():
    eps = [
        FakeEntryPoint("content", ContentDomain, "domains.content:ContentDomain"),
        FakeEntryPoint("content", ContentDomain, "other_pkg.content:ContentDomain"),
    ]
    with pytest.raises(DuplicateDomainError) as info:
        registry.load_domains(eps)
    assert info.value.plugin_name == "content"
    assert "other_pkg.content:ContentDomain" in str(info.value)


def test_the_same_target_seen_twice_is_one_plugin():
    eps = [FakeEntryPoint("content", ContentDomain, "domains.content:ContentDomain")] * 2
    assert list(registry.load_domains(eps)) == ["content"]


def test_disabled_plugins_are_not_even_imported():
    eps = [FakeEntryPoint("ghost", ImportError("broken")), FakeEntryPoint("content", ContentDomain)]
    assert list(registry.load_domains(eps, disabled=["ghost"])) == ["content"]


def test_instances_are_accepted_as_entry_point_targets():
    domains = registry.load_domains([FakeEntryPoint("content", ContentDomain())])
    assert isinstance(domains["content"], ContentDomain)


@override_settings(M6REC_DISABLED_DOMAINS=["health", "social"])
def test_setting_disables_domains_at_start_up():
    apps.get_app_config("plugins").ready()
    assert "health" not in registry.available_domains()
    assert registry.disabled_domains() == ["health", "social"]
    with pytest.raises(UnknownDomainError, match="disabled by M6REC_DISABLED_DOMAINS"):
        registry.get_domain("health")
    assert ("health", "health (v1.0.0)") not in registry.domain_choices()


def test_app_start_up_fails_loudly_on_a_broken_plugin(monkeypatch):
    broken = EntryPoint(name="ghost", value="no_such_module_xyz:GhostDomain", group=registry.GROUP)
    original = registry.discover
    with monkeypatch.context() as patch:
        patch.setattr(registry, "discover", lambda: [*original(), broken])
        with pytest.raises(FailedToLoadPlugin, match='"ghost"'):
            apps.get_app_config("plugins").ready()


def test_domain_choices_for_forms():
    choices = dict(registry.domain_choices())
    assert choices["ecommerce"] == "ecommerce (v1.0.0)"


@override_settings(M6REC_DISABLED_DOMAINS="social, health")
def test_setting_may_be_a_comma_separated_string():
    apps.get_app_config("plugins").ready()
    assert registry.disabled_domains() == ["health", "social"]
