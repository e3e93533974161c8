"""The service-point aggregate (平台) and the staffing and premises standards it is checked against (seed 001)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from contracts import registration as reg
from contracts.envelope import Event
from contracts.regions import Region
from services.registration.domain.common import known_region, named_day_not_in_future, not_first
from services.runtime.errors import RuleViolated

# --- service points (平台) and their standards (seed 001) -------------------------------------------

#: Township offices (乡镇人力资源和社会保障所): 1 staff per 6,000 people served, at least 5 (seed 001 §3(四)).
TOWNSHIP_PEOPLE_PER_STAFF = 6_000
TOWNSHIP_MINIMUM_STAFF = 5
#: Village stations (服务站): over 1,000 people, 1 staff per 800; otherwise 1 (seed 001 §3(四)).
VILLAGE_STAFFING_THRESHOLD = 1_000
VILLAGE_PEOPLE_PER_STAFF = 800
#: Village stations need at least 50 m² of working space (seed 001 §3(一)3).
VILLAGE_MIN_FLOOR_AREA_M2 = 50
#: County centres: seed 001 sets 3,000 to 5,000 m² by district; the smallest is the default here.
COUNTY_MIN_FLOOR_AREA_M2 = 3_000


@dataclass(frozen=True)
class PremisesStandard:
    """The smallest premises a service point may have: working space and, for townships, an archive room."""

    floor_area_m2: int
    archive_room_m2: int | None = None


def staff_required(level: reg.ServicePointLevel, population_served: int) -> int:
    """Staff a service point needs for the people it serves (seed 001 §3(四); docs/design.md "Registration").

    Township: 1 per 6,000 served, at least 5. Village: over 1,000 people, 1 per 800 (rounded up); else 1.
    The seeds set no number for the county bureau: 1 is the floor.
    """
    if level == "township":
        return max(TOWNSHIP_MINIMUM_STAFF, math.ceil(population_served / TOWNSHIP_PEOPLE_PER_STAFF))
    if level == "village" and population_served > VILLAGE_STAFFING_THRESHOLD:
        return math.ceil(population_served / VILLAGE_PEOPLE_PER_STAFF)
    return 1


def premises_required(level: reg.ServicePointLevel, population_served: int) -> PremisesStandard:
    """Premises by level and, for a township, by its population (seed 001 §3(一)2-3).

    Township under 60,000 people: 120-200 m² and an archive room of 20 m² or more; 60,000 to 90,000:
    200-300 m² and 30 m²; over 90,000: 300 m² or more and 40 m². Village: 50 m² or more.
    County: 3,000 m² (the smallest of seed 001's district centres).
    """
    if level == "township":
        if population_served < 60_000:
            return PremisesStandard(120, 20)
        if population_served <= 90_000:
            return PremisesStandard(200, 30)
        return PremisesStandard(300, 40)
    if level == "village":
        return PremisesStandard(VILLAGE_MIN_FLOOR_AREA_M2)
    return PremisesStandard(COUNTY_MIN_FLOOR_AREA_M2)


def assess_service_point(
    level: reg.ServicePointLevel, *, staff: int, floor_area_m2: int, has_archive_room: bool, population_served: int
) -> reg.ServicePointCompliance:
    """How a service point measures against the staffing and premises standards, with each shortfall in words."""
    required = staff_required(level, population_served)
    premises = premises_required(level, population_served)
    reasons = []
    if staff < required:
        reasons.append(f"{staff} staff for {population_served:,} people served; the standard asks for {required}")
    if floor_area_m2 < premises.floor_area_m2:
        reasons.append(f"{floor_area_m2} m² of working space; the standard asks for {premises.floor_area_m2} m²")
    if premises.archive_room_m2 is not None and not has_archive_room:
        reasons.append(f"no archive room; the standard asks for one of {premises.archive_room_m2} m² or more")
    staffing_ok = staff >= required
    premises_ok = floor_area_m2 >= premises.floor_area_m2 and (premises.archive_room_m2 is None or has_archive_room)
    return reg.ServicePointCompliance(
        staff_required=required,
        staffing_ok=staffing_ok,
        floor_area_required_m2=premises.floor_area_m2,
        premises_ok=premises_ok,
        compliant=staffing_ok and premises_ok,
        reasons=reasons,
    )


@dataclass(frozen=True)
class ServicePointState:
    """A service point as its stream tells it (the last event carries every attribute)."""

    event: reg.ServicePointEstablished | reg.ServicePointUpdated
    version: int

    @property
    def region_code(self) -> str:
        """Where the point serves: its region's code."""
        return self.event.region_code


def evolve_service_point(state: ServicePointState | None, event: Event) -> ServicePointState:
    """The service point after one more of its events."""
    if isinstance(event, reg.ServicePointEstablished | reg.ServicePointUpdated):
        return ServicePointState(event, (state.version if state else 0) + 1)
    if state is None:
        raise not_first("service point", event)
    return replace(state, version=state.version + 1)


@dataclass(frozen=True)
class ServicePointDetails:
    """What a clerk records about a service point's staff, premises and reach."""

    name: str
    staff: int
    floor_area_m2: int
    has_archive_room: bool
    population_served: int
    equipment: tuple[str, ...] = ()


@dataclass(frozen=True)
class EstablishServicePoint:
    """Record a county, township or village service point (平台) in a region of that level."""

    service_point_id: str
    level: reg.ServicePointLevel
    region: Region | None
    region_code: str
    details: ServicePointDetails
    #: The day it was established when that was before today.
    established_on: date | None = None


def decide_establish_service_point(
    command: EstablishServicePoint, *, today: date | None = None
) -> list[reg.ServicePointEstablished]:
    """A service point sits in a known region of its own level; its compliance is assessed and published.
    It may have been established on a past day (``established_on``, checked against ``today``)."""
    region = known_region(command.region, command.region_code)
    named_day_not_in_future(command.established_on, today, "established_on", "EstablishmentNotInFuture")
    if str(region.level) != command.level:
        raise RuleViolated(
            "ServicePointRegionMatchesLevel",
            f"a {command.level} service point sits in a {command.level}, but {region.code} {region.name} "
            f"is a {region.level}",
            field="region_code",
        )
    return [
        reg.ServicePointEstablished(
            service_point_id=command.service_point_id,
            level=command.level,
            region_code=region.code,
            established_on=command.established_on,
            **_service_point_fields(command.level, command.details),
        )
    ]


def decide_update_service_point(
    details: ServicePointDetails, state: ServicePointState
) -> list[reg.ServicePointUpdated]:
    """New staff, premises or reach: re-assess; recording the same details again records nothing."""
    current = state.event
    fields = _service_point_fields(current.level, details)
    if all(getattr(current, name) == value for name, value in fields.items()):
        return []
    return [
        reg.ServicePointUpdated(
            service_point_id=current.service_point_id, level=current.level, region_code=current.region_code, **fields
        )
    ]


def _service_point_fields(level: reg.ServicePointLevel, details: ServicePointDetails) -> dict[str, Any]:
    return {
        "name": details.name,
        "staff": details.staff,
        "floor_area_m2": details.floor_area_m2,
        "has_archive_room": details.has_archive_room,
        "equipment": list(details.equipment),
        "population_served": details.population_served,
        "compliance": assess_service_point(
            level,
            staff=details.staff,
            floor_area_m2=details.floor_area_m2,
            has_archive_room=details.has_archive_room,
            population_served=details.population_served,
        ),
    }
