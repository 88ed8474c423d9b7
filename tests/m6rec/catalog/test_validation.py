"""Edge validation: every bad request answers 4xx JSON naming the problem and writes nothing."""

import json

import pytest

from m6rec.catalog.models import EndUser, Interaction, Item

pytestmark = pytest.mark.django_db

INTERACTIONS = "/api/v1/interactions"


def raw_post(client, path, text, content_type="application/json"):
    return client.generic("POST", path, text.encode("utf-8"), content_type=content_type)


def error_of(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    return error


def nothing_written():
    return (Interaction.objects.count(), EndUser.objects.count(), Item.objects.count()) == (0, 0, 0)


def test_one_bad_row_rejects_the_whole_batch(api):
    rows = [{"user_id": f"u{n}", "item_id": f"i{n}", "event_id": f"e{n}"} for n in range(50)]
    rows[37]["value"] = "five"
    error = error_of(api.post(INTERACTIONS, {"interactions": rows}, format="json"), 400)
    assert error["code"] == "invalid"
    assert error["details"]["errors"] == [
        {"row": 37, "field": "value", "message": "Must be a number, got a string."}
    ]
    assert "1 of 50 rows" in error["message"] and "nothing was written" in error["message"]
    assert nothing_written()


def test_every_bad_row_and_field_is_listed(api):
    rows = [
        {"user_id": "", "item_id": "i"},
        {"user_id": "u", "item_id": 7, "value": True},
        {"item_id": "i", "colour": "red"},
        "not an object",
        {"user_id": "u", "item_id": "i", "type": "purchase"},
        {"user_id": "u", "item_id": "i", "timestamp": "yesterday"},
    ]
    error = error_of(api.post(INTERACTIONS, {"interactions": rows}, format="json"), 400)
    got = {(e["row"], e["field"]) for e in error["details"]["errors"]}
    assert got == {
        (0, "user_id"),
        (1, "item_id"),
        (1, "value"),
        (2, "colour"),
        (2, "user_id"),
        (3, None),
        (4, "type"),
        (5, "timestamp"),
    }
    messages = {(e["row"], e["field"]): e["message"] for e in error["details"]["errors"]}
    assert "empty" in messages[(0, "user_id")]
    assert messages[(2, "colour")] == "Unknown field."
    assert "purchase" in messages[(4, "type")] and "view" in messages[(4, "type")]
    assert nothing_written()


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('{"interactions": [', "JSON parse error"),
        ("{'interactions': []}", "JSON parse error"),
        ('{"interactions": [{"user_id": "u", "item_id": "i", "value": NaN}]}', "NaN"),
        ('{"interactions": [{"user_id": "u", "item_id": "i", "value": Infinity}]}', "Infinity"),
        ('{"interactions": [{"user_id": "u", "item_id": "i", "value": -Infinity}]}', "Infinity"),
        ('{"interactions": [{"user_id": "u", "item_id": "i", "value": 1e999}]}', "out of range"),
        ('{"items": [{"item_id": "x", "properties": {"p": NaN}}]}', "NaN"),
        ("[" * 100_000 + "]" * 100_000, "JSON parse error"),
    ],
)
def test_malformed_json_and_non_finite_numbers_are_400(api, text, needle):
    path = "/api/v1/items" if text.startswith('{"items"') else INTERACTIONS
    error = error_of(raw_post(api, path, text), 400)
    assert error["code"] == "parse_error"
    assert needle in error["message"]
    assert nothing_written()


def test_invalid_utf8_is_400(api):
    response = api.generic(
        "POST", INTERACTIONS, b'{"interactions": ["\xff"]}', content_type="application/json"
    )
    assert error_of(response, 400)["code"] == "parse_error"


@pytest.mark.parametrize(
    ("body", "field", "needle"),
    [
        ({"interactions": "all"}, "interactions", "array"),
        ({"interactions": []}, "interactions", "between 1 and 10000"),
        ({"rows": []}, "rows", "Unknown field"),
        ({}, "interactions", "required"),
    ],
)
def test_wrong_envelopes_are_400(api, body, field, needle):
    error = error_of(api.post(INTERACTIONS, body, format="json"), 400)
    fields = [e["field"] for e in error["details"]["errors"]]
    assert field in fields
    assert any(needle in e["message"] for e in error["details"]["errors"])


def test_top_level_array_is_400(api):
    error = error_of(raw_post(api, INTERACTIONS, "[1, 2]"), 400)
    assert "object" in error["message"]


