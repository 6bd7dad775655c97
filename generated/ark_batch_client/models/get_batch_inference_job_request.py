from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="GetBatchInferenceJobRequest")


@_attrs_define
class GetBatchInferenceJobRequest:
    id: str
    """ The job Id, e.g. `bi-20240918194641-r2nwq`. """

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "Id": id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("Id")

        get_batch_inference_job_request = cls(
            id=id,
        )

        return get_batch_inference_job_request
