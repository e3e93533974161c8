"""Bulk inputs to registration's import (``POST /imports/persons``): what a hostile or careless upload gets.

A 100 MB upload is refused with 413 while the API process's peak resident memory grows by a bounded amount
(``VmHWM`` of the real process), and nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.abuse.conftest import RunningApi, bearer

pytestmark = pytest.mark.integration

MB = 1024 * 1024
#: How much the API's peak RSS may grow while it refuses a 100 MB upload (its cap is 8 MB).
RSS_GROWTH_BOUND_MB = 48


def _chunks(total: int, size: int = MB) -> Iterator[bytes]:
    line = "430527199003070011,杨秀成,430527100201\n".encode()
    chunk = line * (size // len(line) + 1)
    sent = 0
    yield "身份证号,姓名,所在村(社区)代码\n".encode()
    while sent < total:
        yield chunk[: min(size, total - sent)]
        sent += size


def _multipart(total: int) -> Iterator[bytes]:
    boundary = "abuse-boundary"
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="台账.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    yield from _chunks(total)
    yield f"\r\n--{boundary}--\r\n".encode()


def test_a_100_mb_upload_is_413_with_bounded_memory_and_writes_nothing(registration_api: RunningApi) -> None:
    before_events = registration_api.events()
    peak_before = registration_api.rss_kib("VmHWM")
    headers = {**bearer(), "Content-Type": "multipart/form-data; boundary=abuse-boundary"}
    with registration_api.client() as http:
        try:
            response = http.post("/imports/persons", content=_multipart(100 * MB), headers=headers)
        except Exception as exc:  # the server may close the connection once it has answered
            pytest.fail(f"the upload got no answer: {exc!r}")
    assert response.status_code == 413, response.text[:300]
    assert response.headers["content-type"].startswith("application/problem+json")
    growth_mb = (registration_api.rss_kib("VmHWM") - peak_before) / 1024
    assert growth_mb < RSS_GROWTH_BOUND_MB, f"peak RSS grew by {growth_mb:.0f} MB"
    assert registration_api.events() == before_events
