"""Two years in the lives of the demo county's residents, as facts (pure: no I/O).

Each resident gets a day on which they entered the ledger (most before the window, when the county built
its real-name ledger; school leavers every July and August; some people moving in or coming home), a
status on entry, and then, month by month, the changes a county labour market sees: jobs ending (with a
reason, 就业服务与就业管理规定 Art 62), unemployment registration (失业登记) after some of those, re-employment,
moves between villages, deaths, and retirement on the statutory day (2024 NPCSC decision on the gradual
retirement age, docs/rules.md). Hiring peaks after the Spring Festival and jobs end before it, so the
monthly figures move. Each quarter's dynamic survey (动态调查) reaches most people of most villages; a few
villages fall behind.

The rates are chosen so the registered urban unemployment rate stays in the 2-5 % of a county like this
one (docs/design.md section 5); ``tests/unit/test_demo_simulation.py`` checks that band quarter by quarter.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from contracts.regions import Region, RegionLevel, is_urban
from services.demo.core import Fact
from services.demo.population import SyntheticPerson
from services.demo.timeline import Window, anniversary, quarter_name
from services.registration.domain.working_age import statutory_retirement_date

#: How far back the county's ledger goes for people already in it when the window opens.
LEDGER_YEARS = 3
#: Monthly chance that a job ends, and that a registered unemployed / other working-age person finds one.
JOB_ENDS = 0.012
FINDS_JOB_UNEMPLOYED = 0.10
FINDS_JOB_OTHERWISE = 0.02
#: Monthly chance of giving up an unemployment registration, of registering without a job just lost,
#: and of moving house.
STOPS_SEEKING = 0.015
REGISTERS_WITHOUT_JOB_LOSS = 0.003
MOVES = 0.0015
#: Share of people losing a job who register as unemployed: involuntary losses more often (失业保险条例 Art 14).
REGISTERS_AFTER_INVOLUNTARY = 0.42
REGISTERS_AFTER_VOLUNTARY = 0.15
#: Seasons by month (January first): hiring after the Spring Festival and in autumn, endings before it.
HIRING_SEASON = (0.6, 1.7, 1.8, 1.2, 1.0, 0.9, 0.9, 1.0, 1.3, 1.1, 0.8, 0.6)
ENDING_SEASON = (1.7, 1.2, 0.8, 0.8, 0.8, 1.2, 1.2, 0.8, 0.8, 0.8, 0.9, 1.3)
_UNIT_ENDS = (("contract_expired", 35), ("dismissed", 20), ("resigned", 35), ("resigned_employer_fault", 5))
_OWN_ENDS = (("business_closed", 50), ("resigned", 35), ("other", 15))
_KINDS = (("unit", 45), ("flexible", 35), ("self_employed", 17), ("public_welfare_post", 3))
_LEAVING_AGE = {"小学": 16, "初中": 16, "高中": 18, "中专": 18, "大专": 21, "本科": 22, "研究生": 25}
_INVOLUNTARY = frozenset({"contract_expired", "dismissed", "resigned_employer_fault"})


@dataclass
class Life:
    """One resident's simulated history: its facts, and the hires that still need an employer."""

    index: int
    facts: list[Fact] = field(default_factory=list)
    #: (day, village, data) of each unit hire inside the county: planning gives it an employer (and
    #: perhaps a vacancy) by setting ``data["employer"]`` and ``data["vacancy"]``.
    unit_hires: list[tuple[date, str, dict[str, Any]]] = field(default_factory=list)

    @property
    def subject(self) -> str:
        """``person:<index>``."""
        return f"person:{self.index}"


@dataclass
class _State:
    region: str
    status: str
    kind: str | None
    last: date
    retires: date
    last_end_reason: str | None = None


