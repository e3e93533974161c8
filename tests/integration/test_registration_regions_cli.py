"""``renshe registration import-regions``: the official division list into registration's region table."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from contracts.reference import demo_county, regions_to_csv
from tests.integration.helpers import fresh_database

pytestmark = pytest.mark.integration

RENSHE = str(Path(sys.executable).parent / "renshe")


@pytest.fixture
def database_url(infra) -> str:
    return fresh_database(infra, "regions")


def run(database_url: str, path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [RENSHE, "registration", "import-regions", str(path)], capture_output=True, text=True, env=env, timeout=60
    )


def loaded(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM registration.regions").fetchone()
    assert row is not None
    return int(row[0])


def test_the_division_list_is_loaded_and_loading_it_again_updates(database_url, tmp_path):
    path = tmp_path / "divisions.csv"
    path.write_text("\ufeff" + regions_to_csv(demo_county()), encoding="utf-8")
    first = run(database_url, path)
    assert first.returncode == 0, first.stderr
    assert f"{len(demo_county())} new, 0 updated" in first.stdout
    assert loaded(database_url) == len(demo_county())
    again = run(database_url, path)
    assert again.returncode == 0 and f"0 new, {len(demo_county())} updated" in again.stdout


def test_a_bad_row_exits_2_naming_its_line(database_url, tmp_path):
    path = tmp_path / "divisions.csv"
    path.write_text(regions_to_csv(demo_county()[:3]) + "430527100000,长铺镇,village,430527000000,\n")
    result = run(database_url, path)
    assert result.returncode == 2
    assert "line 5" in result.stderr and "township" in result.stderr


def test_a_region_whose_parent_is_nowhere_exits_2_and_loads_nothing(database_url, tmp_path):
    path = tmp_path / "divisions.csv"
    path.write_text(regions_to_csv([r for r in demo_county() if r.code != "430527000000"]))
    result = run(database_url, path)
    assert result.returncode == 2 and "parent 430527000000" in result.stderr
    assert loaded(database_url) == 0


def test_a_missing_file_exits_2(database_url, tmp_path):
    result = run(database_url, tmp_path / "nowhere.csv")
    assert result.returncode == 2 and "nowhere.csv" in result.stderr
