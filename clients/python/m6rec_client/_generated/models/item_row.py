from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="ItemRow")


@_attrs_define
class ItemRow:
    """
    Attributes:
        item_id (str): The tenant's own id; no '/'.
        properties (Any | Unset): Object validated against the domain's item schema.
        categories (list[str] | Unset):
        active (bool | Unset):  Default: True.
    """

    item_id: str
    properties: Any | Unset = UNSET
    categories: list[str] | Unset = UNSET
    active: bool | Unset = True
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        item_id = self.item_id

        properties = self.properties

        categories: list[str] | Unset = UNSET
        if not isinstance(self.categories, Unset):
            categories = self.categories

        active = self.active

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "item_id": item_id,
            }
        )
        if properties is not UNSET:
            field_dict["properties"] = properties
        if categories is not UNSET:
            field_dict["categories"] = categories
        if active is not UNSET:
            field_dict["active"] = active

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        item_id = d.pop("item_id")

        properties = d.pop("properties", UNSET)

        categories = cast(list[str], d.pop("categories", UNSET))

        active = d.pop("active", UNSET)

        item_row = cls(
            item_id=item_id,
            properties=properties,
            categories=categories,
            active=active,
        )

        item_row.additional_properties = d
        return item_row

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
