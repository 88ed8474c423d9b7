from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.explanation_output import ExplanationOutput
    from ..models.recommended_item_output_properties import (
        RecommendedItemOutputProperties,
    )


T = TypeVar("T", bound="RecommendedItemOutput")


@_attrs_define
class RecommendedItemOutput:
    """
    Attributes:
        item_id (str):
        score (float):
        reason (str | Unset): Present when a rule explains it.
        properties (RecommendedItemOutputProperties | Unset): The item's stored properties (with `include=properties`).
        explanation (ExplanationOutput | Unset):
    """

    item_id: str
    score: float
    reason: str | Unset = UNSET
    properties: RecommendedItemOutputProperties | Unset = UNSET
    explanation: ExplanationOutput | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        item_id = self.item_id

        score = self.score

        reason = self.reason

        properties: dict[str, Any] | Unset = UNSET
        if not isinstance(self.properties, Unset):
            properties = self.properties.to_dict()

        explanation: dict[str, Any] | Unset = UNSET
        if not isinstance(self.explanation, Unset):
            explanation = self.explanation.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "item_id": item_id,
                "score": score,
            }
        )
        if reason is not UNSET:
            field_dict["reason"] = reason
        if properties is not UNSET:
            field_dict["properties"] = properties
        if explanation is not UNSET:
            field_dict["explanation"] = explanation

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.explanation_output import ExplanationOutput
        from ..models.recommended_item_output_properties import (
            RecommendedItemOutputProperties,
        )

        d = dict(src_dict)
        item_id = d.pop("item_id")

        score = d.pop("score")

        reason = d.pop("reason", UNSET)

        _properties = d.pop("properties", UNSET)
        properties: RecommendedItemOutputProperties | Unset
        if isinstance(_properties, Unset):
            properties = UNSET
        else:
            properties = RecommendedItemOutputProperties.from_dict(_properties)

        _explanation = d.pop("explanation", UNSET)
        explanation: ExplanationOutput | Unset
        if isinstance(_explanation, Unset):
            explanation = UNSET
        else:
            explanation = ExplanationOutput.from_dict(_explanation)

        recommended_item_output = cls(
            item_id=item_id,
            score=score,
            reason=reason,
            properties=properties,
            explanation=explanation,
        )

        recommended_item_output.additional_properties = d
        return recommended_item_output

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
