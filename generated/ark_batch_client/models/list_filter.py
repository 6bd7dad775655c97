from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.job_phase import JobPhase, check_job_phase
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.foundation_model_filter import FoundationModelFilter


T = TypeVar("T", bound="ListFilter")


@_attrs_define
class ListFilter:
    ids: list[str] | Unset = UNSET
    name: str | Unset = UNSET
    """ Case-insensitive substring of the job name. """
    foundation_models: list[FoundationModelFilter] | Unset = UNSET
    custom_model_ids: list[str] | Unset = UNSET
    phases: list[JobPhase] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        ids: list[str] | Unset = UNSET
        if not isinstance(self.ids, Unset):
            ids = self.ids

        name = self.name

        foundation_models: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.foundation_models, Unset):
            foundation_models = []
            for foundation_models_item_data in self.foundation_models:
                foundation_models_item = foundation_models_item_data.to_dict()
                foundation_models.append(foundation_models_item)

        custom_model_ids: list[str] | Unset = UNSET
        if not isinstance(self.custom_model_ids, Unset):
            custom_model_ids = self.custom_model_ids

        phases: list[str] | Unset = UNSET
        if not isinstance(self.phases, Unset):
            phases = []
            for phases_item_data in self.phases:
                phases_item: str = phases_item_data
                phases.append(phases_item)

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if ids is not UNSET:
            field_dict["Ids"] = ids
        if name is not UNSET:
            field_dict["Name"] = name
        if foundation_models is not UNSET:
            field_dict["FoundationModels"] = foundation_models
        if custom_model_ids is not UNSET:
            field_dict["CustomModelIds"] = custom_model_ids
        if phases is not UNSET:
            field_dict["Phases"] = phases

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.foundation_model_filter import FoundationModelFilter  # noqa: PLC0415

        d = dict(src_dict)
        ids = cast(list[str], d.pop("Ids", UNSET))

        name = d.pop("Name", UNSET)

        _foundation_models = d.pop("FoundationModels", UNSET)
        foundation_models: list[FoundationModelFilter] | Unset = UNSET
        if _foundation_models is not UNSET:
            foundation_models = []
            for foundation_models_item_data in _foundation_models:
                foundation_models_item = FoundationModelFilter.from_dict(
                    foundation_models_item_data
                )

                foundation_models.append(foundation_models_item)

        custom_model_ids = cast(list[str], d.pop("CustomModelIds", UNSET))

        _phases = d.pop("Phases", UNSET)
        phases: list[JobPhase] | Unset = UNSET
        if _phases is not UNSET:
            phases = []
            for phases_item_data in _phases:
                phases_item = check_job_phase(phases_item_data)

                phases.append(phases_item)

        list_filter = cls(
            ids=ids,
            name=name,
            foundation_models=foundation_models,
            custom_model_ids=custom_model_ids,
            phases=phases,
        )

        return list_filter
