"""Generators: schema, types, realism and integrity over large samples."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import orjson
import pytest

from lakestream.core.datasets import default_catalog
from lakestream.core.records import check_record, parse_record
from simulator import reference_data as ref
from simulator.simulation import SimulationConfig, Simulator

N = 30_000
CATALOG = default_catalog()


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator(SimulationConfig(seed=1234))


@pytest.fixture(scope="module")
def samples(sim) -> dict[str, list[dict]]:
    return {ds.name: sim.records(ds.name, N) for ds in CATALOG}


@pytest.mark.parametrize("name", [ds.name for ds in CATALOG])
def test_every_record_matches_the_catalog_schema(samples, name):
    dataset = CATALOG.get(name)
    for record in samples[name]:
        assert list(record) == dataset.column_names
        assert check_record(record, dataset) == []


@pytest.mark.parametrize("name", [ds.name for ds in CATALOG])
def test_messages_are_keyed_json_of_the_records(name):
    a, b = Simulator(SimulationConfig(seed=5)), Simulator(SimulationConfig(seed=5))
    batch = a.messages(name, 500)
    records = b.records(name, 500)
    dataset = CATALOG.get(name)
    assert [orjson.loads(v) for v in batch.values] == records
    assert batch.keys == [str(r[dataset.key_field]).encode() for r in records]
    assert batch.faults == {}
    assert all(parse_record(v, dataset) for v in batch.values)


def test_transactions_are_realistic(samples):
    rows = samples["transactions"]
    prices = {name: price for name, _, price in ref.PRODUCTS}
    max_qty = max(ref.QUANTITIES)
    for r in rows:
        price = prices[r["Product"]]  # KeyError = a product outside the catalog
        assert 0 < r["Amount"] <= round(price * max_qty, 2)
        assert round(r["Amount"], 2) == r["Amount"]
        assert r["PaymentMethod"] in ref.PAYMENT_METHODS
        assert re.fullmatch(
            r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", r["ClientID"]
        )
    methods = Counter(r["PaymentMethod"] for r in rows)
    assert methods.most_common(1)[0][0] == "Credit Card"
    assert 0.40 < methods["Credit Card"] / len(rows) < 0.50


def test_transactions_have_repeat_customers_with_stable_names(samples):
    rows = samples["transactions"]
    per_customer = Counter(r["ClientID"] for r in rows)
    assert len(per_customer) < len(rows) / 3  # customers come back
    assert per_customer.most_common(1)[0][1] >= 20  # and some come back often
    names: dict[str, str] = {}
    for r in rows:
        assert names.setdefault(r["ClientID"], r["ClientName"]) == r["ClientName"]


def test_web_logs_have_a_realistic_status_mix_and_addresses(samples):
    rows = samples["web_logs"]
    classes = Counter(r["Status_Code"] // 100 for r in rows)
    share = {k: v / len(rows) for k, v in classes.items()}
    assert 0.80 < share[2] < 0.90
    assert 0.05 < share[3] < 0.15
    assert 0.03 < share[4] < 0.10
    assert 0.005 < share[5] < 0.04
    ipv6 = sum(":" in r["IP_Address"] for r in rows) / len(rows)
    assert 0.03 < ipv6 < 0.35
    assert all(r["URL"].startswith("/") for r in rows)
    assert {r["Method"] for r in rows} <= set(ref.HTTP_METHODS)
    assert len({r["User_Agent"] for r in rows}) == len(ref.USER_AGENTS)


def test_web_logs_hit_product_pages_of_the_same_catalog(samples):
    slugs = {re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") for name, _, _ in ref.PRODUCTS}
    product_hits = [r["URL"] for r in samples["web_logs"] if r["URL"].startswith("/products/")]
    assert len(product_hits) > N * 0.3
    assert {url.removeprefix("/products/") for url in product_hits} <= slugs


def test_campaigns_are_consistent(samples):
    for r in samples["ad_campaigns"]:
        assert 0 <= r["clicks"] <= r["impressions"]
        assert r["ctr"] == r["clicks"] / r["impressions"]
        assert date.fromisoformat(r["end_date"]) >= date.fromisoformat(r["start_date"])
        low, high = ref.CAMPAIGN_BUDGET_RANGE
        assert low <= r["budget"] <= high
        assert re.fullmatch(r"[0-9a-f]{32}", r["campaign_id"])
        assert r["hashtag"].startswith("#")


def test_campaign_snapshots_keep_identity_and_grow(sim):
    fresh = Simulator(SimulationConfig(seed=99, campaigns=10))
    rows = fresh.records("ad_campaigns", 40)
    first, later = rows[:10], rows[10:20]
    assert len({r["campaign_id"] for r in first}) == 10
    for a, b in zip(first, later, strict=True):
        assert a["campaign_id"] == b["campaign_id"]
        assert (a["start_date"], a["end_date"], a["budget"]) == (
            b["start_date"], b["end_date"], b["budget"],
        )  # fmt: skip
        assert b["impressions"] >= a["impressions"]
        assert b["clicks"] >= a["clicks"]


def test_posts_mention_campaign_hashtags_and_products(sim, samples):
    campaign_tags = {r["hashtag"] for r in samples["ad_campaigns"][:100]}
    product_names = [name for name, _, _ in ref.PRODUCTS]
    tagged = 0
    mentions_product = 0
    for r in samples["social_posts"]:
        tags = set(re.findall(r"#\w+", r["message"]))
        assert tags <= campaign_tags
        tagged += bool(tags)
        mentions_product += any(name in r["message"] for name in product_names)
        assert 0 <= r["retweets"] <= r["likes"]
    assert tagged > N * 0.6
    assert mentions_product > N * 0.6
    mentions = sum("@" in r["message"] for r in samples["social_posts"])
    assert mentions > N * 0.1
    likes = sorted(r["likes"] for r in samples["social_posts"])
    assert likes[-1] > 20 * likes[len(likes) // 2]  # heavy tail: a few posts go viral
