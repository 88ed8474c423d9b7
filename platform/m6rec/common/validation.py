"""Fast per-row validation for batches of up to 10,000 rows.

DRF serializers validate one row in roughly 100 µs; a 10,000-row batch would spend a second
there. These cleaners do the same checks in plain Python, collect every problem as
``{"row", "field", "message"}`` and are wrapped in DRF fields (:class:`BatchRowsField`) so the
views still validate through their Input serializers.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from m6rec.common.errors import BatchValidationError, quoted

MAX_BATCH_ROWS = 10_000
MAX_ID_LENGTH = 255
MAX_JSON_DEPTH = 16
MIN_TIMESTAMP = 0.0  # 1970-01-01
MAX_TIMESTAMP = 4_102_444_800.0  # 2100-01-01

Cleaner = Callable[[Any], Any]


class RowError(ValueError):
    """A cleaner's complaint about one value."""


def _describe_char(ch: str) -> str:
    name = unicodedata.name(ch, "")
    category = unicodedata.category(ch)
    kind = {
        "Cc": "a control character",
        "Cf": "an invisible format character",
        "Cs": "a lone surrogate",
        "Co": "a private-use character",
        "Cn": "an unassigned code point",
        "Zl": "a line separator",
        "Zp": "a paragraph separator",
        "Zs": "a non-ASCII space",
    }.get(category, "a disallowed character")
    return f"{kind} U+{ord(ch):04X}{' ' + name if name else ''}"


def clean_id(value: Any, *, allow_slash: bool = False, what: str = "id") -> str:
    """An external id: a non-empty string of at most 255 printable characters, no
    leading/trailing whitespace, no "/" (ids appear in URL paths)."""
    if not isinstance(value, str):
        raise RowError(f"Must be a string, got {_json_type(value)}.")
    if not value:
        raise RowError(f"The {what} must not be empty.")
    if len(value) > MAX_ID_LENGTH:
        raise RowError(f"The {what} is {len(value)} characters long; at most 255 are allowed.")
    if not value.isprintable():
        bad = next(i for i, ch in enumerate(value) if not ch.isprintable())
        raise RowError(
            f"The {what} contains {_describe_char(value[bad])} at position {bad}; "
            "ids must consist of printable characters."
        )
    if value != value.strip():
        raise RowError(f"The {what} must not start or end with whitespace.")
    if not allow_slash and "/" in value:
        raise RowError(f'The {what} must not contain "/" (ids are used in URL paths).')
    return value


# The id rule as an OpenAPI/JSON Schema ``pattern`` (with minLength 1, maxLength 255): no
# leading/trailing whitespace and none of the characters ``str.isprintable`` refuses in the Basic
# Multilingual Plane (controls, invisible format characters, non-ASCII spaces, line/paragraph
# separators, surrogates, private use). Unassigned code points and the few such characters above
# U+FFFF are refused too but not listed. A test checks this against :func:`clean_id`.
_NOT_IN_IDS = (
    r"\u0000-\u001f\u007f-\u00a0\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u1680"
    r"\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u2066-\u206f\u3000\ud800-\uf8ff\ufeff\ufff9-\ufffb"
)


def _id_pattern(*, allow_slash: bool) -> str:
    slash = "" if allow_slash else "/"
    inner = f"[^{_NOT_IN_IDS}{slash}]"  # an ASCII space is fine between other characters
    edge = f"[^{_NOT_IN_IDS} {slash}]"
    return f"^{edge}(?:{inner}*{edge})?$"


ID_PATTERN = _id_pattern(allow_slash=False)  # item_id, user_id (body and path)
EVENT_ID_PATTERN = _id_pattern(allow_slash=True)


def clean_path_id(value: str, *, param: str) -> str:
    """A tenant id taken from the URL path, under the same rule as ids in bodies (:func:`clean_id`).

    An id that breaks the rule answers 400 ``invalid`` naming the path parameter, as the same id
    in a body does, and not 404: no such id can ever have been stored (every way in applies
    :func:`clean_id`), so the answer depends on the request alone and says nothing about any
    tenant's data, and it tells the client what is wrong with the id. 404 would also be
    misleading where an unknown id is not an error (``/users/{user_id}/recommendations`` serves
    an unknown user popularity). Valid ids, including another tenant's, go on to the lookup, which
    answers a foreign id exactly as a missing one.
    """
    if is_plain_id(value):
        return value
    try:
        return clean_id(value, what=f"{param} in the path")
    except RowError as exc:
        raise serializers.ValidationError({param: [str(exc)]}) from None