def simulate_life(
    index: int,
    person: SyntheticPerson,
    window: Window,
    rng: random.Random,
    regions: dict[str, Region],
    villages_by_township: dict[str, list[str]],
) -> Life:
    """The resident's entry, status changes and moves from entry to ``window.today`` (surveys come later)."""
    life = Life(index)
    retires = statutory_retirement_date(person.birth_date, person.sex)  # type: ignore[arg-type]
    entry = _entry_day(person, window, rng, retires)
    urban = _urban(regions, person.region_code)
    state = _State(person.region_code, "not_in_labour_force", None, entry, retires)
    life.facts.append(Fact(entry, "PersonRegistered", life.subject, {"region_code": person.region_code}))
    if entry < window.start:
        _initial_status(life, person, state, rng, urban, retires)
    newcomer_until = entry + timedelta(days=180)
    entry_month = date(entry.year, entry.month, 1)
    for month, month_end in window.months:
        if month < entry_month:
            continue
        if retires <= month_end:
            retired = max(retires, state.last + timedelta(days=1))
            if retired <= window.today:
                _change(life, state, retired, "PersonRetired", status="retired")
            break
        # One draw for the two rare events; the day is drawn only when something happens.
        draw, dies = rng.random(), _mortality((month - person.birth_date).days / 365.25) / 12
        if draw < dies + MOVES:
            day = _day(window, rng, state, month, month_end)
            if day is None:
                break
            if draw < dies:
                _change(life, state, day, "PersonDied", status="deceased")
                break
            target = _move_target(rng, state.region, regions, villages_by_township)
            _change(life, state, day, "PersonMoved", region_code=target)
            state.region, urban = target, _urban(regions, target)
        else:
            _step(life, person, state, rng, window, (month, month_end), urban=urban, newcomer=month < newcomer_until)
        if state.status in ("retired", "deceased"):
            break
    return life


def _entry_day(person: SyntheticPerson, window: Window, rng: random.Random, retires: date) -> date:
    """School leavers enter the summer they leave school; some move in; the rest were in the ledger already."""
    sixteen = anniversary(person.birth_date, 16)
    leaves = anniversary(person.birth_date, _LEAVING_AGE.get(person.education, 18))
    summer = date(leaves.year if leaves.month < 7 else leaves.year + 1, 7, 1)
    if window.start <= summer <= window.today and sixteen < summer:
        return window.day_in(rng, summer, summer + timedelta(days=61))
    if rng.random() < 0.08 and sixteen < window.start and retires > window.today:
        return window.day_in(rng, window.start, window.today)
    first = max(sixteen, window.start - timedelta(days=365 * LEDGER_YEARS))
    last = min(window.start, retires) - timedelta(days=1)
    if last <= first:  # sixteen only inside the window: they entered on turning sixteen or soon after
        return window.day_in(rng, sixteen + timedelta(days=1), sixteen + timedelta(days=90))
    return window.day_in(rng, first, last)


def _initial_status(
    life: Life, person: SyntheticPerson, state: _State, rng: random.Random, urban: bool, retires: date
) -> None:
    """What the ledger recorded when the person entered before the window: a job held, or registered unemployed."""
    age = (state.last - person.birth_date).days / 365.25
    migrant = "migrant_worker" in person.categories
    share = 0.9 if migrant else (0.72 if urban else 0.6)
    if age < 20 or age > 55:
        share *= 0.6
    if rng.random() < share:
        kind = "unit" if migrant and rng.random() < 0.6 else _pick(rng, _KINDS)
        sixteen = anniversary(person.birth_date, 16)
        started = max(sixteen, state.last - timedelta(days=rng.randint(0, 6 * 365)))
        data: dict[str, Any] = {"kind": kind, "reported_on": state.last, "employer": None, "vacancy": None}
        _hire(life, state, started, kind, data, in_county=not migrant, at=state.last)
    elif rng.random() < (0.08 if urban else 0.03):
        day = state.last + timedelta(days=rng.randint(0, 20))
        if day < retires:
            _change(life, state, day, "UnemploymentRegistered", status="registered_unemployed", involuntary=False)


