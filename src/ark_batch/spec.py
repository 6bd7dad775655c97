"""The OpenAPI documents in spec/, one per API Version, and validators built from them.

``spec/`` holds one document per Version; a document is any ``*.yaml``/``*.yml``/``*.json``
file there with a top-level ``openapi`` key, and its Version is its ``info.version``.
:class:`SpecRegistry` knows the Versions present, the newest one, each document, its
actions (the operationIds, never listed by hand), and the request validators and operation
objects per (Version, action). The emulator validates request bodies with these
validators, so the spec stays the one place where field rules live.

Needs the ``emulator`` extra (PyYAML, jsonschema). Code that must run with the core
dependencies only reads the generated client instead (:mod:`ark_batch._api`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, ValidationError, validators
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

__all__ = [
    "SPEC_URI",
    "SpecDocument",
    "SpecRegistry",
    "SpecValidator",
    "default_registry",
    "discover_documents",
    "load_registry",
    "load_spec",
    "operation",
    "request_validator",
    "schema_validator",
    "spec_dir",
    "spec_path",
]

SPEC_URI = "urn:ark-batch:openapi"
_DOCUMENT_SUFFIXES = (".yaml", ".yml", ".json")
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_SCHEMA_REF = "#/components/schemas/"


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


def spec_dir() -> Path:
    """The directory of the shipped documents: the copy inside a wheel, else spec/."""
    packaged = resources.files("ark_batch") / "_spec"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "spec"


@dataclass(frozen=True, eq=False)
class SpecDocument:
    """One OpenAPI document: the API as one Version defines it."""

    version: str
    path: Path
    document: Mapping[str, Any]
    #: operationId -> the operation object, in document order.
    operations: Mapping[str, Mapping[str, Any]]
    _validators: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_file(cls, path: Path) -> SpecDocument | None:
        """The document in ``path``, or None when the file is not an OpenAPI document."""
        with path.open(encoding="utf-8") as fh:
            try:
                document = yaml.safe_load(fh)
            except yaml.YAMLError as exc:
                raise ValueError(f"{path.name} is not valid YAML: {exc}") from None
        if not isinstance(document, dict) or "openapi" not in document:
            return None
        return cls.from_document(document, path)

    @classmethod
    def from_document(cls, document: Mapping[str, Any], path: Path = Path()) -> SpecDocument:
        """The parsed OpenAPI ``document`` (read from ``path``, if from a file)."""
        version = document.get("info", {}).get("version")
        if not isinstance(version, str) or not version:
            raise ValueError(f"{path.name}: info.version must be a non-empty string")
        return cls(version, path, document, _operations(path.name, document))

    @property
    def actions(self) -> tuple[str, ...]:
        """The actions this Version defines: its operationIds."""
        return tuple(self.operations)

    def operation(self, action: str) -> Mapping[str, Any]:
        """The operation object of ``action`` (KeyError when this Version lacks it)."""
        try:
            return self.operations[action]
        except KeyError:
            raise KeyError(f"Version {self.version} has no action {action!r}") from None

    def schema(self, name: str) -> Mapping[str, Any]:
        """``#/components/schemas/<name>`` as written (KeyError when absent)."""
        try:
            found: Mapping[str, Any] = self.document["components"]["schemas"][name]
        except KeyError:
            raise KeyError(f"no schema named {name!r} in Version {self.version}") from None
        return found

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        """``schema`` with its ``$ref`` to ``#/components/schemas/`` followed (else ValueError)."""
        while "$ref" in schema:
            ref = str(schema["$ref"])
            if not ref.startswith(_SCHEMA_REF):
                raise ValueError(f"unsupported $ref {ref!r} in the {self.version} spec")
            schema = self.schema(ref.removeprefix(_SCHEMA_REF))
        return schema

    def defaults(self, schema_name: str) -> dict[str, Any]:
        """The ``default`` of each property of ``schema_name`` that declares one.

        A property given by ``$ref`` has the default of the schema it names.
        """
        properties: Mapping[str, Any] = self.resolve(self.schema(schema_name)).get("properties", {})
        resolved = {name: self.resolve(prop) for name, prop in properties.items()}
        return {name: prop["default"] for name, prop in resolved.items() if "default" in prop}

    def request_schema_name(self, action: str) -> str:
        """The name of the schema of ``action``'s JSON request body."""
        media = self.operation(action)["requestBody"]["content"]["application/json"]
        ref: str = media["schema"]["$ref"]
        return ref.rsplit("/", 1)[-1]

    @property
    def phases(self) -> tuple[str, ...]:
        """The job phases this Version names (``JobPhase``); responses may carry others."""
        return tuple(self.schema("JobPhase")["enum"])

    @functools.cached_property
    def _registry(self) -> Registry[Any]:
        resource: Resource[Any] = Resource.from_contents(
            dict(self.document), default_specification=DRAFT202012
        )
        registry: Registry[Any] = Registry().with_resource(self._uri, resource)
        return registry

    @property
    def _uri(self) -> str:
        return f"{SPEC_URI}:{self.version}"

    def schema_validator(self, schema_name: str) -> Any:
        """A validator for ``#/components/schemas/<schema_name>`` with all refs resolvable."""
        self.schema(schema_name)
        return SpecValidator(
            {"$ref": f"{self._uri}#/components/schemas/{schema_name}"},
            registry=self._registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )

    def request_validator(self, action: str) -> Any:
        """The validator for the JSON body of ``action``'s request (built once)."""
        cached = self._validators.get(action)
        if cached is None:
            name = self.request_schema_name(action)
            cached = self._validators[action] = self.schema_validator(name)
        return cached


