"""Edges of requests across the API (issue 14): ids in paths, echoed ids, cursors, limits, bodies.

Every case answers the one JSON error shape; none answers 500.
"""

from __future__ import annotations

import io
import json

import pytest

from m6rec.common.testing import api_client

pytestmark = pytest.mark.django_db

PATH_ID_ENDPOINTS = [
    ("GET", "/api/v1/items/{}", "item_id"),
    ("DELETE", "/api/v1/items/{}", "item_id"),
    ("GET", "/api/v1/users/{}", "user_id"),
    ("DELETE", "/api/v1/users/{}", "user_id"),
    ("GET", "/api/v1/users/{}/recommendations", "user_id"),
    ("GET", "/api/v1/items/{}/similar", "item_id"),
]


def call(client, method: str, url: str):
    client.raise_request_exception = False  # a 500 is a JSON answer here, not a test crash
    return client.generic(method, url)


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    return error


def ingest(client, body: dict, path: str = "/api/v1/interactions"):
    response = client.post(path, body, format="json")
    assert response.status_code == 200, response.content
    return response


# ---------------------------------------------------------------------- 1. ids in paths
@pytest.mark.parametrize(("method", "template", "param"), PATH_ID_ENDPOINTS)
@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ("%00", "U+0000"),
        ("a%00b", "U+0000"),
        ("tab%09here", "control character"),
        ("%7F", "control character"),
        ("zero%E2%80%8Bwidth", "invisible format character"),
        ("%20", "whitespace"),
        ("%C2%A0", "non-ASCII space"),
        ("x" * 256, "at most 255"),
        ("x" * 8000, "at most 255"),
    ],
)
def test_path_ids_that_cannot_be_ids_are_400_naming_the_parameter(
    api, method, template, param, raw, needle
):
    error = error_of(call(api, method, template.format(raw)), 400)
    assert error["code"] == "invalid"
    [problem] = error["details"]["errors"]
    assert problem["field"] == param
    assert "in the path" in problem["message"] and needle in problem["message"]
    assert len(json.dumps(error)) < 1000  # the id itself is never echoed


def test_path_ids_follow_the_rule_and_code_of_body_ids(api):
    body = error_of(
        api.post("/api/v1/users", {"users": [{"user_id": "a\x00b"}]}, format="json"), 400
    )
    path = error_of(call(api, "GET", "/api/v1/users/a%00b"), 400)
    assert path["code"] == body["code"] == "invalid"
    [in_body], [in_path] = body["details"]["errors"], path["details"]["errors"]
    assert in_body["field"] == in_path["field"] == "user_id"
    assert in_body["message"].replace("The id", "The user_id in the path") == in_path["message"]


@pytest.mark.parametrize(("method", "template", "param"), PATH_ID_ENDPOINTS)
def test_bad_path_ids_still_need_a_key(tenant, method, template, param):
    error = error_of(call(api_client(), method, template.format("%00")), 401)
    assert error["code"] == "not_authenticated"


def test_valid_unusual_path_ids_reach_the_lookup(api):
    ingest(
        api, {"items": [{"item_id": i} for i in ("café", "with space", "x" * 255)]}, "/api/v1/items"
    )
    for raw, item_id in [
        ("caf%C3%A9", "café"),
        ("with%20space", "with space"),
        ("x" * 255, "x" * 255),
    ]:
        response = api.get(f"/api/v1/items/{raw}")
        assert response.status_code == 200 and response.json()["item_id"] == item_id
    assert error_of(api.get("/api/v1/items/never%20stored"), 404)["code"] == "not_found"


def test_another_tenants_path_ids_answer_as_missing_ones(api, other_api):
    ingest(other_api, {"interactions": [{"user_id": "theirs", "item_id": "their-item"}]})
    ingest(api, {"interactions": [{"user_id": "mine", "item_id": "my-item"}]})
    for method, template, _ in PATH_ID_ENDPOINTS:
        foreign_id = "their-item" if "items" in template else "theirs"
        foreign = call(api, method, template.format(foreign_id))
        missing = call(api, method, template.format("nobody"))
        assert foreign.status_code == missing.status_code, template
        if missing.status_code == 404:
            assert foreign.json() == json.loads(
                missing.content.decode().replace("nobody", foreign_id)
            )
        else:  # recommendations: an unknown user is served popularity
            assert foreign.status_code == 200
            # the recommendation_id differs only by the digest of the id asked for (and the
            # second it was issued): it carries nothing about the other tenant
            blank = {"request_id": "", "recommendation_id": ""}
            assert {**foreign.json(), **blank} == {**missing.json(), **blank}
    assert other_api.get("/api/v1/items/their-item").status_code == 200  # nothing was deleted
    assert other_api.get("/api/v1/users/theirs").status_code == 200


# ---------------------------------------------------------------------- 2. echoed ids
LONG_ID = "x" * 255
ECHOED = "x" * 64 + "…"


