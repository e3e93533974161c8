"""The invariant of the four-level network: thousands of random events over the demo county, applied in
random batches, and every metric at every region, now and on past dates, equals (a) its own events plus
the sum of its children and (b) a naive recomputation from the events written independently here.

It runs over every listed source (``services.reporting.sources.SOURCES``): each needs a ``NaiveSource`` in
``NAIVE`` (a random history of its events and the truth kept the obvious way), and the test fails for a
listed source without one. The sources' histories are interleaved and folded together."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from contracts.envelope import EventEnvelope
from contracts.reference import demo_county
from contracts.regions import RegionLevel, UrbanRuralClass
from contracts.registration import EMPLOYMENT_KINDS, PERSON_CATEGORIES
from contracts.topics import REGISTRATION_EVENTS
from services.reporting.periods import Window, parse_period, window
from services.reporting.projection import RegionMetricsProjection
from services.reporting.queries import figures, metrics_of
from services.reporting.sources import CATALOGUE, SOURCES
from tests.integration.reporting_fixtures import event, prepare_reporting

pytestmark = pytest.mark.integration
METRICS, METRICS_BY_NAME = CATALOGUE.metrics, CATALOGUE.metrics_by_name

REGIONS = demo_county()
PARENT = {r.code: r.parent for r in REGIONS}
VILLAGES = [r.code for r in REGIONS if r.level is RegionLevel.VILLAGE]
TOWNSHIPS = [r.code for r in REGIONS if r.level is RegionLevel.TOWNSHIP]
URBAN = {
    r.code for r in REGIONS if r.urban_rural_class in (UrbanRuralClass.MAIN_URBAN, UrbanRuralClass.URBAN_RURAL_FRINGE)
}
TODAY = date(2026, 11, 22)
FIRST_DAY = date(2025, 1, 1)
CHECK_DAYS = [date(2025, 3, 31), date(2025, 8, 17), date(2026, 2, 28), date(2026, 6, 30), date(2026, 10, 9), TODAY]
CHECK_PERIODS = ["2025", "2025Q2", "2026Q1", "2026-06", "2026Q3", "2026Q4"]


def chain(code: str) -> list[str]:
    """A region and its ancestors by walking the reference table's parent links."""
    out = []
    current: str | None = code
    while current is not None:
        out.append(current)
        current = PARENT[current]
    return out


#: A source's naive count: (entity kind, state) -> what it adds to each of the source's stock metrics.
NaiveCounts = Callable[[str, dict[str, Any]], dict[str, int]]


@dataclass
class Naive:
    """The truth, kept the obvious way: every entity's whole history of (day, state), and every flow event."""

    counts: NaiveCounts
    histories: dict[tuple[str, str], list[tuple[date, dict[str, Any]]]] = field(default_factory=dict)
    flows: list[tuple[str, str, date, int]] = field(default_factory=list)  # (metric, region, day, value)
    surveyed: set[tuple[str, str]] = field(default_factory=set)

    def change(self, entity_kind: str, entity: str, day: date, **state: Any) -> None:
        history = self.histories.setdefault((entity_kind, entity), [])
        if history:
            # A change that changes nothing dates nothing; one dated before the last change takes effect then.
            day = max(day, history[-1][0])
            state = {**history[-1][1], **state}
            if state == history[-1][1]:
                return
        history.append((day, state))

    def state(self, kind: str, entity: str) -> dict[str, Any]:
        return self.histories[(kind, entity)][-1][1]

    def stocks_at(self, day: date, roll_up: bool = True) -> Counter[tuple[str, str]]:
        """(region, metric) -> value at the end of ``day``, summed up the parent chain (or only where it is)."""
        totals: Counter[tuple[str, str]] = Counter()
        points_at: Counter[str] = Counter()
        for (kind, _), history in self.histories.items():
            states = [s for d, s in history if d <= day]
            if not states:
                continue
            s = states[-1]
            for metric, value in self.counts(kind, s).items():
                for region in chain(s["region"]) if roll_up else [s["region"]]:
                    totals[(region, metric)] += value
            if kind == "service_point":
                points_at[s["region"]] += 1
        for place, count in points_at.items():
            if count and place[6:9] != "000":
                for region in chain(place) if roll_up else [place]:
                    totals[(region, "places_with_point")] += 1
        if self.counts is naive_counts:  # registration's "places" counts the division table itself
            for r in REGIONS:
                if r.level in (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE):
                    for region in chain(r.code) if roll_up else [r.code]:
                        totals[(region, "places")] += 1
        return totals

    def flows_between(self, first: date, last: date, roll_up: bool = True) -> Counter[tuple[str, str]]:
        totals: Counter[tuple[str, str]] = Counter()
        for metric, region, day, value in self.flows:
            if first <= day <= last:
                for r in chain(region) if roll_up else [region]:
                    totals[(r, metric)] += value
        return totals


