"""Retirees under community management (退休人员社会化管理): transfer in, the yearly eligibility certification
(资格认证), suspension when it is overdue, death and the survivor claims (docs/rules.md, "Insurance")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from contracts import insurance as ins
from contracts.envelope import Event
from services.insurance.domain.benefit import decide_stop_benefit
from services.insurance.domain.enrolment import require_alive
from services.insurance.domain.insured import InsuredState, pension_stops_from
from services.insurance.domain.months import (
    add_months,
    full_years_between,
    month_of,
    months_from_to,
    next_month,
    require_not_future,
)
from services.runtime.errors import RuleViolated

#: Certification is due once every 12 months (人社部发〔2015〕32号).
CERTIFICATION_INTERVAL_MONTHS = 12
CERTIFICATION_ARTICLE = "人社部发〔2015〕32号"
DEATH_ARTICLE = "社会保险法 Art 17, 49; 人社部发〔2021〕18号"
SURVIVOR_ARTICLE = "社会保险法 Art 17; 人社部发〔2021〕18号"


@dataclass(frozen=True)
class TransferIn:
    """A retiree comes under the community's management with the pension they draw."""

    monthly_pension_fen: int
    retired_on: date
    contribution_years: int
    transferred_on: date


def decide_transfer_in(command: TransferIn, state: InsuredState, *, today: date) -> list[ins.RetireeTransferredIn]:
    """Transfer in; the first certification is due 12 months after the transfer."""
    require_alive(state)
    require_not_future(command.transferred_on, today, field="transferred_on")
    require_not_future(command.retired_on, today, field="retired_on")
    if state.pension is not None:
        raise RuleViolated("RetireeTransferredOnce", f"{state.person_id} is already managed here", field="person_id")
    return [
        ins.RetireeTransferredIn(
            person_id=state.person_id,
            region_code=state.region_code,
            monthly_pension_fen=command.monthly_pension_fen,
            retired_on=command.retired_on,
            contribution_years=command.contribution_years,
            transferred_on=command.transferred_on,
            certification_due_on=add_months(command.transferred_on, CERTIFICATION_INTERVAL_MONTHS),
        )
    ]


def _require_retiree(state: InsuredState) -> None:
    require_alive(state)
    if state.pension is None:
        raise RuleViolated("IsManagedRetiree", f"{state.person_id} is no retiree managed here", field="person_id")


def decide_certify(state: InsuredState, certified_on: date, *, today: date) -> list[ins.PensionEligibilityCertified]:
    """Certify eligibility; the next is due 12 months later. A suspended pension resumes the next month and
    the suspended months up to this one are paid back (人社部发〔2015〕32号)."""
    require_not_future(certified_on, today, field="certified_on")
    _require_retiree(state)
    assert state.pension is not None
    pension = state.pension
    back: list[str] = []
    if pension.suspended_from is not None:
        back = months_from_to(pension.suspended_from, month_of(certified_on))
    return [
        ins.PensionEligibilityCertified(
            person_id=state.person_id,
            region_code=state.region_code,
            certified_on=certified_on,
            next_due_on=add_months(certified_on, CERTIFICATION_INTERVAL_MONTHS),
            resumed=pension.suspended_from is not None,
            back_paid_months=back,
            back_pay_fen=len(back) * pension.monthly_pension_fen,
            article=CERTIFICATION_ARTICLE,
        )
    ]


def decide_suspend_overdue(state: InsuredState, as_of: date) -> list[ins.PensionSuspended]:
    """A certification overdue on ``as_of`` suspends the pension from the month after the due date; a retiree
    certified in time, already suspended, stopped or dead changes nothing."""
    pension = state.pension
    if pension is None or not pension.paying or state.died_on is not None or pension.certification_due_on >= as_of:
        return []
    return [
        ins.PensionSuspended(
            person_id=state.person_id,
            region_code=state.region_code,
            due_on=pension.certification_due_on,
            suspended_from=next_month(month_of(pension.certification_due_on)),
            article=CERTIFICATION_ARTICLE,
        )
    ]


