"""One Version's shapes, read from its OpenAPI document: request defaults and answers.

The emulator keeps each job as one document holding every field any Version gave it.
:class:`VersionShapes` fills a request's omitted fields with the ``default`` values of
that Version's request schema, and projects an answer onto that Version's response
schema, so a client on an older Version never sees a field its Version does not define.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["VersionShapes"]

Projector = Callable[[Any], Any]
_SCHEMA_REF = "#/components/schemas/"


def _keep(value: Any) -> Any:
    return value


class VersionShapes:
    """Request defaults and response projection for the actions of one spec document."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.version = str(document["info"]["version"])
        self._projectors: dict[str, Projector] = {}

    def _schemas(self) -> Mapping[str, Any]:
        schemas: Mapping[str, Any] = self.document["components"]["schemas"]
        return schemas

    def _resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in schema:
            ref = str(schema["$ref"])
            if not ref.startswith(_SCHEMA_REF):
                raise ValueError(f"unsupported $ref {ref!r} in the {self.version} spec")
            schema = self._schemas()[ref.removeprefix(_SCHEMA_REF)]
        return schema

    def _operation(self, action: str) -> Mapping[str, Any]:
        for item in self.document["paths"].values():
            post = item.get("post", {})
            for declared in post.get("parameters", ()):
                parameter = self._resolve_parameter(declared)
                if parameter.get("name") == "Action" and parameter["schema"].get("const") == action:
                    operation: Mapping[str, Any] = post
                    return operation
        raise KeyError(f"the {self.version} spec has no action {action!r}")

    def _resolve_parameter(self, parameter: Mapping[str, Any]) -> Mapping[str, Any]:
        ref = parameter.get("$ref")
        if ref is None:
            return parameter
        name = str(ref).rsplit("/", 1)[-1]
        resolved: Mapping[str, Any] = self.document["components"]["parameters"][name]
        return resolved

    def request_schema(self, action: str) -> Mapping[str, Any]:
        """The JSON body schema of ``action``'s request."""
        body = self._operation(action)["requestBody"]["content"]["application/json"]
        return self._resolve(body["schema"])

    def result_schema(self, action: str) -> Mapping[str, Any]:
        """The schema of ``Result`` in ``action``'s 200 answer (``{}``: any value)."""
        answer = self._operation(action)["responses"]["200"]
        if "$ref" in answer:
            answer = self.document["components"]["responses"][answer["$ref"].rsplit("/", 1)[-1]]
        envelope = self._resolve(answer["content"]["application/json"]["schema"])
        result = envelope.get("properties", {}).get("Result", {})
        return self._resolve(result)

    @functools.cache  # noqa: B019  # one instance per Version, kept for the app's life
    def request_defaults(self, action: str) -> Mapping[str, Any]:
        """The top-level fields of ``action``'s request that the schema gives a default."""
        properties = self.request_schema(action).get("properties", {})
        return {
            name: self._resolve(schema)["default"]
            for name, schema in properties.items()
            if "default" in self._resolve(schema)
        }

    def with_defaults(self, action: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``body`` with every omitted field that has a default filled in."""
        return {**self.request_defaults(action), **body}

    def shape_result(self, action: str, result: Any) -> Any:
        """``result`` projected onto this Version's ``Result`` schema of ``action``."""
        projector = self._projectors.get(action)
        if projector is None:
            projector = self._projectors[action] = self._projector(self.result_schema(action), {})
        return projector(result)

    def _projector(self, schema: Mapping[str, Any], seen: dict[str, Projector]) -> Projector:
        """A function keeping only the members ``schema`` names, at every depth.

        A schema that names no properties (a free-form object, a scalar, a
        composition) keeps its value whole.
        """
        ref = schema.get("$ref")
        if ref is not None:
            if ref in seen:  # a recursive schema: defer to the projector being built

                def deferred(value: Any) -> Any:
                    return seen[ref](value)

                return deferred
            seen[ref] = _keep
            built = self._projector(self._resolve(schema), seen)
            seen[ref] = built
            return built
        properties = schema.get("properties")
        if isinstance(properties, Mapping):
            members = {name: self._projector(sub, seen) for name, sub in properties.items()}

            def project_object(value: Any) -> Any:
                if not isinstance(value, dict):
                    return value
                return {
                    name: members[name](member) for name, member in value.items() if name in members
                }

            return project_object
        items = schema.get("items")
        if isinstance(items, Mapping):
            item = self._projector(items, seen)
            if item is _keep:
                return _keep

            def project_array(value: Any) -> Any:
                return [item(entry) for entry in value] if isinstance(value, list) else value

            return project_array
        return _keep
