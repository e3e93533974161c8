"""``make demo``: load the synthetic population into a running stack through the public HTTP API.

Persons go through ``POST /persons/batch`` (1,000 per request), then employers, their vacancies and the
county's service points. The population is deterministic, so loading twice registers nothing twice: the
second run finds everyone already there (409) and says so.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx

from services.registration.population import DEFAULT_SEED, generate_population

BATCH = 1_000


def load_demo(registration_url: str, token: str, *, persons: int = 20_000, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Register the population; returns what was created and what was already there, by kind."""
    population = generate_population(persons, seed=seed)
    counts: Counter[str] = Counter()
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=registration_url, headers=headers, timeout=300.0) as client:
        bodies = [p.body() for p in population.persons]
        for start in range(0, len(bodies), BATCH):
            result = _ok(client.post("/persons/batch", json={"items": bodies[start : start + BATCH]}))
            counts["persons created"] += result["created"]
            counts["persons already registered"] += result["already_registered"]
            counts["persons rejected"] += result["rejected"]
        employer_ids: dict[int, str] = {}
        for index, employer in enumerate(population.employers):
            response = client.post("/employers", json=employer.body())
            if response.status_code == 201:
                employer_ids[index] = _ok(response)["employer_id"]
                counts["employers created"] += 1
            elif response.status_code == 409:
                counts["employers already registered"] += 1
            else:
                _ok(response)
        for vacancy in population.vacancies:
            if vacancy.employer in employer_ids:  # an employer seen before already has its vacancies
                _ok(client.post("/vacancies", json=vacancy.body(employer_ids[vacancy.employer])))
                counts["vacancies opened"] += 1
        for point in population.service_points:
            response = client.post("/service-points", json=point.body())
            if response.status_code != 409:
                _ok(response)
                counts["service points recorded"] += 1
    return dict(counts)


def _ok(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text}"
        )
    body: dict[str, Any] = response.json()
    return body
