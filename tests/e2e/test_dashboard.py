"""End to end: the reporting dashboard in headless Chromium against the whole stack as processes.

Persons registered over HTTP in two townships show up on the page: the county's figures, then a township
clicked in the tree with its villages listed and charted. Screenshots go to ``test-output/``.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
from playwright.async_api import Browser, ConsoleMessage, Locator, Page, async_playwright, expect

from contracts.identifiers import citizen_id_check_character, credit_code_check_character
from contracts.reference import SUINING_COUNTY, demo_county

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (`make browser` installs it)", allow_module_level=True)

OUTPUT = Path(__file__).resolve().parents[2] / "test-output"

#: Flags that keep Chromium from reaching for the network it does not have here (else it can hang).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

CHANGPU = "430527100000"  # 长铺镇: 8 communities and 14 villages
WUYANG = "430527101000"  # 武阳镇: 20 villages
REGIONS = {r.code: r for r in demo_county()}

#: Where the test's persons live: 5 in 长铺镇 (two places), 4 in 武阳镇.
RESIDENTS = {"430527100201": 3, "430527100001": 2, "430527101201": 4}
TOTAL = sum(RESIDENTS.values())


def villages_of(township: str) -> list[str]:
    return sorted(code for code, r in REGIONS.items() if r.parent == township)


def residents() -> list[dict[str, str]]:
    people = []
    for village, count in RESIDENTS.items():
        for _ in range(count):
            body = f"4305271985{len(people) + 1:02d}15{len(people) + 100:03d}"
            people.append(
                {
                    "id_number": body + citizen_id_check_character(body),
                    "name": f"看板居民{len(people)}",
                    "region_code": village,
                    "hukou": "rural",
                }
            )
    return people


def employer() -> dict[str, str]:
    body = "91430527MA4L0DB8X"
    code = body + credit_code_check_character(body)
    return {"credit_code": code, "name": "绥宁县长铺看板竹业社", "region_code": CHANGPU}


@pytest.fixture(scope="module")
async def registered(stack) -> dict[str, str]:
    """The test's persons and one employer registered over HTTP, and reporting showing them."""
    async with httpx.AsyncClient(base_url=stack.env["REGISTRATION_URL"], headers=stack.headers, timeout=30) as client:
        for person in residents():
            response = await client.post("/persons", json=person)
            assert response.status_code == 201, response.text
        response = await client.post("/employers", json=employer())
        assert response.status_code == 201, response.text
    async with httpx.AsyncClient(base_url=stack.env["REPORTING_URL"], headers=stack.headers, timeout=30) as client:
        deadline = time.monotonic() + 60
        while True:
            metrics = (await client.get(f"/regions/{SUINING_COUNTY}/stats")).json()["metrics"]
            if metrics["labour_force"] == TOTAL and metrics["employers"] == 1:
                break
            assert time.monotonic() < deadline, f"reporting still shows {metrics}"
            await asyncio.sleep(0.3)
    return stack.env


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    # Playwright drives the system's Chromium (no browser download) in a fresh temporary profile.
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, chromium_sandbox=False, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


class PageProblems:
    """Script errors and console errors of a page, so a broken script or a CSP violation fails the test."""

    #: Endpoints another branch adds; until it is merged the page says "no series yet" after a 404.
    PENDING = ("/series", "/reports/quarterly")

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.expected: list[str] = []

    def watch(self, page: Page) -> None:
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.on("console", self._console)

    def expect(self, text: str) -> None:
        """A console error this test provokes on purpose (Chromium logs every 4xx answer)."""
        self.expected.append(text)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error" or any(text in message.text for text in self.expected):
            return
        url = message.location.get("url", "")
        if "status of 404" in message.text and any(path in url for path in self.PENDING):
            return
        self.errors.append(f"console: {message.text} ({url})")


@pytest.fixture
def problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
async def page(browser: Browser, problems: PageProblems) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN", accept_downloads=True)
    page = await context.new_page()
    page.set_default_timeout(20_000)
    problems.watch(page)
    try:
        yield page
        assert problems.errors == []
    finally:
        await context.close()


