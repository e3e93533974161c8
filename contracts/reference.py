"""Region reference data: the generated demo county and the CSV format of the official division list.

The demo county is Suining County, Hunan (绥宁县, GB/T 2260 430527) with its 17 real townships
(NBS 2022). Its villages are not public, so 8 communities and 215 villages are generated (seed 003),
the same on every call.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable

from pydantic import ValidationError

from contracts.regions import Region, RegionLevel, UrbanRuralClass

SUINING_COUNTY = "430527000000"

_PROVINCE = Region(code="430000000000", name="湖南省", level=RegionLevel.PROVINCE, parent=None)
_CITY = Region(code="430500000000", name="邵阳市", level=RegionLevel.CITY, parent="430000000000")
_COUNTY = Region(code=SUINING_COUNTY, name="绥宁县", level=RegionLevel.COUNTY, parent="430500000000")

# (township segment, name, villages): towns (镇) get more villages than townships (乡); total 215.
_TOWNSHIPS: tuple[tuple[str, str, int], ...] = (
    ("100", "长铺镇", 14),
    ("101", "武阳镇", 20),
    ("102", "李熙桥镇", 18),
    ("103", "红岩镇", 17),
    ("104", "唐家坊镇", 19),
    ("105", "金屋塘镇", 17),
    ("106", "瓦屋塘镇", 15),
    ("107", "黄土矿镇", 14),
    ("200", "东山侗族乡", 9),
    ("201", "鹅公岭侗族苗族乡", 8),
    ("203", "寨市苗族侗族乡", 11),
    ("204", "乐安铺苗族侗族乡", 10),
    ("206", "关峡苗族乡", 10),
    ("207", "长铺子苗族侗族乡", 9),
    ("210", "麻塘苗族瑶族乡", 7),
    ("212", "河口苗族乡", 9),
    ("217", "水口乡", 8),
)

# The county seat's communities; the first four are the old town centre, the rest its fringe.
_COUNTY_SEAT = "100"
_COMMUNITIES = ("城东", "城西", "城南", "城北", "东门", "西门", "长兴", "双龙")

# Village names are a modifier or surname, sometimes a middle character, and a landform: 大石桥, 杨家坪.
_SURNAMES = "杨李黄林"
_FIRST = "大小上下新石枫竹" + _SURNAMES
_MIDDLE = "石竹枫木"
_LANDFORM = "桥塘坪溪山田冲湾岭坡口江水"


def _village_name(township: str, index: int, taken: set[str]) -> str:
    attempt = 0
    while True:
        digest = hashlib.sha256(f"003:{township}:{index}:{attempt}".encode()).digest()
        first = _FIRST[digest[0] % len(_FIRST)]
        middle = ""
        if digest[1] % 3 == 0:
            middle = "家" if first in _SURNAMES else _MIDDLE[digest[2] % len(_MIDDLE)]
        name = f"{first}{middle}{_LANDFORM[digest[3] % len(_LANDFORM)]}村"
        if name not in taken and first != middle:
            taken.add(name)
            return name
        attempt += 1


def demo_county() -> list[Region]:
    """Province, city, Suining County, its 17 townships, 8 communities and 215 villages, parents first."""
    regions = [_PROVINCE, _CITY, _COUNTY]
    # Unique across the county, not only within a township, so a name alone finds one village.
    taken: set[str] = set()
    for segment, name, villages in _TOWNSHIPS:
        township = SUINING_COUNTY[:6] + segment + "000"
        regions.append(Region(code=township, name=name, level=RegionLevel.TOWNSHIP, parent=SUINING_COUNTY))
        if segment == _COUNTY_SEAT:
            for index, community in enumerate(_COMMUNITIES, start=1):
                urban = UrbanRuralClass.MAIN_URBAN if index <= 4 else UrbanRuralClass.URBAN_RURAL_FRINGE
                regions.append(
                    Region(
                        code=f"{township[:9]}{index:03d}",
                        name=f"{community}社区",
                        level=RegionLevel.VILLAGE,
                        parent=township,
                        urban_rural_class=urban,
                    )
                )
        for index in range(villages):
            # A township's (乡) first village is its seat; a town's (镇) centre is urban, so not here.
            seat = index == 0 and segment.startswith("2")
            regions.append(
                Region(
                    code=f"{township[:9]}{201 + index:03d}",
                    name=_village_name(segment, index, taken),
                    level=RegionLevel.VILLAGE,
                    parent=township,
                    urban_rural_class=UrbanRuralClass.TOWNSHIP_CENTRE if seat else UrbanRuralClass.VILLAGE,
                )
            )
    return regions


CSV_HEADER = ("code", "name", "level", "parent", "urban_rural_class")
"""Columns of the official division list import format."""


def regions_to_csv(regions: Iterable[Region]) -> str:
    """Regions in the division list CSV format, header first; empty cells for no parent or class."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for region in regions:
        writer.writerow((region.code, region.name, region.level, region.parent or "", region.urban_rural_class or ""))
    return out.getvalue()


def parse_regions_csv(text: str) -> list[Region]:
    """Regions from the division list CSV format; a bad row raises ValueError naming its line."""
    # Spreadsheet exports often start with a byte order mark.
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    header = next(reader, None)
    if header is None or tuple(cell.strip() for cell in header) != CSV_HEADER:
        raise ValueError(f"line 1: header must be {','.join(CSV_HEADER)}, got {','.join(header or [])}")
    regions: list[Region] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(CSV_HEADER):
            raise ValueError(f"line {line}: expected {len(CSV_HEADER)} columns, got {len(row)}")
        # An empty cell means no parent (a province) or no class.
        fields = {column: cell.strip() or None for column, cell in zip(CSV_HEADER, row, strict=True)}
        try:
            region = Region.model_validate(fields)
        except ValidationError as exc:
            reasons = "; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or 'row'}: {error['msg']}" for error in exc.errors()
            )
            raise ValueError(f"line {line}: {reasons}") from None
        if region.code in seen:
            raise ValueError(f"line {line}: code {region.code} already given on line {seen[region.code]}")
        seen[region.code] = line
        regions.append(region)
    return regions
