"""The person aggregate: a ledger entry (实名制台账) from registration to correction, move, retirement, death.

The employment status a person holds is decided in ``employment.py`` on the same state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from contracts.envelope import Event
from contracts.identifiers import CitizenIdInfo
from contracts.regions import Region, RegionLevel
from contracts.registration import (
    PERSON_CATEGORIES,
    EmploymentEnded,
    EmploymentEndReason,
    EmploymentKind,
    EmploymentRegistered,
    EmploymentStatus,
    FieldChange,
    Hukou,
    PersonCategoriesChanged,
    PersonCorrected,
    PersonDied,
    PersonMoved,
    PersonRegistered,
    PersonRetired,
    Sex,
    Source,
    StatusSurveyed,
    UnemploymentDeregistered,
    UnemploymentRegistered,
)
from services.registration.domain.common import not_in_future, region_at
from services.registration.domain.working_age import MINIMUM_WORKING_AGE, age_on, is_working_age
from services.runtime.errors import RuleViolated

#: Persons and households live in a village or community (村/社区), the lowest level (docs/design.md "Regions").
VILLAGE = (RegionLevel.VILLAGE,)
LIVES = "a person lives in a village or community"


@dataclass(frozen=True)
class RegisterPerson:
    """Enter a resident into the labour-force ledger (劳动力实名登记)."""

    person_id: str
    citizen: CitizenIdInfo
    region: Region | None
    region_code: str
    hukou: Hukou | None = None
    education: str | None = None
    categories: tuple[str, ...] = field(default_factory=tuple)


def decide_register_person(command: RegisterPerson, *, today: date) -> list[PersonRegistered]:
    """A resident of working age who lives in a known village or community enters the ledger."""
    region = region_at(command.region, command.region_code, VILLAGE, "PersonLivesInVillageOrCommunity", LIVES)
    if age_on(command.citizen.birth_date, today) < MINIMUM_WORKING_AGE:
        raise RuleViolated(
            "LedgerHoldsWorkingAgeResidents",
            f"the ledger holds residents aged {MINIMUM_WORKING_AGE} or over (禁止使用童工规定 Art 2); "
            f"this person was born on {command.citizen.birth_date}",
            field="id_number",
        )
    return [
        PersonRegistered(
            person_id=command.person_id,
            sex=command.citizen.sex,
            birth_date=command.citizen.birth_date,
            hukou=command.hukou,
            region_code=region.code,
            education=command.education,
            categories=list(command.categories),
        )
    ]


# --- the person aggregate: a ledger entry and its employment status --------------------------------------


#: The person's PII fields: corrected through the vault, published as redacted changes only.
PII_FIELDS = ("id_number", "name", "phone")


@dataclass(frozen=True)
class Employment:
    """The job a person holds now."""

    kind: EmploymentKind
    employer_id: str | None
    started_on: date


@dataclass(frozen=True)
class PersonState:
    """A ledger entry folded from its ``person`` stream; ``version`` is the stream's version."""

    person_id: str
    sex: Sex
    birth_date: date
    region_code: str
    hukou: Hukou | None = None
    education: str | None = None
    categories: tuple[str, ...] = ()
    status: EmploymentStatus = "not_in_labour_force"
    employment: Employment | None = None
    last_end_reason: EmploymentEndReason | None = None
    last_ended_on: date | None = None
    version: int = 0

    def working_age_on(self, day: date) -> bool:
        """Whether the person is of working age on ``day``."""
        return is_working_age(self.birth_date, self.sex, day)


PersonEvent = (
    PersonRegistered
    | PersonCorrected
    | PersonMoved
    | PersonCategoriesChanged
    | EmploymentRegistered
    | EmploymentEnded
    | UnemploymentRegistered
    | UnemploymentDeregistered
    | PersonRetired
    | PersonDied
    | StatusSurveyed
)


def evolve_person(state: PersonState | None, event: Event) -> PersonState:
    """The ledger entry after one more event of its stream."""
    if isinstance(event, PersonRegistered):
        return PersonState(
            person_id=event.person_id,
            sex=event.sex,
            birth_date=event.birth_date,
            region_code=event.region_code,
            hukou=event.hukou,
            education=event.education,
            categories=tuple(event.categories),
            status=event.status,
            version=1,
        )
    if state is None:
        raise ValueError(f"a person stream must start with PersonRegistered, not {event.event_type}")
    state = replace(state, version=state.version + 1)
    if isinstance(event, PersonCorrected):
        values = {c.field: c.new for c in event.changes if not c.redacted and c.field in _CORRECTABLE}
        if "birth_date" in values and isinstance(values["birth_date"], str):
            values["birth_date"] = date.fromisoformat(values["birth_date"])
        return replace(state, **values)
    if isinstance(event, PersonMoved):
        return replace(state, region_code=event.region_code)
    if isinstance(event, PersonCategoriesChanged):
        return replace(state, categories=tuple(event.categories))
    if isinstance(event, EmploymentRegistered):
        job = Employment(event.kind, event.employer_id, event.started_on)
        return replace(state, status="employed", employment=job)
    if isinstance(event, EmploymentEnded):
        return replace(
            state,
            status=event.status_after,
            employment=None,
            last_end_reason=event.reason,
            last_ended_on=event.ended_on,
        )
    if isinstance(event, UnemploymentRegistered):
        return replace(state, status="registered_unemployed")
    if isinstance(event, UnemploymentDeregistered):
        return replace(state, status=event.status_after)
    if isinstance(event, PersonRetired):
        return replace(state, status="retired", employment=None)
    if isinstance(event, PersonDied):
        return replace(state, status="deceased", employment=None)
    return state  # StatusSurveyed changes nothing: the status events before it did


