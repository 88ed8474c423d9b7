"""The domain plugin contract.

A :class:`Domain` declares its name and version, JSON Schemas for item and user properties and
for a tenant's configuration, its interaction types with default confidence weights, feature
extractors that turn stored JSON properties into :class:`engine.features.FeatureMatrix` arrays,
and serving rules applied to candidate lists. Register a subclass in the entry-point group
``m6rec.domains`` (see ``docs/writing-a-domain-plugin.md``).

Tenant configuration (validated by :meth:`Domain.validate_config`) has this shape::

    {"interaction_weights": {"purchase": 10.0},   # overrides of interaction_types
     "rules": {"exclude_out_of_stock": true},      # switches declared in rule_switches
     "<parameter>": ...}                           # domain parameters declared in parameters
"""

from __future__ import annotations

import copy
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

import numpy as np

from domains.records import Candidate, InteractionRecord, ItemRecord, UserRecord
from domains.validation import validate
from engine.features import FeatureMatrix

__all__ = [
    "Candidate",
    "Domain",
    "FeatureMatrix",
    "InteractionRecord",
    "ItemRecord",
    "ResolvedConfig",
    "UnknownInteractionTypeError",
    "UserRecord",
]


class ResolvedConfig(dict):
    """A configuration :meth:`Domain.resolve_config` returned (read-only by convention).

    Resolving it again returns it as it is: serving resolves a tenant's configuration once per
    request and hands the result to the rules and weights, which resolve what they are given.
    """


class UnknownInteractionTypeError(ValueError):
    """An interaction type the domain does not declare."""

    def __init__(self, domain: str, type_: str, known: Sequence[str]) -> None:
        self.domain, self.type, self.known = domain, type_, list(known)
        super().__init__(
            f'Unknown interaction type "{type_}" for domain "{domain}". '
            f"Known types: {', '.join(known)}"
        )


