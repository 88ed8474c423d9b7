from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.metric_enum import MetricEnum
from ..types import UNSET, Unset

T = TypeVar("T", bound="ExperimentStartInput")


@_attrs_define
class ExperimentStartInput:
    """
    Attributes:
        name (str):
        candidates (list[int]): Candidate version numbers tested against the active version (the control).
        shares (list[float] | Unset): Traffic share per arm, control first, summing to 1 (default: equal).
        metric (MetricEnum | Unset): * `conversion` - conversion
            * `ctr` - ctr Default: MetricEnum.CONVERSION.
        min_impressions_per_arm (int | Unset): The fixed horizon: no decision before every live arm has this many.
            Default: 1000.
        confidence (float | Unset):  Default: 0.95.
    """

    name: str
    candidates: list[int]
    shares: list[float] | Unset = UNSET
    metric: MetricEnum | Unset = MetricEnum.CONVERSION
    min_impressions_per_arm: int | Unset = 1000
    confidence: float | Unset = 0.95
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        candidates = self.candidates

        shares: list[float] | Unset = UNSET
        if not isinstance(self.shares, Unset):
            shares = self.shares

        metric: str | Unset = UNSET
        if not isinstance(self.metric, Unset):
            metric = self.metric.value

        min_impressions_per_arm = self.min_impressions_per_arm

        confidence = self.confidence

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "candidates": candidates,
            }
        )
        if shares is not UNSET:
            field_dict["shares"] = shares
        if metric is not UNSET:
            field_dict["metric"] = metric
        if min_impressions_per_arm is not UNSET:
            field_dict["min_impressions_per_arm"] = min_impressions_per_arm
        if confidence is not UNSET:
            field_dict["confidence"] = confidence

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        name = d.pop("name")

        candidates = cast(list[int], d.pop("candidates"))

        shares = cast(list[float], d.pop("shares", UNSET))

        _metric = d.pop("metric", UNSET)
        metric: MetricEnum | Unset
        if isinstance(_metric, Unset):
            metric = UNSET
        else:
            metric = MetricEnum(_metric)

        min_impressions_per_arm = d.pop("min_impressions_per_arm", UNSET)

        confidence = d.pop("confidence", UNSET)

        experiment_start_input = cls(
            name=name,
            candidates=candidates,
            shares=shares,
            metric=metric,
            min_impressions_per_arm=min_impressions_per_arm,
            confidence=confidence,
        )

        experiment_start_input.additional_properties = d
        return experiment_start_input

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
