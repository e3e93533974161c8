"""Petitions (来信来访): registered, assigned to an officer, answered within the limit."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from contracts.envelope import Event
from contracts.regions import RegionCode


class _PetitionEvent(Event):
    stream_type: ClassVar[str] = "petition"

    petition_id: str
    region_code: RegionCode = Field(description="Where the letter or visit was received")


class PetitionRegistered(_PetitionEvent):
    """A letter, visit, call or online message was registered (信访登记); answer due by ``answer_due``."""

    event_type: ClassVar[str] = "PetitionRegistered"

    channel: Literal["letter", "visit", "phone", "online"]
    subject: str
    received_on: date
    answer_due: date
    provisional: bool


class PetitionAssigned(_PetitionEvent):
    """The petition was assigned to an officer to handle (交办)."""

    event_type: ClassVar[str] = "PetitionAssigned"

    assigned_on: date
    assignee: str


class PetitionAnswered(_PetitionEvent):
    """The petitioner was answered (答复); ``on_time`` compares with the limit."""

    event_type: ClassVar[str] = "PetitionAnswered"

    answered_on: date
    on_time: bool
    summary: str


class PetitionDeadlineRecomputed(_PetitionEvent):
    """The provisional answer limit of a petition was computed again on the official calendar."""

    event_type: ClassVar[str] = "PetitionDeadlineRecomputed"

    limit: Literal["answer"]
    previous_due_on: date
    due_on: date
    provisional: bool