def decide_death(state: InsuredState, died_on: date, reported_on: date, *, reported_here: bool) -> list[Event]:
    """A death stops everything that pays: the pension from the month after death (paid for the month of
    death), the unemployment benefit, every open enrolment. ``reported_here``: the death was reported to
    insurance (``DeathReported``, which registration reacts to); otherwise registration reported it
    (``DeathRecorded``). A death already known changes nothing."""
    if state.died_on is not None:
        return []
    if died_on > reported_on:
        raise RuleViolated("DeathBeforeReport", f"died_on {died_on} is after the report {reported_on}", field="died_on")
    common = {"person_id": state.person_id, "region_code": state.region_code}
    events: list[Event] = [
        ins.DeathReported(**common, died_on=died_on, reported_on=reported_on)
        if reported_here
        else ins.DeathRecorded(**common, died_on=died_on)
    ]
    if state.pension is not None and state.pension.stopped_from is None:
        events.append(
            ins.PensionStopped(**common, stopped_from=pension_stops_from(died_on), reason="died", article=DEATH_ARTICLE)
        )
    events.extend(decide_stop_benefit(state, "died", died_on))
    events.extend(
        ins.EnrolmentTerminated(**common, insurance_type=kind, terminated_on=died_on, reason="died")
        for kind in state.enrolments
    )
    return events


def survivor_months(contribution_years: int, pension_years_drawn: int | None = None) -> int:
    """Months of the survivor payment (抚恤金, 人社部发〔2021〕18号): 9 at 15 contribution years (and below),
    one more per further year, at most 24 (at 30 years); for a retiree one month less per full year of pension
    drawn, never below 9."""
    months = min(24, 9 + max(contribution_years - 15, 0))
    if pension_years_drawn is not None:
        months = max(9, months - pension_years_drawn)
    return months


@dataclass(frozen=True)
class ClaimSurvivorBenefits:
    """The family claims the funeral grant and the survivor payment."""

    claimed_on: date
    province_code: str
    #: The province's previous-year urban per-capita monthly disposable income, in fen (a setting).
    monthly_income_fen: int
    income_year: int
    #: Contribution years of a person who was not yet a retiree (from the contribution ledger).
    contribution_years: int


def require_death_recorded(state: InsuredState) -> date:
    """Survivor benefits follow a recorded death; the day of death."""
    if state.died_on is None:
        raise RuleViolated("SurvivorClaimAfterDeath", f"no death is recorded for {state.person_id}", field="person_id")
    return state.died_on


def decide_claim_survivor(
    command: ClaimSurvivorBenefits, state: InsuredState, *, today: date
) -> list[ins.SurvivorBenefitsClaimed]:
    """Funeral grant = 2 x the monthly income figure; survivor payment = that figure x the months
    (社会保险法 Art 17, 人社部发〔2021〕18号). Claimed once."""
    require_not_future(command.claimed_on, today, field="claimed_on")
    died_on = require_death_recorded(state)
    if state.survivor_claim is not None:
        raise RuleViolated("SurvivorClaimedOnce", "the survivor benefits are already claimed", field="person_id")
    if state.pension is not None:
        years = state.pension.contribution_years
        months = survivor_months(years, full_years_between(state.pension.retired_on, died_on))
    else:
        months = survivor_months(command.contribution_years)
    return [
        ins.SurvivorBenefitsClaimed(
            person_id=state.person_id,
            region_code=state.region_code,
            claimed_on=command.claimed_on,
            province_code=command.province_code,
            income_year=command.income_year,
            monthly_income_fen=command.monthly_income_fen,
            funeral_grant_fen=2 * command.monthly_income_fen,
            survivor_months=months,
            survivor_benefit_fen=months * command.monthly_income_fen,
            article=SURVIVOR_ARTICLE,
        )
    ]


def decide_pay_survivor(state: InsuredState, paid_on: date, *, today: date) -> list[ins.SurvivorBenefitsPaid]:
    """Pay what was claimed, once."""
    require_not_future(paid_on, today, field="paid_on")
    claim = state.survivor_claim
    if claim is None:
        raise RuleViolated("SurvivorClaimFirst", "claim the survivor benefits first", field="person_id")
    if state.survivor_paid:
        raise RuleViolated("SurvivorPaidOnce", "the survivor benefits are already paid", field="person_id")
    return [
        ins.SurvivorBenefitsPaid(
            person_id=state.person_id,
            region_code=state.region_code,
            paid_on=paid_on,
            amount_fen=claim.funeral_grant_fen + claim.survivor_benefit_fen,
        )
    ]
