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

from ark_batch.spec import SpecDocument

__all__ = ["VersionShapes"]

Projector = Callable[[Any], Any]


def _keep(value: Any) -> Any:
    return value


class VersionShapes:
    """Request defaults and response projection for the actions of one spec document.

    Built on the :class:`SpecDocument` of the Version (one is made from a bare document).
    """

    def __init__(self, document: SpecDocument | Mapping[str, Any]) -> None:
        if not isinstance(document, SpecDocument):
            document = SpecDocument.from_document(document)
        self.spec = document
        self.version = document.version
        self._projectors: dict[str, Projector] = {}

    def result_schema(self, action: str) -> Mapping[str, Any]:
        """The schema of ``Result`` in ``action``'s 200 answer (``{}``: any value)."""
        answer = self.spec.operation(action)["responses"]["200"]
        if "$ref" in answer:
            responses = self.spec.document["components"]["responses"]
            answer = responses[answer["$ref"].rsplit("/", 1)[-1]]
        envelope = self.spec.resolve(answer["content"]["application/json"]["schema"])
        result = envelope.get("properties", {}).get("Result", {})
        return self.spec.resolve(result)

    @functools.cache  # noqa: B019  # one instance per Version, kept for the app's life
    def request_defaults(self, action: str) -> Mapping[str, Any]:
        """The top-level fields of ``action``'s request that the schema gives a default."""
        return self.spec.defaults(self.spec.request_schema_name(action))

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
            built = self._projector(self.spec.resolve(schema), seen)
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
