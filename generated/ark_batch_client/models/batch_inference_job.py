from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.job_status import JobStatus
    from ..models.model_reference import ModelReference
    from ..models.request_counts import RequestCounts
    from ..models.tag import Tag
    from ..models.token_usage import TokenUsage
    from ..models.tos_location import TosLocation


T = TypeVar("T", bound="BatchInferenceJob")


@_attrs_define
class BatchInferenceJob:
    id: str
    name: str
    project_name: str
    model_reference: ModelReference
    input_file_tos_location: TosLocation
    output_dir_tos_location: TosLocation
    completion_window: str
    """ As given at creation, e.g. `1d`; `28d` when it was not given. """
    status: JobStatus
    request_counts: RequestCounts
    """ Request lines in the input file (`Total`), lines that succeeded (`Completed`) and lines that failed
    (`Failed`). A finished job has `Completed + Failed = Total` unless it was terminated before every line ran. """
    create_time: datetime.datetime
    update_time: datetime.datetime
    expire_time: datetime.datetime
    description: str | Unset = UNSET
    error_file_tos_location: TosLocation | Unset = UNSET
    token_usage: TokenUsage | Unset = UNSET
    """ Tokens used by the job's successful requests so far. """
    tags: list[Tag] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        name = self.name

        project_name = self.project_name

        model_reference = self.model_reference.to_dict()

        input_file_tos_location = self.input_file_tos_location.to_dict()

        output_dir_tos_location = self.output_dir_tos_location.to_dict()

        completion_window = self.completion_window

        status = self.status.to_dict()

        request_counts = self.request_counts.to_dict()

        create_time = self.create_time.isoformat()

        update_time = self.update_time.isoformat()

        expire_time = self.expire_time.isoformat()

        description = self.description

        error_file_tos_location: dict[str, Any] | Unset = UNSET
        if not isinstance(self.error_file_tos_location, Unset):
            error_file_tos_location = self.error_file_tos_location.to_dict()

        token_usage: dict[str, Any] | Unset = UNSET
        if not isinstance(self.token_usage, Unset):
            token_usage = self.token_usage.to_dict()

        tags: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.tags, Unset):
            tags = []
            for tags_item_data in self.tags:
                tags_item = tags_item_data.to_dict()
                tags.append(tags_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "Id": id,
                "Name": name,
                "ProjectName": project_name,
                "ModelReference": model_reference,
                "InputFileTosLocation": input_file_tos_location,
                "OutputDirTosLocation": output_dir_tos_location,
                "CompletionWindow": completion_window,
                "Status": status,
                "RequestCounts": request_counts,
                "CreateTime": create_time,
                "UpdateTime": update_time,
                "ExpireTime": expire_time,
            }
        )
        if description is not UNSET:
            field_dict["Description"] = description
        if error_file_tos_location is not UNSET:
            field_dict["ErrorFileTosLocation"] = error_file_tos_location
        if token_usage is not UNSET:
            field_dict["TokenUsage"] = token_usage
        if tags is not UNSET:
            field_dict["Tags"] = tags

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.job_status import JobStatus  # noqa: PLC0415
        from ..models.model_reference import ModelReference  # noqa: PLC0415
        from ..models.request_counts import RequestCounts  # noqa: PLC0415
        from ..models.tag import Tag  # noqa: PLC0415
        from ..models.token_usage import TokenUsage  # noqa: PLC0415
        from ..models.tos_location import TosLocation  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("Id")

        name = d.pop("Name")

        project_name = d.pop("ProjectName")

        model_reference = ModelReference.from_dict(d.pop("ModelReference"))

        input_file_tos_location = TosLocation.from_dict(d.pop("InputFileTosLocation"))

        output_dir_tos_location = TosLocation.from_dict(d.pop("OutputDirTosLocation"))

        completion_window = d.pop("CompletionWindow")

        status = JobStatus.from_dict(d.pop("Status"))

        request_counts = RequestCounts.from_dict(d.pop("RequestCounts"))

        create_time = datetime.datetime.fromisoformat(d.pop("CreateTime"))

        update_time = datetime.datetime.fromisoformat(d.pop("UpdateTime"))

        expire_time = datetime.datetime.fromisoformat(d.pop("ExpireTime"))

        description = d.pop("Description", UNSET)

        _error_file_tos_location = d.pop("ErrorFileTosLocation", UNSET)
        error_file_tos_location: TosLocation | Unset
        if isinstance(_error_file_tos_location, Unset):
            error_file_tos_location = UNSET
        else:
            error_file_tos_location = TosLocation.from_dict(_error_file_tos_location)

        _token_usage = d.pop("TokenUsage", UNSET)
        token_usage: TokenUsage | Unset
        if isinstance(_token_usage, Unset):
            token_usage = UNSET
        else:
            token_usage = TokenUsage.from_dict(_token_usage)

        _tags = d.pop("Tags", UNSET)
        tags: list[Tag] | Unset = UNSET
        if _tags is not UNSET:
            tags = []
            for tags_item_data in _tags:
                tags_item = Tag.from_dict(tags_item_data)

                tags.append(tags_item)

        batch_inference_job = cls(
            id=id,
            name=name,
            project_name=project_name,
            model_reference=model_reference,
            input_file_tos_location=input_file_tos_location,
            output_dir_tos_location=output_dir_tos_location,
            completion_window=completion_window,
            status=status,
            request_counts=request_counts,
            create_time=create_time,
            update_time=update_time,
            expire_time=expire_time,
            description=description,
            error_file_tos_location=error_file_tos_location,
            token_usage=token_usage,
            tags=tags,
        )

        batch_inference_job.additional_properties = d
        return batch_inference_job

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