def card_value(page: Page, metric: str) -> Locator:
    """The big number on a key-figure card."""
    return page.locator(f'#figures [data-metric="{metric}"] .value')


def cell(page: Page, code: str, metric: str) -> Locator:
    """A child region's figure in the table under the charts."""
    return page.locator(f'#children-table tr[data-code="{code}"] td[data-metric="{metric}"]')


async def test_the_page_and_its_assets_are_served_without_a_token_and_cached(stack):
    async with httpx.AsyncClient(base_url=stack.env["REPORTING_URL"], timeout=30) as client:
        page = await client.get("/dashboard")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "cdn" not in page.text.lower() and "https://" not in page.text
        plotly_url = next(part.split('"')[0] for part in page.text.split('src="')[1:] if "plotly" in part)
        assert plotly_url.startswith("/dashboard/assets/plotly.min.js?v=")

        bundle = await client.get(plotly_url, headers={"Accept-Encoding": "gzip"})
        assert bundle.status_code == 200 and bundle.headers["content-encoding"] == "gzip"
        assert bundle.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert "plotly.js" in bundle.text[:2000]  # httpx decoded the gzip: it is the real bundle
        again = await client.get(plotly_url, headers={"If-None-Match": bundle.headers["etag"]})
        assert again.status_code == 304 and again.content == b""

        plain = await client.get("/dashboard/assets/dashboard.js", headers={"Accept-Encoding": "identity"})
        assert plain.status_code == 200 and "content-encoding" not in plain.headers
        assert plain.headers["cache-control"] == "public, max-age=86400"
        assert plain.text.startswith("/* renshe reporting dashboard")

        missing = await client.get("/dashboard/assets/secrets.env")
        assert missing.status_code == 404 and missing.json()["field"] == "name"
        # The JSON behind the page still needs the token.
        assert (await client.get(f"/regions/{SUINING_COUNTY}/stats")).status_code == 401
    assert stack.env["DASHBOARD_URL"] == f"{stack.env['REPORTING_URL']}/dashboard#token={stack.env['DEV_TOKEN']}"


async def test_county_figures_then_a_township_shows_its_villages(registered, page: Page):
    OUTPUT.mkdir(exist_ok=True)
    await page.goto(registered["DASHBOARD_URL"])

    # The county (the development token's scope) with its figures; the token left the address bar.
    await expect(page.locator("#region-name")).to_have_text("绥宁县")
    await expect(card_value(page, "labour_force")).to_have_text(str(TOTAL))
    await expect(card_value(page, "employers")).to_have_text("1")
    await expect(page.locator('#figures [data-metric="labour_force"]')).to_contain_text("实名登记劳动力")
    await expect(page.locator('#figures [data-metric="labour_force"] .card-change')).not_to_be_empty()
    assert "token=" not in page.url
    county_rows = page.locator("#children-table tbody tr")
    await expect(county_rows).to_have_count(17)
    await expect(cell(page, CHANGPU, "labour_force")).to_have_text("5")
    await expect(page.locator("#bar-chart svg.main-svg").first).to_be_attached()

    # Click 长铺镇 in the tree: its communities and villages, in the tree and in the table, with figures.
    await page.locator(f'#tree [data-code="{CHANGPU}"] > .node').click()
    await expect(page.locator("#region-name")).to_have_text("长铺镇")
    await expect(card_value(page, "labour_force")).to_have_text("5")
    await expect(page.locator(f'#tree [data-code="{CHANGPU}"]')).to_have_attribute("aria-expanded", "true")
    villages = villages_of(CHANGPU)
    rows = page.locator("#children-table tbody tr")
    await expect(rows).to_have_count(len(villages))
    assert await rows.evaluate_all("rows => rows.map(r => r.dataset.code)") == villages
    for code in villages:
        row = page.locator(f'#children-table tr[data-code="{code}"]')
        await expect(row.locator("th")).to_have_text(REGIONS[code].name)
        await expect(cell(page, code, "labour_force")).to_have_text(str(RESIDENTS.get(code, 0)))
    await expect(page.locator(f'#tree [data-code="{villages[0]}"][data-level="village"]')).to_be_visible()
    await expect(page.locator("#breadcrumb li")).to_have_text(["绥宁县", "长铺镇"])

    # The bar chart is plotly's SVG with one bar per village, tallest first; the series panel answers too.
    await expect(page.locator("#bar-chart svg.main-svg").first).to_be_visible()
    bars = page.locator("#bar-chart g.trace.bars g.point")
    await expect(bars).to_have_count(len(villages))
    ticks = await page.locator("#bar-chart g.xtick text").all_text_contents()
    assert ticks[:2] == [REGIONS["430527100201"].name, REGIONS["430527100001"].name]
    series_shown = page.locator("#series-chart svg.main-svg, #series-empty:not([hidden])")
    await expect(series_shown.first).to_be_visible()
    await page.screenshot(path=OUTPUT / "dashboard-township.png")

    # English on request, from the catalogue's label_en.
    await page.locator("#lang").click()
    await expect(page.locator("#figures-heading")).to_contain_text("Key figures")
    await expect(page.locator('#figures [data-metric="labour_force"]')).to_contain_text("Labour force in ledger")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await page.screenshot(path=OUTPUT / "dashboard-township-en.png")
    await page.locator("#lang").click()
    await expect(page.locator("#figures-heading")).to_contain_text("主要指标")

    # A village from the table: the smallest unit, with nothing below it.
    await page.locator('#children-table tr[data-code="430527100201"] button').click()
    await expect(page.locator("#region-name")).to_have_text(REGIONS["430527100201"].name)
    await expect(card_value(page, "labour_force")).to_have_text("3")
    await expect(page.locator("#children-empty")).to_contain_text("最小统计单元")


