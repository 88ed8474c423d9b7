"""A strict JSON parser with a body-size limit.

Python's ``json`` accepts ``NaN``, ``Infinity`` and ``-Infinity`` and turns ``1e999`` into
``inf``; none of them is JSON and none can be stored in PostgreSQL's jsonb, so all are refused
here with a message that names the problem. DRF streams the body straight from the request,
bypassing ``DATA_UPLOAD_MAX_MEMORY_SIZE``, so the limit is enforced here too (413).
"""

from __future__ import annotations

import json
import math
import re

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from m6rec.common.errors import RequestTooLarge


class _NonFiniteNumber(ValueError):
    pass


def _reject_constant(name: str):
    raise _NonFiniteNumber(f"{name} is not valid JSON (numbers must be finite)")


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NonFiniteNumber(f"number {text[:40]} is out of range (numbers must be finite)")
    return value


def _parse_int(text: str) -> int:
    if len(text) > 40:
        raise _NonFiniteNumber(f"integer {text[:20]}… is too large")
    return int(text)


def max_body_bytes() -> int:
    return int(getattr(settings, "M6REC_MAX_BODY_BYTES", settings.DATA_UPLOAD_MAX_MEMORY_SIZE))


# Only a number with a 3-digit exponent or a run of 41+ digits can overflow a float or be an
# oversized integer; bodies without one are parsed without per-number Python callbacks.
_SUSPICIOUS_NUMBER = re.compile(r"\d[eE][+]?\d{3}|\d{41}")
_SUSPICIOUS_NUMBER_B = re.compile(rb"\d[eE][+]?\d{3}|\d{41}")


def loads_strict(raw: bytes | str):
    """``json.loads`` that refuses NaN/Infinity/overflowing numbers; raises ParseError."""
    pattern = _SUSPICIOUS_NUMBER_B if isinstance(raw, bytes) else _SUSPICIOUS_NUMBER
    hooks = {}
    if pattern.search(raw):
        hooks = {"parse_float": _parse_float, "parse_int": _parse_int}
    try:
        return json.loads(raw, parse_constant=_reject_constant, **hooks)
    except _NonFiniteNumber as exc:
        raise ParseError(f"JSON parse error: {exc}.") from exc
    except UnicodeDecodeError as exc:
        raise ParseError("JSON parse error: the body is not valid UTF-8.") from exc
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"JSON parse error: {exc.msg} at line {exc.lineno} column {exc.colno}."
        ) from exc
    except RecursionError as exc:
        raise ParseError("JSON parse error: nested too deeply.") from exc
    except ValueError as exc:
        raise ParseError(f"JSON parse error: {exc}.") from exc


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = max_body_bytes()
        request = (parser_context or {}).get("request")
        if request is not None:
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            if declared > limit:
                raise RequestTooLarge(
                    f"Request body is {declared} bytes; the limit is {limit} bytes."
                )
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise RequestTooLarge(f"Request body exceeds the limit of {limit} bytes.")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        if encoding.lower().replace("-", "") != "utf8":
            try:
                raw = raw.decode(encoding)
            except (LookupError, UnicodeDecodeError) as exc:
                raise ParseError(f"JSON parse error: cannot decode body as {encoding}.") from exc
        return loads_strict(raw)
