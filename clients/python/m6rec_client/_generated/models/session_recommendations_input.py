from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="SessionRecommendationsInput")


@_attrs_define
class SessionRecommendationsInput:
    """
    Attributes:
        recent_items (list[str]): Item ids the anonymous/session user interacted with, oldest first.
        k (int | Unset): Number of items, 1..100. Default: 10.
        category (str | Unset): Only items listing this category. Default: ''.
        exclude (list[str] | Unset): Item ids to leave out (the recent items are always left out).
    """

    recent_items: list[str]
    k: int | Unset = 10
    category: str | Unset = ""
    exclude: list[str] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        recent_items = self.recent_items

        k = self.k

        category = self.category

        exclude: list[str] | Unset = UNSET
        if not isinstance(self.exclude, Unset):
            exclude = self.exclude

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "recent_items": recent_items,
            }
        )
        if k is not UNSET:
            field_dict["k"] = k
        if category is not UNSET:
            field_dict["category"] = category
        if exclude is not UNSET:
            field_dict["exclude"] = exclude

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        recent_items = cast(list[str], d.pop("recent_items"))

        k = d.pop("k", UNSET)

        category = d.pop("category", UNSET)

        exclude = cast(list[str], d.pop("exclude", UNSET))

        session_recommendations_input = cls(
            recent_items=recent_items,
            k=k,
            category=category,
            exclude=exclude,
        )

        session_recommendations_input.additional_properties = d
        return session_recommendations_input

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