async def test_export_buttons_download_with_the_token_or_say_the_report_is_not_there(registered, page: Page):
    await page.goto(registered["DASHBOARD_URL"])
    await expect(page.locator("#region-name")).to_have_text("绥宁县")
    async with httpx.AsyncClient(base_url=registered["REPORTING_URL"], timeout=30) as client:
        probe = await client.get(
            "/reports/quarterly",
            params={"region": SUINING_COUNTY, "period": "2026Q1", "format": "csv"},
            headers={"Authorization": f"Bearer {registered['DEV_TOKEN']}"},
        )
    if probe.status_code == 404:
        await page.locator("#export-xlsx").click()
        await expect(page.locator("#status")).to_have_text("季报导出暂不可用。")
        return
    async with page.expect_download() as download_info:
        await page.locator("#export-xlsx").click()
    download = await download_info.value
    saved = OUTPUT / "dashboard-export.xlsx"
    OUTPUT.mkdir(exist_ok=True)
    await download.save_as(saved)
    assert saved.read_bytes()[:2] == b"PK"  # an XLSX is a zip


async def test_without_a_token_the_page_asks_for_one(registered, page: Page, problems: PageProblems):
    await page.goto(registered["REPORTING_URL"] + "/dashboard")
    dialog = page.locator("#login")
    await expect(dialog).to_be_visible()
    # A token with a forged signature: the server refuses it and the page asks again.
    problems.expect("status of 401")
    header, claims, _ = registered["DEV_TOKEN"].split(".")
    await page.locator("#token-input").fill(f"{header}.{claims}.forged")
    await page.locator("#login button[type=submit]").click()
    await expect(page.locator("#login-error")).to_have_text("令牌无效或已过期，请重新输入。")
    await expect(dialog).to_be_visible()
    await page.locator("#token-input").fill("not-a-token")
    await page.locator("#login button[type=submit]").click()
    await expect(page.locator("#login-error")).to_have_text("令牌无效或已过期，请重新输入。")
    await expect(dialog).to_be_visible()

    await page.locator("#token-input").fill(registered["DEV_TOKEN"])
    await page.locator("#login button[type=submit]").click()
    await expect(dialog).to_be_hidden()
    await expect(page.locator("#region-name")).to_have_text("绥宁县")
    await expect(card_value(page, "labour_force")).to_have_text(str(TOTAL))


