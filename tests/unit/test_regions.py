"""NBS 12-digit region codes (GB/T 2260 extended), DESIGN.md section 4 and RULES.md examples."""

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
