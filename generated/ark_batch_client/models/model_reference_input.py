from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.foundation_model_input import FoundationModelInput


T = TypeVar("T", bound="ModelReferenceInput")


@_attrs_define
class ModelReferenceInput:
    """Exactly one of `CustomModelId` or `FoundationModel`."""

    custom_model_id: str | Unset = UNSET
    foundation_model: FoundationModelInput | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        custom_model_id = self.custom_model_id

        foundation_model: dict[str, Any] | Unset = UNSET
        if not isinstance(self.foundation_model, Unset):
            foundation_model = self.foundation_model.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if custom_model_id is not UNSET:
            field_dict["CustomModelId"] = custom_model_id
        if foundation_model is not UNSET:
            field_dict["FoundationModel"] = foundation_model

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.foundation_model_input import FoundationModelInput  # noqa: PLC0415

        d = dict(src_dict)
        custom_model_id = d.pop("CustomModelId", UNSET)

        _foundation_model = d.pop("FoundationModel", UNSET)
        foundation_model: FoundationModelInput | Unset
        if isinstance(_foundation_model, Unset):
            foundation_model = UNSET
        else:
            foundation_model = FoundationModelInput.from_dict(_foundation_model)

        model_reference_input = cls(
            custom_model_id=custom_model_id,
            foundation_model=foundation_model,
        )

        return model_reference_input
