from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.kind_enum import KindEnum

if TYPE_CHECKING:
    from ..models.evidence_output import EvidenceOutput


T = TypeVar("T", bound="ExplanationOutput")


@_attrs_define
class ExplanationOutput:
    """
    Attributes:
        kind (KindEnum): * `item_item` - item_item
            * `mf` - mf
            * `model` - model
            * `similar` - similar
            * `popularity` - popularity
        because (list[EvidenceOutput]):
    """

    kind: KindEnum
    because: list[EvidenceOutput]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        kind = self.kind.value

        because = []
        for because_item_data in self.because:
            because_item = because_item_data.to_dict()
            because.append(because_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "kind": kind,
                "because": because,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.evidence_output import EvidenceOutput

        d = dict(src_dict)
        kind = KindEnum(d.pop("kind"))

        because = []
        _because = d.pop("because")
        for because_item_data in _because:
            because_item = EvidenceOutput.from_dict(because_item_data)

            because.append(because_item)

        explanation_output = cls(
            kind=kind,
            because=because,
        )

        explanation_output.additional_properties = d
        return explanation_output

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
