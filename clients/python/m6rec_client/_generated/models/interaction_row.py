from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="InteractionRow")


@_attrs_define
class InteractionRow:
    """
    Attributes:
        user_id (str):
        item_id (str):
        type_ (str | Unset): One of the domain's interaction types; default: its first type.
        value (float | Unset):  Default: 1.0.
        timestamp (datetime.datetime | float | Unset): ISO 8601 (`2024-05-01T12:30:00Z`; without an offset: UTC) or
            seconds since the epoch (`1714566600`), 1970..2100; default: now. Example: 2024-05-01T12:30:00Z.
        event_id (None | str | Unset): Idempotency key (an id; '/' allowed).
        recommendation_id (str | Unset): The `recommendation_id` of the response that showed this item: attributes the
            interaction to the model version, experiment arm and position that served it. An id that does not attribute this
            row (not issued to this tenant, another user, item not in that response, outside the attribution window) rejects
            the batch.
    """

    user_id: str
    item_id: str
    type_: str | Unset = UNSET
    value: float | Unset = 1.0
    timestamp: datetime.datetime | float | Unset = UNSET
    event_id: None | str | Unset = UNSET
    recommendation_id: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        user_id = self.user_id

        item_id = self.item_id

        type_ = self.type_

        value = self.value

        timestamp: float | str | Unset
        if isinstance(self.timestamp, Unset):
            timestamp = UNSET
        elif isinstance(self.timestamp, datetime.datetime):
            timestamp = self.timestamp.isoformat()
        else:
            timestamp = self.timestamp

        event_id: None | str | Unset
        if isinstance(self.event_id, Unset):
            event_id = UNSET
        else:
            event_id = self.event_id

        recommendation_id = self.recommendation_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "user_id": user_id,
                "item_id": item_id,
            }
        )
        if type_ is not UNSET:
            field_dict["type"] = type_
        if value is not UNSET:
            field_dict["value"] = value
        if timestamp is not UNSET:
            field_dict["timestamp"] = timestamp
        if event_id is not UNSET:
            field_dict["event_id"] = event_id
        if recommendation_id is not UNSET:
            field_dict["recommendation_id"] = recommendation_id

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        user_id = d.pop("user_id")

        item_id = d.pop("item_id")

        type_ = d.pop("type", UNSET)

        value = d.pop("value", UNSET)

        def _parse_timestamp(data: object) -> datetime.datetime | float | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                timestamp_type_0 = datetime.datetime.fromisoformat(data)

                return timestamp_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | float | Unset, data)

        timestamp = _parse_timestamp(d.pop("timestamp", UNSET))

        def _parse_event_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        event_id = _parse_event_id(d.pop("event_id", UNSET))

        recommendation_id = d.pop("recommendation_id", UNSET)

        interaction_row = cls(
            user_id=user_id,
            item_id=item_id,
            type_=type_,
            value=value,
            timestamp=timestamp,
            event_id=event_id,
            recommendation_id=recommendation_id,
        )

        interaction_row.additional_properties = d
        return interaction_row

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
