"""Attribution through POST interactions: what is attributed, what is refused (and changes
nothing), and that a refusal never tells another tenant's id from a forgery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.django_db

RECS = "/api/v1/users/{}/recommendations"
INTERACTIONS = "/api/v1/interactions"


@pytest.fixture
def tenant(factory):
    tenant = factory.tenant()
    factory.version(tenant)
    return tenant


@pytest.fixture
def client(factory, tenant, api):
    api.credentials(
        HTTP_AUTHORIZATION=f"Bearer {factory.key(tenant, scopes=('recommend', 'ingest'))}"
    )
    return api


def _recommend(client, user="u0", **params):
    r = client.get(RECS.format(user), {"k": 5, **params})
    assert r.status_code == 200, r.content
    return r.json()


def _flip(token: str, at: int) -> str:
    return token[:at] + ("B" if token[at] != "B" else "C") + token[at + 1 :]


def _post(client, rows):
    return client.post(INTERACTIONS, {"interactions": rows}, format="json")


def test_an_interaction_with_the_id_is_attributed_to_version_and_position(client, tenant):
    from m6rec.catalog.models import Interaction

    body = _recommend(client)
    item = body["items"][2]["item_id"]
    r = _post(
        client,
        [
            {
                "user_id": "u0",
                "item_id": item,
                "type": "like",
                "event_id": "click-1",
                "recommendation_id": body["recommendation_id"],
            }
        ],
    )
    assert r.status_code == 200, r.content
    assert r.json()["attributed"] == 1
    row = Interaction.objects.get(tenant=tenant, event_id="click-1")
    assert row.attributed_version == body["model_version"]
    assert row.attributed_position == 2
    assert row.attributed_strategy == "model"
    assert row.attributed_experiment is None and row.attributed_arm is None
    assert abs((row.recommended_at - datetime.now(UTC)).total_seconds()) < 60
    # a replay of the same event id is neither stored nor attributed twice
    again = _post(
        client,
        [
            {
                "user_id": "u0",
                "item_id": item,
                "type": "like",
                "event_id": "click-1",
                "recommendation_id": body["recommendation_id"],
            }
        ],
    ).json()
    assert (again["created"], again["duplicate"], again["attributed"]) == (0, 1, 0)
    assert Interaction.objects.filter(tenant=tenant, attributed_version__isnull=False).count() == 1


def _refused(client, tenant, rows, field_message: str):
    from m6rec.catalog.models import Interaction

    before = Interaction.objects.filter(tenant=tenant).count()
    r = _post(client, rows)
    assert r.status_code == 400, r.content
    error = r.json()["error"]
    row_errors = error["details"]["errors"]
    assert row_errors[0]["row"] == len(rows) - 1
    assert row_errors[0]["field"] == "recommendation_id"
    assert field_message in row_errors[0]["message"]
    assert Interaction.objects.filter(tenant=tenant).count() == before  # nothing written
    return row_errors[0]["message"]


def test_refusals_name_row_and_field_and_write_nothing(client, tenant, factory, api):
    body = _recommend(client)
    token, shown = body["recommendation_id"], body["items"][0]["item_id"]
    ok_row = {"user_id": "u1", "item_id": "i1", "type": "view"}
    not_shown = next(
        f"i{j}" for j in range(60) if f"i{j}" not in {i["item_id"] for i in body["items"]}
    )
    _refused(
        client,
        tenant,
        [ok_row, {"user_id": "u0", "item_id": not_shown, "recommendation_id": token}],
        "was not in the response",
    )
    _refused(
        client,
        tenant,
        [ok_row, {"user_id": "u2", "item_id": shown, "recommendation_id": token}],
        "another user",
    )
    late = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    _refused(
        client,
        tenant,
        [
            ok_row,
            {"user_id": "u0", "item_id": shown, "recommendation_id": token, "timestamp": late},
        ],
        "outside the attribution window",
    )
    forged = _refused(
        client,
        tenant,
        [ok_row, {"user_id": "u0", "item_id": shown, "recommendation_id": _flip(token, 20)}],
        "Not a recommendation id issued to this tenant",
    )
    # another tenant's genuine id: the very same answer as a forgery
    other = factory.tenant()
    factory.version(other)
    from rest_framework.test import APIClient

    other_client = APIClient()
    other_client.credentials(HTTP_AUTHORIZATION=f"Bearer {factory.key(other)}")
    foreign = _recommend(other_client)
    foreign_message = _refused(
        client,
        tenant,
        [
            ok_row,
            {
                "user_id": "u0",
                "item_id": foreign["items"][0]["item_id"],
                "recommendation_id": foreign["recommendation_id"],
            },
        ],
        "Not a recommendation id issued to this tenant",
    )
    assert foreign_message == forged
    bad_shape = _post(client, [ok_row, {"user_id": "u0", "item_id": shown, "recommendation_id": 7}])
    assert bad_shape.status_code == 400
    assert bad_shape.json()["error"]["details"]["errors"][0]["field"] == "recommendation_id"


def test_popularity_and_session_responses_carry_ids_too(client, tenant):
    from m6rec.catalog.models import Interaction

    pop = client.get("/api/v1/popular", {"k": 3}).json()
    session = client.post(
        "/api/v1/recommendations", {"recent_items": ["i1", "i2"], "k": 3}, format="json"
    ).json()
    rows = [
        {
            "user_id": "someone",
            "item_id": pop["items"][0]["item_id"],
            "recommendation_id": pop["recommendation_id"],
        },
        {
            "user_id": "someone",
            "item_id": session["items"][1]["item_id"],
            "recommendation_id": session["recommendation_id"],
        },
    ]
    r = _post(client, rows)
    assert r.status_code == 200, r.content
    assert r.json()["attributed"] == 2
    got = dict(
        Interaction.objects.filter(tenant=tenant, attributed_strategy__isnull=False).values_list(
            "attributed_position", "attributed_strategy"
        )
    )
    assert got == {0: "popularity", 1: session["strategy"]}
