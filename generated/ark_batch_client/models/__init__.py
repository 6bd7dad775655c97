"""Contains all the data models used in inputs/outputs"""

from .batch_inference_job import BatchInferenceJob
from .create_batch_inference_job_request import CreateBatchInferenceJobRequest
from .create_batch_inference_job_response import CreateBatchInferenceJobResponse
from .create_batch_inference_job_result import CreateBatchInferenceJobResult
from .delete_batch_inference_job_request import DeleteBatchInferenceJobRequest
from .delete_batch_inference_job_response import DeleteBatchInferenceJobResponse
from .delete_batch_inference_job_result import DeleteBatchInferenceJobResult
from .error import Error
from .error_response import ErrorResponse
from .error_response_metadata import ErrorResponseMetadata
from .foundation_model import FoundationModel
from .foundation_model_filter import FoundationModelFilter
from .foundation_model_input import FoundationModelInput
from .get_batch_inference_job_request import GetBatchInferenceJobRequest
from .get_batch_inference_job_response import GetBatchInferenceJobResponse
from .job_phase import JobPhase
from .job_status import JobStatus
from .list_batch_inference_jobs_request import ListBatchInferenceJobsRequest
from .list_batch_inference_jobs_request_sort_by import (
    ListBatchInferenceJobsRequestSortBy,
)
from .list_batch_inference_jobs_request_sort_order import (
    ListBatchInferenceJobsRequestSortOrder,
)
from .list_batch_inference_jobs_response import ListBatchInferenceJobsResponse
from .list_batch_inference_jobs_result import ListBatchInferenceJobsResult
from .list_filter import ListFilter
from .model_reference import ModelReference
from .model_reference_input import ModelReferenceInput
from .request_counts import RequestCounts
from .response_metadata import ResponseMetadata
from .resume_batch_inference_job_request import ResumeBatchInferenceJobRequest
from .resume_batch_inference_job_response import ResumeBatchInferenceJobResponse
from .resume_batch_inference_job_result import ResumeBatchInferenceJobResult
from .stop_batch_inference_job_request import StopBatchInferenceJobRequest
from .stop_batch_inference_job_response import StopBatchInferenceJobResponse
from .stop_batch_inference_job_result import StopBatchInferenceJobResult
from .tag import Tag
from .tag_filter import TagFilter
from .tag_input import TagInput
from .token_usage import TokenUsage
from .tos_location import TosLocation
from .tos_location_input import TosLocationInput
from .update_batch_inference_job_request import UpdateBatchInferenceJobRequest
from .update_batch_inference_job_response import UpdateBatchInferenceJobResponse
from .update_batch_inference_job_result import UpdateBatchInferenceJobResult

__all__ = (
    "BatchInferenceJob",
    "CreateBatchInferenceJobRequest",
    "CreateBatchInferenceJobResponse",
    "CreateBatchInferenceJobResult",
    "DeleteBatchInferenceJobRequest",
    "DeleteBatchInferenceJobResponse",
    "DeleteBatchInferenceJobResult",
    "Error",
    "ErrorResponse",
    "ErrorResponseMetadata",
    "FoundationModel",
    "FoundationModelFilter",
    "FoundationModelInput",
    "GetBatchInferenceJobRequest",
    "GetBatchInferenceJobResponse",
    "JobPhase",
    "JobStatus",
    "ListBatchInferenceJobsRequest",
    "ListBatchInferenceJobsRequestSortBy",
    "ListBatchInferenceJobsRequestSortOrder",
    "ListBatchInferenceJobsResponse",
    "ListBatchInferenceJobsResult",
    "ListFilter",
    "ModelReference",
    "ModelReferenceInput",
    "RequestCounts",
    "ResponseMetadata",
    "ResumeBatchInferenceJobRequest",
    "ResumeBatchInferenceJobResponse",
    "ResumeBatchInferenceJobResult",
    "StopBatchInferenceJobRequest",
    "StopBatchInferenceJobResponse",
    "StopBatchInferenceJobResult",
    "Tag",
    "TagFilter",
    "TagInput",
    "TokenUsage",
    "TosLocation",
    "TosLocationInput",
    "UpdateBatchInferenceJobRequest",
    "UpdateBatchInferenceJobResponse",
    "UpdateBatchInferenceJobResult",
)