def assert_echo_is_short(text: str) -> None:
    assert ECHOED in text and "x" * 65 not in text, text


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", f"/api/v1/items/{LONG_ID}"),
        ("DELETE", f"/api/v1/items/{LONG_ID}"),
        ("GET", f"/api/v1/users/{LONG_ID}"),
        ("DELETE", f"/api/v1/users/{LONG_ID}"),
        ("GET", f"/api/v1/items/{LONG_ID}/similar"),
    ],
)
def test_404s_echo_at_most_64_characters_of_the_id(api, method, url):
    error = error_of(call(api, method, url), 404)
    assert error["code"] == "not_found"
    assert_echo_is_short(error["message"])


@pytest.mark.parametrize("path", ["/api/v1/models/runs/{}", "/api/v1/models/versions/{}"])
def test_404s_for_huge_numbers_echo_at_most_64_digits(api, path):
    error = error_of(api.get(path.format("9" * 4000)), 404)
    assert "9" * 64 + "…" in error["message"] and "9" * 65 not in error["message"]


def test_batch_errors_echo_at_most_64_characters_of_an_id(api, tenant):
    duplicate = api.post(
        "/api/v1/items", {"items": [{"item_id": LONG_ID}, {"item_id": LONG_ID}]}, format="json"
    )
    error = error_of(duplicate, 400)
    assert_echo_is_short(error["message"])
    assert_echo_is_short(error["details"]["errors"][0]["message"])

    tenant.unknown_refs = "reject"
    tenant.save()
    unknown = api.post(
        "/api/v1/interactions",
        {"interactions": [{"user_id": LONG_ID, "item_id": "i"}]},
        format="json",
    )
    [problem] = [e for e in error_of(unknown, 400)["details"]["errors"] if e["field"] == "user_id"]
    assert_echo_is_short(problem["message"])


def test_a_long_bad_timestamp_is_echoed_short(api):
    rows = [{"user_id": "u", "item_id": "i", "timestamp": "x" * 8000}]
    error = error_of(api.post("/api/v1/interactions", {"interactions": rows}, format="json"), 400)
    assert_echo_is_short(error["details"]["errors"][0]["message"])


# ---------------------------------------------------------------------- 3. cursors
def b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


MALFORMED_CURSORS = [
    "%00",
    "",
    "!!!",
    "AAAA",  # decodes to three NUL bytes
    "garbage",
    "bz14",  # o=x
    "cD1hYmM=",  # p=abc
    b64("x=1"),  # no position
    b64("p=1&x=2"),  # an unknown token
    b64("p=01"),
    b64("p=" + "9" * 30),
    b64("o=-1&p=1"),
    b64("o=5000&p=1"),  # past DRF's offset cutoff (silently clamped before)
    b64("r=2&p=1"),
    b64("p=1") + "%00",
    b64("p=1") + "=",
    " " + b64("p=1"),
    "cD0x====",
]


@pytest.mark.parametrize("list_url", ["/api/v1/items", "/api/v1/users"])
@pytest.mark.parametrize("cursor", MALFORMED_CURSORS)
def test_every_malformed_cursor_is_the_same_400(api, list_url, cursor):
    ingest(api, {"interactions": [{"user_id": "u", "item_id": "i"}]})
    error = error_of(api.get(f"{list_url}?cursor={cursor}"), 400)
    assert error["code"] == "invalid"
    assert error["details"]["errors"] == [{"field": "cursor", "message": "Invalid cursor."}]


def test_cursors_from_links_walk_both_ways_one_row_at_a_time(api):
    ids = [f"i{n}" for n in range(4)]
    ingest(api, {"items": [{"item_id": i} for i in ids]}, "/api/v1/items")
    seen, url, last = [], "/api/v1/items?limit=1", None
    while url:
        last = api.get(url)
        assert last.status_code == 200, last.content
        seen += [row["item_id"] for row in last.json()["results"]]
        url = last.json()["next"]
    assert seen == ids
    back, url = [], last.json()["previous"]
    while url:
        page = api.get(url).json()
        back = [row["item_id"] for row in page["results"]] + back
        url = page["previous"]
    assert back == ids[:-1]
    assert api.get("/api/v1/items?cursor=" + b64("p=1")).status_code == 200  # well-formed


# ---------------------------------------------------------------------- 5. JSON bodies
def post_raw(client, path: str, body: bytes, content_type: str = "application/json"):
    return client.generic("POST", path, body, content_type=content_type)


