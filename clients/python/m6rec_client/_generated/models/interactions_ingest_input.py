from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.interaction_row import InteractionRow


T = TypeVar("T", bound="InteractionsIngestInput")


@_attrs_define
class InteractionsIngestInput:
    """Ingest 1..10,000 interactions; any invalid row rejects the whole batch.

    Attributes:
        interactions (list[InteractionRow]):
    """

    interactions: list[InteractionRow]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        interactions = []
        for interactions_item_data in self.interactions:
            interactions_item = interactions_item_data.to_dict()
            interactions.append(interactions_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "interactions": interactions,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.interaction_row import InteractionRow

        d = dict(src_dict)
        interactions = []
        _interactions = d.pop("interactions")
        for interactions_item_data in _interactions:
            interactions_item = InteractionRow.from_dict(interactions_item_data)

            interactions.append(interactions_item)

        interactions_ingest_input = cls(
            interactions=interactions,
        )

        interactions_ingest_input.additional_properties = d
        return interactions_ingest_input

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
