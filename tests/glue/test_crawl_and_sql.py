"""Crawl what the sink landed, then query it: tables, columns, partitions, saved analyses."""

from __future__ import annotations

import gzip

import orjson
import pandas as pd
import pytest

from engines import LocalEngine
from glue.cli import main as glue_main
from glue.crawler import LocalCrawler
from glue.queries import saved_queries
from lakestream.core import clients
from lakestream.core.errors import QueryError
from simulator.simulation import SimulationConfig, Simulator
from tests.lake_helpers import cli

pytestmark = pytest.mark.stack

N = 3_000
SEED = 17
LATE = 0.3  # late events before the start fall on the previous day: two partitions


@pytest.fixture(scope="module")
def landed(running_stack, tmp_path_factory):
    """All four datasets produced, landed and crawled once for this module's tests."""
    from tests.lake_helpers import make_lake

    lake = make_lake(running_stack, tmp_path_factory.mktemp("glue"), deployment=True)
    lake.land([ds.name for ds in lake.datasets], N, "--seed", str(SEED),
              "--late-fraction", str(LATE), "--client", "confluent")  # fmt: skip
    results = {r.table: r for r in (LocalCrawler(lake.settings).crawl(ds) for ds in lake.datasets)}
    return lake, results


def expected_records(name: str) -> pd.DataFrame:
    sim = Simulator(SimulationConfig(seed=SEED, late_fraction=LATE))
    return pd.DataFrame(sim.records(name, N))


