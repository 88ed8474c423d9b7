"""Social domain: shared contract suite + self/follow/block rules."""

from domains.records import Candidate, InteractionRecord, UserRecord
from domains.social import SocialDomain
from domains.synthetic import generate
from domains.testing import ContractSample, DomainContractTests, RuleScenario

ME = UserRecord("me", {"interests": ["cooking"], "following": ["bob"], "blocked": ["troll"]})


def person(item_id, score, **props):
    return Candidate(item_id, score, {"kind": "person", **props})


def post(item_id, score, author, **props):
    return Candidate(item_id, score, {"kind": "post", "author_id": author, **props})


class TestSocialDomain(DomainContractTests):
    domain_factory = SocialDomain
    valid_item_properties = [
        {"kind": "person", "user_id": "u1", "interests": ["music"], "follower_count": 10},
        {"kind": "post", "author_id": "u1", "topics": ["music"], "media_type": "video"},
    ]
    invalid_item_properties = [
        ({}, "kind"),
        ({"kind": "group"}, "kind"),
        ({"kind": "post"}, "author_id"),
        ({"kind": "person", "follower_count": -1}, "follower_count"),
    ]
    invalid_user_properties = [({"age": 9}, "age"), ({"following": "bob"}, "following")]
    invalid_configs = [({"shared_interest_weight": -1}, "shared_interest_weight")]

    def make_sample(self):
        ds = generate("social", n_users=30, n_items=40, seed=3)
        return ContractSample(ds.items, ds.users, ds.interactions)

    def rule_scenarios(self):
        cands = [
            person("me", 9),
            person("p-me", 8, user_id="me"),
            person("bob", 7),
            person("p-carol", 6, user_id="carol"),
            person("troll", 5),
            post("mine", 4, "me"),
            post("trolling", 3, "troll"),
            person("dave", 2),
            post("ok", 1, "erin"),
        ]
        history = [InteractionRecord("me", "p-carol", "follow")]
        return [
            RuleScenario(
                "self, followed, blocked",
                cands,
                excluded={"me", "p-me", "bob", "p-carol", "troll", "mine", "trolling"},
                user=ME,
                history=history,
            ),
            RuleScenario(
                "own posts allowed, self never",
                cands,
                excluded={"me", "p-me", "bob", "p-carol", "troll", "trolling"},
                user=ME,
                history=history,
                config={"rules": {"exclude_own_posts": False}},
            ),
        ]

    def test_only_allowed_people_and_posts_remain(self):
        (scenario,) = self.rule_scenarios()[:1]
        out = self.domain.apply_rules(
            user=ME, history=scenario.history, candidates=scenario.candidates
        )
        assert [c.item_id for c in out] == ["dave", "ok"]

    def test_shared_interests_boost_and_explain(self):
        cands = [person("a", 1.0), person("b", 0.99, interests=["Cooking"])]
        out = self.domain.apply_rules(user=ME, history=[], candidates=cands)
        assert [c.item_id for c in out] == ["b", "a"]
        assert out[0].reason == "Shares your interest in cooking"

    def test_follow_outweighs_like(self):
        assert self.domain.interaction_weight("follow") > self.domain.interaction_weight("like")
