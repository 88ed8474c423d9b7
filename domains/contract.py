"""Static checks of a loaded plugin against the :class:`domains.base.Domain` contract.

Django-free: used by the platform's registry at start-up and by :mod:`domains.testing`.
"""

from __future__ import annotations

import inspect
import math
import re
from typing import Any

from domains.base import Domain
from domains.validation import schema_problems

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
REQUIRED_METHODS = ("item_features", "user_features", "apply_rules", "interaction_weight")


def instantiate(obj: Any) -> Any:
    """An entry point may name a Domain subclass (instantiated without arguments) or an
    instance (or a zero-argument factory returning one)."""
    if inspect.isclass(obj) or (callable(obj) and not isinstance(obj, Domain)):
        return obj()
    return obj


def contract_problems(domain: Any, entry_point_name: str) -> list[str]:
    """Every way ``domain`` breaks the contract (empty list = it conforms)."""
    if not isinstance(domain, Domain):
        return [f"expected a domains.base.Domain subclass or instance, got {type(domain)!r}"]
    problems: list[str] = []
    name = getattr(domain, "name", None)
    if not isinstance(name, str) or not NAME_RE.match(name):
        problems.append(f"name must match {NAME_RE.pattern}, got {name!r}")
    elif name != entry_point_name:
        problems.append(f'name "{name}" differs from the entry-point name "{entry_point_name}"')
    version = getattr(domain, "version", None)
    if not isinstance(version, str) or not version.strip():
        problems.append("version must be a non-empty string")
    for attr in ("item_schema", "user_schema"):
        problems += [f"{attr}: {p}" for p in schema_problems(getattr(domain, attr, None))]
    problems += _weight_problems(domain)
    if not problems:
        try:
            problems += [f"config_schema: {p}" for p in schema_problems(domain.config_schema)]
            defaults = domain.default_config()
            if domain.validate_config(defaults):
                problems.append("the default configuration does not validate against itself")
        except Exception as exc:  # noqa: BLE001 - report any failure as a contract problem
            problems.append(f"config_schema raised {type(exc).__name__}: {exc}")
    for method in REQUIRED_METHODS:
        if not callable(getattr(domain, method, None)):
            problems.append(f"{method} is not callable")
    return problems


def _weight_problems(domain: Domain) -> list[str]:
    types = getattr(domain, "interaction_types", None)
    if not hasattr(types, "items") or not types:
        return ["interaction_types must be a non-empty mapping of type -> weight"]
    problems = []
    for type_, weight in types.items():
        if not isinstance(type_, str) or not type_:
            problems.append(f"interaction type {type_!r} must be a non-empty string")
        if (
            not isinstance(weight, int | float)
            or isinstance(weight, bool)
            or not math.isfinite(weight)
            or weight <= 0
        ):
            problems.append(f'weight of "{type_}" must be a positive finite number, got {weight!r}')
    undeclared = [t for t in getattr(domain, "goal_types", ()) if t not in types]
    if undeclared:
        problems.append(f"goal_types names undeclared interaction types {undeclared}")
    for chain in getattr(domain, "weight_order", ()):
        unknown = [t for t in chain if t not in types]
        if unknown:
            problems.append(f"weight_order names undeclared types {unknown}")
        elif any(not types[a] < types[b] for a, b in zip(chain, chain[1:], strict=False)):
            problems.append(f"default weights are not strictly increasing along {list(chain)}")
    for rule, default in getattr(domain, "rule_switches", {}).items():
        if not isinstance(default, bool):
            problems.append(f'rule switch "{rule}" default must be a bool')
    for param, schema in getattr(domain, "parameters", {}).items():
        if param in ("interaction_weights", "rules") or not isinstance(schema, dict):
            problems.append(f'parameter "{param}" must be a non-reserved name with a dict schema')
        elif "default" not in schema:
            problems.append(f'parameter "{param}" has no "default"')
    return problems
