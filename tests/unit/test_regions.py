"""NBS 12-digit region codes (GB/T 2260 extended), docs/design.md "Regions" and docs/rules.md examples."""

import pytest
from pydantic import BaseModel, ValidationError

from contracts.regions import (
    LEVELS,
    Region,
    RegionCode,
    RegionLevel,
    UrbanRuralClass,
    ancestor_codes,
    is_urban,
    is_within,
    normalise_region_code,
    parent_code,
    region_level,
    township_kind,
    village_kind,
)

PROVINCE, CITY, COUNTY = "430000000000", "430500000000", "430527000000"
TOWNSHIP, VILLAGE = "430527100000", "430527100201"


def test_levels_are_ordered_with_depth():
    assert LEVELS == (
        RegionLevel.PROVINCE,
        RegionLevel.CITY,
        RegionLevel.COUNTY,
        RegionLevel.TOWNSHIP,
        RegionLevel.VILLAGE,
    )
    assert [level.depth for level in LEVELS] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("43", PROVINCE),
        ("4305", CITY),
        ("430527", COUNTY),
        ("430527100", TOWNSHIP),
        ("430527100201", VILLAGE),
        (" 430527 ", COUNTY),
    ],
)
def test_short_codes_are_padded(raw, code):
    assert normalise_region_code(raw) == code


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("4305271", "must have 2, 4, 6, 9 or 12 digits, got 7"),
        ("4305271002011", "got 13"),
        ("", "must be digits only"),
        ("43O527", "must be digits only"),
        ("４３", "must be digits only"),
        ("000527", "cannot start with province 00"),
        ("430000100000", "township segment 100 under an empty county"),
        ("430027", "county segment 27 under an empty city"),
        ("430527000201", "village segment 201 under an empty township"),
    ],
)
def test_bad_codes_are_rejected(raw, reason):
    with pytest.raises(ValueError, match=reason):
        normalise_region_code(raw)


@pytest.mark.parametrize(
    ("code", "level", "parent", "ancestors"),
    [
        (PROVINCE, RegionLevel.PROVINCE, None, [PROVINCE]),
        (CITY, RegionLevel.CITY, PROVINCE, [PROVINCE, CITY]),
        (COUNTY, RegionLevel.COUNTY, CITY, [PROVINCE, CITY, COUNTY]),
        (TOWNSHIP, RegionLevel.TOWNSHIP, COUNTY, [PROVINCE, CITY, COUNTY, TOWNSHIP]),
        (VILLAGE, RegionLevel.VILLAGE, TOWNSHIP, [PROVINCE, CITY, COUNTY, TOWNSHIP, VILLAGE]),
    ],
)
def test_level_parent_and_ancestors(code, level, parent, ancestors):
    assert region_level(code) is level
    assert parent_code(code) == parent
    assert ancestor_codes(code) == ancestors


def test_helpers_accept_short_codes():
    assert region_level("4305") is RegionLevel.CITY
    assert parent_code("430527") == CITY
    assert ancestor_codes("4305") == [PROVINCE, CITY]


def test_is_within():
    assert is_within(VILLAGE, VILLAGE)
    assert is_within(VILLAGE, TOWNSHIP)
    assert is_within(VILLAGE, "430527")
    assert is_within(VILLAGE, "43")
    assert is_within("4305", "43")
    assert not is_within(VILLAGE, "430528")
    assert not is_within("430527100202", VILLAGE)
    assert not is_within(COUNTY, TOWNSHIP)
    assert not is_within("440527", "43")


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("430527001000", "street"),
        ("430527099000", "street"),
        ("430527100000", "town"),
        ("430527107201", "town"),
        ("430527200000", "township"),
        ("430527399000", "township"),
        ("430527400000", "farm"),
        ("430527599000", "farm"),
        ("430527600000", "other"),
    ],
)
def test_township_kind(code, kind):
    assert township_kind(code) == kind


def test_township_kind_needs_a_township():
    with pytest.raises(ValueError, match="above township level"):
        township_kind(COUNTY)


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("430527100001", "community"),
        ("430527100199", "community"),
        ("430527100200", "village"),
        ("430527100399", "village"),
        ("430527100400", "other"),
    ],
)
def test_village_kind(code, kind):
    assert village_kind(code) == kind


def test_village_kind_needs_a_village():
    with pytest.raises(ValueError, match="not a village or community code"):
        village_kind(TOWNSHIP)


def test_urban_rural_class():
    assert [c.value for c in UrbanRuralClass] == ["111", "112", "121", "122", "123", "210", "220"]
    assert is_urban(UrbanRuralClass.MAIN_URBAN)
    assert is_urban("123")
    assert not is_urban(UrbanRuralClass.TOWNSHIP_CENTRE)
    assert not is_urban("220")


def test_region_normalises_codes():
    region = Region(code="430527", name="绥宁县", level=RegionLevel.COUNTY, parent="4305")
    assert (region.code, region.parent) == (COUNTY, CITY)


def test_region_level_must_match_code():
    with pytest.raises(ValidationError, match="code 430527000000 is a county code, but the level says city"):
        Region(code=COUNTY, name="绥宁县", level=RegionLevel.CITY, parent=CITY)


