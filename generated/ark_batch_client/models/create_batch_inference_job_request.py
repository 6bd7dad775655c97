from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.model_reference_input import ModelReferenceInput
    from ..models.tag_input import TagInput
    from ..models.tos_location_input import TosLocationInput


T = TypeVar("T", bound="CreateBatchInferenceJobRequest")


@_attrs_define
class CreateBatchInferenceJobRequest:
    name: str
    """ Job name, 1 to 200 characters. """
    model_reference: ModelReferenceInput
    """ Exactly one of `CustomModelId` or `FoundationModel`. """
    input_file_tos_location: TosLocationInput
    output_dir_tos_location: TosLocationInput
    description: str | Unset = UNSET
    """ Job description, up to 300 characters. """
    project_name: str | Unset = UNSET
    """ The project the job belongs to; `default` when absent. """
    completion_window: str | Unset = "28d"
    """ How long the job may run, counted from submission: whole days `1d` to `28d`. Requests not done when it
    expires are cancelled. """
    tags: list[TagInput] | Unset = UNSET
    """ User tags. Keys starting with `sys:` are reserved for tags the service sets, such as `sys:ark:createdBy`.
    """
    dry_run: bool | Unset = False
    """ Validate the request and create nothing. """

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        model_reference = self.model_reference.to_dict()

        input_file_tos_location = self.input_file_tos_location.to_dict()

        output_dir_tos_location = self.output_dir_tos_location.to_dict()

        description = self.description

        project_name = self.project_name

        completion_window = self.completion_window

        tags: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.tags, Unset):
            tags = []
            for tags_item_data in self.tags:
                tags_item = tags_item_data.to_dict()
                tags.append(tags_item)

        dry_run = self.dry_run

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "Name": name,
                "ModelReference": model_reference,
                "InputFileTosLocation": input_file_tos_location,
                "OutputDirTosLocation": output_dir_tos_location,
            }
        )
        if description is not UNSET:
            field_dict["Description"] = description
        if project_name is not UNSET:
            field_dict["ProjectName"] = project_name
        if completion_window is not UNSET:
            field_dict["CompletionWindow"] = completion_window
        if tags is not UNSET:
            field_dict["Tags"] = tags
        if dry_run is not UNSET:
            field_dict["DryRun"] = dry_run

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.model_reference_input import ModelReferenceInput  # noqa: PLC0415
        from ..models.tag_input import TagInput  # noqa: PLC0415
        from ..models.tos_location_input import TosLocationInput  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("Name")

        model_reference = ModelReferenceInput.from_dict(d.pop("ModelReference"))

        input_file_tos_location = TosLocationInput.from_dict(
            d.pop("InputFileTosLocation")
        )

        output_dir_tos_location = TosLocationInput.from_dict(
            d.pop("OutputDirTosLocation")
        )

        description = d.pop("Description", UNSET)

        project_name = d.pop("ProjectName", UNSET)

        completion_window = d.pop("CompletionWindow", UNSET)

        _tags = d.pop("Tags", UNSET)
        tags: list[TagInput] | Unset = UNSET
        if _tags is not UNSET:
            tags = []
            for tags_item_data in _tags:
                tags_item = TagInput.from_dict(tags_item_data)

                tags.append(tags_item)

        dry_run = d.pop("DryRun", UNSET)

        create_batch_inference_job_request = cls(
            name=name,
            model_reference=model_reference,
            input_file_tos_location=input_file_tos_location,
            output_dir_tos_location=output_dir_tos_location,
            description=description,
            project_name=project_name,
            completion_window=completion_window,
            tags=tags,
            dry_run=dry_run,
        )

        return create_batch_inference_job_request
