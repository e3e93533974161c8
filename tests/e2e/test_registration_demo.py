"""The demo population through the running stack's API, and the ledger features a clerk uses with it."""

from __future__ import annotations

import io

import httpx
import pytest
from openpyxl import Workbook

from services.demo import load_demo
from services.demo.population import generate_population

pytestmark = pytest.mark.e2e

PERSONS = 1_500


def test_the_demo_loads_once_and_a_second_load_registers_nothing_twice(stack):
    url, token = stack.env["REGISTRATION_URL"], stack.env["DEV_TOKEN"]
    first = load_demo(url, token, persons=PERSONS)
    population = generate_population(PERSONS)
    assert first["persons created"] == PERSONS
    assert first["employers created"] == len(population.employers)
    assert first["vacancies opened"] == len(population.vacancies)
    assert first["service points recorded"] == 241
    again = load_demo(url, token, persons=PERSONS)
    assert again.get("persons created", 0) == 0 and again["persons already registered"] == PERSONS
    assert again["employers already registered"] == len(population.employers)

    with httpx.Client(base_url=url, headers=stack.headers, timeout=60) as client:
        points = client.get("/service-points", params={"region": "430527"}).json()
        assert points["count"] == 241 and 0 < points["compliant"] < 241
        open_vacancies = client.get("/vacancies", params={"region": "430527", "status": "open", "limit": 1000}).json()
        assert open_vacancies["count"] == len(population.vacancies)

        # A clerk re-uploads part of the county as a ledger: everyone is already registered.
        workbook = Workbook()
        sheet = workbook.active
        assert sheet is not None
        sheet.append(["身份证号", "姓名", "所在村(社区)代码"])
        for person in population.persons[:50]:
            sheet.append([person.id_number, person.name, person.region_code])
        content = io.BytesIO()
        workbook.save(content)
        result = client.post("/imports/persons", files={"file": ("台账.xlsx", content.getvalue())}).json()
        assert (result["created"], result["already_registered"], result["rejected"]) == (0, 50, 0)