@pytest.mark.parametrize(
    ("path", "body", "key"),
    [
        ("/api/v1/users", b'{"users": [{"user_id": "a", "user_id": "b"}]}', "user_id"),
        ("/api/v1/users", b'{"users": [{"user_id": "a"}], "users": []}', "users"),
        (
            "/api/v1/items",
            b'{"items": [{"item_id": "a", "properties": {"title": "x", "title": "y"}}]}',
            "title",
        ),
        ("/api/v1/recommendations", b'{"recent_items": [], "k": 5, "k": 6}', "k"),
    ],
)
def test_duplicate_keys_in_a_body_are_400(api, path, body, key):
    error = error_of(post_raw(api, path, body), 400)
    assert error["code"] == "parse_error"
    assert f"duplicate key '{key}'" in error["message"]
    assert api.get("/api/v1/users").json()["results"] == []
    assert api.get("/api/v1/items").json()["results"] == []


def test_a_long_duplicate_key_is_echoed_short(api):
    key = "x" * 8000
    body = json.dumps({"users": [{"user_id": "a", "properties": {}}]})
    body = body.replace('"properties": {}', f'"properties": {{"{key}": 1, "{key}": 2}}')
    error = error_of(post_raw(api, "/api/v1/users", body.encode()), 400)
    assert_echo_is_short(error["message"])


def test_the_same_keys_in_different_objects_are_fine(api):
    body = b'{"users": [{"user_id": "a", "properties": {"user_id": 1}}, {"user_id": "b"}]}'
    response = post_raw(api, "/api/v1/users", body)
    assert response.status_code == 200 and response.json()["created"] == 2


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_bodies_are_400_not_decoded(api, encoding):
    body = json.dumps({"users": [{"user_id": "a"}]}).encode(encoding)
    error = error_of(post_raw(api, "/api/v1/users", body), 400)
    assert error["code"] == "parse_error"
    assert "UTF-8" in error["message"]
    assert api.get("/api/v1/users").json()["results"] == []


@pytest.mark.parametrize("charset", ["utf-16", "UTF-16LE", "latin-1", "no-such-charset"])
def test_a_declared_charset_other_than_utf8_is_415(api, charset):
    body = json.dumps({"users": [{"user_id": "a"}]})
    content_type = f"application/json; charset={charset}"
    for raw in (body.encode("utf-8"), body.encode("utf-16")):
        error = error_of(post_raw(api, "/api/v1/users", raw, content_type), 415)
        assert error["code"] == "unsupported_media_type"
        assert "UTF-8" in error["message"] and charset in error["message"]
    assert api.get("/api/v1/users").json()["results"] == []


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/json; charset=UTF8"],
)
def test_utf8_bodies_with_or_without_a_bom_are_accepted(api, content_type):
    body = json.dumps({"users": [{"user_id": "café"}]}, ensure_ascii=False).encode("utf-8")
    for raw in (body, b"\xef\xbb\xbf" + body):
        response = post_raw(api, "/api/v1/users", raw, content_type)
        assert response.status_code == 200, response.content
    assert api.get("/api/v1/users/caf%C3%A9").status_code == 200


# ---------------------------------------------------------------------- chunked bodies, URLs
def post_chunked(client, path: str, raw: bytes):
    """A ``Transfer-Encoding: chunked`` request as a WSGI server hands it on: the decoded body
    in ``wsgi.input``, no ``Content-Length``."""
    client.raise_request_exception = False
    return client.generic(
        "POST",
        path,
        b"",
        "application/json",
        **{
            "HTTP_TRANSFER_ENCODING": "chunked",
            "CONTENT_LENGTH": "",
            "wsgi.input": io.BytesIO(raw),
        },
    )


def test_a_chunked_body_is_read_not_taken_for_empty(api):
    raw = json.dumps({"users": [{"user_id": "chunked-1"}, {"user_id": "chunked-2"}]}).encode()
    response = post_chunked(api, "/api/v1/users", raw)
    assert response.status_code == 200, response.content
    assert api.get("/api/v1/users/chunked-2").status_code == 200


def test_a_chunked_body_over_the_limit_is_413(api, settings):
    settings.M6REC_MAX_BODY_BYTES = 1024
    raw = json.dumps({"users": [{"user_id": f"u{i}"} for i in range(200)]}).encode()
    error = error_of(post_chunked(api, "/api/v1/users", raw), 413)
    assert error["code"] == "request_too_large"
    assert error["details"] == {"max_bytes": 1024, "transfer_encoding": "chunked"}
    assert api.get("/api/v1/users").json()["results"] == []


def test_a_url_over_the_limit_is_a_json_414(api, settings):
    settings.M6REC_MAX_URL_BYTES = 100
    error = error_of(call(api, "GET", "/api/v1/items?q=" + "a" * 100), 414)
    assert error["code"] == "uri_too_long"
    assert error["details"]["max_bytes"] == 100
    assert api.get("/api/v1/items?limit=" + "0" * 50 + "1").status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/items", "/api/v1/users"])
def test_lists_refuse_unknown_query_parameters(api, path):
    error = error_of(call(api, "GET", path + "?limt=5"), 400)
    assert error["details"]["errors"][0]["field"] == "limt"
    assert api.get(path + "?limit=5").status_code == 200
