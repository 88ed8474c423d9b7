from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.counts import Counts
    from ..models.day import Day


T = TypeVar("T", bound="OnlineMetricsOutput")


@_attrs_define
class OnlineMetricsOutput:
    """
    Attributes:
        version (int):
        goal_types (list[str]):
        since (datetime.date):
        totals (Counts):
        days (list[Day]):
    """

    version: int
    goal_types: list[str]
    since: datetime.date
    totals: Counts
    days: list[Day]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        version = self.version

        goal_types = self.goal_types

        since = self.since.isoformat()

        totals = self.totals.to_dict()

        days = []
        for days_item_data in self.days:
            days_item = days_item_data.to_dict()
            days.append(days_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "version": version,
                "goal_types": goal_types,
                "since": since,
                "totals": totals,
                "days": days,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.counts import Counts
        from ..models.day import Day

        d = dict(src_dict)
        version = d.pop("version")

        goal_types = cast(list[str], d.pop("goal_types"))

        since = datetime.date.fromisoformat(d.pop("since"))

        totals = Counts.from_dict(d.pop("totals"))

        days = []
        _days = d.pop("days")
        for days_item_data in _days:
            days_item = Day.from_dict(days_item_data)

            days.append(days_item)

        online_metrics_output = cls(
            version=version,
            goal_types=goal_types,
            since=since,
            totals=totals,
            days=days,
        )

        online_metrics_output.additional_properties = d
        return online_metrics_output

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
