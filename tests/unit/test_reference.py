"""The generated demo county (Suining, seed 003) and the division list CSV format."""

from collections import Counter

import pytest

from contracts.reference import SUINING_COUNTY, demo_county, parse_regions_csv, regions_to_csv
from contracts.regions import (
    Region,
    RegionLevel,
    UrbanRuralClass,
    ancestor_codes,
    is_urban,
    is_within,
    township_kind,
    village_kind,
)

HEADER = "code,name,level,parent,urban_rural_class\n"


@pytest.fixture(scope="module")
def regions():
    return demo_county()


def villages_of(regions: list[Region], kind: str) -> list[Region]:
    return [r for r in regions if r.level is RegionLevel.VILLAGE and village_kind(r.code) == kind]


def test_counts(regions):
    levels = Counter(r.level for r in regions)
    assert levels[RegionLevel.PROVINCE] == levels[RegionLevel.CITY] == levels[RegionLevel.COUNTY] == 1
    assert levels[RegionLevel.TOWNSHIP] == 17
    assert len(villages_of(regions, "community")) == 8
    assert len(villages_of(regions, "village")) == 215
    assert len(regions) == 3 + 17 + 8 + 215


def test_top_of_the_tree(regions):
    assert [(r.code, r.name) for r in regions[:3]] == [
        ("430000000000", "湖南省"),
        ("430500000000", "邵阳市"),
        (SUINING_COUNTY, "绥宁县"),
    ]


def test_real_townships(regions):
    townships = {r.code[6:9]: r.name for r in regions if r.level is RegionLevel.TOWNSHIP}
    assert townships == {
        "100": "长铺镇",
        "101": "武阳镇",
        "102": "李熙桥镇",
        "103": "红岩镇",
        "104": "唐家坊镇",
        "105": "金屋塘镇",
        "106": "瓦屋塘镇",
        "107": "黄土矿镇",
        "200": "东山侗族乡",
        "201": "鹅公岭侗族苗族乡",
        "203": "寨市苗族侗族乡",
        "204": "乐安铺苗族侗族乡",
        "206": "关峡苗族乡",
        "207": "长铺子苗族侗族乡",
        "210": "麻塘苗族瑶族乡",
        "212": "河口苗族乡",
        "217": "水口乡",
    }
    for code in townships:
        assert township_kind(f"430527{code}000") == ("town" if code < "200" else "township")


def test_codes_unique_and_parents_exist(regions):
    codes = [r.code for r in regions]
    assert len(set(codes)) == len(codes)
    seen: set[str] = set()
    for region in regions:
        # Parents come first, so a loader can insert in order.
        assert region.parent is None or region.parent in seen
        seen.add(region.code)
        assert region.code in ancestor_codes(SUINING_COUNTY) or is_within(region.code, SUINING_COUNTY)


def test_communities_are_urban_in_the_county_seat(regions):
    for community in villages_of(regions, "community"):
        assert community.parent == "430527100000"
        assert community.name.endswith("社区")
        assert community.urban_rural_class in (UrbanRuralClass.MAIN_URBAN, UrbanRuralClass.URBAN_RURAL_FRINGE)
        assert is_urban(community.urban_rural_class)
    assert sorted(c.code[9:] for c in villages_of(regions, "community")) == [f"{n:03d}" for n in range(1, 9)]


def test_villages_are_rural_and_spread_plausibly(regions):
    villages = villages_of(regions, "village")
    per_township = Counter(v.code[:9] + "000" for v in villages)
    assert len(per_township) == 17
    assert min(per_township.values()) >= 6
    towns = [n for code, n in per_township.items() if township_kind(code) == "town"]
    townships = [n for code, n in per_township.items() if township_kind(code) == "township"]
    assert sum(towns) / len(towns) > sum(townships) / len(townships)
    for township, count in per_township.items():
        segments = sorted(v.code[9:] for v in villages if v.parent == township)
        assert segments == [f"{n:03d}" for n in range(201, 201 + count)]
    for village in villages:
        assert village.urban_rural_class in (UrbanRuralClass.VILLAGE, UrbanRuralClass.TOWNSHIP_CENTRE)
        assert not is_urban(village.urban_rural_class)
        assert village.name.endswith("村")
        assert len(village.name) in (3, 4)


def test_village_names_unique_within_each_township(regions):
    by_township = Counter((r.parent, r.name) for r in regions if r.level is RegionLevel.VILLAGE)
    assert max(by_township.values()) == 1


def test_deterministic(regions):
    assert demo_county() == regions
    assert regions_to_csv(demo_county()) == regions_to_csv(regions)


def test_csv_round_trip(regions):
    text = regions_to_csv(regions)
    assert text.startswith(HEADER + "430000000000,湖南省,province,,\n")
    assert parse_regions_csv(text) == regions


def test_csv_tolerates_bom_blank_lines_and_short_codes():
    text = "\ufeff" + HEADER + "43,湖南省,province,,\n\n430527100201, 某村 ,village,430527100,220\n"
    province, village = parse_regions_csv(text)
    assert province.parent is None
    assert (village.code, village.name, village.parent) == ("430527100201", "某村", "430527100000")
    assert village.urban_rural_class is UrbanRuralClass.VILLAGE


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "line 1: header must be code,name,level,parent,urban_rural_class"),
        ("code,name\n", "line 1: header must be"),
        (HEADER + "43,湖南省,province\n", "line 2: expected 5 columns, got 3"),
        (
            HEADER + "43,湖南省,province,,\n4305,邵阳市,county,43,\n",
            "line 3: .*is a city code, but the level says county",
        ),
        (HEADER + "4305,邵阳市,city,44,\n", "line 2: .*parent of 430500000000 should be 430000000000"),
        (HEADER + "430000100000,x,township,,\n", "line 2: code: .*under an empty county"),
        (HEADER + "43,,province,,\n", "line 2: name: "),
        (HEADER + "43,湖南省,state,,\n", "line 2: level: "),
        (HEADER + "430527100201,某村,village,430527100000,999\n", "line 2: urban_rural_class: "),
        (
            HEADER + "43,湖南省,province,,\n43,湖南,province,,\n",
            "line 3: code 430000000000 already given on line 2",
        ),
    ],
)
def test_csv_errors_name_the_line_and_reason(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_regions_csv(text)


def test_csv_of_a_city_without_counties_loads_its_streets_under_the_city():
    text = HEADER + (
        "440000000000,广东省,province,,\n"
        "441900000000,东莞市,city,440000000000,\n"
        "441900003000,东城街道,township,441900000000,\n"
        "441900003001,岗贝社区居民委员会,village,441900003000,111\n"
    )
    province, city, street, community = parse_regions_csv(text)
    assert (street.level, street.parent) == (RegionLevel.TOWNSHIP, city.code)
    assert (community.level, community.parent) == (RegionLevel.VILLAGE, street.code)
    assert ancestor_codes(community.code) == [province.code, city.code, street.code, community.code]
