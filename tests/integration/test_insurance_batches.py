"""Insurance's set-based paths decide exactly as their one-at-a-time originals, over real Postgres and HTTP:
the worker's batch of events (one pass of reads and writes for the whole batch) against the same events
applied one by one, and benefit claims sent at once (group commit) against what each alone is answered."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from contracts import registration as reg
from contracts.envelope import Event
from tests.integration import test_insurance_api as support
from tests.integration.registration_client import token
from tests.integration.test_insurance_api import OTHER_VILLAGE, TODAY, VILLAGE
from tests.integration.test_insurance_benefits import hired

pytestmark = pytest.mark.integration

ins = support.ins


async def _drawing(ins: support.Insurance, employer: str) -> str:
    """A person drawing an unemployment benefit granted over HTTP."""
    person = await _eligible(ins, employer)
    granted = await ins.http.post(f"/persons/{person}/unemployment-benefit", json={}, headers=token())
    assert granted.status_code == 201, granted.text
    return person


def _story(newcomer: str, drawing: str, bystander: str, employer: str) -> list[Event]:
    """Events of three persons, interleaved, where each later event depends on what an earlier one left."""
    return [
        reg.PersonRegistered(
            person_id=newcomer,
            sex="female",
            birth_date=TODAY.replace(year=1985),
            region_code=VILLAGE,
            status="employed",
        ),
        hired(drawing, TODAY, kind="flexible"),  # stops the benefit (re-employment)
        reg.PersonMoved(person_id=newcomer, from_region_code=VILLAGE, region_code=OTHER_VILLAGE, moved_on=TODAY),
        hired(bystander, TODAY, kind="flexible"),  # draws nothing: no stream, nothing appended
        reg.UnemploymentRegistered(
            person_id=newcomer,
            previous_status="employed",
            registered_on=TODAY,
            involuntary=True,
            last_employment_end_reason="dismissed",
        ),
        reg.PersonRetired(person_id=drawing, previous_status="employed", retired_on=TODAY),  # stopped already
        hired(newcomer, TODAY, employer),  # expects enrolment where the move left the person
        reg.PersonDied(person_id=drawing, previous_status="retired", died_on=TODAY),  # a second append, same batch
    ]


def _outcome(ins: support.Insurance, persons: dict[str, str]) -> dict[str, Any]:
    """What insurance holds about ``persons`` (role -> id), with the ids replaced by the roles."""
    names = {v: k for k, v in persons.items()}
    ids = list(persons.values())
    with psycopg.connect(ins.database_url) as conn:
        events = conn.execute(
            "SELECT stream_id, version, type, region_code, data FROM insurance.events"
            " WHERE stream_id = ANY(%s) AND type NOT IN ('InsuranceEnrolled', 'UnemploymentBenefitGranted')"
            " ORDER BY stream_id, version",
            (ids,),
        ).fetchall()
        rows = conn.execute(
            "SELECT person_id::text, region_code, status, unemployment_registered_on, involuntary"
            " FROM insurance.persons WHERE person_id = ANY(%s::uuid[])",
            (ids,),
        ).fetchall()
        tables = conn.execute(
            "SELECT 'expectation', person_id, region_code FROM insurance.expectations WHERE person_id = ANY(%s)"
            " UNION ALL SELECT 'paying', person_id::text, region_code FROM insurance.benefits_paying"
            " WHERE person_id = ANY(%s::uuid[])",
            (ids, ids),
        ).fetchall()

    def plain(data: dict[str, Any]) -> dict[str, Any]:
        return {k: names.get(v, v) for k, v in data.items() if k not in ("claim_id", "employer_id")}

    return {
        "events": sorted(((names[s], v, t, r, plain(d)) for s, v, t, r, d in events), key=lambda e: e[:2]),
        "persons": sorted((names[p], *rest) for p, *rest in rows),
        "tables": sorted((kind, names[p], r) for kind, p, r in tables),
    }


async def test_a_batch_of_reactions_decides_as_the_same_events_applied_one_by_one(ins):
    employer = await ins.employer()
    outcomes = []
    for one_by_one in (True, False):
        persons = {"newcomer": str(uuid.uuid4()), "drawing": await _drawing(ins, employer)}
        persons["bystander"] = await ins.person(status="registered_unemployed")
        story = _story(persons["newcomer"], persons["drawing"], persons["bystander"], employer)
        if one_by_one:
            for event in story:
                await ins.feed(event)
        else:
            await ins.feed(*story)  # one call of the handler, one transaction
        outcomes.append(_outcome(ins, persons))
    sequential, batched = outcomes
    assert batched == sequential
    # and what that is, so that both being wrong the same way fails too
    assert [(who, version, kind) for who, version, kind, _, _ in batched["events"]] == [
        ("drawing", 3, "UnemploymentBenefitStopped"),
        ("drawing", 4, "DeathRecorded"),
        ("drawing", 5, "EnrolmentTerminated"),
        ("newcomer", 1, "EnrolmentExpected"),
    ]
    assert batched["events"][0][4]["reason"] == "reemployed"
    assert batched["events"][3][3] == OTHER_VILLAGE
    assert ("newcomer", OTHER_VILLAGE, "employed", None, True) in batched["persons"]
    assert ("drawing", VILLAGE, "deceased", None, True) in batched["persons"]
    assert batched["tables"] == [("expectation", "newcomer", OTHER_VILLAGE)]


async def test_claims_sent_at_once_share_transactions_and_each_gets_its_own_answer(ins):
    employer = await ins.employer()
    due = [await _eligible(ins, employer) for _ in range(12)]
    quit_voluntarily = await ins.unemployed(TODAY - timedelta(days=20), involuntary=False)
    nobody = str(uuid.uuid4())
    twice = due[0]
    asked = [*due, twice, quit_voluntarily, nobody]

    answers = await asyncio.gather(
        *(ins.http.post(f"/persons/{p}/unemployment-benefit", json={}, headers=token()) for p in asked)
    )

    by_person: dict[str, list[int]] = {}
    for person, answer in zip(asked, answers, strict=True):
        by_person.setdefault(person, []).append(answer.status_code)
    assert all(by_person[p] == [201] for p in due[1:])
    assert sorted(by_person[twice]) == [201, 422]  # decided again on the first grant: one benefit at a time
    refused = {p: a.json() for p, a in zip(asked, answers, strict=True) if a.status_code != 201}
    assert refused[quit_voluntarily]["rule"] == "BenefitNeedsInvoluntaryJobLoss"
    assert answers[asked.index(nobody)].status_code == 404
    for person, answer in zip(asked, answers, strict=True):
        if answer.status_code == 201:
            assert answer.headers["etag"] == f'"{answer.json()["version"]}"'
            assert answer.json()["insurance"]["person_id"] == person
    # a claim naming a version is not decided again: a stale one is 409, one that names none is 422
    url = f"/persons/{due[1]}/unemployment-benefit"
    stale = await ins.http.post(url, json={}, headers={**token(), "If-Match": '"1"'})
    assert (stale.status_code, stale.json()["current_version"]) == (409, 2)
    garbled = await ins.http.post(url, json={}, headers={**token(), "If-Match": "abc"})
    assert (garbled.status_code, garbled.json()["field"]) == (422, "If-Match")
    grants = "SELECT count(*) FROM insurance.events WHERE type = 'UnemploymentBenefitGranted'"
    assert ins.count(grants) == len(due)
    assert ins.count("SELECT count(*) FROM insurance.benefits_paying") == len(due)
    # fewer transactions than grants: the claims were committed together
    assert ins.count(grants.replace("count(*)", "count(DISTINCT xmin::text)")) < len(due)


async def _eligible(ins: support.Insurance, employer: str) -> str:
    """A person registered unemployed after a dismissal, with a year of contributions."""
    person = await ins.unemployed(TODAY - timedelta(days=20))
    await ins.enrol(person, "unemployment", employer)
    await ins.contributions(person, 12, employer)
    return person
