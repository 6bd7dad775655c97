from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..models.list_batch_inference_jobs_request_sort_by import (
    ListBatchInferenceJobsRequestSortBy,
    check_list_batch_inference_jobs_request_sort_by,
)
from ..models.list_batch_inference_jobs_request_sort_order import (
    ListBatchInferenceJobsRequestSortOrder,
    check_list_batch_inference_jobs_request_sort_order,
)
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.list_filter import ListFilter
    from ..models.tag_filter import TagFilter


T = TypeVar("T", bound="ListBatchInferenceJobsRequest")


@_attrs_define
class ListBatchInferenceJobsRequest:
    project_name: str | Unset = UNSET
    """ Only jobs of this project; every project when absent. """
    page_number: int | Unset = 1
    """ 1-based page number. """
    page_size: int | Unset = 10
    """ Jobs per page, 1 to 100. """
    sort_by: ListBatchInferenceJobsRequestSortBy | Unset = "CreateTime"
    sort_order: ListBatchInferenceJobsRequestSortOrder | Unset = "Desc"
    tag_filters: list[TagFilter] | Unset = UNSET
    filter_: ListFilter | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        project_name = self.project_name

        page_number = self.page_number

        page_size = self.page_size

        sort_by: str | Unset = UNSET
        if not isinstance(self.sort_by, Unset):
            sort_by = self.sort_by

        sort_order: str | Unset = UNSET
        if not isinstance(self.sort_order, Unset):
            sort_order = self.sort_order

        tag_filters: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.tag_filters, Unset):
            tag_filters = []
            for tag_filters_item_data in self.tag_filters:
                tag_filters_item = tag_filters_item_data.to_dict()
                tag_filters.append(tag_filters_item)

        filter_: dict[str, Any] | Unset = UNSET
        if not isinstance(self.filter_, Unset):
            filter_ = self.filter_.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if project_name is not UNSET:
            field_dict["ProjectName"] = project_name
        if page_number is not UNSET:
            field_dict["PageNumber"] = page_number
        if page_size is not UNSET:
            field_dict["PageSize"] = page_size
        if sort_by is not UNSET:
            field_dict["SortBy"] = sort_by
        if sort_order is not UNSET:
            field_dict["SortOrder"] = sort_order
        if tag_filters is not UNSET:
            field_dict["TagFilters"] = tag_filters
        if filter_ is not UNSET:
            field_dict["Filter"] = filter_

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.list_filter import ListFilter  # noqa: PLC0415
        from ..models.tag_filter import TagFilter  # noqa: PLC0415

        d = dict(src_dict)
        project_name = d.pop("ProjectName", UNSET)

        page_number = d.pop("PageNumber", UNSET)

        page_size = d.pop("PageSize", UNSET)

        _sort_by = d.pop("SortBy", UNSET)
        sort_by: ListBatchInferenceJobsRequestSortBy | Unset
        if isinstance(_sort_by, Unset):
            sort_by = UNSET
        else:
            sort_by = check_list_batch_inference_jobs_request_sort_by(_sort_by)

        _sort_order = d.pop("SortOrder", UNSET)
        sort_order: ListBatchInferenceJobsRequestSortOrder | Unset
        if isinstance(_sort_order, Unset):
            sort_order = UNSET
        else:
            sort_order = check_list_batch_inference_jobs_request_sort_order(_sort_order)

        _tag_filters = d.pop("TagFilters", UNSET)
        tag_filters: list[TagFilter] | Unset = UNSET
        if _tag_filters is not UNSET:
            tag_filters = []
            for tag_filters_item_data in _tag_filters:
                tag_filters_item = TagFilter.from_dict(tag_filters_item_data)

                tag_filters.append(tag_filters_item)

        _filter_ = d.pop("Filter", UNSET)
        filter_: ListFilter | Unset
        if isinstance(_filter_, Unset):
            filter_ = UNSET
        else:
            filter_ = ListFilter.from_dict(_filter_)

        list_batch_inference_jobs_request = cls(
            project_name=project_name,
            page_number=page_number,
            page_size=page_size,
            sort_by=sort_by,
            sort_order=sort_order,
            tag_filters=tag_filters,
            filter_=filter_,
        )

        return list_batch_inference_jobs_request
