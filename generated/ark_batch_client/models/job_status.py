from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="JobStatus")


@_attrs_define
class JobStatus:
    phase: str
    """ One of the `JobPhase` values today; an open string so that a phase added by the service later still parses.
    """
    phase_time: datetime.datetime | Unset = UNSET
    message: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        phase = self.phase

        phase_time: str | Unset = UNSET
        if not isinstance(self.phase_time, Unset):
            phase_time = self.phase_time.isoformat()

        message = self.message

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "Phase": phase,
            }
        )
        if phase_time is not UNSET:
            field_dict["PhaseTime"] = phase_time
        if message is not UNSET:
            field_dict["Message"] = message

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        phase = d.pop("Phase")

        _phase_time = d.pop("PhaseTime", UNSET)
        phase_time: datetime.datetime | Unset
        if isinstance(_phase_time, Unset):
            phase_time = UNSET
        else:
            phase_time = datetime.datetime.fromisoformat(_phase_time)

        message = d.pop("Message", UNSET)

        job_status = cls(
            phase=phase,
            phase_time=phase_time,
            message=message,
        )

        job_status.additional_properties = d
        return job_status

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