def _step(
    life: Life,
    person: SyntheticPerson,
    state: _State,
    rng: random.Random,
    window: Window,
    month: tuple[date, date],
    *,
    urban: bool,
    newcomer: bool,
) -> None:
    """One month's chance of a change of employment status (on a day of the month drawn when it happens)."""
    hiring, ending = HIRING_SEASON[month[0].month - 1], ENDING_SEASON[month[0].month - 1]
    today = window.today
    if state.status == "employed":
        if rng.random() < JOB_ENDS * ending and (day := _day(window, rng, state, *month)):
            reason = _pick(rng, _UNIT_ENDS if state.kind in ("unit", "public_welfare_post") else _OWN_ENDS)
            involuntary = reason in _INVOLUNTARY
            _change(
                life,
                state,
                day,
                "EmploymentEnded",
                status="not_in_labour_force",
                reason=reason,
                involuntary=involuntary,
                kind=state.kind,
            )
            state.last_end_reason = reason
            registers = REGISTERS_AFTER_INVOLUNTARY if involuntary else REGISTERS_AFTER_VOLUNTARY
            if rng.random() < registers * (1.3 if urban else 0.8):
                later = day + timedelta(days=rng.randint(1, 25))
                if later <= today and later < state.retires:
                    _change(
                        life,
                        state,
                        later,
                        "UnemploymentRegistered",
                        status="registered_unemployed",
                        involuntary=involuntary,
                    )
    elif state.status == "registered_unemployed":
        if rng.random() < FINDS_JOB_UNEMPLOYED * hiring and (day := _day(window, rng, state, *month)):
            _new_job(life, person, state, rng, day, today, newcomer)
        elif rng.random() < STOPS_SEEKING and (day := _day(window, rng, state, *month)):
            _change(
                life,
                state,
                day,
                "UnemploymentDeregistered",
                status="not_in_labour_force",
                reason="stopped_seeking_work",
            )
    elif rng.random() < FINDS_JOB_OTHERWISE * hiring * (4.0 if newcomer else 1.0):
        if day := _day(window, rng, state, *month):
            _new_job(life, person, state, rng, day, today, newcomer)
    elif rng.random() < REGISTERS_WITHOUT_JOB_LOSS * (2.0 if urban else 1.0) and (
        day := _day(window, rng, state, *month)
    ):
        _change(
            life,
            state,
            day,
            "UnemploymentRegistered",
            status="registered_unemployed",
            involuntary=state.last_end_reason in _INVOLUNTARY,
        )


def _day(window: Window, rng: random.Random, state: _State, first: date, last: date) -> date | None:
    """A day of the month after the person's last change, or None when that would be after today."""
    day = window.day_in(rng, first, last)
    if day <= state.last:
        day = state.last + timedelta(days=1)
    return day if day <= window.today else None


def _new_job(
    life: Life, person: SyntheticPerson, state: _State, rng: random.Random, day: date, today: date, newcomer: bool
) -> None:
    migrant = "migrant_worker" in person.categories
    kind = "unit" if (newcomer or migrant) and rng.random() < 0.6 else _pick(rng, _KINDS)
    late = rng.random() < 0.06  # some hires are reported after the 30 days of Art 62
    reported = min(today, day + timedelta(days=rng.randint(31, 75) if late else rng.randint(0, 20)))
    data: dict[str, Any] = {"kind": kind, "reported_on": reported, "employer": None, "vacancy": None}
    _hire(life, state, day, kind, data, in_county=not migrant, at=day)


def _hire(
    life: Life, state: _State, started: date, kind: str, data: dict[str, Any], *, in_county: bool, at: date
) -> None:
    fact = Fact(started, "EmploymentRegistered", life.subject, data)
    life.facts.append(fact)
    state.status, state.kind, state.last = "employed", kind, max(at, started)
    if kind == "unit" and in_county:
        life.unit_hires.append((started, state.region, data))


