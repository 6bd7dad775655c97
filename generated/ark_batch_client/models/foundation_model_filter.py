from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="FoundationModelFilter")


@_attrs_define
class FoundationModelFilter:
    name: str
    model_versions: list[str] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        model_versions: list[str] | Unset = UNSET
        if not isinstance(self.model_versions, Unset):
            model_versions = self.model_versions

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "Name": name,
            }
        )
        if model_versions is not UNSET:
            field_dict["ModelVersions"] = model_versions

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("Name")

        model_versions = cast(list[str], d.pop("ModelVersions", UNSET))

        foundation_model_filter = cls(
            name=name,
            model_versions=model_versions,
        )

        return foundation_model_filter