async def test_a_provincial_analyst_browses_from_the_province_down_to_a_village(stack, registered, page: Page):
    token = stack.headers_for("analyst", "43")["Authorization"].removeprefix("Bearer ")
    await page.goto(f"{registered['REPORTING_URL']}/dashboard#token={token}")
    await expect(page.locator("#region-name")).to_have_text("湖南省")
    await expect(card_value(page, "labour_force")).to_have_text(str(TOTAL))
    # Down the tree with the keyboard: province -> city -> county -> township.
    tree = page.locator("#tree")
    await expect(tree.locator('[data-code="430500000000"]')).to_be_visible()
    await tree.locator('[data-code="430500000000"] > .node').click()
    await tree.locator(f'[data-code="{SUINING_COUNTY}"] > .node').click()
    await tree.locator(f'[data-code="{WUYANG}"]').focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#region-name")).to_have_text("武阳镇")
    await expect(page.locator("#breadcrumb li")).to_have_text(["湖南省", "邵阳市", "绥宁县", "武阳镇"])
    await expect(page.locator("#children-table tbody tr")).to_have_count(len(villages_of(WUYANG)))
    await expect(cell(page, "430527101201", "labour_force")).to_have_text("4")
    await expect(tree.locator(f'[data-code="{WUYANG}"]')).to_have_attribute("aria-expanded", "true")
    await page.keyboard.press("ArrowRight")  # into its first village
    await expect(tree.locator('[data-code="430527101201"]')).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#region-name")).to_have_text(REGIONS["430527101201"].name)
    await page.screenshot(path=OUTPUT / "dashboard-village.png")


def quarter_of(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def months_before(day: date, steps: int) -> str:
    index = day.year * 12 + day.month - 1 - steps
    return f"{index // 12}-{index % 12 + 1:02d}"


async def test_the_period_selector_asks_for_the_period_and_the_one_before(registered, page: Page):
    asked: list[str] = []
    page.on("request", lambda request: asked.append(unquote(request.url.split("?", 1)[-1])))
    await page.goto(registered["DASHBOARD_URL"])
    await expect(page.locator("#region-name")).to_have_text("绥宁县")
    today = date.today()
    this_quarter, year = quarter_of(today), today.year
    last_quarter = f"{year}Q{int(this_quarter[-1]) - 1}" if this_quarter[-1] != "1" else f"{year - 1}Q4"
    await expect(page.locator("#period")).to_have_value(this_quarter)
    assert {f"period={this_quarter}", f"period={last_quarter}"} <= set(asked)
    first_quarter_shown = f"{year - 2}Q{int(this_quarter[-1]) + 1}" if this_quarter[-1] != "4" else f"{year - 1}Q1"
    assert f"metric=labour_force&from={first_quarter_shown}&to={this_quarter}" in asked

    # Months: the last twelve to choose from; a month compares with the month before.
    asked.clear()
    await page.locator("#granularity").select_option("month")
    await expect(page.locator("#period option")).to_have_count(12)
    await expect(page.locator("#period")).to_have_value(months_before(today, 0))
    await page.locator("#period").select_option(months_before(today, 1))
    await expect(page.locator("#region-meta")).to_contain_text(
        f"{int(months_before(today, 1)[:4])}年{int(months_before(today, 1)[5:])}月"
    )
    await expect(page.locator("#compare-note")).to_contain_text(
        f"{int(months_before(today, 2)[:4])}年{int(months_before(today, 2)[5:])}月"
    )
    assert {f"period={months_before(today, 1)}", f"period={months_before(today, 2)}"} <= set(asked)
    assert f"metric=labour_force&from={months_before(today, 12)}&to={months_before(today, 1)}" in asked

    # Years, and another metric for the charts.
    asked.clear()
    await page.locator("#granularity").select_option("year")
    await expect(page.locator("#period")).to_have_value(str(year))
    await page.locator("#bar-metric").select_option("employers")
    await expect(page.locator("#bar-unit")).to_have_text("（家）")
    await expect(page.locator("#bar-chart")).to_have_attribute("aria-label", "下级区划对比: 登记用人单位")
    await expect(page.locator("#bar-chart g.trace.bars g.point")).to_have_count(17)
    assert {f"period={year}", f"period={year - 1}", f"metric=employers&from={year - 4}&to={year}"} <= set(asked)
