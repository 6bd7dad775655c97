"""The typed convenience flags of the request commands, as parts of a request body.

Each class holds the flags of one action and turns the ones given into members of the
request in the service's JSON; :mod:`ark_batch.cli.body` lays them over ``--input-json``
and under ``--set``. Nested parts are built by the generated models; the top-level member
names of Create are the literals recorded in decision 0020.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ark_batch.cli.body import build_request, request_body
from ark_batch.cli.failures import UsageError

if TYPE_CHECKING:
    from ark_batch_client.models import TosLocationInput

__all__ = [
    "CompletionWindowOpt",
    "CreateOptions",
    "CustomModelOpt",
    "ListOptions",
    "ModelOpt",
    "ModelVersionOpt",
    "ProjectOpt",
    "TagOpt",
    "build_create",
    "check_phases",
    "check_sort_by",
    "check_sort_order",
    "parse_tags",
    "tos_location",
]

ModelOpt = Annotated[
    str | None, typer.Option(help="Foundation model as NAME:VERSION (or with --model-version).")
]
ModelVersionOpt = Annotated[str | None, typer.Option(help="Foundation model version.")]
CustomModelOpt = Annotated[str | None, typer.Option(help="Custom model Id instead of --model.")]
ProjectOpt = Annotated[str | None, typer.Option(help="Project name.")]
CompletionWindowOpt = Annotated[
    str | None, typer.Option(help="How long the job may take, e.g. 1d.")
]
TagOpt = Annotated[list[str] | None, typer.Option(help="KEY=VALUE; repeatable.")]


def tos_location(value: str, flag: str) -> TosLocationInput:
    """``tos://BUCKET/KEY`` or ``BUCKET/KEY`` (or ``s3://BUCKET/KEY``) as a location."""
    from ark_batch import _actions  # noqa: PLC0415

    try:
        return _actions.tos_location(value)
    except ValueError:
        raise UsageError(f"{flag} expects tos://BUCKET/KEY or BUCKET/KEY, got {value!r}") from None


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
            missing = "a name" if not name else "a version"
            raise UsageError(
                f"--model {self.model!r} needs {missing}: --model NAME:VERSION, "
                "or --model NAME --model-version VERSION"
            )
        return ModelReferenceInput(
            foundation_model=FoundationModelInput(name=name, model_version=version)
        ).to_dict()

    @staticmethod
    def _location(value: str | None, flag: str) -> dict[str, Any] | None:
        # An empty flag is given, and wrong: it must not pass as a location of "".
        return None if value is None else tos_location(value, flag).to_dict()

    def fields(self) -> dict[str, Any]:
        """The request members these flags set, in the service's JSON."""
        from ark_batch_client.models import TagInput  # noqa: PLC0415

        given: dict[str, Any] = {
            "Name": self.name,
            "Description": self.description,
            "ProjectName": self.project,
            "CompletionWindow": self.completion_window,
            "ModelReference": self._model_reference(),
            "InputFileTosLocation": self._location(self.input, "--input"),
            "OutputDirTosLocation": self._location(self.output, "--output"),
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


def _choose(value: str, allowed: Iterable[str], flag: str) -> str:
    by_lower = {choice.lower(): choice for choice in allowed}
    chosen = by_lower.get(value.lower())
    if chosen is None:
        raise typer.BadParameter(
            f"{value!r} is not one of {', '.join(sorted(by_lower.values()))}", param_hint=flag
        )
    return chosen


def check_phases(values: list[str] | None) -> list[str] | None:
    """The phases as the spec spells them; a usage error lists them when one is wrong."""
    if not values:
        return values
    from ark_batch_client.models.job_phase import JOB_PHASE_VALUES  # noqa: PLC0415

    return [_choose(value, JOB_PHASE_VALUES, "--phase") for value in values]


def check_sort_by(value: str | None) -> str | None:
    """The sort field as the spec spells it."""
    if value is None:
        return None
    from ark_batch_client.models.list_batch_inference_jobs_request_sort_by import (  # noqa: PLC0415
        LIST_BATCH_INFERENCE_JOBS_REQUEST_SORT_BY_VALUES as SORT_BY,
    )

    return _choose(value, SORT_BY, "--sort-by")


def check_sort_order(value: str | None) -> str | None:
    """The sort order as the spec spells it."""
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
