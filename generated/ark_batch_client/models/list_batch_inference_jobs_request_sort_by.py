from typing import Literal

ListBatchInferenceJobsRequestSortBy = Literal["CreateTime", "UpdateTime"]

LIST_BATCH_INFERENCE_JOBS_REQUEST_SORT_BY_VALUES: set[
    ListBatchInferenceJobsRequestSortBy
] = {
    "CreateTime",
    "UpdateTime",
}


def check_list_batch_inference_jobs_request_sort_by(
    value: str,
) -> ListBatchInferenceJobsRequestSortBy:
    if value in LIST_BATCH_INFERENCE_JOBS_REQUEST_SORT_BY_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {LIST_BATCH_INFERENCE_JOBS_REQUEST_SORT_BY_VALUES!r}"
    )
