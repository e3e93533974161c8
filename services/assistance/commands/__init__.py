"""Assistance command handlers: load what the rules need, decide, append, in the caller's transaction.

One module per aggregate; :class:`Streams` holds what they share: the runtime's ``Aggregate`` for each
kind of stream, the local policy and the working-day calendar. Every append also updates the lists of
``queries.py`` in the same transaction, so a refused command writes nothing anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from contracts.envelope import Event
from services.assistance import queries
from services.assistance.domain import Policy
from services.assistance.domain.cases import CaseState, evolve_case
from services.assistance.domain.certification import (
    ApplicationState,
    CertificationState,
    evolve_application,
    evolve_certification,
)
from services.assistance.domain.households import HouseholdState, evolve_household
from services.assistance.domain.persons import PersonView
from services.assistance.domain.posts import PostState, evolve_post
from services.runtime.aggregate import Aggregate, Changed, StreamState, require_version
from services.runtime.auth import Principal, Role
from services.runtime.db import Connection
from services.runtime.errors import Forbidden, RuleViolated
from services.runtime.eventstore import Append, EventStore, Metadata
from services.runtime.workdays import WorkdayCalendar

S = TypeVar("S", bound=StreamState)

#: Roles that record assistance work; analysts read aggregates only and inspectors supervise.
STAFF_ROLES = frozenset({Role.VILLAGE, Role.TOWNSHIP, Role.COUNTY, Role.ADMIN})


def require_staff(principal: Principal) -> None:
    """Refuse (403) callers who do not do assistance work."""
    if principal.role not in STAFF_ROLES:
        raise Forbidden(f"{principal.role.value} callers do not record assistance work", field="role")


@dataclass
class Streams:
    """The write side's shared parts."""

    store: EventStore
    policy: Policy
    calendar: WorkdayCalendar

    def __post_init__(self) -> None:
        store = self.store
        self.cases = Aggregate[CaseState](store, "assistance_case", evolve_case, name="case", id_field="case_id")
        self.applications = Aggregate[ApplicationState](
            store, "hard_to_employ_application", evolve_application, name="application", id_field="application_id"
        )
        self.certifications = Aggregate[CertificationState](
            store,
            "hard_to_employ_certification",
            evolve_certification,
            name="certification",
            id_field="certification_id",
        )
        self.households = Aggregate[HouseholdState](
            store, "zero_employment_household", evolve_household, name="household", id_field="household_id"
        )
        self.posts = Aggregate[PostState](store, "public_welfare_post", evolve_post, name="post", id_field="post_id")

    async def record(
        self,
        aggregate: Aggregate[S],
        conn: Connection,
        stream_id: str,
        before: S | None,
        events: Sequence[Event],
        metadata: Metadata,
        *,
        also: Sequence[tuple[Append, Sequence[Event]]] = (),
    ) -> Changed[S]:
        """Update the lists, then append ``events`` (and other streams' ``also``) in one statement.

        The append comes last: it takes the store's exclusive lock (docs/adr/0001-store-ordering.md), which
        is then held only until the commit, not while the lists are written.
        """
        await queries.record(conn, [*events, *(e for _, more in also for e in more)])
        return await aggregate.record(conn, stream_id, before, events, metadata, also=[x for x, _ in also])

    async def loaded(
        self,
        aggregate: Aggregate[S],
        conn: Connection,
        principal: Principal | None,
        stream_id: str,
        expected: int | None,
    ) -> S:
        """The stream a change starts from: staff only, inside the caller's region (404, 403), at the version
        the caller read (409); ``principal`` None is a reaction, which has no region to check."""
        if principal is not None:
            require_staff(principal)
        state = await aggregate.get(conn, stream_id, principal)
        require_version(aggregate.label, stream_id, state.version, expected)
        return state

    async def change(
        self,
        aggregate: Aggregate[S],
        conn: Connection,
        principal: Principal | None,
        stream_id: str,
        decide: Callable[[S], Sequence[Event]],
        metadata: Metadata,
        expected: int | None = None,
    ) -> Changed[S]:
        """The one way a stream changes on a command: :meth:`loaded`, decide, then :meth:`record`."""
        state = await self.loaded(aggregate, conn, principal, stream_id, expected)
        return await self.record(aggregate, conn, stream_id, state, list(decide(state)), metadata)


async def ledger_person(conn: Connection, person_id: str) -> PersonView:
    """The person as registration's events told us; 422 when the ledger has no such person."""
    found = await queries.person(conn, person_id)
    if found is None:
        raise RuleViolated(
            "PersonInLedger", f"no person {person_id} in registration's ledger (实名制台账)", field="person_id"
        )
    return found
