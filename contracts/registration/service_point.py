"""Events of the ``service_point`` stream (劳动保障平台) and its compliance with the standards."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from contracts.envelope import Event
from contracts.regions import RegionCode
from contracts.registration.common import (
    ServicePointLevel,
    _Value,
)


class ServicePointCompliance(_Value):
    """How a service point measures against the standards of seed 001 (平台建设标准)."""

    staff_required: int
    staffing_ok: bool
    floor_area_required_m2: int | None = None
    premises_ok: bool
    compliant: bool
    reasons: list[str] = Field(default_factory=list, description="Each standard not met, in words")


class _ServicePointFact(Event):
    stream_type: ClassVar[str] = "service_point"

    service_point_id: str
    level: ServicePointLevel
    region_code: RegionCode
    name: str
    staff: int = Field(ge=0)
    floor_area_m2: int = Field(ge=0)
    has_archive_room: bool
    equipment: list[str] = Field(default_factory=list)
    population_served: int = Field(ge=0)
    compliance: ServicePointCompliance


class ServicePointEstablished(_ServicePointFact):
    """A labour and social-security service point (劳动保障平台) was established."""

    event_type: ClassVar[str] = "ServicePointEstablished"

    # Optional, added without a schema_version bump (see PersonRegistered.registered_on).
    established_on: date | None = Field(
        default=None, description="The day the point was established, when not the day it was recorded"
    )


class ServicePointUpdated(_ServicePointFact):
    """A service point's staff, premises or equipment changed; compliance is re-assessed."""

    event_type: ClassVar[str] = "ServicePointUpdated"
