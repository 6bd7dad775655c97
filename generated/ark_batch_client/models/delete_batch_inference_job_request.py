from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="DeleteBatchInferenceJobRequest")


@_attrs_define
class DeleteBatchInferenceJobRequest:
    id: str
    """ The job Id, e.g. `bi-20240918194641-r2nwq`. """
    dry_run: bool | Unset = False
    """ Run the action's checks and change nothing. """

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        dry_run = self.dry_run

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "Id": id,
            }
        )
        if dry_run is not UNSET:
            field_dict["DryRun"] = dry_run

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        # An explicit JSON null reads as an absent field (docs/decisions/0009).
        d = {key: value for key, value in src_dict.items() if value is not None}
        id = d.pop("Id")

        dry_run = d.pop("DryRun", UNSET)

        delete_batch_inference_job_request = cls(
            id=id,
            dry_run=dry_run,
        )

        return delete_batch_inference_job_request
