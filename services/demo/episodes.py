"""Reading a person's planned history as spells: jobs and unemployment registrations, with how they ended.

The modules after registration plan from these (docs/design.md section 8: the demo is one county): insurance
enrols a unit job and claims the benefit of an involuntary loss, assistance serves an unemployment spell
still open today. Every reader is pure: it reads ``sim.history`` only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from services.demo.core import Fact, Simulation

#: The facts that end a job or an unemployment registration (a move or a survey ends neither).
_ENDS_JOB = frozenset({"EmploymentEnded", "PersonRetired", "PersonDied"})
_ENDS_UNEMPLOYMENT = frozenset({"EmploymentRegistered", "UnemploymentDeregistered", "PersonRetired", "PersonDied"})
_STATUS_FACTS = frozenset({"EmploymentRegistered", *_ENDS_JOB, *_ENDS_UNEMPLOYMENT, "UnemploymentRegistered"})


@dataclass(frozen=True)
class Spell:
    """A job (from ``EmploymentRegistered``) or an unemployment registration, and the fact that ended it."""

    subject: str
    start: Fact
    end: Fact | None

    @property
    def open(self) -> bool:
        """Still running today."""
        return self.end is None

    @property
    def until(self) -> date | None:
        """The day it ended, or None while it runs."""
        return None if self.end is None else self.end.day


def spells(sim: Simulation, subject: str, kind: str) -> list[Spell]:
    """The person's jobs (``kind="job"``) or unemployment registrations (``"unemployment"``), in order."""
    starts, ends = (
        ("EmploymentRegistered", _ENDS_JOB) if kind == "job" else ("UnemploymentRegistered", _ENDS_UNEMPLOYMENT)
    )
    out: list[Spell] = []
    current: Fact | None = None
    for fact in sim.history.of(subject):
        if fact.type == starts and current is None:
            current = fact
        elif fact.type in ends and current is not None:
            out.append(Spell(subject, current, fact))
            current = None
    if current is not None:
        out.append(Spell(subject, current, None))
    return out


def all_spells(sim: Simulation, kind: str) -> Iterator[Spell]:
    """Every person's spells of one kind, person by person."""
    for subject in sim.history.subjects("person"):
        yield from spells(sim, subject, kind)


def last_status_day(sim: Simulation, subject: str) -> date:
    """The day of the person's last fact in the ledger (a survey included): a change another service causes
    in registration (a placement) must come after it."""
    return max(f.day for f in sim.history.of(subject) if f.source == "registration")


def status_today(sim: Simulation, subject: str) -> str:
    """The employment status the history leaves the person in today."""
    status = "not_in_labour_force"
    for fact in sim.history.of(subject):
        if fact.type in _STATUS_FACTS:
            status = {
                "EmploymentRegistered": "employed",
                "UnemploymentRegistered": "registered_unemployed",
                "PersonRetired": "retired",
                "PersonDied": "deceased",
            }.get(fact.type, "not_in_labour_force")
    return status


def month_of(day: date) -> str:
    """``YYYY-MM``, as the services write a month."""
    return f"{day:%Y-%m}"
