from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.run_status_enum import RunStatusEnum
from ..models.trigger_enum import TriggerEnum
from ..types import UNSET, Unset

T = TypeVar("T", bound="RunOutput")


@_attrs_define
class RunOutput:
    """
    Attributes:
        id (int):
        status (RunStatusEnum): * `queued` - Queued
            * `running` - Running
            * `succeeded` - Succeeded
            * `failed` - Failed
            * `cancelled` - Cancelled
        trigger (TriggerEnum): * `admin` - Django admin
            * `api` - API
            * `schedule` - Schedule
            * `threshold` - New interactions threshold
            * `command` - Management command
        stage (str):
        progress (float): Percent complete, 0-100.
        requested_by (str):
        created_at (datetime.datetime):
        started_at (datetime.datetime | None):
        finished_at (datetime.datetime | None):
        attempts (int):
        timings (Any): Seconds per stage.
        data_counts (Any):
        error_message (str):
        gate_decision (str):
        version (int | None | Unset): Version number.
    """

    id: int
    status: RunStatusEnum
    trigger: TriggerEnum
    stage: str
    progress: float
    requested_by: str
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    attempts: int
    timings: Any
    data_counts: Any
    error_message: str
    gate_decision: str
    version: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        status = self.status.value

        trigger = self.trigger.value

        stage = self.stage

        progress = self.progress

        requested_by = self.requested_by

        created_at = self.created_at.isoformat()

        started_at: None | str
        if isinstance(self.started_at, datetime.datetime):
            started_at = self.started_at.isoformat()
        else:
            started_at = self.started_at

        finished_at: None | str
        if isinstance(self.finished_at, datetime.datetime):
            finished_at = self.finished_at.isoformat()
        else:
            finished_at = self.finished_at

        attempts = self.attempts

        timings = self.timings

        data_counts = self.data_counts

        error_message = self.error_message

        gate_decision = self.gate_decision

        version: int | None | Unset
        if isinstance(self.version, Unset):
            version = UNSET
        else:
            version = self.version

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "status": status,
                "trigger": trigger,
                "stage": stage,
                "progress": progress,
                "requested_by": requested_by,
                "created_at": created_at,
                "started_at": started_at,
                "finished_at": finished_at,
                "attempts": attempts,
                "timings": timings,
                "data_counts": data_counts,
                "error_message": error_message,
                "gate_decision": gate_decision,
            }
        )
        if version is not UNSET:
            field_dict["version"] = version

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = d.pop("id")

        status = RunStatusEnum(d.pop("status"))

        trigger = TriggerEnum(d.pop("trigger"))

        stage = d.pop("stage")

        progress = d.pop("progress")

        requested_by = d.pop("requested_by")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_started_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                started_at_type_0 = datetime.datetime.fromisoformat(data)

                return started_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        started_at = _parse_started_at(d.pop("started_at"))

        def _parse_finished_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                finished_at_type_0 = datetime.datetime.fromisoformat(data)

                return finished_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        finished_at = _parse_finished_at(d.pop("finished_at"))

        attempts = d.pop("attempts")

        timings = d.pop("timings")

        data_counts = d.pop("data_counts")

        error_message = d.pop("error_message")

        gate_decision = d.pop("gate_decision")

        def _parse_version(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        version = _parse_version(d.pop("version", UNSET))

        run_output = cls(
            id=id,
            status=status,
            trigger=trigger,
            stage=stage,
            progress=progress,
            requested_by=requested_by,
            created_at=created_at,
            started_at=started_at,
            finished_at=finished_at,
            attempts=attempts,
            timings=timings,
            data_counts=data_counts,
            error_message=error_message,
            gate_decision=gate_decision,
            version=version,
        )

        run_output.additional_properties = d
        return run_output

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
