"""The OpenAPI document in spec/, and JSON Schema validators built from it.

The emulator validates request bodies with these validators, so the spec stays the one
place where field rules live. Needs the ``emulator`` extra (PyYAML, jsonschema).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, ValidationError, validators
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_URI = "urn:ark-batch:openapi"
ACTIONS = (
    "CreateBatchInferenceJob",
    "GetBatchInferenceJob",
    "ListBatchInferenceJobs",
    "StopBatchInferenceJob",
    "ResumeBatchInferenceJob",
    "UpdateBatchInferenceJob",
    "DeleteBatchInferenceJob",
)
API_VERSION = "2024-01-01"


# An unescaped `$`: end of input in JSON Schema (ECMA-262) regexes, but in Python's `re`
# it also matches before a final newline, which would let "1d\n" through "^...d$".
_DOLLAR = re.compile(r"(?<!\\)\$")


@functools.cache
def _ecma_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(_DOLLAR.sub(r"\\Z", pattern))


def _pattern(
    validator: Any, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not _ecma_pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


#: Draft 2020-12 with JSON Schema's own `pattern` semantics.
SpecValidator: Any = validators.extend(  # type: ignore[no-untyped-call]  # untyped in the stubs
    Draft202012Validator, {"pattern": _pattern}
)


def spec_path() -> Path:
    """Path of the OpenAPI document: the copy inside a wheel, else the repository's spec/."""
    packaged = resources.files("ark_batch") / "_spec" / "openapi.yaml"
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "spec" / "openapi.yaml"


@functools.cache
def load_spec() -> dict[str, Any]:
    """The parsed OpenAPI document (YAML anchors resolved)."""
    with spec_path().open(encoding="utf-8") as fh:
        document: dict[str, Any] = yaml.safe_load(fh)
    return document


@functools.cache
def _registry() -> Registry[Any]:
    resource: Resource[Any] = Resource.from_contents(load_spec(), default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
    return registry


def schema_validator(schema_name: str) -> Any:
    """A validator for ``#/components/schemas/<schema_name>`` with all refs resolvable."""
    if schema_name not in load_spec()["components"]["schemas"]:
        raise KeyError(f"no schema named {schema_name!r} in the spec")
    schema = {"$ref": f"{SPEC_URI}#/components/schemas/{schema_name}"}
    return SpecValidator(
        schema,
        registry=_registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


@functools.cache
def request_validator(action: str) -> Any:
    """The validator for the JSON body of ``action``'s request."""
    if action not in ACTIONS:
        raise KeyError(f"unknown action {action!r}")
    return schema_validator(f"{action}Request")


def operation(action: str) -> dict[str, Any]:
    """The ``post`` operation object of ``action``."""
    op: dict[str, Any] = load_spec()["paths"][f"/#Action={action}"]["post"]
    return op
