"""Changes of many insured persons in one transaction (the worker's batches, group-committed claims, the
monthly payment run), decided in memory one after another and appended together."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from contracts.envelope import Event
from services.insurance import queries
from services.insurance.domain.insured import InsuredState
from services.runtime.aggregate import Aggregate, Changed, is_uuid, require_version
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.errors import Conflict, NotFound
from services.runtime.eventstore import Append, Metadata

#: A decision over one person's record: the events it makes (none: nothing to do).
Decision = Callable[[InsuredState], Sequence[Event]]


class InsuredBatch:
    """Changes of many insured persons in one transaction, as if they ran one after another.

    Each change is decided on the person's state in memory (loaded once for the whole batch, then moved on
    by the changes before it), so two changes of one person see each other as they would in sequence; at
    :meth:`commit` every stream's events are appended and the read tables follow in a few statements. A
    refused decision raises and leaves the batch as it was. A stream another transaction moved on since it
    was loaded makes ``commit`` fail with 409, and the caller's transaction writes nothing.
    """

    def __init__(
        self,
        aggregate: Aggregate[InsuredState],
        loaded: dict[str, InsuredState],
        region_of: Callable[[str], str | None],
    ) -> None:
        self.aggregate = aggregate
        self._states = dict(loaded)
        self._region_of = region_of
        self._appends: list[Append] = []
        self._events: list[Event] = []

    def state(
        self, person_id: str, principal: Principal | None = None, *, region_code: str | None = None
    ) -> InsuredState:
        """The person's record as the batch has it (see ``InsuredCommands.state``)."""
        state = self._states.get(person_id)
        if state is None:
            region = (self._region_of(person_id) if is_uuid(person_id) else None) or region_code
            if region is None:
                raise NotFound(f"no person {person_id} is known from registration", field="person_id")
            state = InsuredState.blank(person_id, region)
        if principal is not None:
            principal.require_region(state.region_code)
        return state

    def change(
        self,
        person_id: str,
        decide: Decision,
        metadata: Metadata,
        *,
        principal: Principal | None = None,
        expected_version: int | None = None,
        region_code: str | None = None,
    ) -> Changed[InsuredState]:
        """Decide over the person's state in the batch and keep the events for ``commit``."""
        before = self.state(person_id, principal, region_code=region_code)
        require_version(self.aggregate.label, person_id, before.version, expected_version)
        events = list(decide(before))
        if not events:
            return Changed(person_id, before, before, [])
        append = self.aggregate.appending(person_id, before, events, metadata)
        after = self.aggregate.fold(events, before)
        assert after is not None
        self._states[person_id] = after
        self._appends.append(append)
        self._events.extend(events)
        return Changed(person_id, before, after, events)

    async def commit(self, conn: Connection) -> None:
        """Append what the batch decided and keep the read tables in step, on the caller's transaction.

        One statement appends one change of each stream: a stream's second change in the batch is checked
        against the version its first one makes, which exists only once that first one is inserted.
        """
        rounds: list[list[Append]] = []
        depth: dict[str, int] = {}
        for append in self._appends:
            level = depth.get(append.stream_id, 0)
            depth[append.stream_id] = level + 1
            if level == len(rounds):
                rounds.append([])
            rounds[level].append(append)
        try:
            for appends in rounds:
                await self.aggregate.store.append_batch(conn, appends)
        except Conflict as exc:
            first = self._appends[0]
            raise Conflict(
                f"{self.aggregate.label} {first.stream_id} was changed concurrently after version "
                f"{first.expected_version}: read it again and apply your change again"
                if len(depth) == 1
                else f"one of {len(depth)} insured persons was changed concurrently: read them again",
                field="If-Match",
            ) from exc
        await queries.apply_own(conn, self._events)
        self._appends, self._events = [], []
