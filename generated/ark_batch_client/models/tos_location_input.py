from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="TosLocationInput")


@_attrs_define
class TosLocationInput:
    bucket_name: str
    """ TOS bucket name (3 to 63 lowercase letters, digits and hyphens). """
    object_key: str
    """ Object key; for an output location, a prefix that usually ends in `/`. """

    def to_dict(self) -> dict[str, Any]:
        bucket_name = self.bucket_name

        object_key = self.object_key

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "BucketName": bucket_name,
                "ObjectKey": object_key,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        bucket_name = d.pop("BucketName")

        object_key = d.pop("ObjectKey")

        tos_location_input = cls(
            bucket_name=bucket_name,
            object_key=object_key,
        )

        return tos_location_input
