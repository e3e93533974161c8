"""Events of the registration service: the real-name labour-force ledger (实名制台账), on ``registration.events``.

Events carry a person id and non-identifying attributes only; ID numbers, names and phones stay inside
the registration service, encrypted at rest (docs/design.md, "Security and data"). A correction of one of those fields
is published with the field's name and ``redacted=True`` instead of its values.

Streams: ``person`` (the ledger entry and its employment status), ``household`` (户), ``employer``,
``vacancy`` (岗位), ``service_point`` (平台) and ``staff`` (the roster of the service network).

One module per aggregate, as in the service (``person``, ``household``, ``employer`` with its vacancies,
``service_point``, ``staff``), and ``common`` for the vocabularies they share. Every name stays importable
from ``contracts.registration``.
"""

from __future__ import annotations

from contracts.envelope import Event
from contracts.registration.common import (
    EMPLOYMENT_KINDS,
    EMPLOYMENT_STATUSES,
    INVOLUNTARY_END_REASONS,
    PERSON_CATEGORIES,
    EmployerSize,
    EmploymentEndReason,
    EmploymentKind,
    EmploymentStatus,
    FieldChange,
    Hukou,
    PersonCategory,
    ServicePointLevel,
    Sex,
    Source,
)
from contracts.registration.employer import (
    EmployerChanged,
    EmployerDeregistered,
    EmployerRegistered,
    VacancyClosed,
    VacancyFilled,
    VacancyOpened,
)
from contracts.registration.household import (
    HouseholdCreated,
    HouseholdEmploymentChanged,
    HouseholdHeadChanged,
    HouseholdMember,
    HouseholdMemberAdded,
    HouseholdMemberRemoved,
)
from contracts.registration.person import (
    EmploymentEnded,
    EmploymentRegistered,
    PersonCategoriesChanged,
    PersonCorrected,
    PersonDied,
    PersonMoved,
    PersonRegistered,
    PersonRetired,
    StatusSurveyed,
    UnemploymentDeregistered,
    UnemploymentRegistered,
)
from contracts.registration.service_point import (
    ServicePointCompliance,
    ServicePointEstablished,
    ServicePointUpdated,
)
from contracts.registration.staff import (
    STAFF_ROLES,
    StaffAppointed,
    StaffLeaveReason,
    StaffLeft,
    StaffRole,
)

#: The events on ``registration.events``, in the order they were introduced (``contracts.registry``).
EVENTS: tuple[type[Event], ...] = (
    PersonRegistered,
    EmployerRegistered,
    PersonCorrected,
    PersonMoved,
    PersonCategoriesChanged,
    EmploymentRegistered,
    EmploymentEnded,
    UnemploymentRegistered,
    UnemploymentDeregistered,
    PersonRetired,
    PersonDied,
    StatusSurveyed,
    HouseholdCreated,
    HouseholdMemberAdded,
    HouseholdMemberRemoved,
    HouseholdHeadChanged,
    HouseholdEmploymentChanged,
    EmployerChanged,
    EmployerDeregistered,
    VacancyOpened,
    VacancyFilled,
    VacancyClosed,
    ServicePointEstablished,
    ServicePointUpdated,
    StaffAppointed,
    StaffLeft,
)

__all__ = [
    "EMPLOYMENT_KINDS",
    "EMPLOYMENT_STATUSES",
    "EVENTS",
    "INVOLUNTARY_END_REASONS",
    "PERSON_CATEGORIES",
    "STAFF_ROLES",
    "EmployerChanged",
    "EmployerDeregistered",
    "EmployerRegistered",
    "EmployerSize",
    "EmploymentEndReason",
    "EmploymentEnded",
    "EmploymentKind",
    "EmploymentRegistered",
    "EmploymentStatus",
    "FieldChange",
    "HouseholdCreated",
    "HouseholdEmploymentChanged",
    "HouseholdHeadChanged",
    "HouseholdMember",
    "HouseholdMemberAdded",
    "HouseholdMemberRemoved",
    "Hukou",
    "PersonCategoriesChanged",
    "PersonCategory",
    "PersonCorrected",
    "PersonDied",
    "PersonMoved",
    "PersonRegistered",
    "PersonRetired",
    "ServicePointCompliance",
    "ServicePointEstablished",
    "ServicePointLevel",
    "ServicePointUpdated",
    "Sex",
    "Source",
    "StaffAppointed",
    "StaffLeaveReason",
    "StaffLeft",
    "StaffRole",
    "StatusSurveyed",
    "UnemploymentDeregistered",
    "UnemploymentRegistered",
    "VacancyClosed",
    "VacancyFilled",
    "VacancyOpened",
]
