"""``create``, ``get`` and ``list``: the three actions, one command each.

Each builds its request body from ``--input-json``, its own flags and ``--set`` (see
:mod:`ark_batch.cli.body`) and checks it with the generated request model. ``get`` and
``list`` with ``--json`` print the service's JSON as received.
"""

from __future__ import annotations

import itertools
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ark_batch.cli.body import InputJsonOpt, SetOpt, build_request, request_body
from ark_batch.cli.context import EndpointOpt, ProfileOpt, RegionOpt, VerboseOpt, connect
from ark_batch.cli.failures import CommandError, UsageError, handle_errors
from ark_batch.cli.fields import (
    CompletionWindowOpt,
    CreateOptions,
    CustomModelOpt,
    ListOptions,
    ModelOpt,
    ModelVersionOpt,
    ProjectOpt,
    TagOpt,
    build_create,
    check_phases,
    check_sort_by,
    check_sort_order,
)
from ark_batch.cli.output import location, print_id, print_job, print_job_table, print_json
from ark_batch.cli.state import state

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ark_batch.cli.httplog import HttpLog
    from ark_batch_client.models import BatchInferenceJob

__all__ = ["JsonOpt", "last_result", "register"]

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts).")]


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
    model: ModelOpt = None,
    model_version: ModelVersionOpt = None,
    custom_model_id: CustomModelOpt = None,
    description: Annotated[str | None, typer.Option(help="Job description.")] = None,
    project: ProjectOpt = None,
    completion_window: CompletionWindowOpt = None,
    tag: TagOpt = None,
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
    verbose: VerboseOpt = False,
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
    with connect(ctx, endpoint, region, profile, verbose) as ark:
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
            source = location(where.bucket_name, where.object_key)
            if not reuse_active:
                raise CommandError(
                    f"job {job_id} is already Queued or Running on {source}; "
                    f"wait for it (ark-batch wait {job_id}) or pass --reuse-active to use it"
                ) from None
            typer.echo(
                f"Reusing job {job_id}: it is already Queued or Running on {source}", err=True
            )
    print_id(as_json, job_id)


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
    verbose: VerboseOpt = False,
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
    with connect(ctx, endpoint, region, profile, verbose) as ark:
        job = ark.get_job(request.id)
    if as_json:
        print_json(last_result(ctx))
    else:
        print_job(job)


def last_result(ctx: typer.Context) -> Any:
    """The ``Result`` of the last successful response, as the service sent it."""
    log = _http_log(ctx)
    try:
        return log.last_result()
    except LookupError:
        raise CommandError("no response was kept") from None


def _http_log(ctx: typer.Context) -> HttpLog:
    log = state(ctx).http_log
    if log is None:  # connect() always sets it
        raise CommandError("no response was kept")
    return log


def _raw_results(ctx: typer.Context) -> list[Any]:
    return _http_log(ctx).results()


@handle_errors
def list_(
    ctx: typer.Context,
    project: Annotated[str | None, typer.Option(help="Only this project.")] = None,
    phase: Annotated[
        list[str] | None,
        typer.Option(
            callback=check_phases,
            help="Only jobs in this phase (case-insensitive; repeatable), e.g. running.",
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Case-insensitive name substring.")] = None,
    job_id: Annotated[list[str] | None, typer.Option("--id", help="Job Id; repeatable.")] = None,
    tag: Annotated[
        list[str] | None, typer.Option(help="KEY (any value) or KEY=VALUE; repeatable.")
    ] = None,
    sort_by: Annotated[
        str | None, typer.Option(callback=check_sort_by, help="Sort field, e.g. UpdateTime.")
    ] = None,
    sort_order: Annotated[
        str | None, typer.Option(callback=check_sort_order, help="Sort order, e.g. Asc.")
    ] = None,
    page_size: Annotated[int | None, typer.Option(help="Jobs per request.")] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            # The upper bound is what itertools.islice accepts.
            min=1,
            max=sys.maxsize,
            help="Stop after this many jobs (default: all).",
        ),
    ] = None,
    input_json: InputJsonOpt = None,
    set_: SetOpt = None,
    endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    verbose: VerboseOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """List jobs (every page): a table, tab-separated rows when piped, or --json."""
    from ark_batch.errors import InvalidSettingError  # noqa: PLC0415
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
    with connect(ctx, endpoint, region, profile, verbose) as ark:
        try:
            found: Iterator[BatchInferenceJob] = ark.iter_jobs(request)
        except InvalidSettingError as exc:  # a PageNumber or PageSize that is not a number
            raise UsageError(str(exc)) from None
        except ValueError:
            raise UsageError("--page-size and PageNumber must be at least 1") from None
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
