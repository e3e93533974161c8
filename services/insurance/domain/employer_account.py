"""An employer's contribution account (单位缴费账户): arrears per month (欠费), the late surcharge, and the
report to supervision when two months or more are owed (社会保险法 Art 63, 86)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from contracts import insurance as ins
from contracts.envelope import Event
from services.insurance.domain.months import require_not_future, require_not_future_month
from services.runtime.errors import RuleViolated

#: The late surcharge is 0.05 % a day (社会保险法 Art 86): 5 per 10,000 per day.
SURCHARGE_PER_DAY_NUMERATOR = 5
SURCHARGE_PER_DAY_DENOMINATOR = 10_000
#: Months owed at which supervision is told (docs/design.md, "Cross-service reactions").
ARREARS_REPORT_MONTHS = 2


def late_surcharge_fen(arrears_fen: int, days_late: int) -> int:
    """0.05 % of ``arrears_fen`` per day late (社会保险法 Art 86), rounded half up to the fen, in integers only.

    Example: 1,234.56 yuan owed 45 days -> 123456 x 45 x 5 / 10000 = 2777.76 fen -> 27.78 yuan.
    """
    if days_late <= 0 or arrears_fen <= 0:
        return 0
    numerator = arrears_fen * days_late * SURCHARGE_PER_DAY_NUMERATOR
    return (2 * numerator + SURCHARGE_PER_DAY_DENOMINATOR) // (2 * SURCHARGE_PER_DAY_DENOMINATOR)


@dataclass(frozen=True)
class Owed:
    """One month's arrears."""

    amount_fen: int
    workers: int
    due_on: date


@dataclass(frozen=True)
class EmployerAccount:
    """What an employer owes, month by month; ``reported`` while supervision has an open report."""

    employer_id: str
    region_code: str
    version: int = 0
    owed: dict[str, Owed] = field(default_factory=dict)
    reported: bool = False

    def surcharge_on(self, day: date) -> int:
        """The surcharge on everything owed, to ``day``."""
        return sum(late_surcharge_fen(o.amount_fen, (day - o.due_on).days) for o in self.owed.values())


def evolve_account(state: EmployerAccount | None, event: Event) -> EmployerAccount:
    """The account after one more of its events."""
    assert isinstance(
        event, ins.ArrearsAssessed | ins.ArrearsPaid | ins.EmployerArrearsReported | ins.EmployerArrearsCleared
    )
    if state is None:
        state = EmployerAccount(event.employer_id, event.region_code)
    state = replace(state, version=state.version + 1, region_code=event.region_code)
    if isinstance(event, ins.ArrearsAssessed):
        return replace(state, owed={**state.owed, event.month: Owed(event.amount_fen, event.workers, event.due_on)})
    if isinstance(event, ins.ArrearsPaid):
        return replace(state, owed={m: o for m, o in state.owed.items() if m != event.month})
    return replace(state, reported=isinstance(event, ins.EmployerArrearsReported))


@dataclass(frozen=True)
class AssessArrears:
    """Record what an employer owes for one month."""

    month: str
    amount_fen: int
    workers: int
    due_on: date


def decide_assess(command: AssessArrears, state: EmployerAccount, *, today: date) -> list[Event]:
    """One assessment per month; the second month owed reports the employer to supervision."""
    require_not_future_month(command.month, today)
    if command.month in state.owed:
        raise RuleViolated("MonthAssessedOnce", f"arrears for {command.month} are already recorded", field="month")
    if command.amount_fen <= 0:
        raise RuleViolated("ArrearsArePositive", "arrears are a positive amount of fen", field="amount_fen")
    assessed = ins.ArrearsAssessed(
        employer_id=state.employer_id,
        region_code=state.region_code,
        month=command.month,
        amount_fen=command.amount_fen,
        workers=command.workers,
        due_on=command.due_on,
    )
    events: list[Event] = [assessed]
    after = evolve_account(state, assessed)
    if len(after.owed) >= ARREARS_REPORT_MONTHS and not after.reported:
        events.append(
            ins.EmployerArrearsReported(
                employer_id=state.employer_id,
                region_code=state.region_code,
                months=sorted(after.owed),
                arrears_fen=sum(o.amount_fen for o in after.owed.values()),
                surcharge_fen=after.surcharge_on(today),
                workers=max(o.workers for o in after.owed.values()),
                reported_on=today,
            )
        )
    return events


def decide_pay_arrears(
    state: EmployerAccount, month: str, amount_fen: int, paid_on: date, *, today: date
) -> list[Event]:
    """The month's arrears are paid in full with the surcharge to the day of payment; paying everything
    owed clears the report to supervision."""
    require_not_future(paid_on, today, field="paid_on")
    owed = state.owed.get(month)
    if owed is None:
        raise RuleViolated("ArrearsOwedForMonth", f"nothing is owed for {month}", field="month")
    if amount_fen != owed.amount_fen:
        raise RuleViolated(
            "PaymentCoversArrears",
            f"{month} owes {owed.amount_fen} fen, the payment is {amount_fen}",
            field="amount_fen",
        )
    days = max((paid_on - owed.due_on).days, 0)
    events: list[Event] = [
        ins.ArrearsPaid(
            employer_id=state.employer_id,
            region_code=state.region_code,
            month=month,
            amount_fen=amount_fen,
            days_late=days,
            surcharge_fen=late_surcharge_fen(amount_fen, days),
            paid_on=paid_on,
        )
    ]
    if state.reported and len(state.owed) == 1:
        events.append(
            ins.EmployerArrearsCleared(employer_id=state.employer_id, region_code=state.region_code, cleared_on=paid_on)
        )
    return events