def is_plain_id(value: Any) -> bool:
    """True for an id :func:`clean_id` accepts unchanged (fast check, no messages)."""
    return (
        type(value) is str
        and 0 < len(value) <= MAX_ID_LENGTH
        and value.isprintable()
        and "/" not in value
        and value[0] != " "
        and value[-1] != " "
    )


def clean_optional_id(value: Any) -> str | None:
    if value is None:
        return None
    return clean_id(value, allow_slash=True, what="event_id")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def clean_number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RowError(f"Must be a number, got {_json_type(value)}.")
    value = float(value)
    if not math.isfinite(value):
        raise RowError("Must be a finite number (NaN and Infinity are not allowed).")
    return value


def clean_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise RowError(f"Must be true or false, got {_json_type(value)}.")
    return value


def clean_timestamp(value: Any) -> datetime:
    """Seconds since the epoch (number) or an ISO 8601 string; naive times are UTC."""
    if isinstance(value, bool):
        raise RowError("Must be seconds since the epoch or an ISO 8601 string, got a boolean.")
    if isinstance(value, int | float):
        if not math.isfinite(value) or not MIN_TIMESTAMP <= value < MAX_TIMESTAMP:
            raise RowError("Epoch seconds must lie between 1970 and 2100.")
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value) if len(value) <= 64 else None
        except ValueError:
            parsed = None
        if parsed is None:
            raise RowError(f"Not an ISO 8601 date-time: {quoted(value)}.")
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        if not 1970 <= parsed.year < 2100:
            raise RowError("The timestamp must lie between 1970 and 2100.")
        return parsed
    raise RowError(
        f"Must be seconds since the epoch or an ISO 8601 string, got {_json_type(value)}."
    )


