"""The dashboard in a real browser: Debian's headless Chromium, driven by Playwright, against the
API served by gunicorn over a lake with data landed and curated.

Every chart must hold the numbers of its analysis' JSON, the table the figures of /api/stats/,
the console no error; a missing or wrong API key must get a clear message on the page.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.request

import pytest

from glue.crawler import LocalCrawler
from tests.lake_helpers import gunicorn_api, make_lake
from tests.metrics_helpers import scrape, value, wait_until

pytestmark = pytest.mark.stack
KEY = "dashboard-key-42"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without these, Chromium keeps calling Google's hosts, which this closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not os.path.exists(CHROMIUM):
    pytest.skip(
        "these tests need Debian's chromium, which .ci/run installs as root at the version "
        "tools/chromium.txt names: `apt-get install chromium` runs them",
        allow_module_level=True,
    )


def fetch(port: int, path: str) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"X-API-Key": KEY})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def served(api_lake):
    with gunicorn_api(api_lake.env, KEY, API_THROTTLE_RATE="100000/min") as (port, _):
        yield port


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, served):
    """A fresh tab on the dashboard; `page.errors` collects console errors and page errors."""
    context = browser.new_context()
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(f"http://127.0.0.1:{served}/")
    yield page
    context.close()


def enter_key(page, key: str) -> None:
    page.fill("#api-key", key)
    page.press("#api-key", "Enter")


def loaded(page) -> None:
    page.wait_for_function(
        "document.querySelectorAll('section.analysis canvas').length === 4"
        " && document.querySelectorAll('#stats tbody tr').length === 4",
        timeout=60_000,
    )


def test_root_redirects_to_the_dashboard_which_asks_for_the_key(page, served):
    assert page.url == f"http://127.0.0.1:{served}/dashboard/"
    page.wait_for_selector("#key-form:not([hidden])")
    assert "needs an API key" in page.inner_text("#problem")
    links = {a.inner_text(): a.get_attribute("href") for a in page.query_selector_all("nav a")}
    assert links == {
        "Swagger UI": "/swagger/",
        "ReDoc": "/redoc/",
        "Postman collection": "/postman/lakestream.postman_collection.json",
    }
    # The 401s of the API are answers the page handles, not errors of the page itself.
    assert not [e for e in page.errors if "401" not in e]


def test_the_postman_link_downloads_the_committed_collection(served):
    url = f"http://127.0.0.1:{served}/postman/lakestream.postman_collection.json"
    with urllib.request.urlopen(url, timeout=30) as response:
        collection = json.loads(response.read())
        assert "attachment" in response.headers["Content-Disposition"]
    assert collection["info"]["name"]
    assert any("/api/analyses/" in json.dumps(item) for item in collection["item"])


def test_a_wrong_key_gets_a_clear_message(page):
    page.wait_for_selector("#key-form:not([hidden])")
    enter_key(page, "not-the-key")
    page.wait_for_function("document.querySelector('#problem').innerText.includes('refused')")
    assert "refused this API key" in page.inner_text("#problem")
    assert page.is_visible("#api-key")


def test_every_chart_holds_its_analysis_numbers(page, served):
    enter_key(page, KEY)
    loaded(page)
    assert page.is_hidden("#key-form")
    for analysis in fetch(served, "/api/analyses/")["analyses"]:
        expected = fetch(served, f"{analysis['url']}?limit=10&layer=raw")
        measures = [c["name"] for c in expected["columns"] if c["type"] in ("bigint", "double")]
        metric = [m for m in measures if not m.endswith(("_code", "_id"))][-1]
        drawn = page.evaluate(
            """name => {
                const canvas = document.querySelector(`section[data-analysis="${name}"] canvas`);
                const chart = Chart.getChart(canvas);
                return {values: chart.data.datasets[0].data, labels: chart.data.labels,
                        label: chart.data.datasets[0].label, drawn: canvas.width > 0};
            }""",
            analysis["name"],
        )
        assert expected["rows"], analysis["name"]
        assert drawn["label"] == metric
        assert drawn["values"] == [r[metric] for r in expected["rows"]]
        assert len(drawn["labels"]) == len(expected["rows"])
        if analysis["name"] == "web_errors":  # the status code names the bar, hits size it
            first = expected["rows"][0]
            assert (
                drawn["labels"][0]
                == f"{first['error_class']} · {first['status_code']} · {first['url']}"
            )
        assert drawn["drawn"]
    assert page.errors == [e for e in page.errors if "401" in e]  # only the first, keyless call


def test_the_curated_switch_redraws_from_the_curated_layer(page, served):
    enter_key(page, KEY)
    loaded(page)
    page.select_option("#layer", "curated")
    expected = fetch(served, "/api/analyses/social_engagement/?limit=10&layer=curated")
    page.wait_for_function(
        "document.querySelector('section[data-analysis=social_engagement] canvas')"
        ".getAttribute('aria-label').includes('curated layer')"
    )
    values = page.evaluate(
        "Chart.getChart(document.querySelector("
        "'section[data-analysis=social_engagement] canvas')).data.datasets[0].data"
    )
    assert values == [r["retweets"] for r in expected["rows"]]


def test_the_table_shows_what_the_stats_endpoint_says(page, served, api_lake):
    # The lake's own sink groups, as after `make demo` (?group_prefix=lakestream-demo).
    page.goto(f"http://127.0.0.1:{served}/dashboard/?group_prefix={api_lake.group_prefix}")
    enter_key(page, KEY)
    loaded(page)
    stats = fetch(served, f"/api/stats/?group_prefix={api_lake.group_prefix}")
    assert sum(ds["kafka"]["lag"] is not None for ds in stats["datasets"]) == 4
    for ds in stats["datasets"]:
        raw = next(layer for layer in ds["layers"] if layer["layer"] == "raw")
        curated = next(layer for layer in ds["layers"] if layer["layer"] == "curated")
        row = page.query_selector(f"#stats tr[data-dataset='{ds['dataset']}']")
        cells = {
            td.get_attribute("data-field"): td.inner_text() for td in row.query_selector_all("td")
        }
        assert cells["raw_rows"] == f"{raw['rows']:,}"
        assert cells["curated_rows"] == f"{curated['rows']:,}"
        assert cells["last_landed_at"] == raw["last_landed_at"]
        assert cells["dead_letters"] == f"{raw['dead_letters'] + curated['dead_letters']:,}"
        assert cells["kafka_lag"] == f"{ds['kafka']['lag']:,}"


def test_the_page_is_usable_by_keyboard_and_paints_fast(page):
    # First contentful paint when the browser reports it, else the DOM ready time: a bound for
    # a broken page (a blocking call, a huge script), not a speed measurement.
    first_paint = page.evaluate(
        """(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime
           || performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"""
    )
    assert 0 < first_paint < 5_000
    page.wait_for_selector("#key-form:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "api-key"  # focus goes to the prompt
    page.keyboard.type(KEY)
    page.keyboard.press("Enter")
    loaded(page)
    for label in ("From", "To", "Layer"):
        assert page.get_by_label(label, exact=True).count() == 1  # every control is labelled


@pytest.fixture(scope="module")
def one_dataset(running_stack, tmp_path_factory):
    """A lake where only transactions have landed (and been crawled): the other three
    analyses' tables do not exist yet."""
    lake = make_lake(running_stack, tmp_path_factory.mktemp("one"), deployment=True)
    lake.land("transactions", 300)
    LocalCrawler(lake.settings).crawl(lake.datasets.get("transactions"))
    with gunicorn_api(lake.env, KEY, API_THROTTLE_RATE="100000/min") as (port, _):
        yield port


def test_an_analysis_with_no_table_yet_says_so_and_the_others_still_draw(browser, one_dataset):
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(f"http://127.0.0.1:{one_dataset}/dashboard/")
        enter_key(page, KEY)
        page.wait_for_function(
            "document.querySelectorAll('section.analysis').length === 4"
            " && [...document.querySelectorAll('section.analysis')].every("
            "s => !s.querySelector('.notice').hidden || !s.querySelector('.drawn').hidden)",
            timeout=60_000,
        )
        sales = page.query_selector('section[data-analysis="sales_by_product_and_payment"]')
        assert sales.query_selector(".notice").is_hidden()
        bars = page.evaluate(
            """() => Chart.getChart(document.querySelector(
                'section[data-analysis="sales_by_product_and_payment"] canvas')).data.datasets[0]
                .data.length"""
        )
        assert bars > 0
        for name in ("web_errors", "social_engagement", "campaign_performance"):
            section = page.query_selector(f'section[data-analysis="{name}"]')
            notice = section.query_selector(".notice").inner_text()
            assert notice.startswith("No data yet on the raw layer"), notice
            assert "make crawl" in notice
            assert section.query_selector(".drawn").is_hidden()
        assert page.is_hidden("#problem")  # nothing blanks the whole page
    finally:
        context.close()


def test_refreshes_send_the_etag_back_and_get_304_while_nothing_changed(page, served):
    def not_modified() -> float:
        samples = scrape(f"http://127.0.0.1:{served}/metrics", {"X-API-Key": KEY})
        return value(samples, "lakestream_api_answers_total", outcome="not_modified")

    enter_key(page, KEY)
    loaded(page)
    before = not_modified()
    # The next automatic refresh (every 5 s) asks for each of the four analyses with its ETag.
    wait_until(lambda: not_modified() >= before + 4, timeout=30, what="four 304s")
    charts = page.evaluate("document.querySelectorAll('section.analysis canvas').length")
    assert charts == 4  # redrawn from the answers the page kept
    assert page.is_hidden("#problem")
    assert not page.errors or all("401" in e for e in page.errors)
