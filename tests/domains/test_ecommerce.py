"""E-commerce domain: shared contract suite + stock and repurchase rules."""

from datetime import timedelta

from domains.ecommerce import EcommerceDomain
from domains.records import Candidate, InteractionRecord, UserRecord
from domains.synthetic import generate
from domains.testing import FIXED_NOW, ContractSample, DomainContractTests, RuleScenario

USER = UserRecord("u1", {"age": 30})


def cand(item_id, score, **props):
    return Candidate(item_id, score, {"price": 10.0, **props})


def buy(item_id, days_ago):
    return InteractionRecord("u1", item_id, "purchase", 1, FIXED_NOW - timedelta(days=days_ago))


class TestEcommerceDomain(DomainContractTests):
    domain_factory = EcommerceDomain
    valid_item_properties = [
        {"price": 0},
        {"price": 19.99, "brand": "Acme", "category_path": ["Home", "Kitchen"], "stock": 3},
    ]
    invalid_item_properties = [
        ({"brand": "Acme"}, "price"),
        ({"price": -1}, "price"),
        ({"price": 5, "stock": 1.5}, "stock"),
        ({"price": 5, "currency": "euro"}, "currency"),
        ({"price": 5, "rating": 7}, "rating"),
    ]
    invalid_user_properties = [({"age": -3}, "age"), ({"loyalty_tier": "diamond"}, "loyalty_tier")]
    valid_configs = [{"repurchase_policy": "never", "rules": {"diversify_brands": True}}]
    invalid_configs = [
        ({"repurchase_policy": "sometimes"}, "repurchase_policy"),
        ({"interaction_weights": {"view": 20}}, "interaction_weights.add_to_cart"),
    ]

    def make_sample(self):
        ds = generate("ecommerce", n_users=30, n_items=40, seed=3)
        return ContractSample(ds.items, ds.users, ds.interactions)

    def rule_scenarios(self):
        return [
            RuleScenario(
                "out of stock",
                [cand("a", 3, stock=0), cand("b", 2, in_stock=False), cand("c", 1, stock=4)],
                excluded={"a", "b"},
                user=USER,
            ),
            RuleScenario(
                "durable bought",
                [cand("tv", 3), cand("soap", 2, consumable=True)],
                excluded={"tv", "soap"},
                user=USER,
                history=[buy("tv", 400), buy("soap", 2)],
            ),
        ]

    def test_out_of_stock_is_never_recommended_even_when_anonymous(self):
        out = self.domain.apply_rules(
            user=None, history=[], candidates=[cand("a", 3, stock=0), cand("b", 1, stock=1)]
        )
        assert [c.item_id for c in out] == ["b"]

    def test_consumables_come_back_when_due(self):
        history = [buy("soap", 45)]
        out = self.domain.apply_rules(
            user=USER, history=history, candidates=[cand("soap", 1, consumable=True)], now=FIXED_NOW
        )
        assert [(c.item_id, c.reason) for c in out] == [("soap", "Time to restock")]
        per_item = [cand("soap", 1, consumable=True, repurchase_interval_days=60)]
        assert (
            self.domain.apply_rules(user=USER, history=history, candidates=per_item, now=FIXED_NOW)
            == []
        )

    def test_repurchase_policy_switch(self):
        history = [buy("tv", 1)]
        always = {"repurchase_policy": "always"}
        out = self.domain.apply_rules(
            user=USER, history=history, candidates=[cand("tv", 1)], config=always
        )
        assert [c.reason for c in out] == ["Buy again"]
        never = {"repurchase_policy": "never"}
        soap = [cand("soap", 1, consumable=True)]
        assert (
            self.domain.apply_rules(
                user=USER, history=[buy("soap", 90)], candidates=soap, config=never
            )
            == []
        )

    def test_weights_follow_the_funnel_and_quantity(self):
        d = self.domain
        assert (
            d.interaction_weight("view")
            < d.interaction_weight("add_to_cart")
            < d.interaction_weight("purchase")
        )
        assert d.interaction_weight("purchase", 3) > d.interaction_weight("purchase", 1)

    def test_brand_diversity_caps_a_brand_in_front(self):
        cands = [cand(f"x{i}", 10 - i, brand="X") for i in range(4)] + [cand("y", 1, brand="Y")]
        cfg = {"rules": {"diversify_brands": True}, "max_per_brand": 2}
        out = self.domain.apply_rules(user=USER, history=[], candidates=cands, config=cfg)
        assert [c.item_id for c in out] == ["x0", "x1", "y", "x2", "x3"]

    def test_log_price_feature(self):
        from domains.records import ItemRecord

        fm = self.domain.item_features(
            [ItemRecord("a", {"price": 9}), ItemRecord("b", {"price": 999})]
        )
        col = fm.names.index("log_price")
        assert 0 < fm.values[0, col] < fm.values[1, col] < 7.0
