"""The vacancy aggregate (岗位): opened with positions and a wage range in fen, filled, closed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

from contracts import registration as reg
from contracts.envelope import Event
from services.registration.domain.common import not_first, started_by
from services.registration.domain.employer import EmployerState, require_active_employer
from services.runtime.errors import RuleViolated

# --- vacancies (岗位) ----------------------------------------------------------------------------------

VacancyStatus = Literal["open", "filled", "closed"]


@dataclass(frozen=True)
class VacancyState:
    """A vacancy as its stream tells it."""

    vacancy_id: str
    employer_id: str
    region_code: str
    occupation: str
    positions: int
    wage_min_fen: int
    wage_max_fen: int
    requirements: str | None
    opened_on: date
    version: int
    filled: int = 0
    withdrawn: int = 0
    closed_on: date | None = None

    @property
    def remaining(self) -> int:
        """Positions still to fill."""
        return self.positions - self.filled - self.withdrawn

    @property
    def status(self) -> VacancyStatus:
        """Open while positions remain; filled when all are taken; closed when withdrawn early."""
        if self.closed_on is not None:
            return "closed"
        return "open" if self.remaining > 0 else "filled"


def evolve_vacancy(state: VacancyState | None, event: Event) -> VacancyState:
    """The vacancy after one more of its events."""
    if isinstance(event, reg.VacancyOpened):
        return started_by(VacancyState, event, version=1)
    if state is None:
        raise not_first("vacancy", event)
    if isinstance(event, reg.VacancyFilled):
        return replace(state, filled=state.filled + event.filled, version=state.version + 1)
    if isinstance(event, reg.VacancyClosed):
        return replace(state, withdrawn=event.withdrawn, closed_on=event.closed_on, version=state.version + 1)
    return replace(state, version=state.version + 1)


@dataclass(frozen=True)
class OpenVacancy:
    """An employer offers positions (岗位): how many, which occupation, what wage in fen."""

    vacancy_id: str
    employer: EmployerState | None
    employer_id: str
    occupation: str
    positions: int
    wage_min_fen: int
    wage_max_fen: int
    opened_on: date
    requirements: str | None = None


def decide_open_vacancy(command: OpenVacancy, *, today: date) -> list[reg.VacancyOpened]:
    """A registered, active employer opens at least one position with a wage range that makes sense."""
    employer = command.employer
    if employer is None:
        raise RuleViolated(
            "VacancyNeedsRegisteredEmployer", f"no employer {command.employer_id} in the ledger", field="employer_id"
        )
    require_active_employer(
        employer, "DeregisteredEmployerCannotOpenVacancy", "a deregistered employer cannot open vacancies"
    )
    if command.positions < 1:
        raise RuleViolated("VacancyHasAtLeastOnePosition", "a vacancy offers at least 1 position", field="positions")
    if command.wage_min_fen > command.wage_max_fen:
        raise RuleViolated(
            "WageMinimumNotAboveMaximum",
            f"wage_min_fen {command.wage_min_fen} is above wage_max_fen {command.wage_max_fen}",
            field="wage_min_fen",
        )
    if command.opened_on > today:
        raise RuleViolated(
            "VacancyOpensNotInFuture", f"opening date {command.opened_on} is in the future", field="opened_on"
        )
    return [
        reg.VacancyOpened(
            vacancy_id=command.vacancy_id,
            employer_id=employer.employer_id,
            region_code=employer.region_code,
            occupation=command.occupation,
            positions=command.positions,
            wage_min_fen=command.wage_min_fen,
            wage_max_fen=command.wage_max_fen,
            requirements=command.requirements,
            opened_on=command.opened_on,
        )
    ]


@dataclass(frozen=True)
class FillVacancy:
    """Positions of a vacancy were taken; with ``person_id``, by that person (one position)."""

    count: int
    filled_on: date
    person_id: str | None = None
    person_in_ledger: bool = True


def decide_fill_vacancy(command: FillVacancy, state: VacancyState, *, today: date) -> list[reg.VacancyFilled]:
    """Fill at most the positions that remain, on a day between opening and today."""
    _require_open_vacancy(state)
    if command.count < 1:
        raise RuleViolated("FillAtLeastOnePosition", "a fill takes at least 1 position", field="count")
    if command.count > state.remaining:
        raise RuleViolated(
            "FillCannotExceedRemainingPositions",
            f"only {state.remaining} of {state.positions} positions remain, cannot fill {command.count}",
            field="count",
            remaining=state.remaining,
        )
    if command.person_id is not None:
        if command.count != 1:
            raise RuleViolated(
                "OnePersonFillsOnePosition", "a fill naming a person takes exactly 1 position", field="count"
            )
        if not command.person_in_ledger:
            raise RuleViolated(
                "PersonMustBeInLedger", f"no person {command.person_id} in the ledger", field="person_id"
            )
    _require_day_in_vacancy(command.filled_on, state, today, "filled_on")
    return [
        reg.VacancyFilled(
            vacancy_id=state.vacancy_id,
            region_code=state.region_code,
            filled=command.count,
            remaining=state.remaining - command.count,
            person_id=command.person_id,
            filled_on=command.filled_on,
        )
    ]


@dataclass(frozen=True)
class CloseVacancy:
    """The employer withdraws the positions not yet filled."""

    closed_on: date
    reason: str | None = None


def decide_close_vacancy(command: CloseVacancy, state: VacancyState, *, today: date) -> list[reg.VacancyClosed]:
    """An open vacancy closes; what remains is withdrawn."""
    _require_open_vacancy(state)
    _require_day_in_vacancy(command.closed_on, state, today, "closed_on")
    return [
        reg.VacancyClosed(
            vacancy_id=state.vacancy_id,
            region_code=state.region_code,
            withdrawn=state.remaining,
            closed_on=command.closed_on,
            reason=command.reason,
        )
    ]


def _require_open_vacancy(state: VacancyState) -> None:
    if state.status != "open":
        raise RuleViolated("VacancyIsOpen", f"vacancy {state.vacancy_id} is {state.status}", field="vacancy_id")


def _require_day_in_vacancy(day: date, state: VacancyState, today: date, field_name: str) -> None:
    if day > today:
        raise RuleViolated("DateNotInFuture", f"{field_name} {day} is in the future", field=field_name)
    if day < state.opened_on:
        raise RuleViolated(
            "DateNotBeforeOpening",
            f"{field_name} {day} is before the vacancy opened on {state.opened_on}",
            field=field_name,
        )
