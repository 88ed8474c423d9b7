from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.field_error import FieldError


T = TypeVar("T", bound="ErrorDetails")


@_attrs_define
class ErrorDetails:
    """Machine-readable details; which keys appear depends on the status (see each key).

    Attributes:
        errors (list[FieldError] | Unset): 400: every problem (at most 1,000).
        truncated (bool | Unset): 400: true when more than 1,000 problems were found.
        error_count (int | Unset): 400: the number of problems when `truncated`.
        retry_after (int | Unset): 429, 503: seconds to wait before retrying (also the `Retry-After` header).
        required_scope (str | Unset): 403: the scope the API key lacks.
        run_id (int | Unset): 409 `training_in_progress`: the queued or running run.
        job_id (int | Unset): 409 `batch_in_progress`, `batch_not_finished`: the batch job.
        status (str | Unset): 409 `training_in_progress`, `batch_in_progress`, `batch_not_finished`: that run's or job's
            status.
    """

    errors: list[FieldError] | Unset = UNSET
    truncated: bool | Unset = UNSET
    error_count: int | Unset = UNSET
    retry_after: int | Unset = UNSET
    required_scope: str | Unset = UNSET
    run_id: int | Unset = UNSET
    job_id: int | Unset = UNSET
    status: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        errors: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.errors, Unset):
            errors = []
            for errors_item_data in self.errors:
                errors_item = errors_item_data.to_dict()
                errors.append(errors_item)

        truncated = self.truncated

        error_count = self.error_count

        retry_after = self.retry_after

        required_scope = self.required_scope

        run_id = self.run_id

        job_id = self.job_id

        status = self.status

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if errors is not UNSET:
            field_dict["errors"] = errors
        if truncated is not UNSET:
            field_dict["truncated"] = truncated
        if error_count is not UNSET:
            field_dict["error_count"] = error_count
        if retry_after is not UNSET:
            field_dict["retry_after"] = retry_after
        if required_scope is not UNSET:
            field_dict["required_scope"] = required_scope
        if run_id is not UNSET:
            field_dict["run_id"] = run_id
        if job_id is not UNSET:
            field_dict["job_id"] = job_id
        if status is not UNSET:
            field_dict["status"] = status

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.field_error import FieldError

        d = dict(src_dict)
        _errors = d.pop("errors", UNSET)
        errors: list[FieldError] | Unset = UNSET
        if _errors is not UNSET:
            errors = []
            for errors_item_data in _errors:
                errors_item = FieldError.from_dict(errors_item_data)

                errors.append(errors_item)

        truncated = d.pop("truncated", UNSET)

        error_count = d.pop("error_count", UNSET)

        retry_after = d.pop("retry_after", UNSET)

        required_scope = d.pop("required_scope", UNSET)

        run_id = d.pop("run_id", UNSET)

        job_id = d.pop("job_id", UNSET)

        status = d.pop("status", UNSET)

        error_details = cls(
            errors=errors,
            truncated=truncated,
            error_count=error_count,
            retry_after=retry_after,
            required_scope=required_scope,
            run_id=run_id,
            job_id=job_id,
            status=status,
        )

        error_details.additional_properties = d
        return error_details

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
