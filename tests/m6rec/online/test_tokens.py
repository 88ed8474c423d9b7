"""recommendation_id: signed, self-describing, tenant-bound."""

from __future__ import annotations

import pytest

from m6rec.online import tokens


def _issue(**kw):
    args = dict(
        tenant_id=7,
        item_ids=["a", "b", "c"],
        model_version=3,
        strategy="model",
        surface="user",
        experiment_id=5,
        arm=1,
        user_id="u1",
        issued_at=1_700_000_000,
    )
    args.update(kw)
    return tokens.encode(**args)


def test_round_trip_names_what_served_the_response():
    issued = tokens.decode(_issue(), tenant_id=7)
    assert (issued.model_version, issued.strategy, issued.surface) == (3, "model", "user")
    assert (issued.experiment_id, issued.arm, issued.issued_at) == (5, 1, 1_700_000_000)
    assert [issued.position_of(i) for i in ("a", "b", "c", "d")] == [0, 1, 2, None]
    assert issued.served_to("u1") and not issued.served_to("u2")


def test_anonymous_popularity_without_experiment():
    issued = tokens.decode(
        _issue(
            model_version=None, strategy="popularity", experiment_id=None, arm=None, user_id=None
        ),
        tenant_id=7,
    )
    assert issued.model_version is None and issued.experiment_id is None and issued.arm is None
    assert issued.served_to("anyone")


def test_ten_items_give_a_short_id():
    assert len(_issue(item_ids=[f"item-{i}" for i in range(10)])) <= 110


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # MAC altered
        lambda t: t[:10] + ("A" if t[10] != "A" else "B") + t[11:],  # payload altered
        lambda t: t[:40],  # truncated
        lambda t: "r2" + t[2:],  # wrong prefix
        lambda t: t + "=",  # padding
        lambda t: "r1!!!!",  # not base64
        lambda t: "",
    ],
)
def test_altered_ids_are_refused(mangle):
    with pytest.raises(tokens.InvalidToken):
        tokens.decode(mangle(_issue()), tenant_id=7)


def test_another_tenants_id_is_refused_like_a_forgery():
    with pytest.raises(tokens.InvalidToken):
        tokens.decode(_issue(tenant_id=8), tenant_id=7)


def test_another_secret_key_is_refused(settings):
    token = _issue()
    settings.SECRET_KEY = "another-deployment"
    with pytest.raises(tokens.InvalidToken):
        tokens.decode(token, tenant_id=7)
