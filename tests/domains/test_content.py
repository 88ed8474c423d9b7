"""Content domain: shared contract suite + freshness, age gate and language rules."""

from datetime import timedelta

from domains.content import ContentDomain
from domains.records import Candidate, ItemRecord, UserRecord
from domains.synthetic import generate
from domains.testing import FIXED_NOW, ContractSample, DomainContractTests, RuleScenario

ADULT = UserRecord("u1", {"age": 35, "preferred_languages": ["en"]})
TEEN = UserRecord("u2", {"age": 15})


def published(days_ago, **props):
    return {"published_at": (FIXED_NOW - timedelta(days=days_ago)).isoformat(), **props}


class TestContentDomain(DomainContractTests):
    domain_factory = ContentDomain
    valid_item_properties = [
        {},
        {"genres": ["Drama"], "year": 1995, "language": "en-GB", "duration_seconds": 5400},
        published(3, title="News", tags=["election"], maturity="all"),
    ]
    invalid_item_properties = [
        ({"genres": "Drama"}, "genres"),
        ({"genres": ["Drama", 5]}, "genres.1"),
        ({"language": "English"}, "language"),
        ({"duration_seconds": -1}, "duration_seconds"),
        ({"year": 1200}, "year"),
        ({"maturity": "x"}, "maturity"),
    ]
    valid_user_properties = [{"age": 24, "gender": "female", "occupation": "writer"}]
    invalid_user_properties = [({"preferred_languages": ["??"]}, "preferred_languages.0")]
    valid_configs = [{"freshness_half_life_days": 7, "rules": {"language_filter": True}}]
    invalid_configs = [
        ({"freshness_half_life_days": 0}, "freshness_half_life_days"),
        ({"freshness_weight": 2}, "freshness_weight"),
    ]

    def make_sample(self):
        ds = generate("content", n_users=30, n_items=40, seed=3)
        return ContractSample(ds.items, ds.users, ds.interactions)

    def rule_scenarios(self):
        return [
            RuleScenario(
                "adult content for a minor",
                [Candidate("x", 2, {"maturity": "adult"}), Candidate("y", 1, {"maturity": "all"})],
                excluded={"x"},
                user=TEEN,
            ),
            RuleScenario(
                "adult content for anonymous",
                [Candidate("x", 2, {"maturity": "adult"})],
                excluded={"x"},
            ),
            RuleScenario(
                "language filter",
                [Candidate("fr", 2, {"language": "fr"}), Candidate("en", 1, {"language": "en-US"})],
                excluded={"fr"},
                user=ADULT,
                config={"rules": {"language_filter": True}},
            ),
        ]

    def test_freshness_decay_prefers_new_items_at_equal_score(self):
        cands = [Candidate("old", 1.0, published(400)), Candidate("new", 1.0, published(1))]
        out = self.domain.apply_rules(user=ADULT, history=[], candidates=cands, now=FIXED_NOW)
        assert [c.item_id for c in out] == ["new", "old"]
        assert out[0].reason == "New this week"
        off = {"rules": {"freshness": False}}
        out = self.domain.apply_rules(
            user=ADULT, history=[], candidates=cands, config=off, now=FIXED_NOW
        )
        assert [c.item_id for c in out] == ["old", "new"]
        assert [c.score for c in out] == [1.0, 1.0]

    def test_publish_epoch_matches_publish_time_and_survives_odd_values(self):
        from domains.content import publish_epoch, publish_time

        for props in ({"year": 1995}, {"published_at": "2024-02-03T04:05:06Z"}, {}, {"year": 0},
                      {"published_at": "not a date", "year": 1995}, {"published_at": ["x"]},
                      {"year": [1995]}):  # fmt: skip
            stamp = publish_time(props)
            assert publish_epoch(props) == (stamp.timestamp() if stamp else None), props

    def test_freshness_is_bounded_by_its_weight(self):
        cands = [Candidate("old", 1.0, published(4000)), Candidate("new", 0.5, published(0))]
        out = self.domain.apply_rules(user=ADULT, history=[], candidates=cands, now=FIXED_NOW)
        assert out[0].item_id == "old"  # 0.3 weight cannot overturn a 2x score gap
        assert abs(out[0].score - 0.7) < 1e-3

    def test_unknown_publish_time_counts_as_one_half_life(self):
        cands = [Candidate("undated", 1.0, {}), Candidate("half", 1.0, published(30))]
        out = self.domain.apply_rules(user=ADULT, history=[], candidates=cands, now=FIXED_NOW)
        scores = {c.item_id: c.score for c in out}
        assert abs(scores["undated"] - 0.85) < 1e-9  # 1 - 0.3 weight x (1 - 0.5)
        assert abs(scores["undated"] - scores["half"]) < 1e-9  # 30 days: the default half-life
        assert all(c.reason is None for c in out)

    def test_adult_content_allowed_for_adults(self):
        out = self.domain.apply_rules(
            user=ADULT, history=[], candidates=[Candidate("x", 1, {"maturity": "adult"})]
        )
        assert [c.item_id for c in out] == ["x"]

    def test_dwell_time_raises_view_weight(self):
        d = self.domain
        assert (
            d.interaction_weight("view", 5)
            < d.interaction_weight("view")
            < d.interaction_weight("view", 600)
        )
        assert d.interaction_weight("view", 1e9) <= 3 * d.interaction_weight("view")

    def test_star_ratings_weigh_more_with_more_stars(self):
        d = self.domain
        weights = [d.interaction_weight("rating", stars) for stars in (0.5, 1, 2, 3, 4, 4.5, 5)]
        assert weights == sorted(weights) and len(set(weights)) == len(weights)
        assert d.interaction_weight("rating", 4) == d.interaction_weight("like")
        assert d.interaction_weight("rating") == d.interaction_weight("like")  # no value: 4★
        assert d.interaction_weight("rating", 1) < d.interaction_weight("view")  # 1★ is weak
        assert (
            d.interaction_weight("like")
            < d.interaction_weight("rating", 5)
            < d.interaction_weight("share")
        )
        assert d.interaction_weight("rating", 50) == d.interaction_weight("rating", 5)
        assert d.interaction_weight("rating", -3) == d.interaction_weight("rating", 0.5) > 0
        assert d.interaction_weight("rating", float("nan")) == d.interaction_weight("like")

    def test_rating_weight_follows_a_tenant_override(self):
        config = {"interaction_weights": {"rating": 4.0}}
        assert self.domain.validate_config(config) == {}
        assert self.domain.interaction_weight("rating", 5, config=config) == 5.0

    def test_genre_and_year_features(self):
        fm = self.domain.item_features([ItemRecord("a", {"genres": ["Sci-Fi"], "year": 2025})])
        row = dict(zip(fm.names, fm.values[0], strict=True))
        assert row["genre=sci-fi"] == 1.0 and row["genre=drama"] == 0.0
        assert 0.9 < row["year"] < 1.1


def test_interaction_context_features():
    from datetime import UTC, datetime

    from domains.records import InteractionRecord

    events = [
        InteractionRecord("u", "a", "view", 600.0, datetime(2026, 3, 7, 6, 0, tzinfo=UTC)),
        InteractionRecord("u", "a", "like", None, None),
    ]
    fm = ContentDomain().interaction_features(events)
    row = [dict(zip(fm.names, v, strict=True)) for v in fm.values]
    assert fm.ids == ["0:u:a", "1:u:a"]
    assert row[0]["weekend"] == 1.0 and abs(row[0]["hour_sin"] - 1.0) < 1e-6
    assert row[0]["log_dwell_min"] > 2.0 and row[1]["has_time"] == 0.0
