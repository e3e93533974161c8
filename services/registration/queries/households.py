"""Registration's read state of households and the person locks a household command takes."""

from __future__ import annotations

from collections.abc import Sequence

from services.registration.queries.persons import _PERSON_COLUMNS, PersonRow, _person_row
from services.runtime.db import Connection
from services.runtime.errors import Conflict


async def lock_persons(conn: Connection, person_ids: Sequence[str]) -> dict[str, PersonRow]:
    """Ledger entries locked until commit, in id order (so two commands never deadlock on them).

    A household command reads its members' status under this lock; a status change waits for it and
    then sees the membership, so no change escapes the household's snapshot.
    """
    if not person_ids:
        return {}
    cursor = await conn.execute(
        f"SELECT {_PERSON_COLUMNS} FROM persons WHERE person_id = ANY(%s::uuid[]) ORDER BY person_id FOR UPDATE",
        (list(person_ids),),
    )
    return {row.person_id: row for row in map(_person_row, await cursor.fetchall())}


async def household_of(conn: Connection, person_id: str) -> str | None:
    """The household a person belongs to."""
    cursor = await conn.execute("SELECT household_id::text FROM household_members WHERE person_id = %s", (person_id,))
    row = await cursor.fetchone()
    return str(row[0]) if row else None


async def households_of(conn: Connection, person_ids: Sequence[str]) -> dict[str, str]:
    """The households several persons belong to (person id -> household id)."""
    cursor = await conn.execute(
        "SELECT person_id::text, household_id::text FROM household_members WHERE person_id = ANY(%s::uuid[])",
        (list(person_ids),),
    )
    return {str(p): str(h) for p, h in await cursor.fetchall()}


async def save_household(
    conn: Connection, household_id: str, region_code: str, head_person_id: str | None, members: dict[str, str]
) -> None:
    """Write a household and its member list (person id -> relation) as they now are.

    A person already in another household violates ``household_members``' key: ``Conflict`` naming it.
    """
    await conn.execute(
        "INSERT INTO households (household_id, region_code, head_person_id) VALUES (%s, %s, %s)"
        " ON CONFLICT (household_id) DO UPDATE SET head_person_id = excluded.head_person_id",
        (household_id, region_code, head_person_id),
    )
    await conn.execute(
        "DELETE FROM household_members WHERE household_id = %s AND NOT person_id = ANY(%s::uuid[])",
        (household_id, list(members)),
    )
    cursor = await conn.execute(
        "INSERT INTO household_members (person_id, household_id, relation)"
        " SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::text[])"
        " ON CONFLICT (person_id) DO UPDATE SET relation = excluded.relation"
        " WHERE household_members.household_id = excluded.household_id RETURNING person_id::text",
        (list(members), [household_id] * len(members), list(members.values())),
    )
    written = {str(row[0]) for row in await cursor.fetchall()}
    elsewhere = sorted(set(members) - written)
    if elsewhere:
        taken = await households_of(conn, elsewhere)
        raise Conflict(
            "a person belongs to at most one household",
            field="person_id",
            person_id=elsewhere[0],
            household_id=taken.get(elsewhere[0]),
        )


async def save_new_households(
    conn: Connection,
    households: Sequence[tuple[str, str, str | None]],
    members: Sequence[tuple[str, str, str]],
) -> None:
    """Write new households (id, region, head) and their members (person, household, relation) set-based.

    The caller has locked the members' rows and checked that none belongs to a household yet; the member list's
    key would still refuse a second household of a person (``Conflict``), writing nothing.
    """
    await conn.execute(
        "INSERT INTO households (household_id, region_code, head_person_id)"
        " SELECT * FROM unnest(%s::uuid[], %s::text[], %s::uuid[])",
        ([h[0] for h in households], [h[1] for h in households], [h[2] for h in households]),
    )
    cursor = await conn.execute(
        "INSERT INTO household_members (person_id, household_id, relation)"
        " SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::text[]) ON CONFLICT (person_id) DO NOTHING"
        " RETURNING person_id::text",
        ([m[0] for m in members], [m[1] for m in members], [m[2] for m in members]),
    )
    written = {str(row[0]) for row in await cursor.fetchall()}
    elsewhere = sorted({m[0] for m in members} - written)
    if elsewhere:
        raise Conflict("a person belongs to at most one household", field="person_id", person_id=elsewhere[0])
