"""A strict JSON parser with a body-size limit.

Python's ``json`` accepts ``NaN``, ``Infinity`` and ``-Infinity`` and turns ``1e999`` into
``inf``; none of them is JSON and none can be stored in PostgreSQL's jsonb, so all are refused
here with a message that names the problem. It also keeps the last of repeated keys in an
object (``{"user_id": "a", "user_id": "b"}``), which hides a client's bug: refused too (RFC 8259
leaves their meaning undefined). Bodies are UTF-8 as RFC 8259 requires for JSON exchanged
between systems: a declared ``charset`` other than UTF-8 is a 415, bytes that are not UTF-8
(UTF-16/32, which ``json.loads`` would otherwise detect and decode) a 400; a leading UTF-8 byte
order mark is ignored, as the RFC allows. DRF streams the body straight from the request,
bypassing ``DATA_UPLOAD_MAX_MEMORY_SIZE``, so the limit is enforced here too (413).
"""

from __future__ import annotations

import codecs
import json
import math
import re

from django.conf import settings
from django.utils.http import parse_header_parameters
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.parsers import JSONParser

from m6rec.common.errors import RequestTooLarge, quoted


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


class _DuplicateKey(ValueError):
    pass


def _object_without_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(f"duplicate key {quoted(key)} in an object")
            seen.add(key)
    return obj


def max_body_bytes() -> int:
    return int(settings.M6REC_MAX_BODY_BYTES)


# Only a number with a 3-digit exponent or a run of 41+ digits can overflow a float or be an
# oversized integer; bodies without one are parsed without per-number Python callbacks.
_SUSPICIOUS_NUMBER = re.compile(r"\d[eE][+]?\d{3}|\d{41}")
_UTF8_CHARSETS = frozenset({"utf-8", "ascii"})  # codecs' names; ASCII is a subset of UTF-8


def _not_utf8(problem: str) -> ParseError:
    return ParseError(
        f"JSON parse error: the body is not valid UTF-8 ({problem}); "
        "JSON must be sent as UTF-8 (RFC 8259)."
    )


def _utf8_text(raw: bytes) -> str:
    """The body decoded as UTF-8 (a leading byte order mark dropped), or ParseError."""
    utf16_or_32 = "it looks like UTF-16 or UTF-32"
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if raw[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) or b"\x00" in raw[:4]:
            raise _not_utf8(utf16_or_32) from exc
        raise _not_utf8(f"invalid byte at position {exc.start}") from exc
    if "\x00" in text[:4]:  # UTF-16/32 of ASCII without a byte order mark is valid UTF-8
        raise _not_utf8(utf16_or_32)
    return text


def loads_strict(raw: bytes | str):
    """``json.loads`` that refuses NaN/Infinity/overflowing numbers, repeated keys in an object
    and (for bytes) anything but UTF-8; raises ParseError."""
    text = _utf8_text(raw) if isinstance(raw, bytes) else raw
    hooks = {}
    if _SUSPICIOUS_NUMBER.search(text):
        hooks = {"parse_float": _parse_float, "parse_int": _parse_int}
    try:
        return json.loads(
            text,
            parse_constant=_reject_constant,
            object_pairs_hook=_object_without_duplicate_keys,
            **hooks,
        )
    except (_NonFiniteNumber, _DuplicateKey) as exc:
        raise ParseError(f"JSON parse error: {exc}.") from exc
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
        _require_utf8_charset(media_type)
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
        return loads_strict(raw)


def _require_utf8_charset(media_type: str | None) -> None:
    """415 for ``Content-Type: application/json; charset=<anything but UTF-8>``."""
    _, params = parse_header_parameters(media_type or "")
    charset = params.get("charset")
    if charset is None:
        return
    try:
        name = codecs.lookup(charset).name
    except LookupError:
        name = None
    if name not in _UTF8_CHARSETS:
        raise UnsupportedMediaType(
            media_type,
            detail=f"JSON bodies must be UTF-8 (RFC 8259); charset {quoted(charset)} is not "
            "supported.",
        )
