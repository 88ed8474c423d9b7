"""Education domain: shared contract suite + completion and prerequisite rules."""

from domains.education import EducationDomain
from domains.records import Candidate, InteractionRecord, UserRecord
from domains.synthetic import generate
from domains.testing import ContractSample, DomainContractTests, RuleScenario

LEARNER = UserRecord("u1", {"level": "beginner", "completed_courses": ["intro"]})
HISTORY = [
    InteractionRecord("u1", "py1", "complete"),
    InteractionRecord("u1", "stats1", "progress", 1.0),
    InteractionRecord("u1", "sql1", "progress", 0.4),
]


def course(item_id, score, *prereqs):
    return Candidate(item_id, score, {"level": "beginner", "prerequisites": list(prereqs)})


CANDIDATES = [
    course("ml", 9, "py2", "stats1"),
    course("py1", 8),
    course("py2", 7, "py1"),
    course("intro", 6),
    course("stats1", 5),
    course("sql1", 4),
    course("data", 3, "intro", "py1"),
]


class TestEducationDomain(DomainContractTests):
    domain_factory = EducationDomain
    valid_item_properties = [
        {"subject": "python", "level": "beginner", "prerequisites": [], "duration_hours": 3.5}
    ]
    invalid_item_properties = [
        ({"level": "guru"}, "level"),
        ({"prerequisites": "py1"}, "prerequisites"),
        ({"duration_hours": -2}, "duration_hours"),
    ]
    invalid_user_properties = [({"level": "ninja"}, "level")]
    valid_configs = [{"rules": {"hide_missing_prerequisites": True}}]
    invalid_configs = [({"interaction_weights": {"complete": 1}}, "interaction_weights.complete")]

    def make_sample(self):
        ds = generate("education", n_users=30, n_items=40, seed=3)
        return ContractSample(ds.items, ds.users, ds.interactions)

    def rule_scenarios(self):
        return [
            RuleScenario(
                "completed",
                CANDIDATES,
                excluded={"py1", "intro", "stats1"},
                user=LEARNER,
                history=HISTORY,
            ),
            RuleScenario(
                "hidden prerequisites",
                CANDIDATES,
                excluded={"py1", "intro", "stats1", "ml"},
                user=LEARNER,
                history=HISTORY,
                config={"rules": {"hide_missing_prerequisites": True}},
            ),
        ]

    def test_missing_prerequisites_rank_after_takeable_courses(self):
        out = self.domain.apply_rules(user=LEARNER, history=HISTORY, candidates=CANDIDATES)
        assert [c.item_id for c in out] == ["py2", "sql1", "data", "ml"]
        assert out[-1].reason == "Requires first: py2"
        assert out[0].reason == "Next step after py1"

    def test_progress_and_quiz_values_scale_weight(self):
        d = self.domain
        assert d.interaction_weight("progress", 0.9) > d.interaction_weight("progress", 0.1)
        assert d.interaction_weight("quiz", 95) > d.interaction_weight("quiz", 0.2)
        assert (
            d.interaction_weight("complete")
            > d.interaction_weight("enroll")
            > d.interaction_weight("view")
        )
