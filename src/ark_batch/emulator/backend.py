"""Business rules of the actions, on top of :class:`JobStore`.

Input is a body already validated against the spec; output is the API-shaped ``Result``.
Request defaults and the fields a job keeps come from the spec (:class:`VersionShapes`),
so a field that a Version adds flows through with no change here. Decisions on
undocumented behaviour follow docs/decisions/0003; the stored document, 0015.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from ark_batch.emulator.config import AccountCredential, Clock
from ark_batch.emulator.job import set_fields
from ark_batch.emulator.lifecycle import Lifecycle
from ark_batch.emulator.phases import QUEUED, check_phases
from ark_batch.emulator.protocol import (
    UTC8,
    EnvelopeError,
    active_job_error,
    dry_run_error,
    not_found_error,
)
from ark_batch.emulator.shapes import VersionShapes
from ark_batch.emulator.store import (
    DuplicateActiveJobError,
    DuplicateJobIdError,
    Job,
    JobStore,
    ListQuery,
    format_time,
)
from ark_batch.spec import default_registry

__all__ = [
    "CREATED_BY_TAG",
    "Backend",
    "format_time",
    "job_to_api",
    "new_job",
    "new_job_id",
]

CREATE = "CreateBatchInferenceJob"
GET = "GetBatchInferenceJob"
LIST = "ListBatchInferenceJobs"
# The spec states ProjectName's default in prose only (decision 0015); a `default` in
# the spec takes precedence.
_UNDECLARED_DEFAULTS: Mapping[str, Mapping[str, Any]] = {CREATE: {"ProjectName": "default"}}
CREATED_BY_TAG = "sys:ark:createdBy"
QUEUED_MESSAGE = "The job is queued."
_ID_ALPHABET = string.ascii_lowercase + string.digits

Handler = Callable[[AccountCredential, dict[str, Any]], dict[str, Any]]


def new_job_id(created: datetime) -> str:
    """``bi-<yyyyMMddHHmmss in UTC+8>-<5 lowercase alphanumerics>``."""
    suffix = "".join(secrets.choice(_ID_ALPHABET) for _ in range(5))
    return f"bi-{created.astimezone(UTC8):%Y%m%d%H%M%S}-{suffix}"


def job_to_api(job: Job) -> dict[str, Any]:
    """The ``BatchInferenceJob`` object of Get and List: the stored document."""
    return dict(job.document)


def _window(completion_window: str) -> timedelta:
    # The spec's pattern (^([1-9]|1[0-9]|2[0-8])d$) has already been checked.
    return timedelta(days=int(completion_window[:-1]))


def new_job(
    account: AccountCredential,
    body: Mapping[str, Any],
    *,
    job_id: str,
    created: datetime,
    job_fields: frozenset[str],
) -> Job:
    """The Queued job a Create ``body`` (defaults filled in) makes.

    Every field of the body that the job schema has (``job_fields``) is kept as sent;
    the service sets the Id, the status, the counts, the times and the creator tag.
    """
    window = str(body["CompletionWindow"])
    created_by = f"IAMUser/{account.account_id}/{account.user}"
    document: dict[str, Any] = {"Id": job_id}
    document.update((name, value) for name, value in body.items() if name in job_fields)
    set_fields(
        document,
        {
            "phase": QUEUED,
            "phase_time": created,
            "status_message": QUEUED_MESSAGE,
            "total": 0,
            "completed": 0,
            "failed": 0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "total_tokens": 0,
        },
    )
    # The sent tags stay as sent (their members' order too), which set_fields' (key,
    # value) pairs would not keep. The spec reserves `sys:` keys, so validation has
    # already refused them.
    document["Tags"] = [{"Key": CREATED_BY_TAG, "Value": created_by}, *body.get("Tags", ())]
    set_fields(
        document,
        {
            "create_time": created,
            "update_time": created,
            "expire_time": created + _window(window),
        },
    )
    return Job(account.account_id, account.user, document)


class Backend:
    """The actions over one store. Methods raise :class:`EnvelopeError`.

    ``shapes`` is the Version whose request defaults and job schema apply to direct
    calls of the handlers (the spec in ``spec/`` by default); :meth:`handle` answers
    any Version in that Version's shapes.
    """

    def __init__(self, store: JobStore, clock: Clock, shapes: VersionShapes | None = None) -> None:
        check_phases()
        self.store = store
        self.clock = clock
        self.shapes = shapes or VersionShapes(default_registry().document())
        self._job_fields: dict[str, frozenset[str]] = {}
        self.handlers: dict[str, Handler] = {
            CREATE: self.create,
            GET: self.get,
            LIST: self.list,
        }
        self.lifecycle = Lifecycle(store, clock)
        self.handlers.update(self.lifecycle.handlers())
        #: Actions that may read many jobs; the app runs them at a lower priority.
        self.bulk_actions = frozenset({LIST})

    def handle(
        self,
        action: str,
        shapes: VersionShapes,
        account: AccountCredential,
        body: Mapping[str, Any],
    ) -> Any:
        """Answer ``action`` for the Version of ``shapes``: its defaults, its answer shape.

        A Create keeps the fields of that Version's job schema.
        """
        handler = self.handlers[action]
        body = self._defaults(action, body, shapes)
        # Compared, not assumed: a handler replaced in ``handlers`` is the one called.
        if handler == self.create:
            result = self.create(account, body, shapes=shapes)
        else:
            result = handler(account, body)
        return shapes.shape_result(action, result)

    def _defaults(
        self, action: str, body: Mapping[str, Any], shapes: VersionShapes | None = None
    ) -> dict[str, Any]:
        defaulted = (shapes or self.shapes).with_defaults(action, body)
        return {**_UNDECLARED_DEFAULTS.get(action, {}), **defaulted}

    def _fields_of_job(self, shapes: VersionShapes) -> frozenset[str]:
        """The members of the job object in ``shapes``'s Version (its Get ``Result``)."""
        found = self._job_fields.get(shapes.version)
        if found is None:
            try:
                schema = shapes.result_schema(GET)
            except KeyError:  # a Version without Get: the job is the default Version's
                schema = self.shapes.result_schema(GET)
            found = self._job_fields[shapes.version] = frozenset(schema.get("properties", {}))
        return found

    def create(
        self,
        account: AccountCredential,
        body: dict[str, Any],
        *,
        shapes: VersionShapes | None = None,
    ) -> dict[str, Any]:
        """CreateBatchInferenceJob: ``{"Id": ...}`` (``shapes``: the Version asked for)."""
        shapes = shapes or self.shapes
        body = self._defaults(CREATE, body, shapes)
        source = body["InputFileTosLocation"]
        if body["DryRun"]:
            active = self.store.active_job_id(
                account.account_id, body["ProjectName"], source["BucketName"], source["ObjectKey"]
            )
            if active is not None:
                raise active_job_error(active)
            raise dry_run_error()

        created = self.clock().replace(microsecond=0)
        for _ in range(8):
            job = new_job(
                account,
                body,
                job_id=new_job_id(created),
                created=created,
                job_fields=self._fields_of_job(shapes),
            )
            try:
                self.store.create(job)
            except DuplicateActiveJobError as exc:
                raise active_job_error(exc.job_id) from None
            except DuplicateJobIdError:
                continue
            return {"Id": job.id}
        raise EnvelopeError("InternalError", "Could not allocate a job Id.")

    def get(self, account: AccountCredential, body: dict[str, Any]) -> dict[str, Any]:
        """GetBatchInferenceJob: the job, or 404 for unknown and foreign Ids alike."""
        job = self.store.get(account.account_id, body["Id"])
        if job is None:
            raise not_found_error(body["Id"])
        return job_to_api(job)

    def list(self, account: AccountCredential, body: dict[str, Any]) -> dict[str, Any]:
        """ListBatchInferenceJobs: one page of the caller's jobs and the total count."""
        body = self._defaults(LIST, body)
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
            sort_by="update_time" if body["SortBy"] == "UpdateTime" else "create_time",
            descending=body["SortOrder"] == "Desc",
            page_number=int(body["PageNumber"]),
            page_size=int(body["PageSize"]),
        )
        total, jobs = self.store.list(account.account_id, query)
        return {
            "TotalCount": total,
            "PageNumber": query.page_number,
            "PageSize": query.page_size,
            "Items": [job_to_api(job) for job in jobs],
        }
