"""Business rules of the three actions, on top of :class:`JobStore`.

Input is a body already validated against the spec; output is the API-shaped ``Result``.
Decisions on undocumented behaviour follow docs/decisions/0003.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from ark_batch.emulator.config import AccountCredential, Clock
from ark_batch.emulator.lifecycle import Lifecycle
from ark_batch.emulator.protocol import UTC8, EnvelopeError
from ark_batch.emulator.store import (
    DuplicateActiveJobError,
    DuplicateJobIdError,
    Job,
    JobStore,
    ListQuery,
)

__all__ = [
    "CREATED_BY_TAG",
    "DEFAULT_COMPLETION_WINDOW",
    "DEFAULT_PROJECT",
    "Backend",
    "format_time",
    "job_to_api",
    "new_job_id",
]

DEFAULT_PROJECT = "default"
DEFAULT_COMPLETION_WINDOW = "28d"
CREATED_BY_TAG = "sys:ark:createdBy"
QUEUED_MESSAGE = "The job is queued."
_ID_ALPHABET = string.ascii_lowercase + string.digits

Handler = Callable[[AccountCredential, dict[str, Any]], dict[str, Any]]


def new_job_id(created: datetime) -> str:
    """``bi-<yyyyMMddHHmmss in UTC+8>-<5 lowercase alphanumerics>``."""
    suffix = "".join(secrets.choice(_ID_ALPHABET) for _ in range(5))
    return f"bi-{created.astimezone(UTC8):%Y%m%d%H%M%S}-{suffix}"


def format_time(value: datetime) -> str:
    """RFC 3339 UTC with a ``Z`` and whole seconds, as the service answers."""
    return f"{value:%Y-%m-%dT%H:%M:%SZ}"


def job_to_api(job: Job) -> dict[str, Any]:
    """The ``BatchInferenceJob`` object of Get and List."""
    if job.custom_model_id is not None:
        model: dict[str, Any] = {"CustomModelId": job.custom_model_id}
    else:
        model = {"FoundationModel": {"Name": job.model_name, "ModelVersion": job.model_version}}
    result: dict[str, Any] = {
        "Id": job.id,
        "Name": job.name,
        "Description": job.description or "",
        "ProjectName": job.project_name,
        "ModelReference": model,
        "InputFileTosLocation": {"BucketName": job.input_bucket, "ObjectKey": job.input_key},
        "OutputDirTosLocation": {"BucketName": job.output_bucket, "ObjectKey": job.output_key},
        "CompletionWindow": job.completion_window,
        "Status": {
            "Phase": job.phase,
            "PhaseTime": format_time(job.phase_time),
            "Message": job.status_message,
        },
        "RequestCounts": {"Total": job.total, "Completed": job.completed, "Failed": job.failed},
        "TokenUsage": {
            "PromptTokens": job.prompt_tokens,
            "CompletionTokens": job.completion_tokens,
            "TotalTokens": job.total_tokens,
        },
        "Tags": [{"Key": key, "Value": value} for key, value in job.tags],
        "CreateTime": format_time(job.create_time),
        "UpdateTime": format_time(job.update_time),
        "ExpireTime": format_time(job.expire_time),
    }
    if job.error_bucket is not None and job.error_key is not None:
        result["ErrorFileTosLocation"] = {
            "BucketName": job.error_bucket,
            "ObjectKey": job.error_key,
        }
    return result


def _window(completion_window: str) -> timedelta:
    # The spec's pattern (^([1-9]|1[0-9]|2[0-8])d$) has already been checked.
    return timedelta(days=int(completion_window[:-1]))


class Backend:
    """Create, Get and List for one store. Methods raise :class:`EnvelopeError`."""

    def __init__(self, store: JobStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.handlers: dict[str, Handler] = {
            "CreateBatchInferenceJob": self.create,
            "GetBatchInferenceJob": self.get,
            "ListBatchInferenceJobs": self.list,
        }
        self.handlers.update(Lifecycle(store, clock).handlers())

    def create(self, account: AccountCredential, body: dict[str, Any]) -> dict[str, Any]:
        """CreateBatchInferenceJob: ``{"Id": ...}``."""
        # The spec reserves `sys:` keys, so validation has already refused them.
        user_tags = [(tag["Key"], tag["Value"]) for tag in body.get("Tags", ())]
        project = body.get("ProjectName", DEFAULT_PROJECT)
        source = body["InputFileTosLocation"]
        if body.get("DryRun", False):
            active = self.store.active_job_id(
                account.account_id, project, source["BucketName"], source["ObjectKey"]
            )
            if active is not None:
                raise _active_job_error(active)
            raise EnvelopeError(
                "DryRunOperation", "Request would have succeeded, but DryRun flag is set."
            )

        created = self.clock().replace(microsecond=0)
        window = body.get("CompletionWindow", DEFAULT_COMPLETION_WINDOW)
        model = body["ModelReference"]
        foundation = model.get("FoundationModel")
        output = body["OutputDirTosLocation"]
        created_by = f"IAMUser/{account.account_id}/{account.user}"
        for _ in range(8):
            job = Job(
                id=new_job_id(created),
                account_id=account.account_id,
                user_name=account.user,
                project_name=project,
                name=body["Name"],
                description=body.get("Description"),
                custom_model_id=model.get("CustomModelId"),
                model_name=foundation["Name"] if foundation else None,
                model_version=foundation["ModelVersion"] if foundation else None,
                input_bucket=source["BucketName"],
                input_key=source["ObjectKey"],
                output_bucket=output["BucketName"],
                output_key=output["ObjectKey"],
                error_bucket=None,
                error_key=None,
                completion_window=window,
                phase="Queued",
                phase_time=created,
                status_message=QUEUED_MESSAGE,
                total=0,
                completed=0,
                failed=0,
                prompt_tokens=0,
                completion_tokens=0,
                total_tokens=0,
                tags=((CREATED_BY_TAG, created_by), *user_tags),
                create_time=created,
                update_time=created,
                expire_time=created + _window(window),
            )
            try:
                self.store.create(job)
            except DuplicateActiveJobError as exc:
                raise _active_job_error(exc.job_id) from None
            except DuplicateJobIdError:
                continue
            return {"Id": job.id}
        raise EnvelopeError("InternalError", "Could not allocate a job Id.")

    def get(self, account: AccountCredential, body: dict[str, Any]) -> dict[str, Any]:
        """GetBatchInferenceJob: the job, or 404 for unknown and foreign Ids alike."""
        job = self.store.get(account.account_id, body["Id"])
        if job is None:
            raise EnvelopeError(
                "InvalidBatchInferenceJob.NotFound",
                f"The batch inference job {body['Id'][:128]} does not exist.",
            )
        return job_to_api(job)

    def list(self, account: AccountCredential, body: dict[str, Any]) -> dict[str, Any]:
        """ListBatchInferenceJobs: one page of the caller's jobs and the total count."""
        filters = body.get("Filter", {})
        # int(): JSON Schema's integer admits 10.0, which must not reach SQL as a float.
        query = ListQuery(
            project_name=body.get("ProjectName"),
            ids=filters.get("Ids", ()),
            name=filters.get("Name"),
            foundation_models=[
                (entry["Name"], entry.get("ModelVersions", ()))
                for entry in filters.get("FoundationModels", ())
            ],
            custom_model_ids=filters.get("CustomModelIds", ()),
            phases=filters.get("Phases", ()),
            tag_filters=[
                (entry["Key"], entry.get("Values", ())) for entry in body.get("TagFilters", ())
            ],
            sort_by="update_time" if body.get("SortBy") == "UpdateTime" else "create_time",
            descending=body.get("SortOrder", "Desc") == "Desc",
            page_number=int(body.get("PageNumber", 1)),
            page_size=int(body.get("PageSize", 10)),
        )
        total, jobs = self.store.list(account.account_id, query)
        return {
            "TotalCount": total,
            "PageNumber": query.page_number,
            "PageSize": query.page_size,
            "Items": [job_to_api(job) for job in jobs],
        }


def _active_job_error(job_id: str) -> EnvelopeError:
    return EnvelopeError(
        "OperationDenied.ActiveJobExists",
        f"An active batch inference job {job_id} already exists for this project and input file.",
    )