class Domain(ABC):
    """Base class every domain plugin subclasses. Instances are stateless and thread-safe.

    Class attributes a subclass sets:

    * ``name`` (entry-point name, ``[a-z][a-z0-9_]*``) and ``version`` (a string).
    * ``item_schema`` / ``user_schema``: JSON Schema (Draft 2020-12) objects for properties.
    * ``interaction_types``: type → default confidence weight (> 0), in declaration order.
    * ``weight_order``: chains of types whose weights must strictly increase, e.g.
      ``(("view", "add_to_cart", "purchase"),)``; checked for defaults and tenant overrides.
    * ``rule_switches``: rule name → enabled by default (tenants may switch them).
    * ``parameters``: extra config parameter → JSON Schema with a ``"default"``.
    * ``goal_types``: the interaction types that count as a conversion in online metrics and
      experiments (default: the heaviest type); ``attribution_window_hours``: how long after a
      recommendation an interaction may still be attributed to it; ``explain_by_default``:
      recommendation responses explain each item unless the request says otherwise. Tenants
      override all three under the config key ``online``.
    """

    name: ClassVar[str]
    version: ClassVar[str]
    description: ClassVar[str] = ""
    item_schema: ClassVar[dict[str, Any]]
    user_schema: ClassVar[dict[str, Any]]
    interaction_types: ClassVar[Mapping[str, float]]
    weight_order: ClassVar[tuple[tuple[str, ...], ...]] = ()
    rule_switches: ClassVar[Mapping[str, bool]] = {}
    parameters: ClassVar[Mapping[str, dict[str, Any]]] = {}
    goal_types: ClassVar[tuple[str, ...]] = ()
    attribution_window_hours: ClassVar[int] = 24
    explain_by_default: ClassVar[bool] = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} v{self.version}>"

    # ------------------------------------------------------------------ configuration
    @property
    def config_schema(self) -> dict[str, Any]:
        """JSON Schema of a tenant's configuration (all keys optional, no unknown keys)."""
        weight = {"type": "number", "exclusiveMinimum": 0, "maximum": 1e6}
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "interaction_weights": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {t: dict(weight) for t in self.interaction_types},
                },
                "rules": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {r: {"type": "boolean"} for r in self.rule_switches},
                },
                "online": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "goal_types": {
                            "type": "array",
                            "items": {"enum": list(self.interaction_types)},
                            "minItems": 1,
                            "uniqueItems": True,
                        },
                        "attribution_window_hours": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 24 * 90,
                        },
                        "explain": {"type": "boolean"},
                    },
                },
                **{k: copy.deepcopy(v) for k, v in self.parameters.items()},
            },
        }

    def default_config(self) -> dict[str, Any]:
        """The complete configuration a tenant gets when it overrides nothing."""
        return {
            "interaction_weights": {t: float(w) for t, w in self.interaction_types.items()},
            "rules": dict(self.rule_switches),
            "online": {
                "goal_types": list(self.default_goal_types()),
                "attribution_window_hours": int(self.attribution_window_hours),
                "explain": bool(self.explain_by_default),
            },
            **{k: copy.deepcopy(v.get("default")) for k, v in self.parameters.items()},
        }

    def default_goal_types(self) -> tuple[str, ...]:
        """``goal_types``, or the type with the largest default weight."""
        if self.goal_types:
            return tuple(self.goal_types)
        return (max(self.interaction_types, key=lambda t: self.interaction_types[t]),)

    def resolve_config(self, config: Mapping[str, Any] | None) -> dict[str, Any]:
        """Defaults overlaid with ``config`` (weights and rules merged key by key).

        Does not validate; tenant config is validated when saved (:meth:`validate_config`).
        A :class:`ResolvedConfig` is returned unchanged.
        """
        if isinstance(config, ResolvedConfig):
            return config
        resolved = ResolvedConfig(self.default_config())
        for key, value in (config or {}).items():
            if key in ("interaction_weights", "rules", "online") and isinstance(value, Mapping):
                resolved[key].update(value)
            else:
                resolved[key] = copy.deepcopy(value)
        return resolved

    def rule_enabled(self, config: Mapping[str, Any], rule: str) -> bool:
        """Whether ``rule`` is on in a *resolved* config."""
        return bool(config.get("rules", {}).get(rule, self.rule_switches.get(rule, False)))

    # ------------------------------------------------------------------ validation
    def validate_item_properties(self, properties: Any) -> dict[str, list[str]]:
        """Field → messages for an item's ``properties`` (empty dict = valid)."""
        return validate(self.item_schema, properties)

    def validate_user_properties(self, properties: Any) -> dict[str, list[str]]:
        """Field → messages for a user's ``properties`` (empty dict = valid)."""
        return validate(self.user_schema, properties)

    def validate_config(self, config: Any) -> dict[str, list[str]]:
        """Field → messages for a tenant's domain configuration (empty dict = valid).

        Besides the schema, overridden weights must keep every ``weight_order`` chain strictly
        increasing (errors under ``interaction_weights.<type>``).
        """
        errors = validate(self.config_schema, config)
        if not isinstance(config, Mapping) or any(
            k == "__all__" or k.startswith("interaction_weights") for k in errors
        ):
            return errors
        weights = self.resolve_config(config)["interaction_weights"]
        for chain in self.weight_order:
            for low, high in zip(chain, chain[1:], strict=False):
                if not weights[low] < weights[high]:
                    errors.setdefault(f"interaction_weights.{high}", []).append(
                        f'Must be greater than the weight of "{low}" ({weights[low]:g}).'
                    )
        return errors

    # ------------------------------------------------------------------ interactions
    def interaction_weight(
        self, type: str, value: float | None = None, *, config: Mapping[str, Any] | None = None
    ) -> float:
        """Confidence weight (> 0, finite) of one event: base weight × :meth:`value_factor`.

        Raises :class:`UnknownInteractionTypeError` for an undeclared ``type``.
        """
        return self._weight(self._weights(config), type, value)

    def confidence_weights(
        self,
        interactions: Sequence[InteractionRecord],
        *,
        config: Mapping[str, Any] | None = None,
    ) -> np.ndarray:
        """Vectorised :meth:`interaction_weight`: float32 (n_interactions,), all > 0.

        Raises :class:`UnknownInteractionTypeError` on the first undeclared type.
        """
        weights = self._weights(config)
        out = np.empty(len(interactions), dtype=np.float32)
        for i, event in enumerate(interactions):
            out[i] = self._weight(weights, event.type, event.value)
        return out

    def _weights(self, config: Mapping[str, Any] | None) -> Mapping[str, float]:
        """Default weights overlaid with the config's overrides (cheap: no deep copy)."""
        overrides = (config or {}).get("interaction_weights")
        if not isinstance(overrides, Mapping) or not overrides:
            return self.interaction_types
        return {**self.interaction_types, **overrides}

    def _weight(self, weights: Mapping[str, float], type: str, value: float | None) -> float:
        if type not in self.interaction_types:
            raise UnknownInteractionTypeError(self.name, type, list(self.interaction_types))
        base = float(weights[type])
        try:
            weight = base * float(self.value_factor(type, value))
        except (TypeError, ValueError):
            return base
        return weight if math.isfinite(weight) and weight > 0 else base

    def value_factor(self, type: str, value: float | None) -> float:
        """Multiplier from an event's ``value`` (quantity, dwell, progress...). Default 1."""
        return 1.0

    # ------------------------------------------------------------------ features
    @abstractmethod
    def item_features(
        self, items: Sequence[ItemRecord], *, config: Mapping[str, Any] | None = None
    ) -> FeatureMatrix:
        """Item features V_i: ``ids`` = item ids in input order, ``values`` float32 (n_items, d).

        ``names`` (length d) must not depend on which items are passed (fixed vocabularies or
        feature hashing), so serving-time rows line up with training-time columns.
        """

    @abstractmethod
    def user_features(
        self,
        users: Sequence[UserRecord],
        interactions: Sequence[InteractionRecord],
        *,
        config: Mapping[str, Any] | None = None,
        items: Sequence[ItemRecord] | None = None,
    ) -> FeatureMatrix:
        """User features: declared properties plus behaviour aggregates H_u.

        ``ids`` = user ids in input order, ``values`` float32 (n_users, d). Interactions of
        users not listed are ignored; a user without interactions gets zero aggregates. When
        ``items`` is given, the aggregates also include the user's weighted taste profile over
        item attributes. Times are relative to the latest interaction passed (deterministic).
        """

    def interaction_features(
        self,
        interactions: Sequence[InteractionRecord],
        *,
        config: Mapping[str, Any] | None = None,
    ) -> FeatureMatrix | None:
        """Optional context features, one row per interaction in input order (or ``None``).

        ``ids`` are ``"<row>:<user_id>:<item_id>"`` (see :func:`domains.extractors.event_ids`);
        ``values`` float32 (n_interactions, d).
        """
        return None

    # ------------------------------------------------------------------ serving
    @abstractmethod
    def apply_rules(
        self,
        *,
        user: UserRecord | None,
        history: Sequence[InteractionRecord],
        candidates: Sequence[Candidate],
        config: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> list[Candidate]:
        """Filter, reorder and annotate candidates (best first); never adds new item ids.

        ``user`` is ``None`` for anonymous requests; ``history`` is the user's interactions
        (any order). The serving layer over-fetches (e.g. 3×k) and cuts the result to k.
        ``now`` (default: current UTC time) is used by time-dependent rules such as freshness.
        Must not mutate its inputs; returns a new list of (possibly re-scored) candidates.
        """
