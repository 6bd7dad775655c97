"""``create``, ``get`` and ``list``: the three actions, one command each.

Each builds its request body from ``--input-json``, its own flags and ``--set`` (see
:mod:`ark_batch.cli.body`) and checks it with the generated request model. ``get`` and
``list`` with ``--json`` print the service's JSON as received.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ark_batch.cli.body import InputJsonOpt, SetOpt, build_request, request_body
from ark_batch.cli.context import EndpointOpt, ProfileOpt, RegionOpt, connect
from ark_batch.cli.failures import CommandError, UsageError, handle_errors
from ark_batch.cli.output import print_job, print_job_table, print_json
from ark_batch.cli.state import state

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from ark_batch_client.models import BatchInferenceJob, TosLocationInput

__all__ = ["CreateOptions", "JsonOpt", "build_create", "last_result", "register", "tos_location"]

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts).")]


def tos_location(value: str, flag: str) -> TosLocationInput:
    """``tos://BUCKET/KEY`` or ``BUCKET/KEY`` as a location."""
    from ark_batch_client.models import TosLocationInput  # noqa: PLC0415

    text = value.removeprefix("tos://")
    bucket, sep, key = text.partition("/")
    if not sep or not bucket or not key:
        raise UsageError(f"{flag} expects tos://BUCKET/KEY or BUCKET/KEY, got {value!r}")
    return TosLocationInput(bucket_name=bucket, object_key=key)


def parse_tags(values: Iterable[str]) -> list[tuple[str, str]]:
    """``KEY=VALUE`` pairs."""
    pairs = []
    for value in values:
        key, sep, tag_value = value.partition("=")
        if not sep or not key:
            raise UsageError(f"--tag expects KEY=VALUE, got {value!r}")
        pairs.append((key, tag_value))
    return pairs


@dataclass(frozen=True)
class CreateOptions:
    """The convenience flags of a Create; each one given overrides that request field.

    The keys of :meth:`fields` are the request's top-level members in the service's JSON
    (decision 0020); every nested part is built by the generated models.
    """

    name: str | None = None
    input: str | None = None
    output: str | None = None
    model: str | None = None
    model_version: str | None = None
    custom_model_id: str | None = None
    description: str | None = None
    project: str | None = None
    completion_window: str | None = None
    tags: tuple[str, ...] = ()

    def _model_reference(self) -> dict[str, Any] | None:
        from ark_batch_client.models import (  # noqa: PLC0415
            FoundationModelInput,
            ModelReferenceInput,
        )

        if self.model and self.custom_model_id:
            raise UsageError("give --model or --custom-model-id, not both")
        if self.model_version and not self.model:
            raise UsageError("--model-version needs --model NAME")
        if self.custom_model_id:
            return ModelReferenceInput(custom_model_id=self.custom_model_id).to_dict()
        if not self.model:
            return None
        name, _sep, version = self.model.partition(":")
        version = self.model_version or version
        if not name or not version:
            raise UsageError(
                f"--model {self.model!r} needs a version: --model NAME:VERSION, "
                "or --model NAME --model-version VERSION"
            )
        return ModelReferenceInput(
            foundation_model=FoundationModelInput(name=name, model_version=version)
        ).to_dict()

    def fields(self) -> dict[str, Any]:
        """The request members these flags set, in the service's JSON."""
        from ark_batch_client.models import TagInput  # noqa: PLC0415

        given: dict[str, Any] = {
            "Name": self.name,
            "Description": self.description,
            "ProjectName": self.project,
            "CompletionWindow": self.completion_window,
            "ModelReference": self._model_reference(),
            "InputFileTosLocation": self.input and tos_location(self.input, "--input").to_dict(),
            "OutputDirTosLocation": self.output and tos_location(self.output, "--output").to_dict(),
            "Tags": [TagInput(key=k, value=v).to_dict() for k, v in parse_tags(self.tags)] or None,
        }
        return {key: value for key, value in given.items() if value is not None}


_CREATE_HINTS = {
    "Name": "--name",
    "ModelReference": "--model NAME:VERSION or --custom-model-id",
    "InputFileTosLocation": "--input",
    "OutputDirTosLocation": "--output",
}


def build_create(options: CreateOptions, input_json: str | None, sets: list[str] | None) -> Any:
    """The checked ``CreateBatchInferenceJobRequest`` of these flags."""
    from ark_batch_client.models import CreateBatchInferenceJobRequest  # noqa: PLC0415

    body = request_body(input_json, options.fields(), sets)
    return build_request(CreateBatchInferenceJobRequest, body, hints=_CREATE_HINTS)


