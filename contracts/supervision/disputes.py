"""Labour disputes (劳动争议调解仲裁法): mediation, then arbitration, each within its time limit."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from contracts.envelope import Event
from contracts.money import NonNegativeFen
from contracts.regions import RegionCode
from contracts.supervision.common import EmployerRef


class _DisputeEvent(Event):
    stream_type: ClassVar[str] = "dispute"

    dispute_id: str
    region_code: RegionCode = Field(description="The township whose mediation committee received it")


class MediationApplied(_DisputeEvent):
    """A mediation application was received (调解申请); without agreement by ``mediation_due`` (Art 14: 15 days)
    it goes to arbitration."""

    event_type: ClassVar[str] = "MediationApplied"

    employer: EmployerRef
    claim: str
    amount_claimed_fen: NonNegativeFen = 0
    workers_concerned: int = Field(ge=1)
    received_on: date
    mediation_due: date
    provisional: bool


class MediationSessionHeld(_DisputeEvent):
    """A mediation session (调解) with both parties."""

    event_type: ClassVar[str] = "MediationSessionHeld"

    held_on: date
    summary: str


class MediationAgreed(_DisputeEvent):
    """The parties signed a mediation agreement (调解协议)."""

    event_type: ClassVar[str] = "MediationAgreed"

    agreed_on: date
    amount_agreed_fen: NonNegativeFen = 0


class MediationFailed(_DisputeEvent):
    """Mediation ended without agreement (调解不成)."""

    event_type: ClassVar[str] = "MediationFailed"

    failed_on: date
    reason: str


class DisputeReferredToArbitration(_DisputeEvent):
    """The dispute may go to arbitration (Art 14): mediation failed, or 15 days passed without agreement."""

    event_type: ClassVar[str] = "DisputeReferredToArbitration"

    referred_on: date
    reason: Literal["mediation_failed", "no_agreement_in_15_days"]


class ArbitrationApplied(_DisputeEvent):
    """An arbitration application was received (仲裁申请); acceptance is decided by ``accept_due`` (Art 29: 5 days)."""

    event_type: ClassVar[str] = "ArbitrationApplied"

    applied_on: date
    accept_due: date
    provisional: bool


class ArbitrationAccepted(_DisputeEvent):
    """The arbitration committee accepted the case (受理); the award is due by ``award_due`` (Art 43: 45 days)."""

    event_type: ClassVar[str] = "ArbitrationAccepted"

    accepted_on: date
    on_time: bool
    award_due: date
    provisional: bool


class ArbitrationExtended(_DisputeEvent):
    """The award's time limit was extended once, by at most 15 days (Art 43)."""

    event_type: ClassVar[str] = "ArbitrationExtended"

    extended_on: date
    days: int = Field(ge=1, le=15)
    award_due: date
    provisional: bool


class ArbitrationAwarded(_DisputeEvent):
    """The arbitral award (仲裁裁决)."""

    event_type: ClassVar[str] = "ArbitrationAwarded"

    awarded_on: date
    on_time: bool
    amount_awarded_fen: NonNegativeFen = 0


class DisputeDeadlineRecomputed(_DisputeEvent):
    """A provisional limit of mediation or arbitration was computed again on the official calendar."""

    event_type: ClassVar[str] = "DisputeDeadlineRecomputed"

    limit: Literal["mediation", "arbitration_acceptance", "award"]
    previous_due_on: date
    due_on: date
    provisional: bool
