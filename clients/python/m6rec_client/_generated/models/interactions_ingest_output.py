from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="InteractionsIngestOutput")


@_attrs_define
class InteractionsIngestOutput:
    """
    Attributes:
        received (int):
        created (int): Interactions written.
        duplicate (int): Rows whose event_id was already stored.
        attributed (int): Interactions written with an attribution (a valid recommendation_id).
        users_created (int):
        items_created (int):
    """

    received: int
    created: int
    duplicate: int
    attributed: int
    users_created: int
    items_created: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        received = self.received

        created = self.created

        duplicate = self.duplicate

        attributed = self.attributed

        users_created = self.users_created

        items_created = self.items_created

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "received": received,
                "created": created,
                "duplicate": duplicate,
                "attributed": attributed,
                "users_created": users_created,
                "items_created": items_created,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        received = d.pop("received")

        created = d.pop("created")

        duplicate = d.pop("duplicate")

        attributed = d.pop("attributed")

        users_created = d.pop("users_created")

        items_created = d.pop("items_created")

        interactions_ingest_output = cls(
            received=received,
            created=created,
            duplicate=duplicate,
            attributed=attributed,
            users_created=users_created,
            items_created=items_created,
        )

        interactions_ingest_output.additional_properties = d
        return interactions_ingest_output

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
