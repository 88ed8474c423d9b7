from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.include_enum import IncludeEnum
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
        session_id (str | Unset): A stable id of the session: places it in a running experiment's arm.
        explain (bool | None | Unset): Add why each item was chosen.
        include (list[IncludeEnum] | Unset): Extras per item: `properties` (the item's stored properties).
    """

    recent_items: list[str]
    k: int | Unset = 10
    category: str | Unset = ""
    exclude: list[str] | Unset = UNSET
    session_id: str | Unset = UNSET
    explain: bool | None | Unset = UNSET
    include: list[IncludeEnum] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        recent_items = self.recent_items

        k = self.k

        category = self.category

        exclude: list[str] | Unset = UNSET
        if not isinstance(self.exclude, Unset):
            exclude = self.exclude

        session_id = self.session_id

        explain: bool | None | Unset
        if isinstance(self.explain, Unset):
            explain = UNSET
        else:
            explain = self.explain

        include: list[str] | Unset = UNSET
        if not isinstance(self.include, Unset):
            include = []
            for include_item_data in self.include:
                include_item = include_item_data.value
                include.append(include_item)

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
        if session_id is not UNSET:
            field_dict["session_id"] = session_id
        if explain is not UNSET:
            field_dict["explain"] = explain
        if include is not UNSET:
            field_dict["include"] = include

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        recent_items = cast(list[str], d.pop("recent_items"))

        k = d.pop("k", UNSET)

        category = d.pop("category", UNSET)

        exclude = cast(list[str], d.pop("exclude", UNSET))

        session_id = d.pop("session_id", UNSET)

        def _parse_explain(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        explain = _parse_explain(d.pop("explain", UNSET))

        _include = d.pop("include", UNSET)
        include: list[IncludeEnum] | Unset = UNSET
        if _include is not UNSET:
            include = []
            for include_item_data in _include:
                include_item = IncludeEnum(include_item_data)

                include.append(include_item)

        session_recommendations_input = cls(
            recent_items=recent_items,
            k=k,
            category=category,
            exclude=exclude,
            session_id=session_id,
            explain=explain,
            include=include,
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
