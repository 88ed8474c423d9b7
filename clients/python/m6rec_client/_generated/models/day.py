from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.rate import Rate


T = TypeVar("T", bound="Day")


@_attrs_define
class Day:
    """
    Attributes:
        impressions (int): Items shown.
        responses (int): Recommendation responses.
        clicks (int): Shown items the user then interacted with.
        conversions (int): Clicks that include a goal type.
        ctr (Rate):
        conversion_rate (Rate):
        day (datetime.date):
    """

    impressions: int
    responses: int
    clicks: int
    conversions: int
    ctr: Rate
    conversion_rate: Rate
    day: datetime.date
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        impressions = self.impressions

        responses = self.responses

        clicks = self.clicks

        conversions = self.conversions

        ctr = self.ctr.to_dict()

        conversion_rate = self.conversion_rate.to_dict()

        day = self.day.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "impressions": impressions,
                "responses": responses,
                "clicks": clicks,
                "conversions": conversions,
                "ctr": ctr,
                "conversion_rate": conversion_rate,
                "day": day,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.rate import Rate

        d = dict(src_dict)
        impressions = d.pop("impressions")

        responses = d.pop("responses")

        clicks = d.pop("clicks")

        conversions = d.pop("conversions")

        ctr = Rate.from_dict(d.pop("ctr"))

        conversion_rate = Rate.from_dict(d.pop("conversion_rate"))

        day = datetime.date.fromisoformat(d.pop("day"))

        day = cls(
            impressions=impressions,
            responses=responses,
            clicks=clicks,
            conversions=conversions,
            ctr=ctr,
            conversion_rate=conversion_rate,
            day=day,
        )

        day.additional_properties = d
        return day

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
