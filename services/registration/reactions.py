"""Registration's reactions to other services' events (docs/design.md "Cross-service reactions").

- assistance ``PlacedInJob`` -> employment registration (就业登记) with ``source="assistance"``;
- insurance ``DeathReported`` -> the person is recorded deceased with ``source="insurance"``.

They run in the consumer runtime's transaction, after its inbox has kept out redeliveries, so each event
changes the ledger once. An event the rules refuse (an unknown person, a placement of someone already
employed) raises, and the runtime parks it on the dead-letter topic, listable at ``GET /dead-letters``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from contracts.assistance import PlacedInJob
from contracts.envelope import EventEnvelope
from contracts.insurance import DeathReported
from contracts.registry import decode
from contracts.topics import ASSISTANCE_EVENTS, INSURANCE_EVENTS
from services.registration.commands.context import Ledger
from services.registration.commands.employment import employed
from services.registration.commands.person import change_person, died
from services.registration.domain.employment import RegisterEmployment
from services.runtime.db import Connection
from services.runtime.eventstore import Metadata

log = logging.getLogger(__name__)

NAME = "registration.reactions"

#: The topics registration reacts to.
SOURCE_TOPICS = [ASSISTANCE_EVENTS.name, INSURANCE_EVENTS.name]


def _caused_by(envelope: EventEnvelope, service: str) -> Metadata:
    """Metadata of a reaction: the causing event, its correlation, and who acted there."""
    return Metadata(
        actor=f"{service}:{envelope.actor}" if envelope.actor else service,
        correlation_id=envelope.correlation_id,
        causation_id=str(envelope.event_id),
    )


class RegistrationReactions:
    """The consumer handler that records in the ledger what assistance and insurance report."""

    name = NAME

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    async def apply(self, conn: Connection, events: Sequence[EventEnvelope]) -> None:
        """Apply each event in order, inside the consumer's transaction."""
        for envelope in events:
            if envelope.type == PlacedInJob.event_type:
                await self.placed_in_job(conn, envelope)
            elif envelope.type == DeathReported.event_type:
                await self.death_reported(conn, envelope)

    async def placed_in_job(self, conn: Connection, envelope: EventEnvelope) -> None:
        """Placement in a job (安置就业) is an employment registration reported on the placement day."""
        placed = decode(envelope)
        assert isinstance(placed, PlacedInJob)
        registration = RegisterEmployment(
            kind=placed.kind,
            started_on=placed.started_on,
            reported_on=max(placed.placed_on, placed.started_on),
            employer_id=placed.employer_id,
            vacancy_id=placed.vacancy_id,
            source="assistance",
        )
        decision = await employed(self.ledger, conn, registration)
        await change_person(self.ledger, conn, None, placed.person_id, decision, _caused_by(envelope, "assistance"))

    async def death_reported(self, conn: Connection, envelope: EventEnvelope) -> None:
        """A death reported to insurance closes the ledger entry; one already closed stays as it is."""
        report = decode(envelope)
        assert isinstance(report, DeathReported)
        person = await self.ledger.persons.get(conn, report.person_id)
        if person.status == "deceased":
            log.info("death of %s already recorded; insurance's report changes nothing", report.person_id)
            return
        decision = died(self.ledger, report.died_on, source="insurance")
        await change_person(self.ledger, conn, None, report.person_id, decision, _caused_by(envelope, "insurance"))