def _check_json(value: Any, path: str, depth: int) -> None:
    if depth > MAX_JSON_DEPTH:
        raise RowError(f"{path or 'value'} is nested more than {MAX_JSON_DEPTH} levels deep.")
    if isinstance(value, str):
        _check_text(value, path)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, f"{path}.{key}" if path else "key")
            _check_json(item, f"{path}.{key}" if path else key, depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_json(item, f"{path}[{i}]", depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        raise RowError(f"{path or 'value'}: numbers must be finite.")


def _check_text(text: str, path: str) -> None:
    if "\x00" in text:
        raise RowError(
            f"{path or 'text'} contains a NUL character (U+0000), which cannot be stored."
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise RowError(
            f"{path or 'text'} contains a lone surrogate; send valid UTF-16 pairs."
        ) from None


def clean_properties(value: Any) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RowError(f"Must be an object, got {_json_type(value)}.")
    _check_json(value, "", 1)
    return value


def clean_categories(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise RowError(f"Must be an array of strings, got {_json_type(value)}.")
    if len(value) > 100:
        raise RowError("At most 100 categories are allowed.")
    out = []
    for i, cat in enumerate(value):
        if not isinstance(cat, str) or not cat or len(cat) > 100 or not cat.isprintable():
            raise RowError(
                f"Category {i} must be a non-empty printable string of at most 100 characters."
            )
        out.append(cat)
    return out


def clean_type(value: Any) -> str:
    if not isinstance(value, str):
        raise RowError(f"Must be a string, got {_json_type(value)}.")
    if not 1 <= len(value) <= 64 or not value.isprintable():
        raise RowError("Must be a printable string of 1 to 64 characters.")
    return value


class RowSpec:
    """Field name → cleaner, which fields are required, defaults for the others."""

    def __init__(
        self,
        cleaners: Mapping[str, Cleaner],
        *,
        required: tuple[str, ...],
        defaults: Mapping[str, Any] | None = None,
        fast: Callable[[dict], dict | None] | None = None,
    ) -> None:
        """``fast`` (optional) cleans an ordinary row in one go, or returns None to send it
        through the field-by-field path (which also produces the error messages); it must
        accept only rows that path accepts, with the same result."""
        self.fast = fast
        self.cleaners = dict(cleaners)
        self.required = required
        self.defaults = dict(defaults or {})
        self.allowed = frozenset(self.cleaners)

    def clean(self, rows: list[Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """``(cleaned rows, errors)``; a row with errors is ``None`` in the cleaned list."""
        cleaned: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        cleaners, required, defaults, allowed = (
            self.cleaners,
            self.required,
            self.defaults,
            self.allowed,
        )
        fast = self.fast
        for index, row in enumerate(rows):
            if fast is not None and type(row) is dict:
                out = fast(row)
                if out is not None:
                    cleaned.append(out)
                    continue
            if not isinstance(row, dict):
                errors.append(
                    {
                        "row": index,
                        "field": None,
                        "message": f"Must be an object, got {_json_type(row)}.",
                    }
                )
                cleaned.append(None)
                continue
            out: dict[str, Any] = {}
            ok = True
            if not row.keys() <= allowed:
                for name in sorted(map(str, row.keys() - allowed)):
                    errors.append({"row": index, "field": name[:100], "message": "Unknown field."})
                ok = False
            for name in required:
                if name not in row:
                    errors.append(
                        {"row": index, "field": name, "message": "This field is required."}
                    )
                    ok = False
            for name, value in row.items():
                cleaner = cleaners.get(name)
                if cleaner is None:
                    continue
                try:
                    out[name] = cleaner(value)
                except RowError as exc:
                    errors.append({"row": index, "field": name, "message": str(exc)})
                    ok = False
            if ok:
                for name, default in defaults.items():
                    if name not in out:
                        out[name] = default() if callable(default) else default
                cleaned.append(out)
            else:
                cleaned.append(None)
        return cleaned, errors


class BatchRowsField(serializers.Field):
    """A JSON array of 1..``max_rows`` rows cleaned by a :class:`RowSpec`.

    Raises :class:`BatchValidationError` (every row and field at once). Subclasses may add
    checks that need the tenant (``self.context["tenant"]``) in :meth:`check_rows`.
    """

    spec: RowSpec
    max_rows = MAX_BATCH_ROWS

    def to_internal_value(self, data):
        if not isinstance(data, list):
            raise BatchValidationError(
                [
                    {
                        "row": None,
                        "field": self.field_name,
                        "message": f"Must be an array, got {_json_type(data)}.",
                    }
                ]
            )
        if not 1 <= len(data) <= self.max_rows:
            raise BatchValidationError(
                [
                    {
                        "row": None,
                        "field": self.field_name,
                        "message": f"Send between 1 and {self.max_rows} rows; got {len(data)}.",
                    }
                ]
            )
        rows, errors = self.spec.clean(data)
        errors += self.check_rows(rows)
        if errors:
            errors.sort(key=lambda e: e["row"])
            raise BatchValidationError(errors, total_rows=len(data))
        return rows

    def check_rows(self, rows: list[dict[str, Any] | None]) -> list[dict[str, Any]]:
        """Further checks over all rows; ``None`` marks a row that already failed."""
        return []

    def to_representation(self, value):
        return value


class BatchInputSerializer(serializers.Serializer):
    """An envelope ``{"<rows_key>": [...]}``: unknown keys refused, the rows field's
    :class:`BatchValidationError` passed through untouched."""

    rows_key: str = ""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise BatchValidationError(
                [
                    {
                        "row": None,
                        "field": None,
                        "message": f"Expected a JSON object, got {_json_type(data)}.",
                    }
                ]
            )
        problems = [
            {"row": None, "field": str(k)[:100], "message": "Unknown field."}
            for k in data
            if k != self.rows_key
        ]
        if self.rows_key not in data:
            problems.append(
                {"row": None, "field": self.rows_key, "message": "This field is required."}
            )
        if problems:
            raise BatchValidationError(problems)
        return {self.rows_key: self.fields[self.rows_key].run_validation(data[self.rows_key])}

    def is_valid(self, *, raise_exception: bool = False) -> bool:
        # DRF's is_valid would flatten BatchValidationError into a generic ValidationError.
        assert hasattr(self, "initial_data"), "pass data= to the serializer"
        try:
            self._validated_data = self.run_validation(self.initial_data)
        except BatchValidationError as exc:
            self._validated_data = {}
            self._errors = {"errors": exc.errors}
            if raise_exception:
                raise
            return False
        self._errors = {}
        return True
