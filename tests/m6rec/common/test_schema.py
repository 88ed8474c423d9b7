"""OpenAPI: the catalog views document themselves without drf-spectacular warnings."""

import pytest
from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator


def test_catalog_schema_has_no_warnings_or_errors():
    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("api/v1/", include("m6rec.catalog.urls"))])
    schema = generator.get_schema(request=None, public=True)
    assert not GENERATOR_STATS._warn_cache and not GENERATOR_STATS._error_cache, dict(
        GENERATOR_STATS._warn_cache
    )
    paths = schema["paths"]
    assert set(paths) == {
        "/api/v1/items",
        "/api/v1/items/{item_id}",
        "/api/v1/users",
        "/api/v1/users/{user_id}",
        "/api/v1/interactions",
    }
    post = paths["/api/v1/interactions"]["post"]
    assert {"200", "400", "401", "403", "413", "415", "429"} <= set(post["responses"])
    assert post["security"] == [{"ApiKey": []}]
    row = schema["components"]["schemas"]["InteractionRow"]
    assert set(row["required"]) == {"user_id", "item_id"}
    assert schema["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"


@pytest.mark.django_db
def test_schema_and_swagger_ui_are_served_without_a_key(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/v1/interactions" in schema.json()["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


@pytest.mark.django_db
def test_swagger_ui_assets_are_local_not_from_a_cdn(client):
    docs = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in docs
    assert "cdn." not in docs and "unpkg" not in docs


def test_every_string_path_id_declares_the_id_rule():
    """Schemathesis sent empty ids valid by the old schema; the schema now states the rule."""
    from drf_spectacular.generators import SchemaGenerator

    from m6rec.common.validation import ID_PATTERN

    schema = SchemaGenerator().get_schema(request=None, public=True)
    seen = set()
    for route, operations in schema["paths"].items():
        for method, operation in operations.items():
            for param in operation.get("parameters", []):
                if param["in"] == "path" and param["schema"]["type"] == "string":
                    assert param["schema"] == {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 255,
                        "pattern": ID_PATTERN,
                    }, (route, method)
                    assert "400" in operation["responses"], (route, method)
                    seen.add((route, method))
    assert len(seen) == 6  # items/{id} get+delete, users/{id} get+delete, similar, recommendations


def test_schema_states_the_bounds_the_api_enforces():
    """k, limit and cursor carry their minimum/maximum; body ids their length and pattern."""
    from drf_spectacular.generators import SchemaGenerator

    from m6rec.common.validation import EVENT_ID_PATTERN, ID_PATTERN

    schema = SchemaGenerator().get_schema(request=None, public=True)
    bounds = {}
    for route, operations in schema["paths"].items():
        for method, operation in operations.items():
            for param in operation.get("parameters", []):
                if param["in"] == "query" and param["name"] in {"k", "limit", "cursor"}:
                    bounds[(route, method, param["name"])] = param["schema"]
            if any(p["in"] == "query" for p in operation.get("parameters", [])):
                assert "400" in operation["responses"], (route, method)
    k = {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}
    assert bounds[("/api/v1/users/{user_id}/recommendations", "get", "k")] == k
    assert bounds[("/api/v1/items/{item_id}/similar", "get", "k")] == k
    assert bounds[("/api/v1/popular", "get", "k")] == k
    for route in ("/api/v1/items", "/api/v1/users"):
        assert bounds[(route, "get", "limit")] == {
            "type": "integer",
            "minimum": 1,
            "maximum": 1000,
            "default": 100,
        }
        assert bounds[(route, "get", "cursor")] == {"type": "string", "minLength": 1}
    assert bounds[("/api/v1/models/runs", "get", "limit")]["maximum"] == 100
    assert bounds[("/api/v1/models/versions", "get", "limit")]["maximum"] == 500
    assert all(s.get("minimum") == 1 for (_, _, name), s in bounds.items() if name != "cursor")

    components = schema["components"]["schemas"]
    id_schema = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": ID_PATTERN}
    assert components["ItemRow"]["properties"]["item_id"] == {
        **id_schema,
        "description": "The tenant's own id; no '/'.",
    }
    assert components["UserRow"]["properties"]["user_id"] == id_schema
    row = components["InteractionRow"]["properties"]
    assert row["user_id"] == row["item_id"] == id_schema
    assert row["event_id"]["pattern"] == EVENT_ID_PATTERN and row["event_id"]["minLength"] == 1
    session = components["SessionRecommendationsInput"]["properties"]
    assert session["recent_items"]["items"] == {"type": "string", "minLength": 1, "maxLength": 255}
