"""JSON Schema validation with per-field error messages (uses the ``jsonschema`` package)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

#: Key for errors that belong to the whole object rather than one field (Django's convention).
NON_FIELD = "__all__"


@lru_cache(maxsize=64)
def _validator(schema_key: str) -> Draft202012Validator:
    import json

    return Draft202012Validator(
        json.loads(schema_key), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def validator_for(schema: Mapping[str, Any]) -> Draft202012Validator:
    """A cached Draft 2020-12 validator (with format checks) for ``schema``."""
    import json

    return _validator(json.dumps(schema, sort_keys=True))


def _field_of(error: ValidationError) -> list[str]:
    """Dotted field path(s) an error belongs to; a missing required property names itself."""
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator in ("required", "dependentRequired") and isinstance(error.instance, Mapping):
        wanted = error.validator_value
        if isinstance(wanted, Mapping):  # dependentRequired: {present: [also required]}
            wanted = [d for k, deps in wanted.items() if k in error.instance for d in deps]
        missing = [k for k in wanted if k not in error.instance]
        return [f"{path}.{k}" if path else k for k in missing] or [path or NON_FIELD]
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        allowed = set(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed]
        return [f"{path}.{k}" if path else k for k in extra] or [path or NON_FIELD]
    return [path or NON_FIELD]


def _message_of(error: ValidationError) -> str:
    if error.validator == "required":
        return "This field is required."
    if error.validator == "dependentRequired":
        return error.message.replace("is a dependency of", "is required with")
    if error.validator == "additionalProperties":
        return "Unknown field."
    return error.message


def validate(schema: Mapping[str, Any], instance: Any) -> dict[str, list[str]]:
    """Validate ``instance`` against ``schema``; return field → messages (empty dict = valid).

    Fields are dotted paths (``"price"``, ``"dimensions.width"``, ``"tags.2"``); errors about the
    object itself go under ``"__all__"``. Messages are sorted per field, so output is stable.
    """
    errors: dict[str, list[str]] = {}
    for error in validator_for(schema).iter_errors(instance):
        for name in _field_of(error):
            errors.setdefault(name, []).append(_message_of(error))
    return {k: sorted(set(v)) for k, v in sorted(errors.items())}


def schema_problems(schema: Any) -> list[str]:
    """Problems that make ``schema`` itself unusable (not a dict / not valid JSON Schema)."""
    from jsonschema.exceptions import SchemaError

    if not isinstance(schema, Mapping):
        return [f"schema must be a dict, got {type(schema).__name__}"]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return [f"invalid JSON Schema: {exc.message}"]
    if schema.get("type") != "object":
        return ['schema must describe an object ("type": "object")']
    return []
