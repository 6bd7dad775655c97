from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="UpdateBatchInferenceJobRequest")


@_attrs_define
class UpdateBatchInferenceJobRequest:
    """At least one of `Name` or `Description` must be given."""

    id: str
    """ The job Id, e.g. `bi-20240918194641-r2nwq`. """
    name: str | Unset = UNSET
    """ The new job name, 1 to 200 characters. """
    description: str | Unset = UNSET
    """ The new description, up to 300 characters; empty clears it. """
    dry_run: bool | Unset = False
    """ Run the action's checks and change nothing. """

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        name = self.name

        description = self.description

        dry_run = self.dry_run

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "Id": id,
            }
        )
        if name is not UNSET:
            field_dict["Name"] = name
        if description is not UNSET:
            field_dict["Description"] = description
        if dry_run is not UNSET:
            field_dict["DryRun"] = dry_run

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        # An explicit JSON null reads as an absent field (docs/decisions/0009).
        d = {key: value for key, value in src_dict.items() if value is not None}
        id = d.pop("Id")

        name = d.pop("Name", UNSET)

        description = d.pop("Description", UNSET)

        dry_run = d.pop("DryRun", UNSET)

        update_batch_inference_job_request = cls(
            id=id,
            name=name,
            description=description,
            dry_run=dry_run,
        )

        return update_batch_inference_job_request