def test_region_parent_must_match_code():
    with pytest.raises(ValidationError, match="parent of 430527000000 should be 430500000000, got 430000000000"):
        Region(code=COUNTY, name="绥宁县", level=RegionLevel.COUNTY, parent=PROVINCE)
    with pytest.raises(ValidationError, match="should be None"):
        Region(code=PROVINCE, name="湖南省", level=RegionLevel.PROVINCE, parent=CITY)


def test_region_is_frozen():
    region = Region(code=PROVINCE, name="湖南省", level=RegionLevel.PROVINCE, parent=None)
    with pytest.raises(ValidationError):
        region.name = "湖北省"  # type: ignore[misc]


class Event(BaseModel):
    region: RegionCode


def test_region_code_field_error_names_the_field():
    assert Event(region="430527").region == COUNTY
    with pytest.raises(ValidationError) as caught:
        Event(region="430000100000")
    (error,) = caught.value.errors()
    assert error["loc"] == ("region",)
    assert "under an empty county" in error["msg"]


def test_region_code_schema_has_examples():
    schema = Event.model_json_schema()["properties"]["region"]
    assert "430527100201" in schema["examples"]
    assert Event.model_json_schema(mode="serialization")["properties"]["region"]["pattern"] == "^[0-9]{12}$"


# --- prefecture-level cities without counties (不设区的地级市), issue 16 item 3 --------------------------
# Real statistical codes: 东莞市 441900 东城街道 003 and its 岗贝社区 001, 虎门镇 121; 中山市 442000 石岐街道 001,
# 小榄镇 118; 儋州市 460400 那大镇 100; 嘉峪关市 620200, whose towns the code list files under 620201 (新城镇 100).

DONGGUAN, DONGCHENG, GANGBEI = "441900000000", "441900003000", "441900003001"


@pytest.mark.parametrize(
    ("code", "level", "parent", "ancestors"),
    [
        (DONGCHENG, RegionLevel.TOWNSHIP, DONGGUAN, ["440000000000", DONGGUAN, DONGCHENG]),
        (GANGBEI, RegionLevel.VILLAGE, DONGCHENG, ["440000000000", DONGGUAN, DONGCHENG, GANGBEI]),
        ("441900121000", RegionLevel.TOWNSHIP, DONGGUAN, ["440000000000", DONGGUAN, "441900121000"]),
        ("442000001000", RegionLevel.TOWNSHIP, "442000000000", ["440000000000", "442000000000", "442000001000"]),
        ("442000118000", RegionLevel.TOWNSHIP, "442000000000", ["440000000000", "442000000000", "442000118000"]),
        ("460400100000", RegionLevel.TOWNSHIP, "460400000000", ["460000000000", "460400000000", "460400100000"]),
        ("620200100000", RegionLevel.TOWNSHIP, "620200000000", ["620000000000", "620200000000", "620200100000"]),
        (
            "620201100000",
            RegionLevel.TOWNSHIP,
            "620201000000",
            ["620000000000", "620200000000", "620201000000", "620201100000"],
        ),
        (DONGGUAN, RegionLevel.CITY, "440000000000", ["440000000000", DONGGUAN]),
    ],
)
def test_townships_of_cities_without_counties_sit_directly_under_the_city(code, level, parent, ancestors):
    assert normalise_region_code(code) == code
    assert region_level(code) is level
    assert parent_code(code) == parent
    assert ancestor_codes(code) == ancestors


def test_short_codes_of_a_city_without_counties_pad_and_nest():
    assert normalise_region_code("441900003") == DONGCHENG
    assert region_level("441900003") is RegionLevel.TOWNSHIP
    assert is_within(GANGBEI, "4419") and is_within(GANGBEI, "441900003") and is_within(GANGBEI, "44")
    assert not is_within(GANGBEI, "441900004")
    assert not is_within("442000001000", "4419")


def test_townships_and_villages_of_a_city_without_counties_have_their_kind():
    assert township_kind(DONGCHENG) == "street"
    assert township_kind("441900121000") == "town"
    assert village_kind(GANGBEI) == "community"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("430500100000", "township segment 100 under an empty county"),  # 邵阳市 has counties
        ("440300001000", "township segment 001 under an empty county"),  # 深圳市 has districts
        ("441900000001", "village segment 001 under an empty township"),
        ("440019003000", "county segment 19 under an empty city"),
    ],
)
def test_county_segment_00_stays_refused_elsewhere(raw, reason):
    with pytest.raises(ValueError, match=reason):
        normalise_region_code(raw)


def test_a_region_row_of_a_city_without_counties_names_the_city_as_parent():
    township = Region(code=DONGCHENG, name="东城街道", level=RegionLevel.TOWNSHIP, parent=DONGGUAN)
    assert township.parent == DONGGUAN
    with pytest.raises(ValidationError, match="parent of 441900003000 should be 441900000000"):
        Region(code=DONGCHENG, name="东城街道", level=RegionLevel.TOWNSHIP, parent="441901000000")
