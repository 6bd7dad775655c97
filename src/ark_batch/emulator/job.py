"""A stored job: its owner and its API document, and the fields the emulator names.

The document is the ``BatchInferenceJob`` object as the API answers it, holding every
field the Version's job schema has. The emulator reads and writes the few fields its own
logic needs by name, through :data:`FIELD_PATHS` (decision 0015).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["FIELD_PATHS", "Job", "encode_field", "format_time", "parse_time", "set_fields"]

#: Where each field that the emulator itself reads or writes lives in the job document.
#: Every other field of the document is stored and returned as it is.
FIELD_PATHS: Mapping[str, tuple[str, ...]] = {
    "id": ("Id",),
    "name": ("Name",),
    "description": ("Description",),
    "project_name": ("ProjectName",),
    "custom_model_id": ("ModelReference", "CustomModelId"),
    "model_name": ("ModelReference", "FoundationModel", "Name"),
    "model_version": ("ModelReference", "FoundationModel", "ModelVersion"),
    "input_bucket": ("InputFileTosLocation", "BucketName"),
    "input_key": ("InputFileTosLocation", "ObjectKey"),
    "output_bucket": ("OutputDirTosLocation", "BucketName"),
    "output_key": ("OutputDirTosLocation", "ObjectKey"),
    "error_bucket": ("ErrorFileTosLocation", "BucketName"),
    "error_key": ("ErrorFileTosLocation", "ObjectKey"),
    "completion_window": ("CompletionWindow",),
    "phase": ("Status", "Phase"),
    "phase_time": ("Status", "PhaseTime"),
    "status_message": ("Status", "Message"),
    "total": ("RequestCounts", "Total"),
    "completed": ("RequestCounts", "Completed"),
    "failed": ("RequestCounts", "Failed"),
    "prompt_tokens": ("TokenUsage", "PromptTokens"),
    "completion_tokens": ("TokenUsage", "CompletionTokens"),
    "total_tokens": ("TokenUsage", "TotalTokens"),
    "tags": ("Tags",),
    "create_time": ("CreateTime",),
    "update_time": ("UpdateTime",),
    "expire_time": ("ExpireTime",),
}
_TIME_FIELDS = frozenset({"phase_time", "create_time", "update_time", "expire_time"})


def format_time(value: datetime) -> str:
    """RFC 3339 UTC with a ``Z`` and whole seconds, as the service answers."""
    return f"{value.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


def parse_time(value: str) -> datetime:
    """The aware datetime of a time written by :func:`format_time`."""
    return datetime.fromisoformat(value)


def encode_field(name: str, value: Any) -> Any:
    """The JSON value a named field holds in the document (times as RFC 3339, tags as objects)."""
    if value is None:
        return None
    if name in _TIME_FIELDS:
        return format_time(value)
    if name == "tags":
        return [{"Key": key, "Value": tag_value} for key, tag_value in value]
    return value


def set_fields(document: dict[str, Any], values: Mapping[str, Any]) -> None:
    """Write ``values`` (field name -> Python value) into ``document`` in place.

    ``None`` removes the member; an object left empty by that is removed too.
    """
    for name, value in values.items():
        *parents, leaf = FIELD_PATHS[name]
        encoded = encode_field(name, value)
        node = document
        trail: list[tuple[dict[str, Any], str]] = []
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                if encoded is None:
                    break
                child = node[part] = {}
            trail.append((node, part))
            node = child
        else:
            if encoded is None:
                node.pop(leaf, None)
                for parent, part in reversed(trail):
                    if parent[part]:
                        break
                    del parent[part]
            else:
                node[leaf] = encoded


@dataclass(frozen=True, slots=True)
class Job:
    """A stored job: its owner and its API document (``BatchInferenceJob``).

    The named attributes read the document through :data:`FIELD_PATHS`; the document
    itself holds every field the Version's schema has, known here or not.
    """

    account_id: str
    user_name: str
    document: Mapping[str, Any]

    def _get(self, name: str) -> Any:
        node: Any = self.document
        for part in FIELD_PATHS[name]:
            if not isinstance(node, Mapping):
                return None
            node = node.get(part)
        return node

    def _text(self, name: str) -> str:
        value = self._get(name)
        return "" if value is None else str(value)

    def _count(self, name: str) -> int:
        value = self._get(name)
        return int(value) if isinstance(value, int | float) else 0

    def _time(self, name: str) -> datetime:
        return parse_time(self._text(name))

    def with_values(self, **values: Any) -> Job:
        """A copy with fields set by name (as :meth:`JobStore.update_job` takes them).

        ``account_id`` and ``user_name`` are the owner, not document fields.
        """
        account_id = values.pop("account_id", self.account_id)
        user_name = values.pop("user_name", self.user_name)
        unknown = set(values) - set(FIELD_PATHS)
        if unknown:
            raise ValueError(f"unknown job field(s) {sorted(unknown)}")
        document = copy.deepcopy(dict(self.document))
        set_fields(document, values)
        return Job(account_id, user_name, document)

    @property
    def id(self) -> str:
        return self._text("id")

    @property
    def name(self) -> str:
        return self._text("name")

    @property
    def description(self) -> str | None:
        value = self._get("description")
        return None if value is None else str(value)

    @property
    def project_name(self) -> str:
        return self._text("project_name")

    @property
    def custom_model_id(self) -> str | None:
        value = self._get("custom_model_id")
        return None if value is None else str(value)

    @property
    def model_name(self) -> str | None:
        value = self._get("model_name")
        return None if value is None else str(value)

    @property
    def model_version(self) -> str | None:
        value = self._get("model_version")
        return None if value is None else str(value)

    @property
    def input_bucket(self) -> str:
        return self._text("input_bucket")

    @property
    def input_key(self) -> str:
        return self._text("input_key")

    @property
    def output_bucket(self) -> str:
        return self._text("output_bucket")

    @property
    def output_key(self) -> str:
        return self._text("output_key")

    @property
    def error_bucket(self) -> str | None:
        value = self._get("error_bucket")
        return None if value is None else str(value)

    @property
    def error_key(self) -> str | None:
        value = self._get("error_key")
        return None if value is None else str(value)

    @property
    def completion_window(self) -> str:
        return self._text("completion_window")

    @property
    def phase(self) -> str:
        return self._text("phase")

    @property
    def phase_time(self) -> datetime:
        return self._time("phase_time")

    @property
    def status_message(self) -> str:
        return self._text("status_message")

    @property
    def total(self) -> int:
        return self._count("total")

    @property
    def completed(self) -> int:
        return self._count("completed")

    @property
    def failed(self) -> int:
        return self._count("failed")

    @property
    def prompt_tokens(self) -> int:
        return self._count("prompt_tokens")

    @property
    def completion_tokens(self) -> int:
        return self._count("completion_tokens")

    @property
    def total_tokens(self) -> int:
        return self._count("total_tokens")

    @property
    def tags(self) -> tuple[tuple[str, str], ...]:
        value = self._get("tags")
        if not isinstance(value, list):
            return ()
        return tuple((str(tag["Key"]), str(tag["Value"])) for tag in value)

    @property
    def create_time(self) -> datetime:
        return self._time("create_time")

    @property
    def update_time(self) -> datetime:
        return self._time("update_time")

    @property
    def expire_time(self) -> datetime:
        return self._time("expire_time")
