"""A synthetic population of the demo county (绥宁县 430527), the same for the same seed.

Persons of working age (16-64) in households of 1 to 6 with their relations, employers with industries and
sizes, vacancies with wage ranges in fen, and the county's service points. The distributions are plausible for
a mountainous rural county with much out-migration, not statistics: an age pyramid with the dip of the
young who left, about 106 men to 100 women, rural household registration in villages and urban in the county
seat's communities, more schooling among the young. Used by ``make demo``, the tests and the benchmarks.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from contracts.identifiers import citizen_id_check_character
from contracts.reference import SUINING_COUNTY, demo_county
from contracts.regions import Region, RegionLevel, is_urban
from services.demo.organisations import (
    SyntheticEmployer,
    SyntheticServicePoint,
    SyntheticVacancy,
    draw_employers,
    draw_service_points,
    draw_vacancies,
)
from services.registration.domain.working_age import age_on
from services.registration.models.person import PersonCreate

#: The GB/T 2260 address code of every generated resident ID: Suining County.
ADDRESS_CODE = SUINING_COUNTY[:6]
DEFAULT_SEED = 430527

#: Working-age bands (first age, last age, weight): the 20-29 dip is the young working away.
_AGE_BANDS = (
    (16, 19, 4.5),
    (20, 24, 5.0),
    (25, 29, 5.5),
    (30, 34, 7.5),
    (35, 39, 6.8),
    (40, 44, 6.5),
    (45, 49, 8.0),
    (50, 54, 8.5),
    (55, 59, 7.5),
    (60, 64, 5.5),
)
_AGES = [age for first, last, _ in _AGE_BANDS for age in range(first, last + 1)]
_AGE_WEIGHTS = [weight / (last - first + 1) for first, last, weight in _AGE_BANDS for _ in range(first, last + 1)]
#: About 106 men per 100 women of working age.
_MALE_SHARE = 0.515
_HOUSEHOLD_SIZES = (1, 2, 3, 4, 5, 6)
_HOUSEHOLD_WEIGHTS = (14, 24, 24, 19, 11, 8)

# Common surnames of the county (the Miao and Dong townships have many 杨, 龙, 吴), weighted.
_SURNAMES = "杨杨杨李李刘刘黄龙龙吴吴蒋唐王陈张周肖罗谢邓胡袁曾彭伍粟"
_GIVEN_MALE = "伟强军勇明华建国志文斌林成海兵平红辉东永德生福贵清俊"
_GIVEN_FEMALE = "芳英秀兰玉梅花桂珍娟丽敏霞艳燕萍琴春凤云翠莲"
_EDUCATION_OLD = (("小学", 35), ("初中", 45), ("高中", 12), ("中专", 5), ("大专", 3))
_EDUCATION_YOUNG = (("初中", 30), ("高中", 20), ("中专", 18), ("大专", 20), ("本科", 11), ("研究生", 1))
_PHONE_PREFIXES = ("134", "135", "136", "137", "138", "139", "150", "151", "158", "159", "177", "180", "187", "199")


@dataclass(frozen=True)
class SyntheticPerson:
    """A resident of working age, as a clerk would register them."""

    id_number: str
    name: str
    sex: str
    birth_date: date
    region_code: str
    phone: str | None
    hukou: str
    education: str
    categories: tuple[str, ...]
    household: int
    relation: str

    def body(self) -> dict[str, Any]:
        """A ``POST /persons`` body (only the fields this build's PersonCreate accepts)."""
        values: dict[str, Any] = {
            "id_number": self.id_number,
            "name": self.name,
            "region_code": self.region_code,
            "phone": self.phone,
            "hukou": self.hukou,
            "education": self.education,
            "categories": list(self.categories),
        }
        return {k: v for k, v in values.items() if k in PersonCreate.model_fields and v is not None}


@dataclass(frozen=True)
class SyntheticHousehold:
    """A household (户): indexes of its members in ``Population.persons``, the head first."""

    region_code: str
    members: tuple[int, ...]

    @property
    def head(self) -> int:
        """Index of the head of household (户主)."""
        return self.members[0]


@dataclass
class Population:
    """Everything generated for one seed."""

    persons: list[SyntheticPerson] = field(default_factory=list)
    households: list[SyntheticHousehold] = field(default_factory=list)
    employers: list[SyntheticEmployer] = field(default_factory=list)
    vacancies: list[SyntheticVacancy] = field(default_factory=list)
    service_points: list[SyntheticServicePoint] = field(default_factory=list)


def generate_population(
    persons: int = 20_000,
    *,
    seed: int = DEFAULT_SEED,
    as_of: date | None = None,
    regions: Sequence[Region] | None = None,
) -> Population:
    """Persons in households, employers (one per 80 persons), vacancies and service points of the county.

    ``as_of`` fixes the day ages are counted on (default today): the same seed and day give the same output.
    """
    rng = random.Random(seed)
    today = as_of or date.today()
    regions = list(regions or demo_county())
    population = Population()
    population.persons, population.households = _persons(rng, persons, today, regions)
    population.employers = draw_employers(rng, max(5, persons // 80), regions)
    population.vacancies = draw_vacancies(rng, population.employers)
    population.service_points = draw_service_points(rng, regions)
    return population


# --- persons and households ----------------------------------------------------------------------------------


@dataclass
class _Ids:
    """Hands out unique, valid resident ID numbers."""

    rng: random.Random
    taken: set[str] = field(default_factory=set)

    def new(self, birth: date, sex: str) -> str:
        while True:
            # Sequence: a two-digit police-station code and a digit whose parity is the sex (odd: male).
            parity = self.rng.randrange(0, 10, 2) + (1 if sex == "male" else 0)
            body = f"{ADDRESS_CODE}{birth:%Y%m%d}{self.rng.randrange(100):02d}{parity}"
            number = body + citizen_id_check_character(body)
            if number not in self.taken:
                self.taken.add(number)
                return number


def _persons(
    rng: random.Random, count: int, today: date, regions: list[Region]
) -> tuple[list[SyntheticPerson], list[SyntheticHousehold]]:
    villages = [r for r in regions if r.level is RegionLevel.VILLAGE]
    if not villages:
        raise ValueError("the regions have no village or community to live in")
    # A community of the county seat houses about three villages' worth of people.
    weights = [3.0 if r.urban_rural_class and is_urban(r.urban_rural_class) else 1.0 for r in villages]
    ids = _Ids(rng)
    persons: list[SyntheticPerson] = []
    households: list[SyntheticHousehold] = []
    while len(persons) < count:
        size = min(rng.choices(_HOUSEHOLD_SIZES, _HOUSEHOLD_WEIGHTS)[0], count - len(persons))
        village = rng.choices(villages, weights)[0]
        urban = bool(village.urban_rural_class and is_urban(village.urban_rural_class))
        hukou = ("urban" if rng.random() < 0.7 else "rural") if urban else ("rural" if rng.random() < 0.95 else "urban")
        surname = rng.choice(_SURNAMES)
        head_age = rng.choices(_AGES[9:], _AGE_WEIGHTS[9:])[0]  # heads are 25 or older
        head_sex = "male" if rng.random() < 0.8 else "female"
        members = [("head", head_sex, head_age, surname)]
        for _ in range(size - 1):
            members.append(_relative(rng, members, head_age, head_sex, surname))
        household = len(households)
        indexes = []
        for relation, sex, age, family_name in members:
            birth = _birth_date(rng, age, today)
            indexes.append(len(persons))
            persons.append(
                SyntheticPerson(
                    id_number=ids.new(birth, sex),
                    name=family_name + _given_name(rng, sex),
                    sex=sex,
                    birth_date=birth,
                    region_code=village.code,
                    phone=_phone(rng),
                    hukou=hukou,
                    education=_education(rng, age),
                    categories=_categories(rng, age_on(birth, today), sex, hukou),
                    household=household,
                    relation=relation,
                )
            )
        households.append(SyntheticHousehold(village.code, tuple(indexes)))
    return persons, households


def _relative(
    rng: random.Random, members: list[tuple[str, str, int, str]], head_age: int, head_sex: str, surname: str
) -> tuple[str, str, int, str]:
    """The next member: a spouse first, then working-age children, parents, or another relative."""
    if len(members) == 1 and rng.random() < 0.85:
        age = min(64, max(18, head_age + rng.randint(-4, 4) + (-2 if head_sex == "male" else 2)))
        return ("spouse", "female" if head_sex == "male" else "male", age, rng.choice(_SURNAMES))
    sex = "male" if rng.random() < _MALE_SHARE else "female"
    child_age = head_age - rng.randint(20, 32)
    if child_age >= 16 and rng.random() < 0.75:
        return ("child", sex, child_age, surname)
    parent_age = head_age + rng.randint(22, 30)
    if parent_age <= 64:
        return ("parent", sex, parent_age, surname if sex == "male" else rng.choice(_SURNAMES))
    return ("other", sex, min(64, max(16, head_age + rng.randint(-8, 8))), rng.choice(_SURNAMES))


def _birth_date(rng: random.Random, age: int, today: date) -> date:
    """A birth date on which someone is ``age`` years old on ``today``."""
    latest = _years_before(today, age)
    return latest - timedelta(days=rng.randrange(365))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _given_name(rng: random.Random, sex: str) -> str:
    pool = _GIVEN_MALE if sex == "male" else _GIVEN_FEMALE
    return "".join(rng.choice(pool) for _ in range(rng.choice((1, 2, 2))))


def _phone(rng: random.Random) -> str | None:
    if rng.random() < 0.1:
        return None
    return rng.choice(_PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _education(rng: random.Random, age: int) -> str:
    table = _EDUCATION_YOUNG if age < 40 else _EDUCATION_OLD
    return rng.choices([name for name, _ in table], [weight for _, weight in table])[0]


def _categories(rng: random.Random, age: int, sex: str, hukou: str) -> tuple[str, ...]:
    chosen: set[str] = set()
    if hukou == "rural":
        if 18 <= age <= 55 and rng.random() < 0.30:
            chosen.add("migrant_worker")
        elif rng.random() < 0.35:
            chosen.add("rural_surplus_labour")
    elif age >= 40 and rng.random() < 0.05:
        chosen.add("laid_off")
    if age <= 24 and rng.random() < 0.5:
        chosen.add("new_entrant")
    if "migrant_worker" not in chosen and rng.random() < 0.04:
        chosen.add("unemployed")
    if rng.random() < 0.08:
        chosen.add("flexible_employment")
    if hukou == "urban" and age >= (60 if sex == "male" else 55) and rng.random() < 0.5:
        chosen = {"retired"}
    return tuple(sorted(chosen))
