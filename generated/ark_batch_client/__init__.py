"""A client library for accessing Volcengine Ark batch inference job API"""

from .client import AuthenticatedClient, Client

API_VERSION = "2024-01-01"
"""The API Version (the spec document's ``info.version``) this package was generated for."""

ACTIONS = (
    "CreateBatchInferenceJob",
    "GetBatchInferenceJob",
    "ListBatchInferenceJobs",
    "StopBatchInferenceJob",
    "ResumeBatchInferenceJob",
    "UpdateBatchInferenceJob",
    "DeleteBatchInferenceJob",
)
"""The actions (the ``Action`` query values) this package has a function for."""

__all__ = (
    "ACTIONS",
    "API_VERSION",
    "AuthenticatedClient",
    "Client",
)
