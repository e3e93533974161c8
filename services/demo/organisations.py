"""The demo county's employers (industries, sizes), their vacancies (wage ranges in fen) and its service points,
the same for the same seed; ``population.py`` draws them (``generate_population``) with the persons and households."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from contracts.identifiers import credit_code_check_character
from contracts.reference import SUINING_COUNTY
from contracts.regions import Region, RegionLevel
from contracts.registration import EmployerSize

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


#: The county's GB/T 2260 address code, in every generated credit code (as in the persons' ID numbers).
_COUNTY_CODE = SUINING_COUNTY[:6]

_OCCUPATIONS = {section: jobs for section, _, _, jobs in _INDUSTRIES}


_SIZES: tuple[tuple[EmployerSize, int], ...] = (("micro", 70), ("small", 22), ("medium", 7), ("large", 1))


_REQUIREMENTS = ("身体健康", "初中以上", "有相关经验优先", "能适应倒班", "持证上岗", "吃苦耐劳")


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


def draw_employers(rng: random.Random, count: int, regions: list[Region]) -> list[SyntheticEmployer]:
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
            body = f"9{category}{_COUNTY_CODE}MA4{''.join(rng.choices('0123456789ABCDEFGHJKLMNPQRTUWXY', k=6))}"
            code = body + credit_code_check_character(body)
            if code not in codes:
                codes.add(code)
                break
        employers.append(SyntheticEmployer(code, f"绥宁县{place}{trade}{suffix}", region.code, section, size))
    return employers


def draw_vacancies(rng: random.Random, employers: list[SyntheticEmployer]) -> list[SyntheticVacancy]:
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


def draw_service_points(rng: random.Random, regions: list[Region]) -> list[SyntheticServicePoint]:
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
