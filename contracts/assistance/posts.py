"""Events of the public-welfare post stream (公益性岗位): created, filled, exited, term ended."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from contracts.envelope import Event
from contracts.money import NonNegativeFen
from contracts.regions import RegionCode


class _PostFact(Event):
    stream_type: ClassVar[str] = "public_welfare_post"

    post_id: str
    region_code: RegionCode


class PublicWelfarePostCreated(_PostFact):
    """A public-welfare post was developed (开发): unit, positions, monthly subsidy and term."""

    event_type: ClassVar[str] = "PublicWelfarePostCreated"

    unit: str
    title: str
    positions: int = Field(ge=1)
    monthly_subsidy_fen: NonNegativeFen
    term_starts_on: date
    term_ends_on: date


class PublicWelfarePostFilled(_PostFact):
    """A certified hard-to-employ person took one position of the post (安置)."""

    event_type: ClassVar[str] = "PublicWelfarePostFilled"

    person_id: str
    case_id: str
    certification_id: str
    started_on: date
    ends_on: date


class PublicWelfarePostExited(_PostFact):
    """An occupant left the post (退出)."""

    event_type: ClassVar[str] = "PublicWelfarePostExited"

    person_id: str
    exited_on: date
    reason: str


class PublicWelfarePostTermEnded(_PostFact):
    """The post's term ended; its remaining occupants left it."""

    event_type: ClassVar[str] = "PublicWelfarePostTermEnded"

    ended_on: date
    occupants: list[str] = Field(default_factory=list)
