from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.batch_status_enum import BatchStatusEnum

T = TypeVar("T", bound="BatchJobOutput")


@_attrs_define
class BatchJobOutput:
    """
    Attributes:
        id (int):
        status (BatchStatusEnum): * `queued` - Queued
            * `running` - Running
            * `succeeded` - Succeeded
            * `failed` - Failed
        k (int):
        exclude_seen (bool):
        category (str):
        all_users (bool): Every user of the tenant at the start (else the listed ones).
        users_total (int | None): Users to write (known once the job started).
        users_done (int): Lines written so far.
        popularity_users (int): Lines served by popularity (unknown users, no usable history).
        progress (float): Percent of users written, 0..100.
        model_version (int | None): The active version when the job started (none: popularity).
        requested_by (str):
        created_at (datetime.datetime):
        started_at (datetime.datetime | None):
        finished_at (datetime.datetime | None):
        attempts (int):
        error_message (str):
        output_uri (str):
        sha256 (str):
        size_bytes (int | None):
        download_url (None | str): Once succeeded: the authenticated URL that streams the file (gzip JSON Lines); null
            before.
    """

    id: int
    status: BatchStatusEnum
    k: int
    exclude_seen: bool
    category: str
    all_users: bool
    users_total: int | None
    users_done: int
    popularity_users: int
    progress: float
    model_version: int | None
    requested_by: str
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    attempts: int
    error_message: str
    output_uri: str
    sha256: str
    size_bytes: int | None
    download_url: None | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        status = self.status.value

        k = self.k

        exclude_seen = self.exclude_seen

        category = self.category

        all_users = self.all_users

        users_total: int | None
        users_total = self.users_total

        users_done = self.users_done

        popularity_users = self.popularity_users

        progress = self.progress

        model_version: int | None
        model_version = self.model_version

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

        error_message = self.error_message

        output_uri = self.output_uri

        sha256 = self.sha256

        size_bytes: int | None
        size_bytes = self.size_bytes

        download_url: None | str
        download_url = self.download_url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "status": status,
                "k": k,
                "exclude_seen": exclude_seen,
                "category": category,
                "all_users": all_users,
                "users_total": users_total,
                "users_done": users_done,
                "popularity_users": popularity_users,
                "progress": progress,
                "model_version": model_version,
                "requested_by": requested_by,
                "created_at": created_at,
                "started_at": started_at,
                "finished_at": finished_at,
                "attempts": attempts,
                "error_message": error_message,
                "output_uri": output_uri,
                "sha256": sha256,
                "size_bytes": size_bytes,
                "download_url": download_url,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = d.pop("id")

        status = BatchStatusEnum(d.pop("status"))

        k = d.pop("k")

        exclude_seen = d.pop("exclude_seen")

        category = d.pop("category")

        all_users = d.pop("all_users")

        def _parse_users_total(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        users_total = _parse_users_total(d.pop("users_total"))

        users_done = d.pop("users_done")

        popularity_users = d.pop("popularity_users")

        progress = d.pop("progress")

        def _parse_model_version(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        model_version = _parse_model_version(d.pop("model_version"))

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

        error_message = d.pop("error_message")

        output_uri = d.pop("output_uri")

        sha256 = d.pop("sha256")

        def _parse_size_bytes(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        size_bytes = _parse_size_bytes(d.pop("size_bytes"))

        def _parse_download_url(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        download_url = _parse_download_url(d.pop("download_url"))

        batch_job_output = cls(
            id=id,
            status=status,
            k=k,
            exclude_seen=exclude_seen,
            category=category,
            all_users=all_users,
            users_total=users_total,
            users_done=users_done,
            popularity_users=popularity_users,
            progress=progress,
            model_version=model_version,
            requested_by=requested_by,
            created_at=created_at,
            started_at=started_at,
            finished_at=finished_at,
            attempts=attempts,
            error_message=error_message,
            output_uri=output_uri,
            sha256=sha256,
            size_bytes=size_bytes,
            download_url=download_url,
        )

        batch_job_output.additional_properties = d
        return batch_job_output

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
