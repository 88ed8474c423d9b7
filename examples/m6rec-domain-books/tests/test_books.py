"""The books plugin proves itself with M6-Rec's shared contract suite plus its own rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from m6rec_books import GENRES, BooksDomain

from domains.records import Candidate, InteractionRecord, ItemRecord, UserRecord
from domains.testing import ContractSample, DomainContractTests, RuleScenario

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def make_books(n: int = 40, seed: int = 0) -> list[ItemRecord]:
    rng = np.random.default_rng(seed)
    books = []
    for i in range(n):
        props = {
            "title": f"Book {i}",
            "authors": [f"author-{int(rng.integers(12))}"],
            "genres": [str(rng.choice(GENRES))],
            "pages": int(rng.integers(80, 900)),
            "year": int(rng.integers(1950, 2026)),
            "language": "en",
            "min_age": int(rng.choice([0, 0, 0, 12, 18])),
        }
        if i % 5 == 0:
            props |= {"series": f"Saga {i // 10}", "volume": 1 + (i // 5) % 2}
        books.append(ItemRecord(f"b{i}", props))
    return books


class TestBooksDomain(DomainContractTests):
    domain_factory = BooksDomain
    valid_item_properties = [
        {"title": "Dune", "isbn": "9780441013593", "genres": ["science-fiction"]}
    ]
    invalid_item_properties = [
        ({"isbn": "9780441013593"}, "title"),
        ({"title": "X", "isbn": "12"}, "isbn"),
        ({"title": "X", "pages": 0}, "pages"),
        ({"title": "X", "volume": 2}, "series"),
    ]
    invalid_user_properties = [({"age": "teen"}, "age")]
    invalid_configs = [({"finished_types": ["view"]}, "finished_types.0")]

    def make_sample(self) -> ContractSample:
        rng = np.random.default_rng(1)
        books = make_books()
        users = [UserRecord(f"r{u}", {"age": int(rng.integers(8, 80))}) for u in range(20)]
        types = list(BooksDomain.interaction_types)
        events = [
            InteractionRecord(
                u.user_id,
                books[int(rng.integers(len(books)))].item_id,
                t := str(rng.choice(types)),
                float(rng.integers(1, 6)) if t == "rate" else None,
                T0 + timedelta(hours=int(rng.integers(2000))),
            )
            for u in users
            for _ in range(6)
        ]
        return ContractSample(books, users, events)

    def rule_scenarios(self) -> list[RuleScenario]:
        cands = [
            Candidate("adult", 3, {"title": "A", "min_age": 18}),
            Candidate("bought", 2, {"title": "B"}),
            Candidate("kids", 1, {"title": "C", "min_age": 0}),
        ]
        bought = [InteractionRecord("r1", "bought", "purchase", None, T0)]
        return [
            RuleScenario(
                "age and finished",
                cands,
                {"adult", "bought"},
                UserRecord("r1", {"age": 11}),
                bought,
            ),
            RuleScenario("anonymous sees all-ages only", cands, {"adult"}),
        ]

    def test_next_volume_is_explained(self):
        cands = [
            Candidate("v1", 2, {"title": "V1", "series": "Saga", "volume": 1}),
            Candidate("v2", 1, {"title": "V2", "series": "Saga", "volume": 2}),
        ]
        history = [InteractionRecord("r1", "v1", "purchase", None, T0)]
        out = self.domain.apply_rules(
            user=UserRecord("r1", {"age": 30}), history=history, candidates=cands
        )
        assert [(c.item_id, c.reason) for c in out] == [("v2", "Next in Saga")]

    def test_star_rating_scales_weight(self):
        assert self.domain.interaction_weight("rate", 5) > self.domain.interaction_weight("rate", 1)
