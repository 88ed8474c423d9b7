from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="BatchJobInput")


@_attrs_define
class BatchJobInput:
    """
    Attributes:
        k (int | Unset): Items per user, 1..100. Default: 10.
        user_ids (list[str] | None | Unset): The users to write, in this order (duplicates once); omitted or null: every
            user the tenant has when the job starts. Unknown users get popularity lines.
        exclude_seen (bool | Unset): Leave out items each user already interacted with. Default: True.
        category (None | str | Unset): Only items listing this category.
    """

    k: int | Unset = 10
    user_ids: list[str] | None | Unset = UNSET
    exclude_seen: bool | Unset = True
    category: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        k = self.k

        user_ids: list[str] | None | Unset
        if isinstance(self.user_ids, Unset):
            user_ids = UNSET
        elif isinstance(self.user_ids, list):
            user_ids = self.user_ids

        else:
            user_ids = self.user_ids

        exclude_seen = self.exclude_seen

        category: None | str | Unset
        if isinstance(self.category, Unset):
            category = UNSET
        else:
            category = self.category

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if k is not UNSET:
            field_dict["k"] = k
        if user_ids is not UNSET:
            field_dict["user_ids"] = user_ids
        if exclude_seen is not UNSET:
            field_dict["exclude_seen"] = exclude_seen
        if category is not UNSET:
            field_dict["category"] = category

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        k = d.pop("k", UNSET)

        def _parse_user_ids(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                user_ids_type_0 = cast(list[str], data)

                return user_ids_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        user_ids = _parse_user_ids(d.pop("user_ids", UNSET))

        exclude_seen = d.pop("exclude_seen", UNSET)

        def _parse_category(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        category = _parse_category(d.pop("category", UNSET))

        batch_job_input = cls(
            k=k,
            user_ids=user_ids,
            exclude_seen=exclude_seen,
            category=category,
        )

        batch_job_input.additional_properties = d
        return batch_job_input

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
