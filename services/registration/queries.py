"""Registration's own read state: lookup tables written in the same transaction as the events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from services.runtime.db import Connection

DDL = [
    """
    CREATE TABLE IF NOT EXISTS persons (
        person_id    uuid PRIMARY KEY,
        id_hash      bytea       NOT NULL UNIQUE,
        id_cipher    bytea       NOT NULL,
        name_cipher  bytea       NOT NULL,
        phone_cipher bytea,
        sex          text        NOT NULL,
        birth_date   date        NOT NULL,
        hukou        text,
        education    text,
        region_code  char(12)    NOT NULL,
        registered_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX IF NOT EXISTS persons_region ON persons (region_code)",
    """
    CREATE TABLE IF NOT EXISTS employers (
        employer_id   uuid PRIMARY KEY,
        credit_code   text     NOT NULL UNIQUE,
        check_ok      boolean  NOT NULL,
        name          text     NOT NULL,
        region_code   char(12) NOT NULL,
        industry      text,
        size          text,
        registered_at timestamptz NOT NULL DEFAULT now()
    )
    """,
]


@dataclass(frozen=True)
class PersonRow:
    """A ledger entry as stored (personal data still encrypted)."""

    person_id: str
    id_cipher: bytes
    name_cipher: bytes
    phone_cipher: bytes | None
    sex: str
    birth_date: date
    hukou: str | None
    education: str | None
    region_code: str
    registered_at: datetime


async def person(conn: Connection, person_id: str) -> PersonRow | None:
    """One ledger entry by id."""
    cursor = await conn.execute(
        "SELECT person_id::text, id_cipher, name_cipher, phone_cipher, sex, birth_date, hukou, education,"
        " region_code, registered_at FROM persons WHERE person_id = %s",
        (person_id,),
    )
    row = await cursor.fetchone()
    return PersonRow(*row) if row else None


async def person_ids_by_hash(conn: Connection, id_hashes: list[bytes]) -> dict[bytes, str]:
    """The persons registered under several keyed hashes at once."""
    if not id_hashes:
        return {}
    cursor = await conn.execute("SELECT id_hash, person_id::text FROM persons WHERE id_hash = ANY(%s)", (id_hashes,))
    return {bytes(h): str(pid) for h, pid in await cursor.fetchall()}


async def employer_id_by_credit_code(conn: Connection, credit_code: str) -> str | None:
    """The employer registered under a credit code."""
    cursor = await conn.execute("SELECT employer_id::text FROM employers WHERE credit_code = %s", (credit_code,))
    row = await cursor.fetchone()
    return str(row[0]) if row else None