def _operations(name: str, document: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    for item in (document.get("paths") or {}).values():
        for method in _METHODS:
            op = item.get(method)
            if op is None:
                continue
            action = op.get("operationId")
            if not action:
                raise ValueError(f"{name}: every operation needs an operationId (the action)")
            if action in found:
                raise ValueError(f"{name}: operationId {action} appears twice")
            found[action] = op
    return found


def discover_documents(directories: Iterable[Path]) -> dict[str, SpecDocument]:
    """Every document in ``directories`` by Version; two files for one Version are an error."""
    documents: dict[str, SpecDocument] = {}
    for directory in directories:
        if not directory.is_dir():
            raise FileNotFoundError(f"spec directory {directory} does not exist")
        for path in sorted(directory.iterdir()):
            if path.suffix not in _DOCUMENT_SUFFIXES or not path.is_file():
                continue
            doc = SpecDocument.from_file(path)
            if doc is None:
                continue
            if doc.version in documents:
                other = documents[doc.version].path
                raise ValueError(
                    f"Version {doc.version} is defined twice: {other.name} and {path.name}"
                )
            documents[doc.version] = doc
    return documents


class SpecRegistry:
    """The Versions present and their documents.

    Versions are Volcengine date strings (``YYYY-MM-DD``), so the newest is the greatest.
    """

    def __init__(self, documents: Mapping[str, SpecDocument]) -> None:
        if not documents:
            raise ValueError("no OpenAPI document found: the spec directory holds none")
        self._documents = dict(sorted(documents.items()))

    @classmethod
    def from_dirs(cls, directories: Sequence[Path]) -> SpecRegistry:
        """The registry of every document in ``directories``."""
        return cls(discover_documents(directories))

    @property
    def versions(self) -> tuple[str, ...]:
        """Every Version present, oldest first."""
        return tuple(self._documents)

    @property
    def newest(self) -> str:
        """The newest Version present."""
        return self.versions[-1]

    def document(self, version: str | None = None) -> SpecDocument:
        """The document of ``version`` (the newest when None); KeyError when absent."""
        key = self.newest if version is None else version
        try:
            return self._documents[key]
        except KeyError:
            raise KeyError(f"no document defines Version {key!r}") from None

    def actions(self, version: str | None = None) -> tuple[str, ...]:
        """The actions ``version`` defines."""
        return self.document(version).actions

    def serves(self, action: str, version: str) -> bool:
        """Whether some document defines ``action`` for ``version``."""
        document = self._documents.get(version)
        return document is not None and action in document.operations

    def operation(self, version: str, action: str) -> Mapping[str, Any]:
        """The operation object of ``action`` in ``version``."""
        return self.document(version).operation(action)

    def request_validator(self, version: str, action: str) -> Any:
        """The validator for ``action``'s request body as ``version`` defines it."""
        return self.document(version).request_validator(action)


@functools.cache
def _load(directories: tuple[Path, ...]) -> SpecRegistry:
    return SpecRegistry.from_dirs(directories)


def load_registry(directories: Sequence[Path] = ()) -> SpecRegistry:
    """The registry of ``directories``, or of the shipped spec/ when empty (cached)."""
    dirs = tuple(Path(d).resolve() for d in directories) or (spec_dir(),)
    return _load(dirs)


def default_registry() -> SpecRegistry:
    """The registry of the shipped spec/."""
    return load_registry()


def spec_path(version: str | None = None) -> Path:
    """Path of the shipped document of ``version`` (the newest when None)."""
    return default_registry().document(version).path


# Shorthands over the newest shipped document.


def load_spec() -> dict[str, Any]:
    """The newest shipped document (YAML anchors resolved)."""
    return dict(default_registry().document().document)


def schema_validator(schema_name: str) -> Any:
    """A validator for a schema of the newest shipped document."""
    return default_registry().document().schema_validator(schema_name)


def request_validator(action: str) -> Any:
    """The request-body validator of ``action`` in the newest shipped document."""
    return default_registry().document().request_validator(action)


def operation(action: str) -> Mapping[str, Any]:
    """The operation object of ``action`` in the newest shipped document."""
    return default_registry().document().operation(action)


def __getattr__(name: str) -> Any:
    # ACTIONS and API_VERSION are the newest shipped document's, derived on first use.
    if name == "ACTIONS":
        return default_registry().actions()
    if name == "API_VERSION":
        return default_registry().newest
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
