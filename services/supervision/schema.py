"""Supervision's own tables, written in the same transaction as the events that change them.

- ``employers``: supervision's view of employers, from registration's events or entered as free text with
  a credit code; ``employer_id`` is registration's id, or one derived from the credit code.
- ``complainants`` / ``petitioners``: identities, encrypted at rest (never on a topic, never in a list).
- ``complaints`` and ``cases``: one row per stream for the lists. The overdue and due-soon lists of a
  county with 100,000 open cases are one range scan of a partial index on ``(county, due_on)`` or
  ``(township, due_on)`` over open cases only, read in due order with a keyset cursor: no sort, no count.
- ``deadlines``: every open statutory limit of every stream (what is due, by when); the worker's scheduled
  check reads the passed ones from its partial index.
- ``employer_compliance``: the facts the rating is derived from, and the current grade.
"""

from __future__ import annotations

DDL = [
    """
    CREATE TABLE IF NOT EXISTS employers (
        employer_id     uuid PRIMARY KEY,
        registration_id uuid UNIQUE,
        credit_code     text     NOT NULL UNIQUE,
        name            text     NOT NULL,
        region_code     char(12) NOT NULL,
        registered      boolean  NOT NULL,
        deregistered_on date
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS complainants (
        complaint_id uuid PRIMARY KEY,
        name_cipher  bytea NOT NULL,
        id_cipher    bytea,
        id_hash      bytea,
        phone_cipher bytea
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS petitioners (
        petition_id  uuid PRIMARY KEY,
        name_cipher  bytea NOT NULL,
        phone_cipher bytea
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS complaints (
        complaint_id   uuid PRIMARY KEY,
        region_code    char(12) NOT NULL,
        employer_id    uuid     NOT NULL,
        complaint_type text     NOT NULL,
        status         text     NOT NULL,
        received_on    date     NOT NULL,
        decision_due   date     NOT NULL,
        provisional    boolean  NOT NULL,
        decided_on     date,
        case_id        uuid,
        version        integer  NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS complaints_region ON complaints (region_code, received_on)",
    """
    CREATE TABLE IF NOT EXISTS cases (
        case_id       uuid PRIMARY KEY,
        region_code   char(12) NOT NULL,
        county        char(6)  GENERATED ALWAYS AS (substr(region_code, 1, 6)) STORED,
        township      char(9)  GENERATED ALWAYS AS (substr(region_code, 1, 9)) STORED,
        employer_id   uuid     NOT NULL,
        employer_name text     NOT NULL,
        scope         text     NOT NULL,
        source        text     NOT NULL,
        status        text     NOT NULL,
        opened_on     date     NOT NULL,
        due_on        date     NOT NULL,
        provisional   boolean  NOT NULL,
        extended      boolean  NOT NULL,
        order_due     date,
        closed_on     date,
        version       integer  NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS cases_open_county ON cases (county, due_on, case_id) WHERE status = 'open'",
    "CREATE INDEX IF NOT EXISTS cases_open_township ON cases (township, due_on, case_id) WHERE status = 'open'",
    "CREATE INDEX IF NOT EXISTS cases_open_due ON cases (due_on, case_id) WHERE status = 'open'",
    "CREATE INDEX IF NOT EXISTS cases_employer ON cases (employer_id)",
    """
    CREATE TABLE IF NOT EXISTS deadlines (
        stream_id   uuid     NOT NULL,
        limit_name  text     NOT NULL,
        stream_type text     NOT NULL,
        region_code char(12) NOT NULL,
        due_on      date     NOT NULL,
        provisional boolean  NOT NULL,
        flagged     boolean  NOT NULL DEFAULT false,
        PRIMARY KEY (stream_id, limit_name)
    )
    """,
    "CREATE INDEX IF NOT EXISTS deadlines_unflagged ON deadlines (due_on) WHERE NOT flagged",
    "CREATE INDEX IF NOT EXISTS deadlines_region ON deadlines (region_code, due_on)",
    """
    CREATE TABLE IF NOT EXISTS employer_compliance (
        employer_id           uuid PRIMARY KEY,
        region_code           char(12) NOT NULL,
        violations            integer  NOT NULL DEFAULT 0,
        penalties             integer  NOT NULL DEFAULT 0,
        penalty_fen           bigint   NOT NULL DEFAULT 0,
        child_labour          boolean  NOT NULL DEFAULT false,
        refused_rectification boolean  NOT NULL DEFAULT false,
        criminal_transfer     boolean  NOT NULL DEFAULT false,
        arrears_open          boolean  NOT NULL DEFAULT false,
        arrears_fen           bigint   NOT NULL DEFAULT 0,
        arrears_months        integer  NOT NULL DEFAULT 0,
        grade                 char(1)  NOT NULL DEFAULT 'A',
        reasons               jsonb    NOT NULL DEFAULT '[]',
        rated_on              date
    )
    """,
    "CREATE INDEX IF NOT EXISTS employer_compliance_region ON employer_compliance (region_code, grade)",
]
