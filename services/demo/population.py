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

from contracts.identifiers import citizen_id_check_character, credit_code_check_character
from contracts.reference import SUINING_COUNTY, demo_county
from contracts.regions import Region, RegionLevel, is_urban
from contracts.registration import EmployerSize
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

# GB/T 4754 sections with weights, trade words and the occupations their vacancies ask for.
_INDUSTRIES: tuple[tuple[str, int, tuple[str, ...], tuple[str, ...]], ...] = (
    ("A", 10, ("油茶种植", "竹木", "生态养殖", "中药材", "茶叶", "果蔬"), ("种植工", "养殖工", "采摘工")),
    ("C", 25, ("竹木加工", "木业", "食品", "服装", "纸业", "建材"), ("操作工", "普工", "质检员", "电工")),
    ("E", 10, ("建筑工程", "路桥", "装饰工程"), ("泥瓦工", "钢筋工", "木工", "施工员")),
    ("F", 20, ("百货", "农资", "超市", "商贸"), ("营业员", "收银员", "理货员", "销售员")),
    ("G", 5, ("运输", "物流"), ("货车司机", "快递员", "装卸工")),
    ("H", 10, ("农家乐", "酒店", "餐饮"), ("厨师", "服务员", "帮厨")),
    ("I", 2, ("网络科技", "电子商务"), ("网店客服", "主播")),
    ("L", 2, ("人力资源", "劳务"), ("劳务经纪人",)),
    ("O", 6, ("家政", "维修", "美发"), ("家政服务员", "维修工", "美发师")),
    ("P", 3, ("幼儿园", "培训学校"), ("保育员", "教师")),
    ("Q", 3, ("诊所", "药房"), ("护士", "药剂员")),
    ("R", 2, ("文化传媒", "旅游"), ("导游", "策划")),
    ("N", 2, ("环境卫生", "绿化"), ("保洁员", "绿化工")),
)
_OCCUPATIONS = {section: jobs for section, _, _, jobs in _INDUSTRIES}
_SIZES: tuple[tuple[EmployerSize, int], ...] = (("micro", 70), ("small", 22), ("medium", 7), ("large", 1))
_REQUIREMENTS = ("身体健康", "初中以上", "有相关经验优先", "能适应倒班", "持证上岗", "吃苦耐劳")


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


@dataclass(frozen=True)
class SyntheticEmployer:
    """An employer with a valid unified social credit code."""

    credit_code: str
    name: str
    region_code: str
    industry: str
    size: EmployerSize

    def body(self) -> dict[str, Any]:
        """A ``POST /employers`` body."""
        return {
            "credit_code": self.credit_code,
            "name": self.name,
            "region_code": self.region_code,
            "industry": self.industry,
            "size": self.size,
        }


@dataclass(frozen=True)
class SyntheticVacancy:
    """A vacancy of ``Population.employers[employer]``, wages monthly in fen."""

    employer: int
    occupation: str
    positions: int
    wage_min_fen: int
    wage_max_fen: int
    requirements: str

    def body(self, employer_id: str) -> dict[str, Any]:
        """A ``POST /vacancies`` body for the employer's id."""
        return {
            "employer_id": employer_id,
            "occupation": self.occupation,
            "positions": self.positions,
            "wage_min_fen": self.wage_min_fen,
            "wage_max_fen": self.wage_max_fen,
            "requirements": self.requirements,
        }


