from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.foundation_model import FoundationModel


T = TypeVar("T", bound="ModelReference")


@_attrs_define
class ModelReference:
    custom_model_id: str | Unset = UNSET
    foundation_model: FoundationModel | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        custom_model_id = self.custom_model_id

        foundation_model: dict[str, Any] | Unset = UNSET
        if not isinstance(self.foundation_model, Unset):
            foundation_model = self.foundation_model.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if custom_model_id is not UNSET:
            field_dict["CustomModelId"] = custom_model_id
        if foundation_model is not UNSET:
            field_dict["FoundationModel"] = foundation_model

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.foundation_model import FoundationModel  # noqa: PLC0415

        d = dict(src_dict)
        custom_model_id = d.pop("CustomModelId", UNSET)

        _foundation_model = d.pop("FoundationModel", UNSET)
        foundation_model: FoundationModel | Unset
        if isinstance(_foundation_model, Unset):
            foundation_model = UNSET
        else:
            foundation_model = FoundationModel.from_dict(_foundation_model)

        model_reference = cls(
            custom_model_id=custom_model_id,
            foundation_model=foundation_model,
        )

        model_reference.additional_properties = d
        return model_reference

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