def test_crawl_registers_tables_columns_and_partitions(landed):
    lake, results = landed
    glue = clients.aws_client(lake.settings, "glue")
    db = lake.settings.glue_database
    for ds in lake.datasets:
        result = results[ds.table]
        assert result.state == "created", (ds.name, result)
        table = glue.get_table(DatabaseName=db, Name=ds.table)["Table"]
        sd = table["StorageDescriptor"]
        assert sd["Location"] == f"s3://{lake.settings.bucket(ds)}/{ds.table}/"
        assert sd["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
        assert sd["InputFormat"] == "org.apache.hadoop.mapred.TextInputFormat"
        assert table["PartitionKeys"] == [{"Name": "dt", "Type": "string"}]
        columns = {c["Name"]: c["Type"] for c in sd["Columns"]}
        # Every catalog column, lowercased, with the catalog's type; then the sink's own.
        expected = {c.name.lower(): c.type for c in ds.columns}
        expected |= {"kafka_topic": "string", "kafka_partition": "bigint",
                     "kafka_offset": "bigint", "ingested_at": "timestamp"}  # fmt: skip
        assert columns == expected
        for c in ds.columns:
            if c.name != c.name.lower():
                assert sd["SerdeInfo"]["Parameters"][f"mapping.{c.name.lower()}"] == c.name
        parts = glue.get_partitions(DatabaseName=db, TableName=ds.table)["Partitions"]
        dates = sorted(p["Values"][0] for p in parts)
        event = expected_records(ds.name)[ds.event_time_field].str[:10]
        assert dates == sorted(set(event))
        for p in parts:
            assert p["StorageDescriptor"]["Location"].endswith(f"/{ds.table}/dt={p['Values'][0]}/")
    assert len(dates) >= 1
    tx_dates = [
        p["Values"][0]
        for p in glue.get_partitions(DatabaseName=db, TableName="kafka_ing_transactions")[
            "Partitions"
        ]
    ]
    assert len(tx_dates) == 2  # late events made 2024-09-30 appear


def test_recrawl_adds_new_columns_and_partitions_and_drops_nothing(landed):
    lake, _ = landed
    ds = lake.datasets.get("social_posts")
    crawler = LocalCrawler(lake.settings)
    assert crawler.crawl(ds).state == "unchanged"
    # A newer producer adds a field; its records land in a new day.
    record = {"user": "zed", "message": "hi", "post_date": "2025-01-01", "likes": 1, "retweets": 0,
              "Lang": "fr", "kafka_topic": ds.topic, "kafka_partition": 0, "kafka_offset": 10**9,
              "ingested_at": "2025-01-01 00:00:00.000"}  # fmt: skip
    key = f"{ds.table}/dt=2025-01-01/{ds.topic}+0+00000000001000000000.jsonl.gz"
    s3 = clients.aws_client(lake.settings, "s3")
    s3.put_object(
        Bucket=lake.settings.bucket(ds), Key=key, Body=gzip.compress(orjson.dumps(record))
    )
    result = crawler.crawl(ds)
    assert result.state == "updated"
    assert result.new_columns == ["lang"]
    assert result.new_partitions == 1
    names = [n for n, _ in result.columns]
    assert names[-1] == "lang"
    assert {"user", "likes", "kafka_offset"} <= set(names)  # nothing dropped
    engine = LocalEngine(lake.settings)
    query = "SELECT lang, count(*) FROM kafka_ing_social_data GROUP BY lang ORDER BY lang"
    rows = engine.execute(query).rows
    assert rows == [("fr", 1), (None, N)]
    s3.delete_object(Bucket=lake.settings.bucket(ds), Key=key)


def _frame(result) -> pd.DataFrame:
    return pd.DataFrame(result.rows, columns=result.columns)


WINDOWS = ["all", "first-day"]  # the whole lake, and a from/to range of its first event day


def run_saved(lake, name: str, window: dict[str, str] | None = None):
    query = saved_queries()[name]
    return LocalEngine(lake.settings).execute(query.sql, query.bind(window or {}))


def records_in(lake, dataset: str, window_name: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """The simulator's records of the dataset within the window, and the window as from/to."""
    df = expected_records(dataset)
    if window_name == "all":
        return df, {}
    field = lake.datasets.get(dataset).event_time_field
    days = pd.to_datetime(df[field]).dt.date.astype(str)
    first = days.min()
    inside = df[days == first]
    assert 0 < len(inside) < len(df)  # a real subset: the late events' day
    return inside, {"from": first, "to": first}


@pytest.mark.parametrize("window_name", WINDOWS)
def test_sales_by_product_and_payment_matches_pandas(landed, window_name):
    lake, _ = landed
    df, window = records_in(lake, "transactions", window_name)
    got = _frame(run_saved(lake, "sales_by_product_and_payment", window))
    want = (
        df.groupby(["Product", "PaymentMethod"])
        .agg(transactions=("Amount", "size"), revenue=("Amount", "sum"))
        .reset_index()
    )
    want["revenue"] = want["revenue"].round(2)
    merged = got.merge(
        want, left_on=["product", "payment_method"], right_on=["Product", "PaymentMethod"]
    )
    assert len(merged) == len(got) == len(want)
    assert (merged["transactions_x"] == merged["transactions_y"]).all()
    assert (merged["revenue_x"] - merged["revenue_y"]).abs().max() < 0.011
    assert list(got["revenue"]) == sorted(got["revenue"], reverse=True)


@pytest.mark.parametrize("window_name", WINDOWS)
def test_web_errors_matches_pandas(landed, window_name):
    lake, _ = landed
    df, window = records_in(lake, "web_logs", window_name)
    got = _frame(run_saved(lake, "web_errors", window))
    errors = df[df["Status_Code"] >= 400]
    want = errors.groupby(["Status_Code", "URL"]).size()
    assert (
        dict(zip(zip(got["status_code"], got["url"], strict=True), got["hits"], strict=True))
        == want.to_dict()
    )
    assert set(got["error_class"]) == {"4xx", "5xx"}
    assert all(
        (c == "5xx") == (s >= 500)
        for c, s in zip(got["error_class"], got["status_code"], strict=True)
    )


@pytest.mark.parametrize("window_name", WINDOWS)
def test_campaign_performance_matches_pandas(landed, window_name):
    lake, _ = landed
    df, window = records_in(lake, "ad_campaigns", window_name)
    got = _frame(run_saved(lake, "campaign_performance", window))
    latest = df.groupby("campaign_id").agg(
        impressions=("impressions", "max"), clicks=("clicks", "max")
    )
    assert len(got) == len(latest)
    for row in got.itertuples():
        assert row.impressions == latest.loc[row.campaign_id, "impressions"]
        assert row.clicks == latest.loc[row.campaign_id, "clicks"]
        assert row.ctr == round(row.clicks / row.impressions, 4)


@pytest.mark.parametrize("window_name", WINDOWS)
def test_social_engagement_matches_pandas(landed, window_name):
    lake, _ = landed
    df, window = records_in(lake, "social_posts", window_name)
    got = _frame(run_saved(lake, "social_engagement", window))
    want = df.groupby("user").agg(
        posts=("likes", "size"), likes=("likes", "sum"), retweets=("retweets", "sum")
    )
    assert len(got) == len(want)
    got = got.set_index("user").sort_index()
    want = want.sort_index()
    assert list(got.index) == list(want.index)
    assert (got["posts"] == want["posts"]).all()
    assert (got["likes"] == want["likes"]).all()
    assert (got["retweets"] == want["retweets"]).all()


def test_parameters_are_bound_and_partitions_pruned(landed):
    lake, _ = landed
    engine = LocalEngine(lake.settings)
    result = engine.execute(
        "SELECT count(*) AS n FROM kafka_ing_transactions WHERE dt = ? AND paymentmethod = ?",
        ["2024-10-01", "PayPal"],
    )
    df = expected_records("transactions")
    want = ((df["TransactionDate"] == "2024-10-01") & (df["PaymentMethod"] == "PayPal")).sum()
    assert result.rows == [(want,)]
    assert result.scanned_partitions == {"kafka_ing_transactions": ["2024-10-01"]}
    # A hostile value is only ever a value.
    result = engine.execute(
        "SELECT count(*) FROM kafka_ing_transactions WHERE product = ?", ["x' OR '1'='1"]
    )
    assert result.rows == [(0,)]


@pytest.mark.parametrize(
    ("sql", "kind", "message"),
    [
        ("SELEC 1", "bad_sql", "the SQL does not parse"),
        (
            "SELECT * FROM kafka_ing_nope",
            "unknown_table",
            "table 'kafka_ing_nope' is not in the Glue database",
        ),
        ("SELECT 1; DROP TABLE kafka_ing_logs", "bad_sql", "send exactly one statement"),
        ("DROP TABLE kafka_ing_logs", "bad_sql", "only queries (SELECT) are allowed"),
        ("SELECT * FROM read_csv('/etc/passwd')", "bad_sql", "not table functions"),
        ("SELECT nope FROM kafka_ing_logs", "bad_sql", 'Referenced column "nope" not found'),
        (
            "SELECT * FROM kafka_ing_logs WHERE url = ?",
            "bad_parameter",
            "1 '?' parameters but 0 values",
        ),
    ],
)
def test_bad_sql_and_unknown_tables_are_clear_errors(landed, sql, kind, message):
    lake, _ = landed
    with pytest.raises(QueryError) as caught:
        LocalEngine(lake.settings).execute(sql)
    assert caught.value.kind == kind
    assert message in str(caught.value)


def test_sql_command_prints_json_and_fails_cleanly(landed):
    lake, _ = landed
    run = lambda *a: cli(glue_main, ["sql", *a], lake.env)  # noqa: E731
    result = run("--saved", "web_errors", "--json", "--max-rows", "3")
    assert result.returncode == 0, result.stderr
    doc = orjson.loads(result.stdout)
    assert doc["columns"] == ["error_class", "status_code", "url", "hits"]
    assert len(doc["rows"]) == 3
    assert doc["truncated"] is True
    result = run("SELECT * FROM nowhere")
    assert result.returncode == 2
    assert result.stderr.startswith("glue: error (unknown_table): table 'nowhere'")
    assert "Traceback" not in result.stderr


def test_a_first_crawl_waits_for_data_and_is_never_repeated(deployment_lake):
    """`crawl --missing` on the curation instance: a crawl costs a run whatever it finds."""
    from glue.crawler import awaiting_a_crawl

    lake = deployment_lake
    datasets = list(lake.datasets)
    assert awaiting_a_crawl(lake.settings, datasets) == []  # no data anywhere yet
    lake.land("transactions", 50)
    assert [ds.name for ds in awaiting_a_crawl(lake.settings, datasets)] == ["transactions"]
    LocalCrawler(lake.settings).crawl(lake.datasets.get("transactions"))
    assert awaiting_a_crawl(lake.settings, datasets) == []  # its table exists: done


def test_missing_is_for_the_crawlers_on_aws(deployment_lake, capsys):
    from glue.cli import main

    env = {**deployment_lake.env, "LAKESTREAM_TARGET": "local"}
    from tests.lake_helpers import environment

    with environment(env):
        assert main(["crawl", "--missing"]) == 2
    assert "--missing is for the crawlers on AWS" in capsys.readouterr().err
