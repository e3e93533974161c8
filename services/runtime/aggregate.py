"""The write side every service runs on: load a stream, fold it, decide, check the version, append.

A service describes each kind of stream once, as an :class:`Aggregate` (its stream type, its fold, a name
for messages), and runs every command through :meth:`Aggregate.change` (or :meth:`Aggregate.create` for
a new stream). The domain stays pure: ``decide(state) -> events`` and ``evolve(state, event) -> state``;
this module does the I/O around them, in the caller's transaction, so a refused decision writes nothing
and an accepted one commits together with whatever else the command writes (a lookup row, an
idempotency record). See ``docs/adr/0004-service-shape.md``.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from psycopg import AsyncConnection

from contracts.envelope import Event
from contracts.registry import decode
from services.runtime.auth import Principal
from services.runtime.errors import Conflict, NotFound
from services.runtime.eventstore import Append, EventStore, Metadata, PendingEvent

Connection = AsyncConnection[tuple[object, ...]]


class StreamState(Protocol):
    """What every aggregate's state offers the write loop: its version and where it lives."""

    @property
    def version(self) -> int:
        """How many events the stream holds (0 before the first)."""
        ...

    @property
    def region_code(self) -> str:
        """The 12-digit region the stream belongs to: its events carry it, the caller's scope must cover it."""
        ...


State = TypeVar("State", bound=StreamState)

#: A decision over the current state: the events it records, or a ``RuleViolated``.
Decide = Callable[[State], Sequence[Event]]


@dataclass(frozen=True)
class Changed(Generic[State]):
    """What a command did: the state before and after, the events it appended, the new version.

    ``after.version`` is what the API sends as the ETag; ``events`` what it lists in its answer.
    """

    stream_id: str
    before: State | None
    after: State
    events: Sequence[Event]

    @property
    def version(self) -> int:
        """The stream's version after the change: the ETag of the answer."""
        return self.after.version


#: What else a change writes, given what it decided: the command's own read rows (written on the
#: connection it is given, so in the same transaction) and the appends of other streams that must commit
#: in the same statement as its events.
Effects = Callable[[Connection, "Changed[State]"], Awaitable[Sequence[Append]]]


def is_uuid(value: str) -> bool:
    """Whether ``value`` is a UUID: every stream id is one, so anything else is simply not found."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def require_version(name: str, stream_id: str, current: int, expected: int | None) -> None:
    """Optimistic concurrency: a change based on an older version than the stream's is a 409.

    ``expected`` is the version the caller read (from If-Match); None means the caller did not say.
    """
    if expected is not None and expected != current:
        raise Conflict(
            f"{name} {stream_id} is at version {current}, not {expected}: read it again and apply your change again",
            field="If-Match",
            current_version=current,
        )


@dataclass(frozen=True)
class Aggregate(Generic[State]):
    """One kind of stream: how it folds and how it is written.

    ``evolve(None, first_event)`` must return the initial state; ``evolve`` may return the state unchanged
    for events it does not fold. ``name`` appears in 404 and 409 messages ("no employer …").
    """

    store: EventStore
    stream_type: str
    evolve: Callable[[State | None, Event], State]
    name: str = ""
    #: The field a 404 names; by default ``<name>_id``.
    id_field: str = ""
    #: Region of the events of one change, from the state after it; by default that state's ``region_code``.
    region_of: Callable[[State], str] | None = None

    @property
    def label(self) -> str:
        """The word for this kind of stream in messages."""
        return self.name or self.stream_type

    def fold(self, events: Sequence[Event], state: State | None = None) -> State | None:
        """The state after ``events``, starting from ``state`` (None: a new stream)."""
        for event in events:
            state = self.evolve(state, event)
        return state

    async def load(self, conn: Connection, stream_id: str) -> State | None:
        """The stream folded from the store; None when there is no such stream of this type."""
        if not is_uuid(stream_id):
            return None
        recorded = await self.store.load(conn, stream_id)
        if not recorded or recorded[0].envelope.stream_type != self.stream_type:
            return None
        return self.fold([decode(r.envelope) for r in recorded])

    async def get(self, conn: Connection, stream_id: str, principal: Principal | None = None) -> State:
        """The stream's state; 404 when there is none, 403 when it lies outside ``principal``'s region."""
        state = await self.load(conn, stream_id)
        if state is None:
            raise NotFound(f"no {self.label} {stream_id}", field=self.id_field or f"{self.label}_id")
        if principal is not None:
            principal.require_region(state.region_code)
        return state

    def appending(self, stream_id: str, before: State | None, events: Sequence[Event], metadata: Metadata) -> Append:
        """The store append for ``events`` on top of ``before`` (for commands that write several streams)."""
        after = self.fold(events, before)
        region = None if after is None else self.region_of(after) if self.region_of else after.region_code
        return Append(
            self.stream_type,
            stream_id,
            before.version if before is not None else 0,
            [PendingEvent.of(e, region_code=region) for e in events],
            metadata,
        )

    async def record(
        self,
        conn: Connection,
        stream_id: str,
        before: State | None,
        events: Sequence[Event],
        metadata: Metadata,
        *,
        also: Sequence[Append] = (),
        effects: Effects[State] | None = None,
    ) -> Changed[State]:
        """Append ``events`` decided on ``before`` (and the ``also`` appends of other streams) in one statement.

        ``effects``, when the decision recorded something, runs first: it writes the command's read rows
        and returns more appends for the same statement. A stream that moved on since ``before`` was
        loaded makes the whole statement fail with 409, and the caller's transaction writes nothing.
        """
        after = self.fold(events, before)
        if after is None:
            raise ValueError(f"a new {self.label} needs at least one event")
        changed = Changed(stream_id, before, after, list(events))
        if effects is not None and events:
            also = [*also, *await effects(conn, changed)]
        appends = [self.appending(stream_id, before, events, metadata), *also] if events else list(also)
        appends = [a for a in appends if a.events]
        if appends:
            try:
                await self.store.append_batch(conn, appends)
            except Conflict as exc:
                current = before.version if before is not None else 0
                raise Conflict(
                    f"{self.label} {stream_id} was changed concurrently after version {current}: "
                    "read it again and apply your change again",
                    field="If-Match",
                ) from exc
        return changed

    async def create(
        self,
        conn: Connection,
        stream_id: str,
        events: Sequence[Event],
        metadata: Metadata,
        *,
        effects: Effects[State] | None = None,
    ) -> Changed[State]:
        """Start a new stream with ``events`` (409 if the id is taken)."""
        return await self.record(conn, stream_id, None, events, metadata, effects=effects)

    async def change(
        self,
        conn: Connection,
        stream_id: str,
        decide: Decide[State],
        metadata: Metadata,
        *,
        expected_version: int | None = None,
        principal: Principal | None = None,
        effects: Effects[State] | None = None,
    ) -> Changed[State]:
        """The one way an existing stream changes: load, check scope and version, decide, append.

        ``principal`` None is for reactions to other services' events, which have no region to check.
        A decision that returns no events appends nothing (``effects`` do not run) and answers with the
        current state.
        """
        before = await self.get(conn, stream_id, principal)
        require_version(self.label, stream_id, before.version, expected_version)
        return await self.record(conn, stream_id, before, list(decide(before)), metadata, effects=effects)
