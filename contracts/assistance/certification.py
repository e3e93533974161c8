"""Events of the hard-to-employ application stream (就业困难人员认定申请): applied, reviewed, objected, decided."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from contracts.assistance.facts import HardToEmployCategory
from contracts.envelope import Event
from contracts.regions import RegionCode


class _ApplicationFact(Event):
    stream_type: ClassVar[str] = "hard_to_employ_application"

    application_id: str
    person_id: str
    region_code: RegionCode


class HardToEmployApplied(_ApplicationFact):
    """A person applied to be certified hard to employ, at the village or township.

    ``categories`` are the typed ones (with ``evidence``) and the ones computed from events.
    """

    event_type: ClassVar[str] = "HardToEmployApplied"

    case_id: str
    categories: list[HardToEmployCategory] = Field(min_length=1)
    computed_categories: list[HardToEmployCategory] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)
    applied_on: date


class HardToEmployReviewed(_ApplicationFact):
    """The township's initial review (初审); passing it starts the public notice (公示)."""

    event_type: ClassVar[str] = "HardToEmployReviewed"

    passed: bool
    reason: str
    reviewed_on: date
    reviewed_by: str
    notice_ends_on: date | None = Field(default=None, description="Last working day of the public notice")
    notice_provisional: bool = Field(default=False, description="The calendar of a year it spans is not official yet")


class HardToEmployObjectionRecorded(_ApplicationFact):
    """An objection (异议) received during the public notice."""

    event_type: ClassVar[str] = "HardToEmployObjectionRecorded"

    objection: str
    received_on: date


class HardToEmployDecided(_ApplicationFact):
    """The county decided (审核认定): certified (a certification stream starts) or refused with a reason."""

    event_type: ClassVar[str] = "HardToEmployDecided"

    certified: bool
    reason: str
    decided_on: date
    decided_by: str
    certification_id: str | None = None
    categories: list[HardToEmployCategory] = Field(default_factory=list)
