from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.create_batch_inference_job_result import CreateBatchInferenceJobResult
    from ..models.response_metadata import ResponseMetadata


T = TypeVar("T", bound="CreateBatchInferenceJobResponse")


@_attrs_define
class CreateBatchInferenceJobResponse:
    response_metadata: ResponseMetadata
    result: CreateBatchInferenceJobResult
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        response_metadata = self.response_metadata.to_dict()

        result = self.result.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "ResponseMetadata": response_metadata,
                "Result": result,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.create_batch_inference_job_result import (
            CreateBatchInferenceJobResult,  # noqa: PLC0415
        )
        from ..models.response_metadata import ResponseMetadata  # noqa: PLC0415

        d = dict(src_dict)
        response_metadata = ResponseMetadata.from_dict(d.pop("ResponseMetadata"))

        result = CreateBatchInferenceJobResult.from_dict(d.pop("Result"))

        create_batch_inference_job_response = cls(
            response_metadata=response_metadata,
            result=result,
        )

        create_batch_inference_job_response.additional_properties = d
        return create_batch_inference_job_response

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