def _change(life: Life, state: _State, day: date, fact_type: str, *, status: str | None = None, **data: Any) -> None:
    life.facts.append(Fact(day, fact_type, life.subject, data))
    state.last = day
    if status is not None:
        state.status = status
        if status != "employed":
            state.kind = None


def _mortality(age: float) -> float:
    """Yearly chance of dying at an age of working life (rough, rural central China)."""
    if age < 40:
        return 0.0008
    if age < 50:
        return 0.002
    if age < 60:
        return 0.005
    return 0.01


def _move_target(
    rng: random.Random, current: str, regions: dict[str, Region], villages_by_township: dict[str, list[str]]
) -> str:
    """Most moves stay in the township; the rest go to another, the county seat's communities most often."""
    township = regions[current].parent or ""
    pool = villages_by_township.get(township, [])
    if rng.random() < 0.35 or len(pool) < 2:
        everywhere = [v for vs in villages_by_township.values() for v in vs]
        weights = [3.0 if _urban(regions, v) else 1.0 for v in everywhere]
        pool = rng.choices(everywhere, weights, k=4)
    choices = [v for v in pool if v != current]
    return rng.choice(choices) if choices else current


def _urban(regions: dict[str, Region], code: str) -> bool:
    region = regions.get(code)
    return bool(region and region.urban_rural_class and is_urban(region.urban_rural_class))


def _pick(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([name for name, _ in table], [weight for _, weight in table])[0]


def villages_by_township(regions: list[Region]) -> dict[str, list[str]]:
    """Township code -> its villages and communities."""
    out: dict[str, list[str]] = {}
    for region in regions:
        if region.level is RegionLevel.VILLAGE and region.parent:
            out.setdefault(region.parent, []).append(region.code)
    return out


# --- the quarterly dynamic survey (动态调查) ----------------------------------------------------------------


def village_completion(rng: random.Random) -> float:
    """Share of a village's people its coordinator surveys in a quarter: most nearly all, a few behind."""
    draw = rng.random()
    if draw < 0.78:
        return rng.uniform(0.9, 1.0)
    if draw < 0.93:
        return rng.uniform(0.7, 0.9)
    return rng.uniform(0.3, 0.6)


def surveys(life: Life, window: Window, rng: random.Random, completion: dict[tuple[str, str], float]) -> list[Fact]:
    """One survey per quarter for those in the ledger and of working age that their village reached.

    ``completion`` maps (village, quarter) to the village's share; the quarter to date counts only the
    share of its days gone by. A survey confirms the status of its day (what the facts before it left).
    """
    timeline = sorted(life.facts, key=lambda f: f.day)
    found = []
    for quarter, first, last in window.quarters:
        opened = first + timedelta(days=10)
        if opened > window.today:
            continue
        day = window.day_in(rng, opened, last)
        status, region, entered = _standing_on(timeline, day)
        if not entered or status in ("retired", "deceased"):
            continue
        share = completion.get((region, quarter), 0.9)
        if last == window.today:
            share *= min(1.0, (window.today - first).days / 91)
        if rng.random() < share:
            found.append(Fact(day, "StatusSurveyed", life.subject, {"quarter": quarter_name(first), "status": status}))
    return found


_STATUS_AFTER = {
    "EmploymentRegistered": "employed",
    "EmploymentEnded": "not_in_labour_force",
    "UnemploymentRegistered": "registered_unemployed",
    "UnemploymentDeregistered": "not_in_labour_force",
    "PersonRetired": "retired",
    "PersonDied": "deceased",
}


def _standing_on(timeline: list[Fact], day: date) -> tuple[str, str, bool]:
    """(status, village, whether in the ledger) at the end of ``day``."""
    status, region, entered = "not_in_labour_force", "", False
    for fact in timeline:
        if fact.day > day:
            break
        if fact.type == "PersonRegistered":
            entered, region = True, str(fact.data["region_code"])
        elif fact.type == "PersonMoved":
            region = str(fact.data["region_code"])
        status = _STATUS_AFTER.get(fact.type, status)
    return status, region, entered
