"""The dataset catalog: the packaged file is valid, and every kind of mistake names its place."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from lakestream.core.datasets import (
    DEFAULT_CATALOG_PATH,
    default_catalog,
    load_catalog,
    parse_catalog,
)
from lakestream.core.errors import CatalogError

SEED_NAMES = {
    "transactions": ("transactions_topic", "kafka-ing-transactions", "kafka_ing_transactions"),
    "web_logs": ("logs_topic", "kafka-ing-logs", "kafka_ing_logs"),
    "social_posts": ("social_data_topic", "kafka-ing-social-data", "kafka_ing_social_data"),
    "ad_campaigns": ("ad_campaigns_topic", "kafka-ing-ad-campaigns", "kafka_ing_ad_campaigns"),
}
SEED_FIELDS = {
    "transactions": [
        "ClientID", "ClientName", "TransactionDate", "Product", "Amount", "PaymentMethod",
    ],
    "web_logs": ["IP_Address", "URL", "Status_Code", "Timestamp"],
    "social_posts": ["user", "message", "post_date", "likes", "retweets"],
    "ad_campaigns": [
        "campaign_id", "start_date", "end_date", "budget", "clicks", "impressions", "ctr",
    ],
}  # fmt: skip
KEYS = {
    "transactions": "ClientID",
    "web_logs": "IP_Address",
    "social_posts": "user",
    "ad_campaigns": "campaign_id",
}


@pytest.fixture
def raw() -> dict:
    return yaml.safe_load(DEFAULT_CATALOG_PATH.read_text(encoding="utf-8"))


def test_packaged_catalog_has_the_seed_compatible_names():
    catalog = default_catalog()
    assert [ds.name for ds in catalog] == list(SEED_NAMES)
    for ds in catalog:
        assert (ds.topic, ds.bucket, ds.table) == SEED_NAMES[ds.name]
        # The seed's fields come first, in order, and are required; extras are optional.
        seed = SEED_FIELDS[ds.name]
        assert ds.column_names[: len(seed)] == seed
        assert all(ds.column(name).required for name in seed)
        assert not any(c.required for c in ds.columns[len(seed) :])
        assert ds.key_field == KEYS[ds.name]
        assert ds.column(ds.event_time_field).type in ("date", "timestamp")
        assert ds.partitions >= 1
        assert ds.crawler == f"{ds.table}_crawler"


def test_lookups_by_topic_and_table():
    catalog = default_catalog()
    assert catalog.by_topic("logs_topic").name == "web_logs"
    assert catalog.by_table("kafka_ing_social_data").name == "social_posts"
    with pytest.raises(CatalogError, match="unknown dataset 'nope'; known: transactions"):
        catalog.get("nope")


def test_bucket_suffix_is_appended_and_checked():
    ds = default_catalog().get("transactions")
    assert ds.bucket_name("-acme-dev") == "kafka-ing-transactions-acme-dev"
    with pytest.raises(
        CatalogError, match=r"dataset 'transactions': bucket .*LAKESTREAM_BUCKET_SUFFIX"
    ):
        ds.bucket_name("_UPPER")


def _broken(raw: dict, edit) -> dict:
    data = copy.deepcopy(raw)
    edit(data)
    return data


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda d: d["datasets"]["transactions"].pop("topic"),
            "dataset 'transactions', field 'topic': is required but missing",
        ),
        (
            lambda d: d["datasets"]["web_logs"].update(bucket="Kafka_Logs"),
            "dataset 'web_logs', field 'bucket': 'Kafka_Logs' is not a legal S3 bucket name",
        ),
        (
            lambda d: d["datasets"]["social_posts"].update(key_field="author"),
            "dataset 'social_posts': key_field: 'author' is not one of its columns",
        ),
        (
            lambda d: d["datasets"]["ad_campaigns"].update(event_time_field="budget"),
            "dataset 'ad_campaigns': event_time_field: column 'budget' must be of type date",
        ),
        (
            lambda d: d["datasets"]["transactions"]["columns"][4].update(type="money"),
            "dataset 'transactions', field 'columns[4].type': 'money' is not a column type; known:",
        ),
        (
            lambda d: d["datasets"]["transactions"]["columns"][0].update(name="_id"),
            "dataset 'transactions', field 'columns[0].name': '_id' is not a valid column name",
        ),
        (
            lambda d: d["datasets"]["web_logs"]["columns"].append(
                {"name": "kafka_offset", "type": "bigint"}
            ),
            "field 'columns[6].name': 'kafka_offset' is reserved",
        ),
        (
            lambda d: d["datasets"]["web_logs"].update(partitons=3),
            "dataset 'web_logs', field 'partitons': is not a known field",
        ),
        (
            lambda d: d["datasets"]["web_logs"].update(partitions=0),
            "dataset 'web_logs', field 'partitions': Input should be greater than or equal to 1",
        ),
        (
            lambda d: d["datasets"]["web_logs"].update(topic="transactions_topic"),
            "datasets 'transactions' and 'web_logs' share the topic 'transactions_topic'",
        ),
        (
            lambda d: d.update(version=2),
            "field 'version': Input should be 1",
        ),
    ],
)
def test_malformed_catalog_names_the_dataset_and_field(raw, edit, expected):
    with pytest.raises(CatalogError) as caught:
        parse_catalog(_broken(raw, edit), source="bad.yaml")
    message = str(caught.value)
    assert message.startswith("bad.yaml: ")
    assert expected in message


def test_load_catalog_reports_unreadable_and_invalid_yaml(tmp_path: Path):
    with pytest.raises(CatalogError, match="cannot read the dataset catalog"):
        load_catalog(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ndatasets: [unclosed\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="not valid YAML"):
        load_catalog(bad)


def test_load_catalog_accepts_a_valid_custom_file(tmp_path: Path, raw):
    raw["datasets"] = {"transactions": raw["datasets"]["transactions"]}
    path = tmp_path / "one.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    catalog = load_catalog(path)
    assert [ds.name for ds in catalog] == ["transactions"]


def test_an_edited_catalog_file_is_read_again_and_an_unchanged_one_is_not_parsed_again(
    tmp_path: Path, raw
):
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    first = load_catalog(path)
    assert load_catalog(path) is first  # the same text: the catalog parsed before
    raw["datasets"] = {"transactions": raw["datasets"]["transactions"]}
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    assert [ds.name for ds in load_catalog(path)] == ["transactions"]
    path.write_text("version: 1\ndatasets: [unclosed\n", encoding="utf-8")
    for _ in range(2):  # an error is never kept: each load says it
        with pytest.raises(CatalogError, match="not valid YAML"):
            load_catalog(path)


def test_invalid_yaml_is_described_by_the_parser_that_says_most(tmp_path: Path):
    path = tmp_path / "tabs.yaml"
    path.write_text("version: 1\ndatasets:\n\ttransactions: {}\n", encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    # libyaml says only "found character that cannot start any token".
    assert "found character '\\t' that cannot start any token" in str(caught.value)
    assert "line 3, column 1" in str(caught.value)


def test_datasets_are_selected_by_dataset_or_topic_name():
    catalog = default_catalog()
    chosen = catalog.select(["logs_topic", "transactions,web_logs"])
    assert [ds.name for ds in chosen] == ["web_logs", "transactions"]
    assert len(catalog.select(None)) == 4
    with pytest.raises(CatalogError, match="unknown topic or dataset 'nope'; known: transactions"):
        catalog.select(["nope"])
