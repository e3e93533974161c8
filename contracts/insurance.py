"""Events of the insurance service (社会保险) on ``insurance.events``.

The cross-service facts are fixed here before either side uses them: registration reacts to
``DeathReported``; supervision reacts to ``EmployerArrearsReported`` (an employer two months or more in
arrears) and ``EmployerArrearsCleared``. The insurance service adds its other events to this module and to
:data:`EVENTS`, which ``contracts.registry`` reads. Money is integer fen (``contracts.money``).
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from contracts.envelope import Event
from contracts.money import NonNegativeFen
from contracts.regions import RegionCode

#: A calendar month as ``YYYY-MM``.
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


class DeathReported(Event):
    """A death was reported to insurance (死亡报告): the pension stops; registration marks the person deceased."""

    event_type: ClassVar[str] = "DeathReported"
    stream_type: ClassVar[str] = "insured_person"

    person_id: str
    region_code: RegionCode
    died_on: date
    reported_on: date


class EmployerArrearsReported(Event):
    """An employer owes contributions for two months or more (欠费): supervision opens a monitoring item.

    The surcharge is 0.05 % of the arrears per day late (社会保险法 Art 86), in whole fen.
    """

    event_type: ClassVar[str] = "EmployerArrearsReported"
    stream_type: ClassVar[str] = "employer_account"

    employer_id: str
    region_code: RegionCode
    months: list[str] = Field(min_length=1, description="The months in arrears, YYYY-MM")
    arrears_fen: NonNegativeFen
    surcharge_fen: NonNegativeFen
    workers: int = Field(ge=0, description="Insured workers the arrears concern")
    reported_on: date


class EmployerArrearsCleared(Event):
    """An employer paid what it owed: supervision closes the monitoring item and reconsiders the rating."""

    event_type: ClassVar[str] = "EmployerArrearsCleared"
    stream_type: ClassVar[str] = "employer_account"

    employer_id: str
    region_code: RegionCode
    cleared_on: date


#: Every event type on ``insurance.events``, in the order they were introduced.
EVENTS: tuple[type[Event], ...] = (DeathReported, EmployerArrearsReported, EmployerArrearsCleared)
