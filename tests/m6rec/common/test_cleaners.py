"""Unit tests of the fast row cleaners and the strict JSON parser."""

from datetime import UTC, datetime

import pytest
from rest_framework.exceptions import ParseError

from m6rec.common import validation as v
from m6rec.common.parsers import loads_strict


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
        (1700000000.5, datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=UTC)),
        ("2024-05-01T12:00:00Z", datetime(2024, 5, 1, 12, tzinfo=UTC)),
        ("2024-05-01T14:00:00+02:00", datetime(2024, 5, 1, 12, tzinfo=UTC)),
        ("2024-05-01T12:00:00", datetime(2024, 5, 1, 12, tzinfo=UTC)),
    ],
)
def test_clean_timestamp_accepts(value, expected):
    assert v.clean_timestamp(value) == expected


@pytest.mark.parametrize("value", [True, -1, 5e9, "yesterday", "2024-13-01T00:00:00", None, [1]])
def test_clean_timestamp_rejects(value):
    with pytest.raises(v.RowError):
        v.clean_timestamp(value)


@pytest.mark.parametrize("value", [True, "1", None, float("nan"), float("inf")])
def test_clean_number_rejects(value):
    with pytest.raises(v.RowError):
        v.clean_number(value)


def test_clean_number_accepts_ints_and_floats():
    assert v.clean_number(3) == 3.0 and v.clean_number(-2.5) == -2.5


def test_properties_depth_is_bounded():
    deep: dict = {}
    node = deep
    for _ in range(v.MAX_JSON_DEPTH + 2):
        node["x"] = {}
        node = node["x"]
    with pytest.raises(v.RowError, match="nested"):
        v.clean_properties(deep)
    assert v.clean_properties({"a": [1, {"b": "ok"}]}) == {"a": [1, {"b": "ok"}]}


def test_event_id_may_contain_a_slash_but_ids_may_not():
    assert v.clean_optional_id("2024/05/01:u1") == "2024/05/01:u1"
    assert v.clean_optional_id(None) is None
    with pytest.raises(v.RowError):
        v.clean_id("a/b")


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}', "1e400", "9" * 50])
def test_strict_json_refuses_non_finite_and_huge_numbers(text):
    with pytest.raises(ParseError):
        loads_strict(text)


def test_strict_json_parses_ordinary_documents():
    assert loads_strict('{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}


def _accepted(value: str, *, allow_slash: bool) -> bool:
    try:
        v.clean_id(value, allow_slash=allow_slash)
    except v.RowError:
        return False
    return True


@pytest.mark.parametrize(
    ("pattern", "allow_slash"), [(v.ID_PATTERN, False), (v.EVENT_ID_PATTERN, True)]
)
def test_documented_id_patterns_agree_with_clean_id(pattern, allow_slash):
    """The pattern the OpenAPI schema publishes accepts exactly the ids clean_id accepts, for
    every assigned character of the Basic Multilingual Plane, inside an id and at its edges."""
    import re
    import unicodedata

    compiled = re.compile(pattern)
    for code in range(0x10000):
        ch = chr(code)
        if unicodedata.category(ch) == "Cn":
            continue  # unassigned: refused by clean_id, not listed in the pattern
        for value in (ch, f"a{ch}b", f"{ch}b", f"a{ch}"):
            expected = _accepted(value, allow_slash=allow_slash)
            assert bool(compiled.fullmatch(value)) is expected, (hex(code), value)
    for value in ("x" * 255, "with space", "emoji-🎬", "café"):
        assert compiled.fullmatch(value) and _accepted(value, allow_slash=allow_slash)


@pytest.mark.parametrize(
    "text",
    ['{"a": 1, "a": 1}', '{"a": {"b": 1, "c": 2, "b": 3}}', '[{"x": 1}, {"y": 2, "y": 2}]'],
)
def test_strict_json_refuses_duplicate_keys_at_any_depth(text):
    with pytest.raises(ParseError, match="duplicate key"):
        loads_strict(text)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32-be", "latin-1"])
def test_strict_json_reads_bytes_as_utf8_only(encoding):
    with pytest.raises(ParseError, match="not valid UTF-8"):
        loads_strict('{"title": "Amélie"}'.encode(encoding))
    assert loads_strict(b'\xef\xbb\xbf{"title": "Am\xc3\xa9lie"}') == {"title": "Amélie"}
