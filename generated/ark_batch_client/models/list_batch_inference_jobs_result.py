from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.batch_inference_job import BatchInferenceJob


T = TypeVar("T", bound="ListBatchInferenceJobsResult")


@_attrs_define
class ListBatchInferenceJobsResult:
    total_count: int
    page_number: int
    page_size: int
    items: list[BatchInferenceJob]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        total_count = self.total_count

        page_number = self.page_number

        page_size = self.page_size

        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "TotalCount": total_count,
                "PageNumber": page_number,
                "PageSize": page_size,
                "Items": items,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.batch_inference_job import BatchInferenceJob  # noqa: PLC0415

        d = dict(src_dict)
        total_count = d.pop("TotalCount")

        page_number = d.pop("PageNumber")

        page_size = d.pop("PageSize")

        items = []
        _items = d.pop("Items")
        for items_item_data in _items:
            items_item = BatchInferenceJob.from_dict(items_item_data)

            items.append(items_item)

        list_batch_inference_jobs_result = cls(
            total_count=total_count,
            page_number=page_number,
            page_size=page_size,
            items=items,
        )

        list_batch_inference_jobs_result.additional_properties = d
        return list_batch_inference_jobs_result

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
