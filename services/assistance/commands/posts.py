"""Public-welfare post commands (公益性岗位): create, fill (which places the occupant), exit, term end."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import partial

from contracts.envelope import Event
from services.assistance import queries
from services.assistance.commands import Streams, ledger_person, require_staff
from services.assistance.commands.cases import CaseCommands
from services.assistance.domain import posts as domain
from services.assistance.domain.cases import case_id_for, decide_placement
from services.assistance.domain.posts import PostState
from services.runtime.aggregate import Changed
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.errors import RuleViolated
from services.runtime.eventstore import Append, Metadata


class PostCommands:
    """The write side of public-welfare posts."""

    def __init__(self, streams: Streams, cases: CaseCommands) -> None:
        self.streams = streams
        self.posts = streams.posts
        self.case_commands = cases

    async def create(
        self, conn: Connection, principal: Principal, command: domain.CreatePost, metadata: Metadata
    ) -> Changed[PostState]:
        """Develop a post in the caller's region."""
        require_staff(principal)
        principal.require_region(command.region_code)
        events = domain.decide_create_post(command, self.streams.policy)
        return await self.streams.record(self.posts, conn, command.post_id, None, events, metadata)

    async def fill(
        self,
        conn: Connection,
        principal: Principal,
        post_id: str,
        *,
        person_id: str,
        started_on: date,
        ends_on: date | None,
        on: date,
        metadata: Metadata,
        expected_version: int | None,
    ) -> Changed[PostState]:
        """Place a certified person in the post: the post, their case and their household, in one statement."""
        state = await self.streams.loaded(self.posts, conn, principal, post_id, expected_version)
        person = await ledger_person(conn, person_id)
        principal.require_region(person.region_code)
        case = await self.streams.cases.load(conn, case_id_for(person_id))
        if case is None or not case.is_open:
            raise RuleViolated("CaseIsOpen", f"person {person_id} has no open assistance case", field="person_id")
        filled = domain.decide_fill(
            state,
            person_id=person_id,
            case_id=case.case_id,
            certification_id=await queries.active_certification(conn, person_id),
            started_on=started_on,
            ends_on=ends_on,
        )
        placed = decide_placement(
            case,
            person,
            kind="public_welfare_post",
            employer_id=None,
            vacancy_id=None,
            started_on=started_on,
            on=on,
        )
        cases = self.streams.cases
        also: list[tuple[Append, Sequence[Event]]] = [(cases.appending(case.case_id, case, placed, metadata), placed)]
        also += await self.case_commands.household_clearing(conn, person, on, metadata)
        return await self.streams.record(self.posts, conn, post_id, state, filled, metadata, also=also)

    async def exit(
        self,
        conn: Connection,
        principal: Principal,
        post_id: str,
        person_id: str,
        reason: str,
        on: date,
        metadata: Metadata,
        expected_version: int | None,
    ) -> Changed[PostState]:
        """An occupant leaves the post."""
        decide = partial(domain.decide_exit, person_id=person_id, reason=reason, on=on)
        return await self.streams.change(self.posts, conn, principal, post_id, decide, metadata, expected_version)

    async def end_term(
        self,
        conn: Connection,
        principal: Principal,
        post_id: str,
        on: date,
        metadata: Metadata,
        expected_version: int | None,
    ) -> Changed[PostState]:
        """The term ran out."""
        decide = partial(domain.decide_term_end, on=on)
        return await self.streams.change(self.posts, conn, principal, post_id, decide, metadata, expected_version)
