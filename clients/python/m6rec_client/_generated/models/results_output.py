from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.arm_result import ArmResult
    from ..models.decision import Decision


T = TypeVar("T", bound="ResultsOutput")


@_attrs_define
class ResultsOutput:
    """
    Attributes:
        metric (str):
        goal_types (list[str]):
        confidence (float):
        min_impressions_per_arm (int):
        arms (list[ArmResult]):
        decision (Decision):
        computed_at (datetime.datetime):
    """

    metric: str
    goal_types: list[str]
    confidence: float
    min_impressions_per_arm: int
    arms: list[ArmResult]
    decision: Decision
    computed_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        metric = self.metric

        goal_types = self.goal_types

        confidence = self.confidence

        min_impressions_per_arm = self.min_impressions_per_arm

        arms = []
        for arms_item_data in self.arms:
            arms_item = arms_item_data.to_dict()
            arms.append(arms_item)

        decision = self.decision.to_dict()

        computed_at = self.computed_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "metric": metric,
                "goal_types": goal_types,
                "confidence": confidence,
                "min_impressions_per_arm": min_impressions_per_arm,
                "arms": arms,
                "decision": decision,
                "computed_at": computed_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.arm_result import ArmResult
        from ..models.decision import Decision

        d = dict(src_dict)
        metric = d.pop("metric")

        goal_types = cast(list[str], d.pop("goal_types"))

        confidence = d.pop("confidence")

        min_impressions_per_arm = d.pop("min_impressions_per_arm")

        arms = []
        _arms = d.pop("arms")
        for arms_item_data in _arms:
            arms_item = ArmResult.from_dict(arms_item_data)

            arms.append(arms_item)

        decision = Decision.from_dict(d.pop("decision"))

        computed_at = datetime.datetime.fromisoformat(d.pop("computed_at"))

        results_output = cls(
            metric=metric,
            goal_types=goal_types,
            confidence=confidence,
            min_impressions_per_arm=min_impressions_per_arm,
            arms=arms,
            decision=decision,
            computed_at=computed_at,
        )

        results_output.additional_properties = d
        return results_output

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