@handle_errors
def create(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option(help="Job name.")] = None,
    input_: Annotated[
        str | None, typer.Option("--input", help="Input JSONL: tos://BUCKET/KEY or BUCKET/KEY.")
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(help="Output prefix: tos://BUCKET/PREFIX/ or BUCKET/PREFIX/."),
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Foundation model as NAME:VERSION (or with --model-version).")
    ] = None,
    model_version: Annotated[str | None, typer.Option(help="Foundation model version.")] = None,
    custom_model_id: Annotated[
        str | None, typer.Option(help="Custom model Id instead of --model.")
    ] = None,
    description: Annotated[str | None, typer.Option(help="Job description.")] = None,
    project: Annotated[str | None, typer.Option(help="Project name.")] = None,
    completion_window: Annotated[
        str | None, typer.Option(help="How long the job may take, e.g. 1d.")
    ] = None,
    tag: Annotated[list[str] | None, typer.Option(help="KEY=VALUE; repeatable.")] = None,
    reuse_active: Annotated[
        bool,
        typer.Option(
            "--reuse-active",
            help="If a Queued or Running job already reads this input, print its Id "
            "instead of failing.",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate only; create nothing.")
    ] = False,
    input_json: InputJsonOpt = None,
    set_: SetOpt = None,
    endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a job and print its Id.

    The service allows one Queued or Running job per project and input file: when one
    exists, this fails naming it (exit 1), or prints its Id with --reuse-active.
    """
    from ark_batch.errors import ActiveJobExistsError  # noqa: PLC0415

    options = CreateOptions(
        name=name,
        input=input_,
        output=output,
        model=model,
        model_version=model_version,
        custom_model_id=custom_model_id,
        description=description,
        project=project,
        completion_window=completion_window,
        tags=tuple(tag or ()),
    )
    request = build_create(options, input_json, set_)
    with connect(ctx, endpoint, region, profile) as ark:
        if dry_run:
            ark.validate_job(request)
            if as_json:
                print_json({"DryRun": "passed"})
            else:
                typer.echo("Dry run passed: the job would be created.")
            return
        try:
            job_id = ark.create_job(request, on_active_job="raise").id
        except ActiveJobExistsError as exc:
            if exc.job_id is None:
                raise
            job_id = exc.job_id
            where = request.input_file_tos_location
            source = f"tos://{where.bucket_name}/{where.object_key}"
            if not reuse_active:
                raise CommandError(
                    f"job {job_id} is already Queued or Running on {source}; "
                    f"wait for it (ark-batch wait {job_id}) or pass --reuse-active to use it"
                ) from None
            typer.echo(
                f"Reusing job {job_id}: it is already Queued or Running on {source}", err=True
            )
    if as_json:
        print_json({"Id": job_id})
    else:
        typer.echo(job_id)


@handle_errors
def get(
    ctx: typer.Context,
    job_id: Annotated[
        str | None, typer.Argument(help="Job Id, e.g. bi-20240918194641-r2nwq.")
    ] = None,
    input_json: InputJsonOpt = None,
    set_: SetOpt = None,
    endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one job (--json: the service's JSON as received)."""
    from ark_batch_client.models import GetBatchInferenceJobRequest  # noqa: PLC0415

    flags = GetBatchInferenceJobRequest(id=job_id).to_dict() if job_id else {}
    request = build_request(
        GetBatchInferenceJobRequest,
        request_body(input_json, flags, set_),
        hints={"Id": "the JOB_ID argument"},
    )
    with connect(ctx, endpoint, region, profile) as ark:
        job = ark.get_job(request.id)
    if as_json:
        print_json(last_result(ctx))
    else:
        print_job(job)


def last_result(ctx: typer.Context) -> Any:
    """The ``Result`` of the last successful response, as the service sent it."""
    return _raw_results(ctx)[-1]


def _raw_results(ctx: typer.Context) -> list[Any]:
    log = state(ctx).http_log
    if log is None:  # connect() always sets it
        raise CommandError("no response was kept")
    return log.results()


def _choose(value: str, allowed: Iterable[str], flag: str) -> str:
    by_lower = {choice.lower(): choice for choice in allowed}
    chosen = by_lower.get(value.lower())
    if chosen is None:
        raise typer.BadParameter(
            f"{value!r} is not one of {', '.join(sorted(by_lower.values()))}", param_hint=flag
        )
    return chosen


def _phases(values: list[str] | None) -> list[str] | None:
    if not values:
        return values
    from ark_batch_client.models.job_phase import JOB_PHASE_VALUES  # noqa: PLC0415

    return [_choose(value, JOB_PHASE_VALUES, "--phase") for value in values]


def _sort_by(value: str | None) -> str | None:
    if value is None:
        return None
    from ark_batch_client.models.list_batch_inference_jobs_request_sort_by import (  # noqa: PLC0415
        LIST_BATCH_INFERENCE_JOBS_REQUEST_SORT_BY_VALUES as SORT_BY,
    )

    return _choose(value, SORT_BY, "--sort-by")


def _sort_order(value: str | None) -> str | None:
    if value is None:
        return None
    from ark_batch_client.models.list_batch_inference_jobs_request_sort_order import (  # noqa: PLC0415
        LIST_BATCH_INFERENCE_JOBS_REQUEST_SORT_ORDER_VALUES as SORT_ORDER,
    )

    return _choose(value, SORT_ORDER, "--sort-order")


@dataclass(frozen=True)
class ListOptions:
    """The convenience flags of a List; each one given overrides that request field."""

    project: str | None = None
    phases: tuple[str, ...] = ()
    name: str | None = None
    ids: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    sort_by: str | None = None
    sort_order: str | None = None
    page_size: int | None = None

    def _tag_filters(self) -> Any:
        from ark_batch_client.models import TagFilter  # noqa: PLC0415
        from ark_batch_client.types import UNSET  # noqa: PLC0415

        values: dict[str, list[str] | None] = {}
        for tag in self.tags:
            key, sep, value = tag.partition("=")
            if not key:
                raise UsageError(f"--tag expects KEY or KEY=VALUE, got {tag!r}")
            if sep:
                values[key] = [*(values.get(key) or []), value]
            else:
                values.setdefault(key, None)
        if not values:
            return UNSET
        return [
            TagFilter(key=key, values=UNSET if chosen is None else chosen)
            for key, chosen in values.items()
        ]

    def fields(self) -> dict[str, Any]:
        """The request members these flags set, in the service's JSON."""
        from ark_batch_client.models import (  # noqa: PLC0415
            ListBatchInferenceJobsRequest,
            ListFilter,
        )
        from ark_batch_client.types import UNSET  # noqa: PLC0415

        def opt(value: Any) -> Any:
            return value if value else UNSET

        filter_ = ListFilter(
            ids=opt(list(self.ids)), name=opt(self.name), phases=opt(list(self.phases))
        )
        request = ListBatchInferenceJobsRequest(
            project_name=opt(self.project),
            page_number=UNSET,
            page_size=UNSET if self.page_size is None else self.page_size,
            sort_by=opt(self.sort_by),
            sort_order=opt(self.sort_order),
            tag_filters=self._tag_filters(),
            filter_=filter_ if filter_.to_dict() else UNSET,
        )
        return request.to_dict()


@handle_errors
def list_(
    ctx: typer.Context,
    project: Annotated[str | None, typer.Option(help="Only this project.")] = None,
    phase: Annotated[
        list[str] | None,
        typer.Option(
            callback=_phases,
            help="Only jobs in this phase (case-insensitive; repeatable), e.g. running.",
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Case-insensitive name substring.")] = None,
    job_id: Annotated[list[str] | None, typer.Option("--id", help="Job Id; repeatable.")] = None,
    tag: Annotated[
        list[str] | None, typer.Option(help="KEY (any value) or KEY=VALUE; repeatable.")
    ] = None,
    sort_by: Annotated[
        str | None, typer.Option(callback=_sort_by, help="Sort field, e.g. UpdateTime.")
    ] = None,
    sort_order: Annotated[
        str | None, typer.Option(callback=_sort_order, help="Asc or Desc.")
    ] = None,
    page_size: Annotated[int | None, typer.Option(help="Jobs per request.")] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many jobs (default: all).")
    ] = None,
    input_json: InputJsonOpt = None,
    set_: SetOpt = None,
    endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List jobs (every page): a table, tab-separated rows when piped, or --json."""
    from ark_batch_client.models import ListBatchInferenceJobsRequest  # noqa: PLC0415

    options = ListOptions(
        project=project,
        phases=tuple(phase or ()),
        name=name,
        ids=tuple(job_id or ()),
        tags=tuple(tag or ()),
        sort_by=sort_by,
        sort_order=sort_order,
        page_size=page_size,
    )
    body = request_body(input_json, options.fields(), set_)
    request = build_request(ListBatchInferenceJobsRequest, body)
    with connect(ctx, endpoint, region, profile) as ark:
        found: Iterator[BatchInferenceJob] = ark.iter_jobs(request)
        jobs = list(itertools.islice(found, limit) if limit else found)
    if as_json:
        print_json(_raw_items(ctx, [job.id for job in jobs]))
    else:
        print_job_table(jobs)


def _raw_items(ctx: typer.Context, ids: list[str]) -> list[Any]:
    """The jobs as the service sent them, in the order the typed pages yielded them."""
    received: dict[str, Any] = {}
    for result in _raw_results(ctx):
        for item in (result or {}).get("Items") or ():
            if isinstance(item, dict) and isinstance(item.get("Id"), str):
                received.setdefault(item["Id"], item)
    return [received[job_id] for job_id in ids]


def register(app: typer.Typer) -> None:
    """Add ``create``, ``get`` and ``list`` to ``app``."""
    app.command()(create)
    app.command()(get)
    app.command("list")(list_)
