"""Shared contract tests every domain plugin's test suite inherits.

The pattern of implicit's ``RecommenderBaseTestMixin``: subclass, set the domain and sample data,
and pytest runs every inherited ``test_*`` against your plugin::

    from domains.testing import ContractSample, DomainContractTests, RuleScenario

    class TestBooksDomain(DomainContractTests):
        domain_factory = BooksDomain
        invalid_item_properties = [({"pages": -1}, "pages")]

        def make_sample(self) -> ContractSample:
            return ContractSample(items=[...], users=[...], interactions=[...])

        def rule_scenarios(self) -> list[RuleScenario]:
            return [RuleScenario("no banned books", candidates=[...], excluded={"b1"})]

Pure pytest (plain ``assert``), no Django; needs only this package and its dependencies.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import entry_points
from typing import Any, ClassVar

import numpy as np

from domains.base import Domain, UnknownInteractionTypeError
from domains.contract import NAME_RE, contract_problems
from domains.records import Candidate, InteractionRecord, ItemRecord, UserRecord
from domains.validation import NON_FIELD

FIXED_NOW = datetime(2026, 4, 1, tzinfo=UTC)


@dataclass
class ContractSample:
    """Realistic records for the generic tests (a few dozen of each is plenty)."""

    items: list[ItemRecord]
    users: list[UserRecord]
    interactions: list[InteractionRecord]


@dataclass
class RuleScenario:
    """A serving situation whose ``excluded`` item ids must never come out of ``apply_rules``."""

    name: str
    candidates: list[Candidate]
    excluded: set[str] = field(default_factory=set)
    user: UserRecord | None = None
    history: list[InteractionRecord] = field(default_factory=list)
    config: Mapping[str, Any] | None = None
    now: datetime = FIXED_NOW


def candidates_from(items: Sequence[ItemRecord], *, start: float = 1.0) -> list[Candidate]:
    """Candidates with descending scores from items (properties copied)."""
    return [Candidate(i.item_id, start - 0.01 * r, dict(i.properties)) for r, i in enumerate(items)]


class DomainContractTests:
    """Mixin of contract tests; subclasses set ``domain_factory`` and ``make_sample``."""

    #: Zero-argument callable returning the domain (usually the class itself).
    domain_factory: ClassVar[Callable[[], Domain]]
    #: Extra property dicts that must validate / (properties, field) pairs that must not.
    valid_item_properties: ClassVar[list[dict[str, Any]]] = []
    invalid_item_properties: ClassVar[list[tuple[Any, str]]] = []
    valid_user_properties: ClassVar[list[dict[str, Any]]] = []
    invalid_user_properties: ClassVar[list[tuple[Any, str]]] = []
    valid_configs: ClassVar[list[dict[str, Any]]] = []
    invalid_configs: ClassVar[list[tuple[Any, str]]] = []
    #: Set False for plugins tested before they are installed (skips the metadata check).
    check_entry_point: ClassVar[bool] = True

    # ---------------------------------------------------------------- hooks
    def make_sample(self) -> ContractSample:
        raise NotImplementedError("set make_sample() to return a ContractSample")

    def rule_scenarios(self) -> list[RuleScenario]:
        """Domain-specific exclusions; the generic tests add checks that hold for any input."""
        return []

    # ---------------------------------------------------------------- helpers
    @property
    def domain(self) -> Domain:
        cached = self.__dict__.get("_domain")
        if cached is None:
            cached = self.__dict__["_domain"] = type(self).domain_factory()
        return cached

    @property
    def sample(self) -> ContractSample:
        cached = self.__dict__.get("_sample")
        if cached is None:
            cached = self.__dict__["_sample"] = self.make_sample()
        return cached

    def _all_scenarios(self) -> list[RuleScenario]:
        items, users, events = self.sample.items, self.sample.users, self.sample.interactions
        user = users[0] if users else None
        history = [e for e in events if user and e.user_id == user.user_id]
        generic = [
            RuleScenario("sample user", candidates_from(items), user=user, history=history),
            RuleScenario("anonymous", candidates_from(items)),
        ]
        for rule in self.domain.rule_switches:
            flipped = {"rules": {rule: not self.domain.rule_switches[rule]}}
            generic.append(
                RuleScenario(
                    f"flip {rule}",
                    candidates_from(items),
                    user=user,
                    history=history,
                    config=flipped,
                )
            )
        return generic + list(self.rule_scenarios())

    def _run(self, s: RuleScenario) -> list[Candidate]:
        return self.domain.apply_rules(
            user=s.user, history=s.history, candidates=s.candidates, config=s.config, now=s.now
        )

    # ---------------------------------------------------------------- identity and schemas
    def test_passes_static_contract_check(self) -> None:
        assert contract_problems(self.domain, self.domain.name) == []
        assert NAME_RE.match(self.domain.name)
        assert isinstance(self.domain.version, str) and self.domain.version

    def test_registered_in_entry_point_group(self) -> None:
        if not self.check_entry_point:
            return
        eps = {ep.name: ep for ep in entry_points(group="m6rec.domains")}
        assert self.domain.name in eps, f"no m6rec.domains entry point named {self.domain.name}"
        loaded = eps[self.domain.name].load()
        assert loaded is type(self.domain) or isinstance(loaded, type(self.domain))

    def test_sample_properties_validate(self) -> None:
        for item in self.sample.items:
            assert self.domain.validate_item_properties(dict(item.properties)) == {}, item
        for user in self.sample.users:
            assert self.domain.validate_user_properties(dict(user.properties)) == {}, user
        for props in self.valid_item_properties:
            assert self.domain.validate_item_properties(props) == {}, props
        for props in self.valid_user_properties:
            assert self.domain.validate_user_properties(props) == {}, props

    def _assert_field_error(self, errors: dict[str, list[str]], field_: str, given: Any) -> None:
        assert field_ in errors, f"{given!r}: expected an error on {field_!r}, got {errors}"
        for name, messages in errors.items():
            assert isinstance(name, str) and messages, errors
            assert all(isinstance(m, str) and m for m in messages), errors

    def test_invalid_properties_report_the_field(self) -> None:
        for props, field_ in self.invalid_item_properties:
            errors = self.domain.validate_item_properties(props)
            self._assert_field_error(errors, field_, props)
        for props, field_ in self.invalid_user_properties:
            errors = self.domain.validate_user_properties(props)
            self._assert_field_error(errors, field_, props)

    def test_non_object_properties_are_rejected(self) -> None:
        for bad in ([1, 2], "text", None):
            assert NON_FIELD in self.domain.validate_item_properties(bad)
            assert NON_FIELD in self.domain.validate_user_properties(bad)

    def test_empty_user_properties_are_valid(self) -> None:
        assert self.domain.validate_user_properties({}) == {}

    def test_config_validation(self) -> None:
        domain = self.domain
        assert domain.validate_config({}) == {}
        assert domain.validate_config(domain.default_config()) == {}
        for config in self.valid_configs:
            assert domain.validate_config(config) == {}, config
        first = next(iter(domain.interaction_types))
        generic = [
            ({"interaction_weights": {first: -1}}, f"interaction_weights.{first}"),
            ({"interaction_weights": {"no_such_type": 1}}, "interaction_weights.no_such_type"),
            ({"rules": {"no_such_rule": True}}, "rules.no_such_rule"),
            ({"no_such_setting": 1}, "no_such_setting"),
            ([], NON_FIELD),
        ]
        for config, field_ in generic + list(self.invalid_configs):
            self._assert_field_error(domain.validate_config(config), field_, config)
        for rule, default in domain.rule_switches.items():
            assert domain.validate_config({"rules": {rule: not default}}) == {}

    def test_config_keeps_declared_weight_order(self) -> None:
        for chain in self.domain.weight_order:
            low, high = chain[0], chain[-1]
            top = self.domain.interaction_types[high]
            errors = self.domain.validate_config({"interaction_weights": {low: top * 2}})
            assert errors, f"raising {low} above {high} must be rejected"

    # ---------------------------------------------------------------- interaction weights
    def test_weights_are_positive_and_ordered(self) -> None:
        domain = self.domain
        weights = {t: domain.interaction_weight(t) for t in domain.interaction_types}
        assert all(math.isfinite(w) and w > 0 for w in weights.values()), weights
        for chain in domain.weight_order:
            values = [weights[t] for t in chain]
            assert values == sorted(values) and len(set(values)) == len(values), chain

    def test_unknown_interaction_type_raises_clearly(self) -> None:
        try:
            self.domain.interaction_weight("definitely_not_a_type")
        except UnknownInteractionTypeError as exc:
            assert "definitely_not_a_type" in str(exc)
            assert next(iter(self.domain.interaction_types)) in str(exc)
        else:  # pragma: no cover - failure path
            raise AssertionError("unknown interaction type accepted")

    def test_weight_override_is_applied(self) -> None:
        t = next(iter(self.domain.interaction_types))
        base = self.domain.interaction_weight(t)
        doubled = self.domain.interaction_types[t] * 2
        assert (
            self.domain.interaction_weight(t, config={"interaction_weights": {t: doubled}}) > base
        )

    def test_weights_are_positive_for_odd_values(self) -> None:
        for t in self.domain.interaction_types:
            for value in (None, 0.0, -5.0, 1.0, 1e9, float("nan")):
                w = self.domain.interaction_weight(t, value)
                assert math.isfinite(w) and w > 0, (t, value, w)

    def test_confidence_weights_match_scalar_weights(self) -> None:
        events = self.sample.interactions
        weights = self.domain.confidence_weights(events)
        assert weights.dtype == np.float32 and weights.shape == (len(events),)
        assert np.all(weights > 0) and np.all(np.isfinite(weights))
        for e, w in zip(events[:50], weights[:50], strict=False):
            assert math.isclose(
                float(w), self.domain.interaction_weight(e.type, e.value), rel_tol=1e-5
            )

    # ---------------------------------------------------------------- features
    def _check_matrix(self, fm: Any, ids: list[str]) -> None:
        assert list(fm.ids) == ids
        assert fm.values.dtype == np.float32
        assert fm.values.ndim == 2 and fm.values.shape == (len(ids), len(fm.names))
        assert np.all(np.isfinite(fm.values))
        assert len(set(fm.names)) == len(fm.names), "feature names must be unique"

    def test_item_features_shape_dtype_and_alignment(self) -> None:
        items = self.sample.items
        fm = self.domain.item_features(items)
        self._check_matrix(fm, [i.item_id for i in items])
        assert fm.values.shape[1] > 0

    def test_item_feature_columns_do_not_depend_on_the_batch(self) -> None:
        items = self.sample.items
        full = self.domain.item_features(items)
        part = self.domain.item_features(items[1:4][::-1])
        empty = self.domain.item_features([])
        assert part.names == full.names == empty.names
        assert empty.values.shape == (0, len(full.names))
        rows = {i: r for r, i in enumerate(full.ids)}
        for r, item_id in enumerate(part.ids):
            np.testing.assert_array_equal(part.values[r], full.values[rows[item_id]])

    def test_features_tolerate_missing_and_odd_properties(self) -> None:
        items = [ItemRecord("bare"), ItemRecord("odd", {"price": "n/a", "tags": 7}, (), False)]
        self._check_matrix(self.domain.item_features(items), ["bare", "odd"])
        users = [UserRecord("bare"), UserRecord("odd", {"age": "old"})]
        fm = self.domain.user_features(users, [], items=items)
        self._check_matrix(fm, ["bare", "odd"])

    def test_user_features_shape_dtype_and_alignment(self) -> None:
        s = self.sample
        for items in (None, s.items):
            fm = self.domain.user_features(s.users, s.interactions, items=items)
            self._check_matrix(fm, [u.user_id for u in s.users])
            assert fm.values.shape[1] > 0

    def test_user_features_include_behaviour(self) -> None:
        s = self.sample
        active = next(e.user_id for e in s.interactions)
        users = [UserRecord(active), UserRecord("nobody")]  # same (empty) declared properties
        fm = self.domain.user_features(users, s.interactions)
        assert not np.array_equal(fm.values[0], fm.values[1]), "H_u must reflect behaviour"

    def test_user_feature_columns_do_not_depend_on_the_batch(self) -> None:
        s = self.sample
        full = self.domain.user_features(s.users, s.interactions, items=s.items)
        part = self.domain.user_features(s.users[:3], s.interactions, items=s.items)
        assert part.names == full.names
        np.testing.assert_allclose(part.values, full.values[:3], rtol=1e-6, atol=1e-6)

    def test_features_are_deterministic(self) -> None:
        s = self.sample
        a = self.domain.item_features(s.items)
        b = self.domain.item_features(copy.deepcopy(s.items))
        np.testing.assert_array_equal(a.values, b.values)
        u1 = self.domain.user_features(s.users, s.interactions, items=s.items)
        u2 = self.domain.user_features(s.users, list(s.interactions), items=s.items)
        np.testing.assert_array_equal(u1.values, u2.values)

    def test_interaction_features_are_optional_or_aligned(self) -> None:
        events = self.sample.interactions[:20]
        fm = self.domain.interaction_features(events)
        if fm is not None:
            assert fm.values.shape[0] == len(events)
            assert np.all(np.isfinite(fm.values))

    # ---------------------------------------------------------------- serving rules
    def test_rules_return_a_subset_without_duplicates(self) -> None:
        for s in self._all_scenarios():
            out = self._run(s)
            ids = [c.item_id for c in out]
            assert len(ids) == len(set(ids)), s.name
            assert set(ids) <= {c.item_id for c in s.candidates}, s.name
            assert all(isinstance(c, Candidate) and math.isfinite(c.score) for c in out), s.name

    def test_rules_never_return_excluded_items(self) -> None:
        for s in self._all_scenarios():
            leaked = {c.item_id for c in self._run(s)} & set(s.excluded)
            assert not leaked, f"{s.name}: excluded items returned: {sorted(leaked)}"

    def test_rules_are_deterministic_and_do_not_mutate_inputs(self) -> None:
        for s in self._all_scenarios():
            before = copy.deepcopy((s.candidates, s.history, s.user))
            first, second = self._run(s), self._run(s)
            assert first == second, s.name
            assert (s.candidates, s.history, s.user) == before, f"{s.name}: inputs mutated"

    def test_rules_take_a_resolved_config_as_the_raw_one(self) -> None:
        """Serving resolves the tenant's configuration once and hands the rules the result."""
        for s in self._all_scenarios():
            resolved = self.domain.resolve_config(s.config)
            assert self.domain.resolve_config(resolved) is resolved
            before = copy.deepcopy(resolved)
            with_resolved = self.domain.apply_rules(
                user=s.user, history=s.history, candidates=s.candidates, config=resolved, now=s.now
            )
            assert with_resolved == self._run(s), s.name
            assert resolved == before, f"{s.name}: the resolved config was mutated"

    def test_rules_accept_empty_candidates_and_anonymous_users(self) -> None:
        assert self.domain.apply_rules(user=None, history=[], candidates=[]) == []
        out = self.domain.apply_rules(
            user=None, history=[], candidates=candidates_from(self.sample.items[:5])
        )
        assert isinstance(out, list)
