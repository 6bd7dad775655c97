from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.error import Error


T = TypeVar("T", bound="ErrorResponseMetadata")


@_attrs_define
class ErrorResponseMetadata:
    request_id: str
    error: Error
    action: str | Unset = UNSET
    version: str | Unset = UNSET
    service: str | Unset = UNSET
    region: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        request_id = self.request_id

        error = self.error.to_dict()

        action = self.action

        version = self.version

        service = self.service

        region = self.region

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "RequestId": request_id,
                "Error": error,
            }
        )
        if action is not UNSET:
            field_dict["Action"] = action
        if version is not UNSET:
            field_dict["Version"] = version
        if service is not UNSET:
            field_dict["Service"] = service
        if region is not UNSET:
            field_dict["Region"] = region

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.error import Error  # noqa: PLC0415

        d = dict(src_dict)
        request_id = d.pop("RequestId")

        error = Error.from_dict(d.pop("Error"))

        action = d.pop("Action", UNSET)

        version = d.pop("Version", UNSET)

        service = d.pop("Service", UNSET)

        region = d.pop("Region", UNSET)

        error_response_metadata = cls(
            request_id=request_id,
            error=error,
            action=action,
            version=version,
            service=service,
            region=region,
        )

        error_response_metadata.additional_properties = d
        return error_response_metadata

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
