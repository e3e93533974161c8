"""The reporting projection on real Postgres: stocks, flows, moves, deaths, back-dated changes, as_of, reset."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from contracts import insurance as ins
from contracts.envelope import EventEnvelope
from services.reporting.periods import Window, parse_period, window
from services.reporting.projection import TABLES, RegionMetricsProjection
from services.reporting.queries import figures, metrics_of
from tests.integration.reporting_fixtures import event, prepare_reporting

pytestmark = pytest.mark.integration

VILLAGE_A = "430527101201"  # 武阳镇, a village
VILLAGE_B = "430527102201"  # 李熙桥镇, a village
COMMUNITY = "430527100001"  # 长铺镇 城东社区, urban (class 111)
TOWNSHIP_A = "430527101000"
COUNTY = "430527000000"
TODAY = date(2026, 11, 22)


@pytest.fixture
async def conn(pool, schema):
    async with pool.connection() as conn:
        await prepare_reporting(conn, schema)
        yield conn


async def project(conn, *events):
    async with conn.transaction():
        await RegionMetricsProjection().apply(conn, list(events))


def at(day: date) -> Window:
    return window(None, day, TODAY)


def registered(person: str, region: str, on: date, **data):
    return event("PersonRegistered", person, region, occurred=on, region_code=region, sex="female", **data)


async def test_a_move_takes_every_figure_of_the_person_from_the_old_village_to_the_new(conn):
    await project(
        conn,
        registered("p1", VILLAGE_A, date(2026, 1, 5), categories=["migrant_worker"]),
        event("EmploymentRegistered", "p1", VILLAGE_A, kind="flexible", started_on=date(2026, 1, 20)),
        event(
            "PersonMoved", "p1", VILLAGE_B, from_region_code=VILLAGE_A, region_code=VILLAGE_B, moved_on=date(2026, 4, 2)
        ),
    )
    now = await metrics_of(conn, [VILLAGE_A, VILLAGE_B, TOWNSHIP_A, COUNTY], at(TODAY))
    assert now[VILLAGE_A]["labour_force"] == 0 and now[VILLAGE_A]["employed_flexible"] == 0
    for metric in ("labour_force", "labour_force_female", "labour_force_cat_migrant_worker", "employed_flexible"):
        assert now[VILLAGE_B][metric] == 1, metric
        assert now[COUNTY][metric] == 1, metric
    assert now[TOWNSHIP_A]["labour_force"] == 0
    march = await metrics_of(conn, [VILLAGE_A, VILLAGE_B, TOWNSHIP_A], at(date(2026, 3, 31)))
    assert (march[VILLAGE_A]["employed"], march[VILLAGE_B]["employed"], march[TOWNSHIP_A]["employed"]) == (1, 0, 1)
    before = await metrics_of(conn, [COUNTY], at(date(2026, 1, 4)))
    assert before[COUNTY]["labour_force"] == 0


async def test_flows_fall_in_the_period_of_their_own_date_and_stocks_at_its_end(conn):
    await project(
        conn,
        registered("p1", VILLAGE_A, date(2026, 1, 5)),
        registered("p2", VILLAGE_A, date(2026, 1, 5)),
        event("EmploymentRegistered", "p1", VILLAGE_A, kind="unit", started_on=date(2026, 2, 10)),
        event("UnemploymentRegistered", "p2", VILLAGE_A, registered_on=date(2026, 5, 3)),
        event(
            "EmploymentEnded",
            "p1",
            VILLAGE_A,
            kind="unit",
            ended_on=date(2026, 8, 31),
            status_after="not_in_labour_force",
        ),
    )
    q = {
        p: (await metrics_of(conn, [VILLAGE_A], window(parse_period(p), None, TODAY)))[VILLAGE_A]
        for p in ("2026Q1", "2026Q2", "2026Q3", "2026-02", "2026")
    }
    assert (q["2026Q1"]["new_employment"], q["2026Q1"]["employed"], q["2026Q1"]["registered_unemployed"]) == (1, 1, 0)
    assert (q["2026Q2"]["new_employment"], q["2026Q2"]["new_unemployment"], q["2026Q2"]["employed"]) == (0, 1, 1)
    assert (q["2026Q3"]["employed"], q["2026Q3"]["registered_unemployed"]) == (0, 1)
    assert q["2026-02"]["new_employment"] == 1
    assert (q["2026"]["new_employment"], q["2026"]["new_unemployment"], q["2026"]["labour_force"]) == (1, 1, 2)


async def test_a_back_dated_change_takes_effect_from_the_persons_previous_change(conn):
    """Employment started before the person entered the ledger counts from the registration day on."""
    await project(
        conn,
        registered("p1", VILLAGE_A, date(2026, 3, 10)),
        event("EmploymentRegistered", "p1", VILLAGE_A, kind="unit", started_on=date(2026, 2, 1)),
    )
    figures_by_day = await figures(conn, [VILLAGE_A], [at(date(2026, 2, 28)), at(date(2026, 3, 10))])
    feb, march = figures_by_day[VILLAGE_A]
    assert (feb["labour_force"], feb["employed"]) == (0, 0)
    assert (march["labour_force"], march["employed"]) == (1, 1)
    # The flow is dated by the start of work, in the person's village.
    assert (await metrics_of(conn, [VILLAGE_A], window(parse_period("2026-02"), None, TODAY)))[VILLAGE_A][
        "new_employment"
    ] == 1


async def test_death_and_retirement_leave_the_labour_force(conn):
    await project(
        conn,
        registered("p1", VILLAGE_A, date(2026, 1, 5)),
        registered("p2", VILLAGE_A, date(2026, 1, 5)),
        event("PersonDied", "p1", VILLAGE_A, previous_status="not_in_labour_force", died_on=date(2026, 6, 1)),
        event("PersonRetired", "p2", VILLAGE_A, previous_status="not_in_labour_force", retired_on=date(2026, 7, 1)),
    )
    may, june, july = (await figures(conn, [COUNTY], [at(date(2026, 5, 31)), at(date(2026, 6, 1)), at(TODAY)]))[COUNTY]
    assert (may["labour_force"], june["labour_force"], july["labour_force"]) == (2, 1, 0)


async def test_urban_unemployment_rate_counts_urban_communities_only(conn):
    await project(
        conn,
        *(registered(f"u{i}", COMMUNITY, date(2026, 1, 5)) for i in range(4)),
        registered("r1", VILLAGE_A, date(2026, 1, 5)),
        *(
            event("EmploymentRegistered", f"u{i}", COMMUNITY, kind="unit", started_on=date(2026, 2, 1))
            for i in range(3)
        ),
        event("UnemploymentRegistered", "u3", COMMUNITY, registered_on=date(2026, 2, 1)),
        event("UnemploymentRegistered", "r1", VILLAGE_A, registered_on=date(2026, 2, 1)),
    )
    county = (await metrics_of(conn, [COUNTY], at(TODAY)))[COUNTY]
    assert (county["urban_employed"], county["urban_registered_unemployed"], county["registered_unemployed"]) == (
        3,
        1,
        2,
    )
    assert county["registered_urban_unemployment_rate"] == 25.0
    assert (await metrics_of(conn, [VILLAGE_A], at(TODAY)))[VILLAGE_A]["registered_urban_unemployment_rate"] is None


async def test_a_second_survey_in_a_quarter_is_not_another_person_surveyed(conn):
    survey = {"quarter": "2026Q3", "status": "not_in_labour_force", "changed": False}
    await project(
        conn,
        registered("p1", VILLAGE_A, date(2026, 1, 5)),
        registered("p2", VILLAGE_A, date(2026, 1, 5)),
        event("StatusSurveyed", "p1", VILLAGE_A, surveyed_on=date(2026, 7, 10), **survey),
        event("StatusSurveyed", "p1", VILLAGE_A, surveyed_on=date(2026, 8, 10), **survey),
    )
    q3 = (await metrics_of(conn, [VILLAGE_A], window(parse_period("2026Q3"), None, TODAY)))[VILLAGE_A]
    assert (q3["persons_surveyed"], q3["survey_completion_rate"]) == (1, 50.0)


async def test_service_point_coverage_and_staffing(conn):
    def point(pid: str, region: str, level: str, staffed: bool, type_: str = "ServicePointEstablished"):
        compliance = {"staff_required": 1, "staffing_ok": staffed, "premises_ok": True, "compliant": staffed}
        return event(
            type_,
            pid,
            region,
            stream_type="service_point",
            level=level,
            name=pid,
            staff=1,
            floor_area_m2=30,
            has_archive_room=True,
            population_served=900,
            compliance=compliance,
        )

    await project(
        conn,
        point("s1", TOWNSHIP_A, "township", True),
        point("s2", VILLAGE_A, "village", False),
        point("s3", VILLAGE_A, "village", True),
    )
    township = (await metrics_of(conn, [TOWNSHIP_A], at(TODAY)))[TOWNSHIP_A]
    # 武阳镇 is itself a place and has 20 villages: 2 of 21 have a point.
    assert (township["places_with_point"], township["places"], township["service_points"]) == (2, 21, 3)
    assert township["service_point_coverage"] == round(100 * 2 / 21, 2)
    assert township["staffing_compliance_rate"] == round(100 * 2 / 3, 2)
    # A point moving to another village leaves its old place covered only if another point remains.
    await project(conn, point("s2", "430527101202", "village", False, "ServicePointUpdated"))
    assert (await metrics_of(conn, [TOWNSHIP_A], at(TODAY)))[TOWNSHIP_A]["places_with_point"] == 3


async def test_employers_and_vacancies(conn):
    await project(
        conn,
        event("EmployerRegistered", "e1", TOWNSHIP_A, stream_type="employer", credit_code="x", name="甲"),
        event("EmployerRegistered", "e2", VILLAGE_A, stream_type="employer", credit_code="y", name="乙"),
        event(
            "EmployerDeregistered",
            "e2",
            VILLAGE_A,
            stream_type="employer",
            deregistered_on=date(2026, 9, 1),
            reason="closed",
        ),
        event(
            "VacancyOpened",
            "v1",
            TOWNSHIP_A,
            stream_type="vacancy",
            employer_id="e1",
            occupation="x",
            positions=5,
            wage_min_fen=1,
            wage_max_fen=2,
            opened_on=date(2026, 3, 1),
        ),
        event(
            "VacancyFilled", "v1", TOWNSHIP_A, stream_type="vacancy", filled=2, remaining=3, filled_on=date(2026, 4, 1)
        ),
    )
    now = await metrics_of(conn, [TOWNSHIP_A, VILLAGE_A, COUNTY], at(TODAY))
    assert (now[COUNTY]["employers"], now[COUNTY]["open_vacancies"], now[COUNTY]["open_positions"]) == (1, 1, 3)
    august = (await metrics_of(conn, [COUNTY], at(date(2026, 8, 31))))[COUNTY]
    assert august["employers"] == 2


async def test_reset_empties_everything_the_projection_owns(conn):
    projection = RegionMetricsProjection()
    await project(conn, registered("p1", VILLAGE_A, date(2026, 1, 5)))
    await projection.reset(conn)
    for table in TABLES:
        cursor = await conn.execute(f"SELECT count(*) FROM {table}")
        assert (await cursor.fetchone())[0] == 0, table
    await project(conn, registered("p1", VILLAGE_A, date(2026, 1, 5)))
    assert (await metrics_of(conn, [COUNTY], at(TODAY)))[COUNTY]["labour_force"] == 1


async def test_an_event_without_a_date_belongs_to_the_day_it_occurred_in_china(conn):
    late_evening_utc = datetime(2026, 3, 31, 20, 0, tzinfo=UTC)  # 1 April, 04:00 in China
    await project(conn, registered("p1", VILLAGE_A, late_evening_utc))
    march, april = (await figures(conn, [COUNTY], [at(date(2026, 3, 31)), at(date(2026, 4, 1))]))[COUNTY]
    assert (march["labour_force"], april["labour_force"]) == (0, 1)


async def test_any_entity_id_survives_the_round_trip_even_one_holding_separators(conn):
    odd = 'p,"2"\x1f\n{3}'  # commas, quotes, the unit separator the batch parameters are joined with, braces
    await project(conn, registered(odd, VILLAGE_A, date(2026, 1, 5)), registered("p2", VILLAGE_A, date(2026, 1, 5)))
    await project(conn, event("PersonMoved", odd, VILLAGE_B, region_code=VILLAGE_B, moved_on=date(2026, 2, 1)))
    now = await metrics_of(conn, [VILLAGE_A, VILLAGE_B], at(TODAY))
    assert (now[VILLAGE_A]["labour_force"], now[VILLAGE_B]["labour_force"]) == (1, 1)
    cursor = await conn.execute("SELECT entity_id, state->>0 FROM entity_states WHERE kind = 'person' ORDER BY 1")
    assert await cursor.fetchall() == [(odd, VILLAGE_B), ("p2", VILLAGE_A)]


def _contributions(file_id: str, employer_fen: int, personal_fen: int) -> EventEnvelope:
    posted = ins.ContributionsPosted(
        file_id=file_id,
        month="2026-02",
        region_code=VILLAGE_A,
        rows=1,
        persons=1,
        base_fen=employer_fen,
        employer_fen=employer_fen,
        personal_fen=personal_fen,
    )
    at = datetime(2026, 3, 1, 4, tzinfo=UTC)
    return EventEnvelope(
        event_id=uuid.uuid4(),
        type=posted.event_type,
        schema_version=1,
        stream_type=posted.stream_type,
        stream_id=file_id,
        version=1,
        region_code=VILLAGE_A,
        occurred_at=at,
        recorded_at=at,
        data=posted.model_dump(mode="json"),
    )


async def test_a_days_money_beyond_two_to_the_31_fen_is_folded_whole(conn):
    # One county month of pension contributions is more than 21 million yuan: 2^31 fen.
    await project(conn, _contributions("f1", 2_000_000_000, 1_000_000_000))
    await project(conn, _contributions("f2", 2_000_000_000, 1_000_000_000))
    year = window(parse_period("2026"), None, TODAY)
    assert (await metrics_of(conn, [COUNTY], year))[COUNTY]["contributions_fen"] == 6_000_000_000
    cursor = await conn.execute(
        "SELECT value FROM v_region_month WHERE region_code = %s AND metric = 'contributions_fen'", (COUNTY,)
    )
    assert [row[0] for row in await cursor.fetchall()] == [6_000_000_000]


async def test_a_schema_made_with_32_bit_deltas_is_widened_when_migrated(conn, schema):
    async with conn.transaction():
        await conn.execute("DROP VIEW v_region_month")
        await conn.execute("ALTER TABLE region_metric_days ALTER COLUMN deltas TYPE int[]")
        await conn.execute("ALTER TABLE region_metric_months ALTER COLUMN deltas TYPE int[]")
    await prepare_reporting(conn, schema)
    cursor = await conn.execute(
        "SELECT table_name, udt_name FROM information_schema.columns"
        " WHERE table_schema = %s AND column_name = 'deltas' ORDER BY 1",
        (schema,),
    )
    assert await cursor.fetchall() == [("region_metric_days", "_int8"), ("region_metric_months", "_int8")]
    await project(conn, _contributions("f1", 2_000_000_000, 1_000_000_000))
    year = window(parse_period("2026"), None, TODAY)
    assert (await metrics_of(conn, [COUNTY], year))[COUNTY]["contributions_fen"] == 3_000_000_000
