from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.version_output import VersionOutput


T = TypeVar("T", bound="UnpinOutput")


@_attrs_define
class UnpinOutput:
    """
    Attributes:
        active (None | VersionOutput): The active version, now unpinned; null when none is active.
    """

    active: None | VersionOutput
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.version_output import VersionOutput

        active: dict[str, Any] | None
        if isinstance(self.active, VersionOutput):
            active = self.active.to_dict()
        else:
            active = self.active

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "active": active,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.version_output import VersionOutput

        d = dict(src_dict)

        def _parse_active(data: object) -> None | VersionOutput:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                active_type_1 = VersionOutput.from_dict(data)

                return active_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | VersionOutput, data)

        active = _parse_active(d.pop("active"))

        unpin_output = cls(
            active=active,
        )

        unpin_output.additional_properties = d
        return unpin_output

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
