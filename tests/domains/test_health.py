"""Health domain: shared contract suite + contraindication, audience and reason rules."""

from domains.health import HealthDomain
from domains.records import Candidate, UserRecord
from domains.synthetic import generate
from domains.testing import ContractSample, DomainContractTests, RuleScenario

PATIENT = UserRecord("u1", {"conditions": ["Asthma", "pregnancy"], "age_band": "adult"})


def item(item_id, score, **props):
    return Candidate(item_id, score, {"kind": "article", **props})


class TestHealthDomain(DomainContractTests):
    domain_factory = HealthDomain
    valid_item_properties = [
        {"condition_tags": ["asthma"], "contraindications": ["pregnancy"], "audience": ["adult"]},
        {"kind": "provider", "evidence_level": "A", "reviewed_at": "2026-01-31"},
    ]
    invalid_item_properties = [
        ({"audience": ["toddler"]}, "audience.0"),
        ({"audience": ["adult", "adult"]}, "audience"),
        ({"contraindications": "pregnancy"}, "contraindications"),
        ({"evidence_level": "Z"}, "evidence_level"),
    ]
    invalid_user_properties = [
        ({"age_band": "baby"}, "age_band"),
        ({"conditions": [1]}, "conditions.0"),
    ]
    invalid_configs = [({"condition_boost_weight": 5}, "condition_boost_weight")]

    def make_sample(self):
        ds = generate("health", n_users=30, n_items=40, seed=3)
        return ContractSample(ds.items, ds.users, ds.interactions)

    def rule_scenarios(self):
        cands = [
            item("beta", 5, condition_tags=["hypertension"], contraindications=["asthma"]),
            item("yoga", 4, contraindications=["PREGNANCY"]),
            item("kids", 3, audience=["child"]),
            item("inhaler", 2, condition_tags=["asthma"]),
            item("sleep", 1),
        ]
        return [
            RuleScenario("contraindicated", cands, excluded={"beta", "yoga", "kids"}, user=PATIENT),
            RuleScenario(
                "contraindicated even with every switch off",
                cands,
                excluded={"beta", "yoga"},
                user=PATIENT,
                config={"rules": {"audience_filter": False, "condition_boost": False}},
            ),
        ]

    def _all_results(self):
        for s in self._all_scenarios():
            yield s, self._run(s)

    def test_every_result_carries_a_reason(self):
        for s, out in self._all_results():
            assert all(c.reason for c in out), s.name

    def test_condition_match_ranks_first_with_reason(self):
        out = self.domain.apply_rules(
            user=PATIENT, history=[], candidates=self.rule_scenarios()[0].candidates
        )
        assert [c.item_id for c in out] == ["inhaler", "sleep"]
        assert out[0].reason == "Relevant to your condition: asthma"
        assert out[1].reason == "Popular with people with similar interests"

    def test_anonymous_users_still_get_reasons(self):
        out = self.domain.apply_rules(user=None, history=[], candidates=[item("a", 1)])
        assert out[0].reason == "Popular with our readers"

    def test_existing_reason_is_kept(self):
        out = self.domain.apply_rules(
            user=None, history=[], candidates=[Candidate("a", 1, {}, reason="Editor's pick")]
        )
        assert out[0].reason == "Editor's pick"
