"""New data is queryable through the API seconds after it lands, with no crawl: the sink
registers each new day's partition as it writes it."""

from __future__ import annotations

import signal
import time
from urllib.parse import urlencode

import pytest

from glue.crawler import LocalCrawler
from tests.lake_helpers import finish

pytestmark = pytest.mark.stack

NEW_DAY = "2031-07-14"


def rows_of_day(api, table: str) -> int:
    query = {
        "table": table,
        "filter": f"dt = '{NEW_DAY}'",
        "columns": "kafka_offset",
        "limit": "1000",
    }
    response = api.get(f"/api/query-table/?{urlencode(query)}")
    assert response.status_code == 200, response.content[:300]
    return response.json()["row_count"]


def test_a_record_of_a_brand_new_day_comes_back_from_the_api_with_no_crawl(api, settings, lake):
    settings.LAKE = lake.settings
    lake.land("transactions", 100)
    ds = lake.datasets.get("transactions")
    LocalCrawler(lake.settings).crawl(ds)  # the table exists; NEW_DAY is not one of its partitions
    assert rows_of_day(api, ds.table) == 0

    sink = lake.sink("transactions", "--max-age", "1", "--assignment", "manual")  # keeps running
    try:
        produced = lake.produce("transactions", 25, "--start", f"{NEW_DAY}T09:00:00")
        sent = time.monotonic()
        deadline = sent + 60  # a bound for a hung sink, not a speed check (that is the bench's)
        while (seen := rows_of_day(api, ds.table)) < produced and time.monotonic() < deadline:
            time.sleep(0.2)
        print(f"queryable {time.monotonic() - sent:.1f}s after the producer returned")
        assert seen == produced == 25
    finally:
        sink.send_signal(signal.SIGTERM)
        finish(sink, timeout=60)
