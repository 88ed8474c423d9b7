"""Fast per-value cleaners for the rows of ingestion batches (and ids in paths).

DRF serializers validate one row in roughly 100 µs; a 10,000-row batch would spend a second
there. These cleaners do the same checks in plain Python and raise :class:`RowError` with the
message; :mod:`m6rec.common.batch_rows` runs them over a batch, collects every problem as
``{"row", "field", "message"}`` and wraps that in DRF fields so the views still validate
through their Input serializers.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from m6rec.common.errors import quoted

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
        raise RowError(f"Must be a string, got {json_type(value)}.")
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


def json_type(value: Any) -> str:
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
        raise RowError(f"Must be a number, got {json_type(value)}.")
    value = float(value)
    if not math.isfinite(value):
        raise RowError("Must be a finite number (NaN and Infinity are not allowed).")
    return value


def clean_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise RowError(f"Must be true or false, got {json_type(value)}.")
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
        f"Must be seconds since the epoch or an ISO 8601 string, got {json_type(value)}."
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
        raise RowError(f"Must be an object, got {json_type(value)}.")
    _check_json(value, "", 1)
    return value


def clean_categories(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise RowError(f"Must be an array of strings, got {json_type(value)}.")
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
        raise RowError(f"Must be a string, got {json_type(value)}.")
    if not 1 <= len(value) <= 64 or not value.isprintable():
        raise RowError("Must be a printable string of 1 to 64 characters.")
    return value
