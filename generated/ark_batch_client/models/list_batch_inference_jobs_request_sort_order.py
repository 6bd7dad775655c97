from typing import Literal

ListBatchInferenceJobsRequestSortOrder = Literal["Asc", "Desc"]

LIST_BATCH_INFERENCE_JOBS_REQUEST_SORT_ORDER_VALUES: set[
    ListBatchInferenceJobsRequestSortOrder
] = {
    "Asc",
    "Desc",
}


def check_list_batch_inference_jobs_request_sort_order(
    value: str,
) -> ListBatchInferenceJobsRequestSortOrder:
    if value in LIST_BATCH_INFERENCE_JOBS_REQUEST_SORT_ORDER_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {LIST_BATCH_INFERENCE_JOBS_REQUEST_SORT_ORDER_VALUES!r}"
    )
