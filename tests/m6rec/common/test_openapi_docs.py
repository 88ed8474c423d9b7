"""OpenAPI for clients: a tag per resource, summaries and descriptions everywhere, typed error
details, both timestamp forms, one list shape (cursor pages)."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

from m6rec.common.schema import TAG_NAMES, tag_for_path


@pytest.fixture(scope="module")
def generated():
    generator = SchemaGenerator()
    schema = generator.get_schema(request=None, public=True)
    modules = {
        (path, method.lower()): callback.cls.__module__
        for path, _, method, callback in generator.endpoints
    }
    return schema, modules


def _operations(schema):
    for route, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield route, method, operation


def test_every_operation_has_a_resource_tag_summary_and_descriptions(generated):
    schema, modules = generated
    checked = 0
    for route, method, operation in _operations(schema):
        assert operation["tags"] != ["v1"], (route, method)
        assert len(operation["tags"]) == 1 and operation["tags"][0] in TAG_NAMES, (route, method)
        assert operation.get("summary"), (route, method)
        assert operation.get("description"), (route, method)
        for status, response in operation["responses"].items():
            assert response.get("description"), (route, method, status)
        checked += 1
    assert checked >= 18


def test_tags_are_declared_and_derived_from_paths(generated):
    schema, _ = generated
    assert [t["name"] for t in schema["tags"]][:5] == [
        "items",
        "users",
        "interactions",
        "recommendations",
        "training",
    ]
    assert tag_for_path("/api/v1/items/{item_id}") == "items"
    assert tag_for_path("/api/v1/items/{item_id}/similar") == "recommendations"
    assert tag_for_path("/api/v1/users/{user_id}/recommendations") == "recommendations"
    assert tag_for_path("/api/v1/popular") == "recommendations"
    assert tag_for_path("/api/v1/models/runs/{run_id}") == "training"
    assert tag_for_path("/api/v1/models/versions/{number}/promote") == "models"
    assert tag_for_path("/api/v1/experiments/{id}/stop") == "experiments"


def test_conflicts_say_what_they_mean(generated):
    schema, _ = generated
    conflicts = {
        (route, method): operation["responses"]["409"]["description"]
        for route, method, operation in _operations(schema)
        if "409" in operation["responses"]
    }
    assert len(conflicts) >= 4
    assert "training_in_progress" in conflicts[("/api/v1/models/train", "post")]
    assert "nothing_to_roll_back" in conflicts[("/api/v1/models/rollback", "post")]


def test_error_details_are_typed(generated):
    schema, _ = generated
    components = schema["components"]["schemas"]
    assert components["Error"]["properties"]["error"] == {"$ref": "#/components/schemas/ErrorBody"}
    assert components["ErrorBody"]["properties"]["details"] == {
        "$ref": "#/components/schemas/ErrorDetails"
    }
    details = components["ErrorDetails"]["properties"]
    assert details["errors"]["items"] == {"$ref": "#/components/schemas/FieldError"}
    assert {"retry_after", "required_scope", "truncated"} <= set(details)
    field_error = components["FieldError"]
    assert set(field_error["properties"]) == {"row", "field", "message"}
    assert set(field_error["required"]) == {"field", "message"}


def test_interaction_timestamp_documents_iso_and_epoch_seconds(generated):
    schema, _ = generated
    timestamp = schema["components"]["schemas"]["InteractionRow"]["properties"]["timestamp"]
    forms = timestamp["oneOf"]
    assert {"type": "string", "format": "date-time"} in forms
    epoch = next(f for f in forms if f["type"] == "number")
    assert epoch["minimum"] == 0 and epoch["maximum"] == 4_102_444_800


def test_every_list_is_a_cursor_page(generated):
    schema, _ = generated
    components = schema["components"]["schemas"]
    for route in (
        "/api/v1/items",
        "/api/v1/users",
        "/api/v1/models/runs",
        "/api/v1/models/versions",
    ):
        operation = schema["paths"][route]["get"]
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        page = components[ref.rsplit("/", 1)[1]]
        assert {"next", "previous", "results"} <= set(page["properties"]), route
        params = {p["name"] for p in operation["parameters"]}
        assert params == {"cursor", "limit"}, route
        assert "400" in operation["responses"]
    versions = components["PaginatedVersions"]["properties"]
    assert versions["active"]["nullable"] is True


def test_requests_carry_examples(generated):
    schema, _ = generated
    for route in ("/api/v1/items", "/api/v1/users", "/api/v1/interactions"):
        body = schema["paths"][route]["post"]["requestBody"]["content"]["application/json"]
        assert body.get("examples"), route


@pytest.mark.django_db
def test_a_rejected_batch_matches_the_documented_field_errors(api_for_schema):
    response = api_for_schema.post(
        "/api/v1/items",
        {"items": [{"item_id": "ok"}, {"categories": ["x"]}], "extra": 1},
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    for problem in error["details"]["errors"]:
        assert set(problem) <= {"row", "field", "message"} and "message" in problem


@pytest.fixture
def api_for_schema(db):
    from m6rec.common.testing import api_client, make_key
    from m6rec.tenants.services import tenant_create

    tenant = tenant_create(slug="schema-docs", name="Schema docs", domain="ecommerce")
    _, token = make_key(tenant, scopes=["ingest"])
    return api_client(token)
