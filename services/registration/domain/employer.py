"""The employer aggregate (用人单位): registration, change (变更登记) and deregistration (注销).

The unified social credit code is checked by ``contracts.identifiers`` (GB 32100-2015); an employer sits
in a township or a village (docs/design.md "Registration").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from contracts import registration as reg
from contracts.envelope import Event
from contracts.identifiers import CreditCodeInfo
from contracts.regions import Region, RegionLevel
from contracts.registration import (
    EmployerRegistered,
    EmployerSize,
)
from services.registration.domain.common import named_day_not_in_future, not_first, region_at, started_by
from services.runtime.errors import RuleViolated


@dataclass(frozen=True)
class RegisterEmployer:
    """Enter an employer into the ledger (用人单位登记)."""

    employer_id: str
    credit: CreditCodeInfo
    name: str
    region: Region | None
    region_code: str
    industry: str | None = None
    size: EmployerSize | None = None
    #: The day it was registered when that was before today.
    registered_on: date | None = None


def decide_register_employer(command: RegisterEmployer, *, today: date | None = None) -> list[EmployerRegistered]:
    """An employer is registered where it operates: a township (street) or a village (community), today or
    on a past day (``registered_on``, checked against ``today``: not in the future)."""
    region = _employer_region(command.region, command.region_code)
    named_day_not_in_future(command.registered_on, today, "registered_on", "RegistrationNotInFuture")
    return [
        EmployerRegistered(
            employer_id=command.employer_id,
            credit_code=command.credit.code,
            credit_code_check_ok=command.credit.check_ok,
            name=command.name,
            region_code=region.code,
            industry=command.industry,
            size=command.size,
            registered_on=command.registered_on,
        )
    ]


# --- employers: change and deregistration (变更登记, 注销) -------------------------------------------

#: GB/T 4754-2017 industry sections (门类), A agriculture ... T international organisations.
INDUSTRY_SECTIONS = "ABCDEFGHIJKLMNOPQRST"

#: Employer fields a change may touch, in the order a change lists them.
EMPLOYER_CHANGEABLE_FIELDS = ("name", "industry", "size", "region_code")


@dataclass(frozen=True)
class EmployerState:
    """An employer as its stream tells it; ``version`` is the stream's version (the ETag)."""

    employer_id: str
    credit_code: str
    credit_code_check_ok: bool
    name: str
    region_code: str
    industry: str | None
    size: EmployerSize | None
    version: int
    deregistered_on: date | None = None

    @property
    def active(self) -> bool:
        """Still in the ledger (not deregistered)."""
        return self.deregistered_on is None


def evolve_employer(state: EmployerState | None, event: Event) -> EmployerState:
    """The employer after one more of its events."""
    if isinstance(event, EmployerRegistered):
        return started_by(EmployerState, event, version=1)
    if state is None:
        raise not_first("employer", event)
    if isinstance(event, reg.EmployerChanged):
        updates = {change.field: change.new for change in event.changes}
        return replace(state, **updates, version=state.version + 1)
    if isinstance(event, reg.EmployerDeregistered):
        return replace(state, deregistered_on=event.deregistered_on, version=state.version + 1)
    return replace(state, version=state.version + 1)


@dataclass(frozen=True)
class ChangeEmployer:
    """Change an employer's recorded details (变更登记). Only the fields in ``sent`` are changed."""

    sent: frozenset[str]
    name: str | None = None
    industry: str | None = None
    size: EmployerSize | None = None
    region: Region | None = None
    region_code: str | None = None


def decide_change_employer(command: ChangeEmployer, state: EmployerState) -> list[reg.EmployerChanged]:
    """Record what differs; sending the values already recorded records nothing."""
    require_active_employer(state, "DeregisteredEmployerCannotChange", "a deregistered employer cannot be changed")
    if "name" in command.sent and not command.name:
        raise RuleViolated("EmployerHasName", "an employer's name cannot be removed", field="name")
    new_region = state.region_code
    if "region_code" in command.sent and command.region_code != state.region_code:
        new_region = _employer_region(command.region, command.region_code or "").code
    proposed = {
        "name": command.name,
        "industry": command.industry,
        "size": command.size,
        "region_code": new_region,
    }
    changes = [
        reg.FieldChange(field=name, old=getattr(state, name), new=proposed[name])
        for name in EMPLOYER_CHANGEABLE_FIELDS
        if name in command.sent and proposed[name] != getattr(state, name)
    ]
    if not changes:
        return []
    return [
        reg.EmployerChanged(
            employer_id=state.employer_id,
            changes=changes,
            region_code=new_region,
            from_region_code=state.region_code,
        )
    ]


@dataclass(frozen=True)
class DeregisterEmployer:
    """Take an employer out of the ledger (注销): closed, merged or moved out of the county."""

    deregistered_on: date
    reason: str
    open_vacancies: int


def decide_deregister_employer(
    command: DeregisterEmployer, state: EmployerState, *, today: date
) -> list[reg.EmployerDeregistered]:
    """An active employer with no open vacancy leaves the ledger on a day that has come."""
    require_active_employer(state, "EmployerAlreadyDeregistered", "this employer is already deregistered")
    if command.deregistered_on > today:
        raise RuleViolated(
            "DeregistrationNotInFuture",
            f"deregistration date {command.deregistered_on} is in the future",
            field="deregistered_on",
        )
    if command.open_vacancies:
        raise RuleViolated(
            "CloseVacanciesBeforeDeregistration",
            f"the employer still has {command.open_vacancies} open vacancies; close them first",
            field="employer_id",
        )
    return [
        reg.EmployerDeregistered(
            employer_id=state.employer_id,
            region_code=state.region_code,
            deregistered_on=command.deregistered_on,
            reason=command.reason,
        )
    ]


def require_active_employer(state: EmployerState, rule: str, detail: str) -> None:
    if not state.active:
        raise RuleViolated(rule, f"{detail} (deregistered on {state.deregistered_on})", field="employer_id")


def _employer_region(region: Region | None, code: str) -> Region:
    where = "an employer is registered in a township or village"
    return region_at(
        region, code, (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE), "EmployerSitsInTownshipOrVillage", where
    )
