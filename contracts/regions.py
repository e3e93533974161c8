"""Administrative division codes: GB/T 2260 (6 digits) extended to the NBS 12-digit statistical code.

A code is province 2 + city 2 + county 2 + township 3 + village 3 digits; its level is the deepest
non-zero segment (docs/design.md, "Regions"; docs/rules.md, "Administrative divisions").

Four prefecture-level cities have no counties (不设区的地级市): their townships and streets lie directly under
the city, with county segment 00 (``CITIES_WITHOUT_COUNTIES``). Such a township's parent is the city.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from itertools import pairwise
from typing import Annotated, Literal, Self

from pydantic import BaseModel, Field, WithJsonSchema, model_validator

from contracts.validation import checked_by


class RegionLevel(StrEnum):
    """The five levels of the NBS statistical division code."""

    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"

    @property
    def depth(self) -> int:
        """0 for a province down to 4 for a village."""
        return LEVELS.index(self)


LEVELS: tuple[RegionLevel, ...] = tuple(RegionLevel)
"""Levels ordered from province down to village."""

# Where each level's segment ends in the 12-digit code.
_SEGMENT_ENDS = (2, 4, 6, 9, 12)

CITIES_WITHOUT_COUNTIES: dict[str, str] = {
    "4419": "东莞市",
    "4420": "中山市",
    "4604": "儋州市",
    "6202": "嘉峪关市",
}
"""Prefecture-level cities whose townships sit directly under the city (county segment 00), by the first four
digits of their code: 441900003000 东城街道 (Dongguan), 442000001000 石岐街道 (Zhongshan), 460400100000 那大镇
(Danzhou). The statistical code list also files Jiayuguan's towns under a 市辖区 620201 (620201100000 新城镇),
which is an ordinary county segment; both forms are accepted."""


def _segments(code: str) -> list[str]:
    return [code[start:end] for start, end in zip((0, *_SEGMENT_ENDS[:-1]), _SEGMENT_ENDS, strict=True)]


#: Region codes are few (a province has tens of thousands) and checked on every command and projected
#: event, so the pure functions below remember their answers.
_CACHE_SIZE = 1 << 17


@lru_cache(maxsize=_CACHE_SIZE)
def normalise_region_code(raw: str) -> str:
    """A region code padded with zeros to the 12-digit NBS form.

    Accepts 2, 4, 6 (GB/T 2260), 9 or 12 digits. Rejects a zero province and a non-zero segment under a
    zero one, which names no real division, except a township under county 00 of a city without counties.
    """
    text = raw.strip()
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"region code must be digits only, got {raw!r}")
    if len(text) not in _SEGMENT_ENDS:
        raise ValueError(f"region code must have 2, 4, 6, 9 or 12 digits, got {len(text)}")
    code = text.ljust(12, "0")
    segments = _segments(code)
    if int(segments[0]) == 0:
        raise ValueError("region code cannot start with province 00")
    for level, (upper, lower) in enumerate(pairwise(segments)):
        if level == RegionLevel.COUNTY.depth and code[:4] in CITIES_WITHOUT_COUNTIES:
            continue  # a township directly under the city: county segment 00 is its place
        if int(upper) == 0 and int(lower) != 0:
            raise ValueError(
                f"region code {code} has a {LEVELS[level + 1]} segment {lower} under an empty {LEVELS[level]}"
            )
    return code


@lru_cache(maxsize=_CACHE_SIZE)
def region_level(code: str) -> RegionLevel:
    """The level of a region code: its deepest non-zero segment."""
    # Only a city without counties leaves a hole (its county segment 00), so count from the bottom.
    segments = _segments(normalise_region_code(code))
    return LEVELS[max(depth for depth, segment in enumerate(segments) if int(segment))]


def _prefix(code: str, level: RegionLevel) -> str:
    return code[: _SEGMENT_ENDS[level.depth]].ljust(12, "0")


def _levels_present(normal: str) -> list[RegionLevel]:
    """The levels of the regions on the way down to ``normal``: all of them but a missing county."""
    segments = _segments(normal)
    deepest = region_level(normal).depth
    return [level for level in LEVELS[: deepest + 1] if level.depth == 0 or int(segments[level.depth])]


def parent_code(code: str) -> str | None:
    """The 12-digit code of the region directly above, None for a province.

    A township of a city without counties has the city as its parent (``CITIES_WITHOUT_COUNTIES``).
    """
    normal = normalise_region_code(code)
    levels = _levels_present(normal)
    return _prefix(normal, levels[-2]) if len(levels) > 1 else None


def ancestor_codes(code: str) -> list[str]:
    """The region itself and every region above it, ordered from the province down to the region.

    A city without counties has no county level, so its townships have one ancestor fewer.
    """
    normal = normalise_region_code(code)
    return [_prefix(normal, level) for level in _levels_present(normal)]


@lru_cache(maxsize=_CACHE_SIZE)
def is_within(code: str, scope_code: str) -> bool:
    """Whether ``code`` is ``scope_code`` or lies below it."""
    scope = normalise_region_code(scope_code)
    return _prefix(normalise_region_code(code), region_level(scope)) == scope


def township_kind(code: str) -> Literal["street", "town", "township", "farm", "other"]:
    """Kind of township a township or village code belongs to, from the NBS township segment.

    001-099 street (街道), 100-199 town (镇), 200-399 township (乡), 400-599 state farm and similar.
    """
    normal = normalise_region_code(code)
    if region_level(normal).depth < RegionLevel.TOWNSHIP.depth:
        raise ValueError(f"region code {normal} is above township level, so it has no township kind")
    segment = int(normal[6:9])
    if segment < 100:
        return "street"
    if segment < 200:
        return "town"
    if segment < 400:
        return "township"
    if segment < 600:
        return "farm"
    return "other"


def village_kind(code: str) -> Literal["community", "village", "other"]:
    """Kind of village-level unit from the NBS village segment.

    001-199 residents' committee / community (社区), 200-399 villagers' committee (村).
    """
    normal = normalise_region_code(code)
    if region_level(normal) is not RegionLevel.VILLAGE:
        raise ValueError(f"region code {normal} is not a village or community code")
    segment = int(normal[9:])
    if segment < 200:
        return "community"
    if segment < 400:
        return "village"
    return "other"


RegionCode = Annotated[
    str,
    checked_by("RegionCodeValid", normalise_region_code),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\s*([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})\s*$",
            "description": "NBS region code; 2, 4, 6 or 9 digits are padded with zeros to 12.",
            "examples": ["430527", "430527100000", "430527100201"],
        },
        mode="validation",
    ),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^[0-9]{12}$",
            "description": "NBS 12-digit region code (GB/T 2260 county code + township 3 + village 3).",
            "examples": ["430527000000", "430527100000", "430527100201"],
        },
        mode="serialization",
    ),
]
"""Pydantic field type: a region code normalised to 12 digits."""


class UrbanRuralClass(StrEnum):
    """NBS urban-rural classification code (统计用区划代码 城乡分类代码)."""

    MAIN_URBAN = "111"
    URBAN_RURAL_FRINGE = "112"
    TOWN_CENTRE = "121"
    TOWN_VILLAGE_FRINGE = "122"
    SPECIAL_AREA = "123"
    TOWNSHIP_CENTRE = "210"
    VILLAGE = "220"


def is_urban(cls: UrbanRuralClass | str) -> bool:
    """Whether an urban-rural class counts as urban (first digit 1) rather than rural (2)."""
    return UrbanRuralClass(cls).value.startswith("1")


class Region(BaseModel, frozen=True):
    """One row of the region reference table: an NBS division with its level and parent."""

    code: RegionCode
    name: str = Field(min_length=1)
    level: RegionLevel
    parent: RegionCode | None
    urban_rural_class: UrbanRuralClass | None = None

    @model_validator(mode="after")
    def _level_and_parent_follow_code(self) -> Self:
        level = region_level(self.code)
        if self.level is not level:
            raise ValueError(f"code {self.code} is a {level} code, but the level says {self.level}")
        expected = parent_code(self.code)
        if self.parent != expected:
            raise ValueError(f"parent of {self.code} should be {expected}, got {self.parent}")
        return self
