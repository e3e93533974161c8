"""Events of the insurance service (社会保险) that other services react to.

The insurance service itself lands with its own issue; the contract is fixed now so registration's
reaction to a death report can be built and tested against it.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from contracts.envelope import Event
from contracts.regions import RegionCode


class DeathReported(Event):
    """A death was reported to insurance (死亡报告): the pension stops; registration marks the person deceased."""

    event_type: ClassVar[str] = "DeathReported"
    stream_type: ClassVar[str] = "insured_person"

    person_id: str
    region_code: RegionCode
    died_on: date
    reported_on: date
