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
