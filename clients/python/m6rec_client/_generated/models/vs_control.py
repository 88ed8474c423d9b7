from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="VsControl")


@_attrs_define
class VsControl:
    """
    Attributes:
        difference (float): Arm rate − control rate.
        low (float):
        high (float):
        p_value (float): Two-sided two-proportion z-test.
    """

    difference: float
    low: float
    high: float
    p_value: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        difference = self.difference

        low = self.low

        high = self.high

        p_value = self.p_value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "difference": difference,
                "low": low,
                "high": high,
                "p_value": p_value,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        difference = d.pop("difference")

        low = d.pop("low")

        high = d.pop("high")

        p_value = d.pop("p_value")

        vs_control = cls(
            difference=difference,
            low=low,
            high=high,
            p_value=p_value,
        )

        vs_control.additional_properties = d
        return vs_control

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