def fold_person(events: Sequence[Event]) -> PersonState | None:
    """A ledger entry from its stream's events (None for an empty stream)."""
    state: PersonState | None = None
    for event in events:
        state = evolve_person(state, event)
    return state


#: Non-PII attributes a correction may set directly (sex and birth date follow from the ID number).
_CORRECTABLE = ("hukou", "education", "sex", "birth_date")


def require_alive(state: PersonState, action: str) -> None:
    if state.status == "deceased":
        raise RuleViolated(
            "DeceasedIsFinal", f"the person is recorded as deceased; {action} is not possible", field="status"
        )


@dataclass(frozen=True)
class CorrectPerson:
    """Correct what was recorded wrongly (信息更正): non-PII values, and the names of changed PII fields.

    ``citizen`` is the parsed new ID number when it is among the corrections; sex and birth date follow.
    """

    values: dict[str, object]
    pii_changed: tuple[str, ...]
    reason: str
    citizen: CitizenIdInfo | None = None


def decide_correct_person(state: PersonState, command: CorrectPerson, *, today: date) -> list[PersonCorrected]:
    """A correction records each changed field with its old and new value (PII fields redacted)."""
    require_alive(state, "a correction")
    values = dict(command.values)
    if command.citizen is not None:
        if age_on(command.citizen.birth_date, today) < MINIMUM_WORKING_AGE:
            raise RuleViolated(
                "LedgerHoldsWorkingAgeResidents",
                f"the corrected ID number gives a birth date of {command.citizen.birth_date}: under "
                f"{MINIMUM_WORKING_AGE} (禁止使用童工规定 Art 2)",
                field="id_number",
            )
        values["sex"] = command.citizen.sex
        values["birth_date"] = command.citizen.birth_date
    changes = [
        FieldChange(field=name, old=_jsonable(getattr(state, name)), new=_jsonable(value))
        for name, value in values.items()
        if getattr(state, name) != value
    ]
    changes += [FieldChange(field=name, redacted=True) for name in command.pii_changed]
    if not changes:
        raise RuleViolated("CorrectionChangesSomething", "every value given equals what is recorded", field="body")
    if not command.reason.strip():
        raise RuleViolated("CorrectionNeedsReason", "say why the record was wrong", field="reason")
    return [PersonCorrected(person_id=state.person_id, changes=changes, reason=command.reason.strip())]


def _jsonable(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


def decide_move_person(
    state: PersonState, region: Region | None, region_code: str, moved_on: date, *, today: date
) -> list[PersonMoved]:
    """The residence moves to another village or community (居住地变更)."""
    require_alive(state, "a move")
    target = region_at(region, region_code, VILLAGE, "PersonLivesInVillageOrCommunity", LIVES)
    if target.code == state.region_code:
        raise RuleViolated("MoveChangesResidence", f"the person already lives in {target.code}", field="region_code")
    not_in_future(moved_on, today, "moved_on", "MoveNotInFuture")
    return [
        PersonMoved(
            person_id=state.person_id, from_region_code=state.region_code, region_code=target.code, moved_on=moved_on
        )
    ]


def decide_change_categories(
    state: PersonState, categories: Sequence[str], effective_on: date, *, today: date
) -> list[PersonCategoriesChanged]:
    """Set the person's categories (人员类别); no event when they are already so."""
    require_alive(state, "a change of categories")
    not_in_future(effective_on, today, "effective_on", "CategoriesChangeNotInFuture")
    unknown = sorted(set(categories) - set(PERSON_CATEGORIES))
    if unknown:
        raise RuleViolated("KnownCategory", f"unknown categories {unknown}", field="categories")
    wanted = sorted(set(categories))
    current = set(state.categories)
    if set(wanted) == current:
        return []
    return [
        PersonCategoriesChanged(
            person_id=state.person_id,
            added=sorted(set(wanted) - current),
            removed=sorted(current - set(wanted)),
            categories=wanted,
            effective_on=effective_on,
        )
    ]


def decide_retire(state: PersonState, retired_on: date, *, today: date) -> list[PersonRetired]:
    """The person retires (退休) and leaves the labour force; an employment held ends with it."""
    require_alive(state, "retirement")
    if state.status == "retired":
        raise RuleViolated("AlreadyRetired", "the person is already retired", field="status")
    not_in_future(retired_on, today, "retired_on", "RetirementNotInFuture")
    if retired_on < state.birth_date:
        raise RuleViolated("RetirementAfterBirth", "retirement cannot precede birth", field="retired_on")
    return [PersonRetired(person_id=state.person_id, previous_status=state.status, retired_on=retired_on)]


def decide_record_death(
    state: PersonState, died_on: date, *, today: date, source: Source = "registration"
) -> list[PersonDied]:
    """Record a death (死亡); the ledger entry is closed for good."""
    require_alive(state, "recording a death")
    not_in_future(died_on, today, "died_on", "DeathNotInFuture")
    if died_on < state.birth_date:
        raise RuleViolated("DeathAfterBirth", f"the person was born on {state.birth_date}", field="died_on")
    return [PersonDied(person_id=state.person_id, previous_status=state.status, died_on=died_on, source=source)]