@pytest.mark.parametrize(
    ("bad_id", "needle"),
    [
        ("", "empty"),
        ("x" * 256, "at most 255"),
        ("a\x00b", "U+0000"),
        ("tab\there", "control character"),
        ("new\nline", "control character"),
        ("zero\u200bwidth", "invisible format character"),
        ("bidi\u202eevil", "format character"),
        ("\ud800", "surrogate"),
        ("pua\ue000", "private-use"),
        (" padded", "whitespace"),
        ("a/b", '"/"'),
        (12, "string"),
        (None, "string"),
        (["x"], "string"),
    ],
)
def test_odd_ids_are_400(api, bad_id, needle):
    body = json.dumps({"interactions": [{"user_id": bad_id, "item_id": "ok"}]})
    error = error_of(raw_post(api, INTERACTIONS, body), 400)
    [problem] = error["details"]["errors"]
    assert (problem["row"], problem["field"]) == (0, "user_id")
    assert needle in problem["message"]
    assert nothing_written()


def test_unicode_ids_that_are_fine_round_trip(api):
    ids = ["café", "日本語", "emoji-🎬", "with space", "x" * 255]
    body = {"items": [{"item_id": i} for i in ids]}
    assert api.post("/api/v1/items", body, format="json").json()["created"] == 5
    for i in ids[:4]:
        from urllib.parse import quote

        assert api.get(f"/api/v1/items/{quote(i)}").json()["item_id"] == i


@pytest.mark.parametrize(
    ("properties", "needle"),
    [
        ('{"title": "a\\u0000b"}', "NUL"),
        ('{"title": "\\udc00"}', "surrogate"),
        ('{"k\\u0000": 1}', "NUL"),
        ('"a string"', "object"),
        ('{"year": "1999"}', "properties.year"),
        ('{"year": 1700}', "properties.year"),
        ('{"genres": "Drama"}', "properties.genres"),
    ],
)
def test_bad_item_properties_are_400(api, properties, needle):
    text = '{"items": [{"item_id": "ok"}, {"item_id": "x", "properties": ' + properties + "}]}"
    error = error_of(raw_post(api, "/api/v1/items", text), 400)
    problems = error["details"]["errors"]
    assert all(p["row"] == 1 for p in problems)
    assert any(needle in (p["field"] or "") + p["message"] for p in problems), problems
    assert nothing_written()


def test_user_properties_use_the_domain_schema(api):
    body = {"users": [{"user_id": "u", "properties": {"age": -3}}]}
    error = error_of(api.post("/api/v1/users", body, format="json"), 400)
    assert error["details"]["errors"][0]["field"] == "properties.age"


def test_duplicate_ids_in_one_upsert_are_400(api):
    body = {"items": [{"item_id": "a"}, {"item_id": "b"}, {"item_id": "a"}]}
    error = error_of(api.post("/api/v1/items", body, format="json"), 400)
    assert error["details"]["errors"][0]["row"] == 2
    assert "also in row 0" in error["details"]["errors"][0]["message"]


def test_wrong_types_in_item_rows(api):
    body = {"items": [{"item_id": "a", "categories": "Drama", "active": "yes"}]}
    error = error_of(api.post("/api/v1/items", body, format="json"), 400)
    assert {e["field"] for e in error["details"]["errors"]} == {"categories", "active"}


def test_oversized_body_is_413(api, settings):
    settings.M6REC_MAX_BODY_BYTES = 10_000
    rows = [{"user_id": f"user-{n}", "item_id": f"item-{n}"} for n in range(1000)]
    error = error_of(api.post(INTERACTIONS, {"interactions": rows}, format="json"), 413)
    assert error["code"] == "request_too_large"
    assert "10000 bytes" in error["message"]
    assert nothing_written()


def test_wrong_content_type_is_415(api):
    response = raw_post(api, INTERACTIONS, "user_id=u", content_type="text/plain")
    error = error_of(response, 415)
    assert "text/plain" in error["message"]


def test_wrong_method_is_405(api):
    assert error_of(api.put("/api/v1/interactions", {}, format="json"), 405)["code"] == (
        "method_not_allowed"
    )


@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v1/items/a/b/c", "/api/zzz"])
def test_unknown_api_urls_are_json_404(api, path):
    assert error_of(api.get(path), 404)["code"] == "not_found"


def test_unexpected_errors_are_json_500(api, monkeypatch):
    from m6rec.catalog import selectors

    def boom(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "item_get", boom)
    api.raise_request_exception = False
    error = error_of(api.get("/api/v1/items/x"), 500)
    assert error == {"code": "server_error", "message": "Internal server error.", "details": {}}
