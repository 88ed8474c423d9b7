from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.rate import Rate
    from ..models.vs_control import VsControl


T = TypeVar("T", bound="ArmResult")


@_attrs_define
class ArmResult:
    """
    Attributes:
        impressions (int): Items shown.
        responses (int): Recommendation responses.
        clicks (int): Shown items the user then interacted with.
        conversions (int): Clicks that include a goal type.
        ctr (Rate):
        conversion_rate (Rate):
        arm (int):
        version (int):
        share (float):
        ended (None | str):
        vs_control (None | VsControl):
    """

    impressions: int
    responses: int
    clicks: int
    conversions: int
    ctr: Rate
    conversion_rate: Rate
    arm: int
    version: int
    share: float
    ended: None | str
    vs_control: None | VsControl
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.vs_control import VsControl

        impressions = self.impressions

        responses = self.responses

        clicks = self.clicks

        conversions = self.conversions

        ctr = self.ctr.to_dict()

        conversion_rate = self.conversion_rate.to_dict()

        arm = self.arm

        version = self.version

        share = self.share

        ended: None | str
        ended = self.ended

        vs_control: dict[str, Any] | None
        if isinstance(self.vs_control, VsControl):
            vs_control = self.vs_control.to_dict()
        else:
            vs_control = self.vs_control

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
                "arm": arm,
                "version": version,
                "share": share,
                "ended": ended,
                "vs_control": vs_control,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.rate import Rate
        from ..models.vs_control import VsControl

        d = dict(src_dict)
        impressions = d.pop("impressions")

        responses = d.pop("responses")

        clicks = d.pop("clicks")

        conversions = d.pop("conversions")

        ctr = Rate.from_dict(d.pop("ctr"))

        conversion_rate = Rate.from_dict(d.pop("conversion_rate"))

        arm = d.pop("arm")

        version = d.pop("version")

        share = d.pop("share")

        def _parse_ended(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        ended = _parse_ended(d.pop("ended"))

        def _parse_vs_control(data: object) -> None | VsControl:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                vs_control_type_1 = VsControl.from_dict(data)

                return vs_control_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | VsControl, data)

        vs_control = _parse_vs_control(d.pop("vs_control"))

        arm_result = cls(
            impressions=impressions,
            responses=responses,
            clicks=clicks,
            conversions=conversions,
            ctr=ctr,
            conversion_rate=conversion_rate,
            arm=arm,
            version=version,
            share=share,
            ended=ended,
            vs_control=vs_control,
        )

        arm_result.additional_properties = d
        return arm_result

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