@dataclass(frozen=True)
class SyntheticServicePoint:
    """A service point (平台) with staff and premises, some of them short of the standards."""

    level: str
    region_code: str
    name: str
    staff: int
    floor_area_m2: int
    has_archive_room: bool
    equipment: tuple[str, ...]
    population_served: int

    def body(self) -> dict[str, Any]:
        """A ``POST /service-points`` body."""
        return {
            "level": self.level,
            "region_code": self.region_code,
            "name": self.name,
            "staff": self.staff,
            "floor_area_m2": self.floor_area_m2,
            "has_archive_room": self.has_archive_room,
            "equipment": list(self.equipment),
            "population_served": self.population_served,
        }


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
    population.employers = _employers(rng, max(5, persons // 80), regions)
    population.vacancies = _vacancies(rng, population.employers)
    population.service_points = _service_points(rng, regions)
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


# --- employers, vacancies, service points --------------------------------------------------------------------


def _employers(rng: random.Random, count: int, regions: list[Region]) -> list[SyntheticEmployer]:
    townships = [r for r in regions if r.level is RegionLevel.TOWNSHIP]
    villages = [r for r in regions if r.level is RegionLevel.VILLAGE]
    names = {r.code: r.name for r in regions}
    codes: set[str] = set()
    employers = []
    for _ in range(count):
        section, _, trades, _ = rng.choices(_INDUSTRIES, [weight for _, weight, _, _ in _INDUSTRIES])[0]
        size = rng.choices([s for s, _ in _SIZES], [w for _, w in _SIZES])[0]
        region = rng.choice(townships) if rng.random() < 0.4 else rng.choice(villages)
        township_name = names.get(region.parent or "", region.name) if region.level is RegionLevel.VILLAGE else ""
        place = (township_name or region.name).rstrip("镇乡").removesuffix("苗族").removesuffix("侗族")[:2]
        trade = rng.choice(trades)
        sole_trader = size == "micro" and section in "FHO" and rng.random() < 0.5
        if section == "A" and size in ("micro", "small"):
            suffix = "专业合作社"
        elif sole_trader:
            suffix = "店"
        else:
            suffix = "有限公司" if size != "micro" else ("厂" if section in "CE" else "经营部")
        category = "2" if sole_trader else ("3" if suffix == "专业合作社" else "1")
        while True:
            body = f"9{category}{ADDRESS_CODE}MA4{''.join(rng.choices('0123456789ABCDEFGHJKLMNPQRTUWXY', k=6))}"
            code = body + credit_code_check_character(body)
            if code not in codes:
                codes.add(code)
                break
        employers.append(SyntheticEmployer(code, f"绥宁县{place}{trade}{suffix}", region.code, section, size))
    return employers


def _vacancies(rng: random.Random, employers: list[SyntheticEmployer]) -> list[SyntheticVacancy]:
    vacancies = []
    for index, employer in enumerate(employers):
        hiring = {"micro": 0.3, "small": 0.7, "medium": 1.0, "large": 1.0}[employer.size]
        for _ in range(rng.choice((1, 1, 2, 3)) if rng.random() < hiring else 0):
            vacancies.append(vacancy_for(rng, employer, index))
    return vacancies


def vacancy_for(rng: random.Random, employer: SyntheticEmployer, index: int = 0) -> SyntheticVacancy:
    """A vacancy ``employer`` (``Population.employers[index]``) might post: an occupation of its trade,
    a number of positions and a monthly wage range in fen."""
    positions = rng.choices((1, 2, 3, 5, 10, 20), (30, 25, 15, 15, 10, 5))[0]
    wage_min_yuan = rng.randrange(1_900, 4_600, 100)
    wage_max_yuan = round(wage_min_yuan * rng.uniform(1.1, 1.6), -2)
    return SyntheticVacancy(
        employer=index,
        occupation=rng.choice(_OCCUPATIONS[employer.industry]),
        positions=positions,
        wage_min_fen=wage_min_yuan * 100,
        wage_max_fen=int(wage_max_yuan) * 100,
        requirements=",".join(rng.sample(_REQUIREMENTS, 2)),
    )


def _service_points(rng: random.Random, regions: list[Region]) -> list[SyntheticServicePoint]:
    points = []
    basic = ("电脑", "电话", "打印机", "档案柜", "信息公开栏")
    for region in regions:
        if region.level is RegionLevel.COUNTY:
            points.append(
                SyntheticServicePoint(
                    "county",
                    region.code,
                    f"{region.name}人力资源和社会保障综合服务中心",
                    42,
                    3_200,
                    True,
                    basic,
                    370_000,
                )
            )
        elif region.level is RegionLevel.TOWNSHIP:
            population = rng.randrange(8_000, 65_000, 100)
            points.append(
                SyntheticServicePoint(
                    "township",
                    region.code,
                    f"{region.name}人力资源和社会保障所",
                    staff=rng.choice((3, 4, 5, 5, 6, 7, 8)),
                    floor_area_m2=rng.randrange(80, 260, 10),
                    has_archive_room=rng.random() < 0.85,
                    equipment=basic,
                    population_served=population,
                )
            )
        elif region.level is RegionLevel.VILLAGE:
            points.append(
                SyntheticServicePoint(
                    "village",
                    region.code,
                    f"{region.name}人力资源和社会保障服务站",
                    staff=rng.choice((1, 1, 1, 2, 2, 3)),
                    floor_area_m2=rng.randrange(20, 120, 5),
                    has_archive_room=rng.random() < 0.3,
                    equipment=basic[: rng.randint(2, 5)],
                    population_served=rng.randrange(400, 3_200, 10),
                )
            )
    return points
