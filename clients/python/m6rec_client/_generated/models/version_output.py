from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.version_status_enum import VersionStatusEnum

T = TypeVar("T", bound="VersionOutput")


@_attrs_define
class VersionOutput:
    """
    Attributes:
        number (int): Per-tenant sequence number (1, 2, ...).
        status (VersionStatusEnum): * `candidate` - Candidate
            * `active` - Active
            * `retired` - Retired
            * `failed` - Failed
        pinned (bool): A pinned active version is never replaced by automatic promotion.
        gate_metric (float | None): Validation nDCG@10 (the quality-gate metric).
        metrics (Any): manifest.json 'metrics'.
        hyperparameters (Any):
        data_counts (Any):
        bundle_sha256 (str): sha256 of manifest.json.
        run (int | None):
        created_at (datetime.datetime):
        activated_at (datetime.datetime | None):
        notes (str):
    """

    number: int
    status: VersionStatusEnum
    pinned: bool
    gate_metric: float | None
    metrics: Any
    hyperparameters: Any
    data_counts: Any
    bundle_sha256: str
    run: int | None
    created_at: datetime.datetime
    activated_at: datetime.datetime | None
    notes: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        number = self.number

        status = self.status.value

        pinned = self.pinned

        gate_metric: float | None
        gate_metric = self.gate_metric

        metrics = self.metrics

        hyperparameters = self.hyperparameters

        data_counts = self.data_counts

        bundle_sha256 = self.bundle_sha256

        run: int | None
        run = self.run

        created_at = self.created_at.isoformat()

        activated_at: None | str
        if isinstance(self.activated_at, datetime.datetime):
            activated_at = self.activated_at.isoformat()
        else:
            activated_at = self.activated_at

        notes = self.notes

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "number": number,
                "status": status,
                "pinned": pinned,
                "gate_metric": gate_metric,
                "metrics": metrics,
                "hyperparameters": hyperparameters,
                "data_counts": data_counts,
                "bundle_sha256": bundle_sha256,
                "run": run,
                "created_at": created_at,
                "activated_at": activated_at,
                "notes": notes,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        number = d.pop("number")

        status = VersionStatusEnum(d.pop("status"))

        pinned = d.pop("pinned")

        def _parse_gate_metric(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        gate_metric = _parse_gate_metric(d.pop("gate_metric"))

        metrics = d.pop("metrics")

        hyperparameters = d.pop("hyperparameters")

        data_counts = d.pop("data_counts")

        bundle_sha256 = d.pop("bundle_sha256")

        def _parse_run(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        run = _parse_run(d.pop("run"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_activated_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                activated_at_type_0 = datetime.datetime.fromisoformat(data)

                return activated_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        activated_at = _parse_activated_at(d.pop("activated_at"))

        notes = d.pop("notes")

        version_output = cls(
            number=number,
            status=status,
            pinned=pinned,
            gate_metric=gate_metric,
            metrics=metrics,
            hyperparameters=hyperparameters,
            data_counts=data_counts,
            bundle_sha256=bundle_sha256,
            run=run,
            created_at=created_at,
            activated_at=activated_at,
            notes=notes,
        )

        version_output.additional_properties = d
        return version_output

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
