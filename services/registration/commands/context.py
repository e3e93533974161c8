"""What every registration command works with: the store, the PII vault, today, the working-day calendar,
the known regions, and one :class:`~services.runtime.aggregate.Aggregate` per kind of stream
(docs/adr/0004-service-shape.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from contracts.regions import Region
from services.registration.domain.employer import EmployerState, evolve_employer
from services.registration.domain.household import HouseholdState, evolve_household
from services.registration.domain.person import PersonState, evolve_person
from services.registration.domain.service_point import ServicePointState, evolve_service_point
from services.registration.domain.staff import StaffState, evolve_staff
from services.registration.domain.vacancy import VacancyState, evolve_vacancy
from services.runtime.aggregate import Aggregate
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.errors import Forbidden
from services.runtime.eventstore import EventStore
from services.runtime.pii import PiiVault
from services.runtime.regions import find_region
from services.runtime.workdays import WorkdayCalendar


class Ledger:
    """The registration service's write side: one per process, shared by its routes and its reactions."""

    def __init__(
        self,
        store: EventStore,
        vault: PiiVault,
        *,
        today: Callable[[], date] = date.today,
        calendar: WorkdayCalendar | None = None,
    ) -> None:
        self.store = store
        self.vault = vault
        self.today = today
        #: The official calendar (with the ``WORKDAY_OVERRIDES`` file's years) the reporting deadlines use.
        self.calendar = calendar or WorkdayCalendar.official()
        # Divisions are reference data that only grows; caching the ones found saves a round trip per command.
        self._regions: dict[str, Region] = {}
        self.persons = Aggregate[PersonState](store, "person", evolve_person, name="person")
        self.households = Aggregate[HouseholdState](store, "household", evolve_household, name="household")
        self.employers = Aggregate[EmployerState](store, "employer", evolve_employer, name="employer")
        self.vacancies = Aggregate[VacancyState](store, "vacancy", evolve_vacancy, name="vacancy")
        self.service_points = Aggregate[ServicePointState](
            store, "service_point", evolve_service_point, name="service point", id_field="service_point_id"
        )
        self.staff = Aggregate[StaffState](store, "staff", evolve_staff, name="staff", id_field="staff_id")

    async def region(self, conn: Connection, code: str) -> Region | None:
        """The region with this code from the reference table (None when there is none)."""
        region = self._regions.get(code)
        if region is None:
            region = await find_region(conn, code)
            if region is not None:
                self._regions[code] = region
        return region


def may_change_persons(principal: Principal) -> None:
    """Analysts read aggregates only (docs/design.md "Security and data"): they change no person."""
    if not principal.sees_persons:
        raise Forbidden("analysts read aggregates only; they change no person")