def naive_counts(kind: str, s: dict[str, Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    if kind == "person":
        if s["status"] in ("not_in_labour_force", "employed", "registered_unemployed"):
            out["labour_force"] = 1
            out[f"labour_force_{s['sex']}"] = 1
            for c in s["categories"]:
                out[f"labour_force_cat_{c}"] = 1
        if s["status"] == "employed":
            out["employed"] = 1
            out[f"employed_{s['kind']}"] = 1
            out["urban_employed"] = int(s["region"] in URBAN)
        if s["status"] == "registered_unemployed":
            out["registered_unemployed"] = 1
            out["urban_registered_unemployed"] = int(s["region"] in URBAN)
    elif kind == "employer":
        out["employers"] = int(s["active"])
    elif kind == "vacancy":
        out["open_vacancies"] = int(s["open"] and s["remaining"] > 0)
        out["open_positions"] = s["remaining"] if s["open"] else 0
    elif kind == "service_point":
        out["service_points"] = 1
        out["service_points_staffed"] = int(s["staffed"])
        out["service_points_compliant"] = int(s["compliant"])
    return out


def random_day(rng: random.Random) -> date:
    return FIRST_DAY + timedelta(days=rng.randrange((TODAY - FIRST_DAY).days + 1))


def random_history(rng: random.Random, count: int) -> tuple[list, Naive]:
    """``count`` events of persons, employers, vacancies and service points, and the naive truth."""
    truth = Naive(naive_counts)
    out = []
    persons: list[str] = []
    alive: set[str] = set()
    employers: list[str] = []
    vacancies: list[str] = []
    points: list[str] = []

    def occurred(day: date) -> datetime:
        # Some events occur late in the UTC evening: the next day in China.
        return datetime.combine(day, time(rng.choice([3, 12, 20])), UTC)

    def china_day(at: datetime) -> date:
        return (at + timedelta(hours=8)).date()

    while len(out) < count:
        roll = rng.random()
        day = random_day(rng)
        if roll < 0.18 or len(alive) < 5:
            pid = f"p{len(persons)}"
            region = rng.choice(VILLAGES)
            at = occurred(day)
            sex = rng.choice(["male", "female"])
            cats = sorted(rng.sample(PERSON_CATEGORIES, rng.randrange(3)))
            out.append(
                event("PersonRegistered", pid, region, occurred=at, region_code=region, sex=sex, categories=cats)
            )
            truth.change(
                "person",
                pid,
                china_day(at),
                region=region,
                sex=sex,
                categories=cats,
                status="not_in_labour_force",
                kind=None,
            )
            persons.append(pid)
            alive.add(pid)
        elif roll < 0.62:
            pid = rng.choice(sorted(alive))
            s = truth.state("person", pid)
            region = s["region"]
            action = rng.choice(
                [
                    "move",
                    "move",
                    "cats",
                    "employ",
                    "end",
                    "unemploy",
                    "dereg",
                    "retire",
                    "die",
                    "survey",
                    "survey",
                    "correct",
                ]
            )
            if action == "move":
                new = rng.choice(VILLAGES)
                out.append(event("PersonMoved", pid, new, from_region_code=region, region_code=new, moved_on=day))
                truth.change("person", pid, day, region=new)
            elif action == "cats":
                cats = sorted(rng.sample(PERSON_CATEGORIES, rng.randrange(4)))
                out.append(event("PersonCategoriesChanged", pid, region, categories=cats, effective_on=day))
                truth.change("person", pid, day, categories=cats)
            elif action == "employ":
                kind = rng.choice(EMPLOYMENT_KINDS)
                out.append(
                    event("EmploymentRegistered", pid, region, previous_status=s["status"], kind=kind, started_on=day)
                )
                truth.change("person", pid, day, status="employed", kind=kind)
                truth.flows.append(("new_employment", region, day, 1))
            elif action == "end" and s["status"] == "employed":
                after = rng.choice(["not_in_labour_force", "registered_unemployed"])
                out.append(event("EmploymentEnded", pid, region, kind=s["kind"], ended_on=day, status_after=after))
                truth.change("person", pid, day, status=after, kind=None)
            elif action == "unemploy":
                out.append(event("UnemploymentRegistered", pid, region, previous_status=s["status"], registered_on=day))
                truth.change("person", pid, day, status="registered_unemployed", kind=None)
                truth.flows.append(("new_unemployment", region, day, 1))
            elif action == "dereg" and s["status"] == "registered_unemployed":
                out.append(event("UnemploymentDeregistered", pid, region, deregistered_on=day, reason="other"))
                truth.change("person", pid, day, status="not_in_labour_force", kind=None)
            elif action == "retire":
                out.append(event("PersonRetired", pid, region, previous_status=s["status"], retired_on=day))
                truth.change("person", pid, day, status="retired", kind=None)
                alive.discard(pid)
            elif action == "die":
                out.append(event("PersonDied", pid, region, previous_status=s["status"], died_on=day))
                truth.change("person", pid, day, status="deceased", kind=None)
                alive.discard(pid)
            elif action == "survey":
                quarter = parse_period(f"{day.year}Q{(day.month - 1) // 3 + 1}").label
                changed = rng.random() < 0.2 and s["status"] != "employed"
                status = "registered_unemployed" if changed else s["status"]
                out.append(
                    event(
                        "StatusSurveyed", pid, region, quarter=quarter, status=status, changed=changed, surveyed_on=day
                    )
                )
                if (pid, quarter) not in truth.surveyed:
                    truth.surveyed.add((pid, quarter))
                    truth.flows.append(("persons_surveyed", region, day, 1))
                surveyed = s.get("surveyed", ())
                truth.change(
                    "person",
                    pid,
                    day,
                    status=status,
                    kind=s["kind"] if status == "employed" else None,
                    surveyed=surveyed if quarter in surveyed else (*surveyed, quarter),
                )
            elif action == "correct":
                new = rng.choice(VILLAGES)
                sex = rng.choice(["male", "female"])
                changes = [
                    {"field": "name", "redacted": True},
                    {"field": "sex", "old": s["sex"], "new": sex},
                    {"field": "region_code", "old": region, "new": new},
                ]
                at = occurred(day)
                out.append(event("PersonCorrected", pid, new, occurred=at, changes=changes, reason="entered wrongly"))
                truth.change("person", pid, china_day(at), sex=sex, region=new)
        elif roll < 0.75:
            if not employers or rng.random() < 0.4:
                eid = f"e{len(employers)}"
                region = rng.choice(TOWNSHIPS + VILLAGES)
                at = occurred(day)
                out.append(
                    event(
                        "EmployerRegistered",
                        eid,
                        region,
                        occurred=at,
                        stream_type="employer",
                        credit_code="c",
                        name=eid,
                    )
                )
                truth.change("employer", eid, china_day(at), region=region, active=True)
                employers.append(eid)
            else:
                eid = rng.choice(employers)
                s = truth.state("employer", eid)
                if rng.random() < 0.5:
                    new = rng.choice(TOWNSHIPS)
                    at = occurred(day)
                    out.append(
                        event(
                            "EmployerChanged",
                            eid,
                            new,
                            occurred=at,
                            stream_type="employer",
                            changes=[],
                            from_region_code=s["region"],
                        )
                    )
                    truth.change("employer", eid, china_day(at), region=new)
                else:
                    out.append(
                        event(
                            "EmployerDeregistered",
                            eid,
                            s["region"],
                            stream_type="employer",
                            deregistered_on=day,
                            reason="closed",
                        )
                    )
                    truth.change("employer", eid, day, active=False)
        elif roll < 0.9:
            if not vacancies or rng.random() < 0.4:
                vid = f"v{len(vacancies)}"
                region = rng.choice(TOWNSHIPS + VILLAGES)
                positions = rng.randrange(1, 9)
                out.append(
                    event(
                        "VacancyOpened",
                        vid,
                        region,
                        stream_type="vacancy",
                        employer_id="e",
                        occupation="o",
                        positions=positions,
                        wage_min_fen=1,
                        wage_max_fen=2,
                        opened_on=day,
                    )
                )
                truth.change("vacancy", vid, day, region=region, open=True, remaining=positions)
                vacancies.append(vid)
            else:
                vid = rng.choice(vacancies)
                s = truth.state("vacancy", vid)
                if s["open"] and s["remaining"] and rng.random() < 0.6:
                    filled = rng.randrange(1, s["remaining"] + 1)
                    out.append(
                        event(
                            "VacancyFilled",
                            vid,
                            s["region"],
                            stream_type="vacancy",
                            filled=filled,
                            remaining=s["remaining"] - filled,
                            filled_on=day,
                        )
                    )
                    truth.change("vacancy", vid, day, remaining=s["remaining"] - filled)
                elif s["open"]:
                    out.append(
                        event(
                            "VacancyClosed",
                            vid,
                            s["region"],
                            stream_type="vacancy",
                            withdrawn=s["remaining"],
                            closed_on=day,
                        )
                    )
                    truth.change("vacancy", vid, day, open=False, remaining=0)
        else:
            established = not points or rng.random() < 0.5
            sid = f"s{len(points)}" if established else rng.choice(points)
            region = (
                rng.choice(TOWNSHIPS + VILLAGES)
                if established or rng.random() < 0.3
                else truth.state("service_point", sid)["region"]
            )
            staffed, premises = rng.random() < 0.7, rng.random() < 0.7
            compliance = {
                "staff_required": 1,
                "staffing_ok": staffed,
                "premises_ok": premises,
                "compliant": staffed and premises,
            }
            at = occurred(day)
            out.append(
                event(
                    "ServicePointEstablished" if established else "ServicePointUpdated",
                    sid,
                    region,
                    occurred=at,
                    stream_type="service_point",
                    level="village",
                    name=sid,
                    staff=1,
                    floor_area_m2=20,
                    has_archive_room=True,
                    population_served=500,
                    compliance=compliance,
                )
            )
            truth.change(
                "service_point", sid, china_day(at), region=region, staffed=staffed, compliant=staffed and premises
            )
            if established:
                points.append(sid)
    return out, truth


@dataclass(frozen=True)
class NaiveSource:
    """What the invariant test needs of a source: a random history of its events with the naive truth, and
    which of its metrics count only where people live (villages), so every level is the sum of its children."""

    history: Callable[[random.Random, int], tuple[list[EventEnvelope], Naive]]
    in_villages: frozenset[str] = frozenset()


#: Per listed source's topic, its naive fold. A new source adds its entry here.
NAIVE: dict[str, NaiveSource] = {
    REGISTRATION_EVENTS.name: NaiveSource(
        random_history,
        frozenset(
            {m.name for m in CATALOGUE.metrics if m.entity == "person"}
            | {"new_employment", "new_unemployment", "persons_surveyed"}
        ),
    ),
}


def listed_histories(rng: random.Random, count: int) -> tuple[list[EventEnvelope], dict[str, Naive]]:
    """``count`` events of every listed source, interleaved at random (each source's in its own order), and
    each source's truth by topic."""
    missing = [s.topic.name for s in SOURCES if s.topic.name not in NAIVE]
    assert not missing, f"give every listed source a naive fold in NAIVE: {missing}"
    made = {s.topic.name: NAIVE[s.topic.name].history(rng, count) for s in SOURCES}
    truths = {topic: truth for topic, (_, truth) in made.items()}
    streams = [list(reversed(events)) for events, _ in made.values()]
    if len(streams) == 1:
        return streams[0][::-1], truths
    out: list[EventEnvelope] = []
    while any(streams):
        out.append(rng.choice([s for s in streams if s]).pop())
    return out, truths


def expected(truths: dict[str, Naive], as_of: date, flows_from: date) -> dict[tuple[str, str], Any]:
    """Every listed metric at every region: each source's stocks and flows from its own truth, then ratios
    (which may combine sources) from those."""
    values: dict[tuple[str, str], Any] = {}
    for source in SOURCES:
        truth = truths[source.topic.name]
        stocks = truth.stocks_at(as_of)
        flows = truth.flows_between(flows_from, as_of)
        for r in REGIONS:
            for m in source.metrics:
                if m.kind == "stock":
                    values[(r.code, m.name)] = stocks[(r.code, m.name)]
                elif m.kind == "flow":
                    values[(r.code, m.name)] = flows[(r.code, m.name)]
    for r in REGIONS:
        for m in METRICS:
            if m.kind == "ratio":
                num = sum(values[(r.code, n)] for n in m.numerator)
                den = sum(values[(r.code, d)] for d in m.denominator)
                values[(r.code, m.name)] = round(100 * num / den, 2) if den else None
    return values


@pytest.mark.parametrize("seed", [1, 2])
async def test_every_level_equals_its_children_and_a_naive_fold_now_and_in_the_past(pool, schema, seed):
    rng = random.Random(seed)
    history, truths = listed_histories(rng, 3000)
    projection = RegionMetricsProjection()
    async with pool.connection() as conn:
        await prepare_reporting(conn, schema)
        at = 0
        while at < len(history):
            size = rng.choice([1, 7, 50, 300, 1000])
            async with conn.transaction():
                await projection.apply(conn, history[at : at + size])
            at += size
        windows = [window(None, d, TODAY) for d in CHECK_DAYS] + [
            window(parse_period(p), None, TODAY) for p in CHECK_PERIODS
        ]
        # Flows from inside the last month: the days up to as_of are read, not the shorter side.
        windows.append(Window(None, date(2026, 10, 27), date(2026, 10, 12)))
        codes = [r.code for r in REGIONS]
        got = await figures(conn, codes, windows)
        # One window at a time reads only that window's days (after as_of late in a month, up to it early).
        alone = [await metrics_of(conn, codes, w) for w in windows]
    assert all(alone[i][code] == got[code][i] for i in range(len(windows)) for code in codes)

    children: dict[str, list[str]] = defaultdict(list)
    for r in REGIONS:
        if r.parent:
            children[r.parent].append(r.code)
    additive = [m.name for m in METRICS if m.kind != "ratio"]
    person_metrics = frozenset().union(*(NAIVE[s.topic.name].in_villages for s in SOURCES))
    for index, w in enumerate(windows):
        truth_values = expected(truths, w.as_of, w.flows_from)
        direct: Counter[tuple[str, str]] = Counter()
        for truth in truths.values():
            direct += truth.stocks_at(w.as_of, roll_up=False) + truth.flows_between(
                w.flows_from, w.as_of, roll_up=False
            )
        label = w.period.label if w.period else str(w.as_of)
        for code in codes:
            for metric in METRICS:
                assert got[code][index][metric.name] == truth_values[(code, metric.name)], (label, code, metric.name)
        for parent, kids in children.items():
            for metric in additive:
                below = sum(got[k][index][metric] for k in kids)
                if metric in person_metrics:
                    # People live in villages: every level above is exactly the sum of its children.
                    assert got[parent][index][metric] == below, (label, parent, metric)
                else:
                    # Employers, vacancies and points may sit at a township itself: its own plus its children.
                    assert got[parent][index][metric] == direct[(parent, metric)] + below, (label, parent, metric)
    # The history is not trivial: people moved, died, were employed, and the county saw it.
    county = got["430527000000"][windows.index(window(None, TODAY, TODAY))]
    assert county["labour_force"] > 100 and county["employed"] > 10 and county["service_points"] > 10
    assert METRICS_BY_NAME["places"].kind == "stock" and county["places"] == len(TOWNSHIPS) + len(VILLAGES)
