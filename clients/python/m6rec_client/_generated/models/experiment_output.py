from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.experiment_status_enum import ExperimentStatusEnum

T = TypeVar("T", bound="ExperimentOutput")


@_attrs_define
class ExperimentOutput:
    """
    Attributes:
        id (int):
        name (str):
        status (ExperimentStatusEnum): * `running` - Running
            * `stopped` - Stopped
        arms (Any): Arm 0 is the control: {version, share, ended}.
        metric (str): The rate the decision rule compares: 'conversion' or 'ctr'.
        min_impressions_per_arm (int): Fixed horizon: no decision before every live arm has this many.
        confidence (float):
        created_by (str):
        created_at (datetime.datetime):
        stopped_at (datetime.datetime | None):
        stop_reason (str):
    """

    id: int
    name: str
    status: ExperimentStatusEnum
    arms: Any
    metric: str
    min_impressions_per_arm: int
    confidence: float
    created_by: str
    created_at: datetime.datetime
    stopped_at: datetime.datetime | None
    stop_reason: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        name = self.name

        status = self.status.value

        arms = self.arms

        metric = self.metric

        min_impressions_per_arm = self.min_impressions_per_arm

        confidence = self.confidence

        created_by = self.created_by

        created_at = self.created_at.isoformat()

        stopped_at: None | str
        if isinstance(self.stopped_at, datetime.datetime):
            stopped_at = self.stopped_at.isoformat()
        else:
            stopped_at = self.stopped_at

        stop_reason = self.stop_reason

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
                "status": status,
                "arms": arms,
                "metric": metric,
                "min_impressions_per_arm": min_impressions_per_arm,
                "confidence": confidence,
                "created_by": created_by,
                "created_at": created_at,
                "stopped_at": stopped_at,
                "stop_reason": stop_reason,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = d.pop("id")

        name = d.pop("name")

        status = ExperimentStatusEnum(d.pop("status"))

        arms = d.pop("arms")

        metric = d.pop("metric")

        min_impressions_per_arm = d.pop("min_impressions_per_arm")

        confidence = d.pop("confidence")

        created_by = d.pop("created_by")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_stopped_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                stopped_at_type_0 = datetime.datetime.fromisoformat(data)

                return stopped_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        stopped_at = _parse_stopped_at(d.pop("stopped_at"))

        stop_reason = d.pop("stop_reason")

        experiment_output = cls(
            id=id,
            name=name,
            status=status,
            arms=arms,
            metric=metric,
            min_impressions_per_arm=min_impressions_per_arm,
            confidence=confidence,
            created_by=created_by,
            created_at=created_at,
            stopped_at=stopped_at,
            stop_reason=stop_reason,
        )

        experiment_output.additional_properties = d
        return experiment_output

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
