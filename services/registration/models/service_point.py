"""What clients send and see for a service point (平台) and its compliance."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints

from contracts.regions import RegionCode
from contracts.registration import (
    ServicePointCompliance,
    ServicePointLevel,
)
from services.registration.models.common import Name

SERVICE_POINT_EXAMPLE: dict[str, JsonValue] = {
    "level": "township",
    "region_code": "430527101000",
    "name": "武阳镇人力资源和社会保障所",
    "staff": 5,
    "floor_area_m2": 160,
    "has_archive_room": True,
    "equipment": ["电脑", "打印机", "电话", "档案柜", "信息公开栏"],
    "population_served": 28000,
}


class ServicePointCreate(BaseModel):
    """A labour and social-security service point (平台): county bureau, township office or village station."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [SERVICE_POINT_EXAMPLE]})

    level: ServicePointLevel
    region_code: RegionCode = Field(description="A region of the same level: county, township or village")
    name: Name
    staff: int = Field(ge=0, le=10_000, description="Staff working at the point")
    floor_area_m2: int = Field(ge=0, le=1_000_000, description="Working and service space in m²")
    has_archive_room: bool = Field(description="Whether it has an archive room (档案室)")
    equipment: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]] = Field(
        default_factory=list, max_length=100
    )
    population_served: int = Field(ge=0, le=100_000_000, description="People the point serves")
    established_on: date | None = Field(
        default=None, description="The day the point was established; default today, not in the future"
    )


class ServicePointChange(BaseModel):
    """New staff, premises, equipment or reach of a service point; fields left out stay as they are."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"staff": 6, "population_served": 31000}]}
    )

    name: Name | None = None
    staff: int | None = Field(default=None, ge=0, le=10_000)
    floor_area_m2: int | None = Field(default=None, ge=0, le=1_000_000)
    has_archive_room: bool | None = None
    equipment: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]] | None = (
        Field(default=None, max_length=100)
    )
    population_served: int | None = Field(default=None, ge=0, le=100_000_000)


class ServicePointPublic(BaseModel):
    """A service point with its compliance against the standards of seed 001."""

    service_point_id: str
    level: ServicePointLevel
    region_code: str
    name: str
    staff: int
    floor_area_m2: int
    has_archive_room: bool
    equipment: list[str]
    population_served: int
    compliance: ServicePointCompliance
    version: int


class ServicePointList(BaseModel):
    """Service points in a region subtree and how many meet the standards."""

    region_code: str
    count: int
    compliant: int
    service_points: list[ServicePointPublic]


#: Most persons one ``POST /persons/batch`` takes.
