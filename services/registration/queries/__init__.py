"""Registration's own read state: lookup tables written in the same transaction as the events.

One module per concern: ``persons`` (the ledger's rows, the search, the quarterly surveys), ``organisations``
(employers, vacancies, service points and the staff roster) and ``households``. Every name is importable
from ``services.registration.queries``, so callers read ``queries.person(...)`` whichever module holds it.
"""

from __future__ import annotations

from services.registration.queries.households import (
    household_of,
    households_of,
    lock_persons,
    save_household,
    save_new_households,
)
from services.registration.queries.organisations import (
    VACANCY_FIELDS,
    employer_exists,
    employer_id_by_credit_code,
    has_roster,
    open_vacancy_count,
    service_point_id_in,
    service_points_in,
    staff_id_in_post,
    staff_in,
    staff_in_post_at,
    subtree_prefix,
    vacancies_in,
)
from services.registration.queries.persons import (
    PersonFilter,
    PersonRow,
    PersonStateRow,
    person,
    person_exists,
    person_ids_by_hash,
    record_survey,
    record_surveys,
    save_person,
    save_person_states,
    search_persons,
    search_sql,
    subtree_bounds,
    survey_pending,
)

__all__ = [
    "VACANCY_FIELDS",
    "PersonFilter",
    "PersonRow",
    "PersonStateRow",
    "employer_exists",
    "employer_id_by_credit_code",
    "has_roster",
    "household_of",
    "households_of",
    "lock_persons",
    "open_vacancy_count",
    "person",
    "person_exists",
    "person_ids_by_hash",
    "record_survey",
    "record_surveys",
    "save_household",
    "save_new_households",
    "save_person",
    "save_person_states",
    "search_persons",
    "search_sql",
    "service_point_id_in",
    "service_points_in",
    "staff_id_in_post",
    "staff_in",
    "staff_in_post_at",
    "subtree_bounds",
    "subtree_prefix",
    "survey_pending",
    "vacancies_in",
]
