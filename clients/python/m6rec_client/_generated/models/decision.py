from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.decision_status_enum import DecisionStatusEnum

T = TypeVar("T", bound="Decision")


@_attrs_define
class Decision:
    """
    Attributes:
        status (DecisionStatusEnum): * `collecting` - collecting
            * `winner` - winner
            * `no_difference` - no_difference
        winner_arm (int | None):
        winner_version (int | None):
        alpha_per_comparison (float):
        explanation (str):
    """

    status: DecisionStatusEnum
    winner_arm: int | None
    winner_version: int | None
    alpha_per_comparison: float
    explanation: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        status = self.status.value

        winner_arm: int | None
        winner_arm = self.winner_arm

        winner_version: int | None
        winner_version = self.winner_version

        alpha_per_comparison = self.alpha_per_comparison

        explanation = self.explanation

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "status": status,
                "winner_arm": winner_arm,
                "winner_version": winner_version,
                "alpha_per_comparison": alpha_per_comparison,
                "explanation": explanation,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        status = DecisionStatusEnum(d.pop("status"))

        def _parse_winner_arm(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        winner_arm = _parse_winner_arm(d.pop("winner_arm"))

        def _parse_winner_version(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        winner_version = _parse_winner_version(d.pop("winner_version"))

        alpha_per_comparison = d.pop("alpha_per_comparison")

        explanation = d.pop("explanation")

        decision = cls(
            status=status,
            winner_arm=winner_arm,
            winner_version=winner_version,
            alpha_per_comparison=alpha_per_comparison,
            explanation=explanation,
        )

        decision.additional_properties = d
        return decision

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
