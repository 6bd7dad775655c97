from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="FoundationModelInput")


@_attrs_define
class FoundationModelInput:
    name: str
    model_version: str

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        model_version = self.model_version

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "Name": name,
                "ModelVersion": model_version,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("Name")

        model_version = d.pop("ModelVersion")

        foundation_model_input = cls(
            name=name,
            model_version=model_version,
        )

        return foundation_model_input
