"""Each stage's IAM policy (infra/modules/stage_policies) against the AWS calls its code makes:
nothing missing, nothing extra.

The stages run for real against a moto server that writes down every request
(tests/aws_calls.py): producers, the sink (twice, around a crawl, over a crashed attempt's
leftovers), curation and maintenance (with retention), and the API on its Athena engine, every
GET endpoint of its OpenAPI document on both layers. Their Kafka clients start with a Secrets
Manager reference, as on AWS; Tansu cannot check SCRAM here, so the data itself travels in
PLAINTEXT. Terraform renders the policies for this run's buckets, tables and secrets; a small
IAM evaluator (tests/infra/iam.py) compares.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, date, datetime

import orjson
import pytest
from pydantic import SecretStr

from consumers.audit import read_rows
from consumers.cli import main as consumers_main
from consumers.groups import committed_offsets, group_id
from curation.cli import main as curation_main
from curation.tables import location
from engines.athena import AthenaEngine
from glue.cli import main as glue_main
from glue.crawler import awaiting_a_crawl, run_aws_crawlers
from lakestream.core import clients
from lakestream.core.errors import QueryTimeout
from lakestream.core.formats import JsonLinesGzip
from lakestream.core.layout import manifest_key
from lakestream.core.settings import Settings
from lakestream.stack.processes import free_port
from lakestream.stack.provision import provision
from producers.cli import main as producers_main
from tests.aws_calls import ACCOUNT, Need, implied, needed, recording_moto
from tests.infra.hcl import INFRA, MODULES, evaluate_output, load
from tests.infra.iam import evaluate
from tests.kafka_helpers import memory_broker
from tests.lake_helpers import gunicorn_api, run_in_process
from tests.metrics_helpers import emf_agent

pytestmark = pytest.mark.stack

STAGES = ("producers", "sink", "crawl", "curation", "api")
KAFKA_USERS = {"producers": "producers", "sink": "sink", "curation": "curation"}
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/0b1f3c2e-1111-2222-3333-444455556666"
API_KEY = "key-from-the-vault"
GROUP_PREFIX = "lakestream-sink"


@dataclass
class Run:
    settings: Settings
    secrets: dict[str, str]  # Kafka user (and "api") => secret ARN
    needs: dict[str, set[Need]]
    metric_documents: list[dict]  # what the services sent the stand-in CloudWatch agent


# The stages' command lines, run in this process (tests/lake_helpers.py, run_in_process): the
# same parsing, settings and calls as `python -m <stage>`, without an interpreter's start each.
STAGE_MAINS = {
    "producers": producers_main,
    "consumers": consumers_main,
    "glue": glue_main,
    "curation": curation_main,
}


def _python(env: dict[str, str], flag: str, module: str, *argv: str) -> str:
    assert flag == "-m", flag
    return run_in_process(STAGE_MAINS[module], list(argv), env)


def _start_kafka_clients_as_on_aws(settings: Settings, user: str, secret: str) -> None:
    """Every Kafka client the project builds takes its options here (the TLS tests prove the
    producers', the sink's and the admin's do): with a reference, the secret is read once."""
    referring = settings.model_copy(
        update={
            "kafka_security_protocol": "SASL_SSL",
            "kafka_sasl_password": SecretStr(f"secretsmanager:{secret}"),
        }
    )
    clients._SECRETS.clear()
    assert clients.kafka_python_options(referring)["sasl_plain_username"] == user
    assert clients.librdkafka_options(referring)["sasl.username"] == user


def _leave_a_crashed_attempt(settings: Settings) -> None:
    """A manifest naming objects of an attempt that never committed, at the committed offset of
    partition 0: the sink's next attempt there deletes them."""
    s3 = clients.aws_client(settings, "s3")
    for ds in settings.datasets:
        committed = committed_offsets(settings, group_id(GROUP_PREFIX, ds), ds.topic).get(0, 0)
        stale = [f"{ds.table}/dt=2024-10-01/stale-attempt.jsonl.gz", f"_dlq/{ds.topic}/stale"]
        bucket = settings.bucket(ds)
        for key in stale:
            s3.put_object(Bucket=bucket, Key=key, Body=b"{}")
        manifest = {"first_offset": committed, "next_offset": committed + 99, "keys": stale}
        s3.put_object(Bucket=bucket, Key=manifest_key(ds.topic, 0), Body=orjson.dumps(manifest))


def _plant_records_curation_refuses(settings: Settings) -> None:
    s3 = clients.aws_client(settings, "s3")
    for ds in settings.datasets:
        bucket = settings.bucket(ds)
        key = next(o["Key"] for o in clients.list_objects(s3, bucket, f"{ds.table}/dt=2024-11-2"))
        rows = read_rows(s3.get_object(Bucket=bucket, Key=key)["Body"].read(), key)
        rows[0][ds.event_time_field] = "not a time"
        s3.put_object(Bucket=bucket, Key=key, Body=JsonLinesGzip().encode(rows))


def _call_every_endpoint(port: int) -> list[int]:
    def get(path: str) -> int:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}", headers={"X-API-Key": API_KEY}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/swagger.json", timeout=30) as response:
        document = json.loads(response.read())
    statuses = []
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    for path, operations in document["paths"].items():
        names = {p["name"] for p in operations.get("get", {}).get("parameters", [])}
        for layer in ("raw", "curated"):
            query = {"layer": layer} if "layer" in names else {}
            if "table" in names:
                query["table"] = "kafka_ing_transactions"
            if "as_of" in names and layer == "curated":
                query["as_of"] = now
            url = document["basePath"].rstrip("/") + path.replace(
                "{name}", "kafka_ing_transactions"
            )
            statuses.append(get(url + ("?" + urllib.parse.urlencode(query) if query else "")))
    return statuses


def athena_reads(settings: Settings) -> set[Need]:
    """What Athena checks with the caller's permissions to run a query on these tables and
    write its result (docs.aws.amazon.com/athena: access to Amazon S3 and to the Glue catalog)."""
    glue = f"arn:aws:glue:{settings.aws_region}:{ACCOUNT}"
    results = f"arn:aws:s3:::{settings.results_bucket}"
    needs = {
        Need("s3:GetBucketLocation", results),
        Need("s3:ListBucket", results, prefix="results/"),
        Need("s3:ListBucketMultipartUploads", results),
    }
    for action in ("GetObject", "PutObject", "AbortMultipartUpload", "ListMultipartUploadParts"):
        needs.add(Need(f"s3:{action}", f"{results}/results/a-query.csv"))
    for database in (settings.glue_database, settings.curated_database):
        for action in ("GetDatabase", "GetTable"):
            needs |= {Need(f"glue:{action}", f"{glue}:catalog"),
                      Need(f"glue:{action}", f"{glue}:database/{database}")}  # fmt: skip
    for ds in settings.datasets:
        bucket = f"arn:aws:s3:::{settings.bucket(ds)}"
        curated = location(settings, ds).split("/", 3)[3]
        needs.add(Need("s3:GetBucketLocation", bucket))
        for prefix in (ds.table, curated):
            needs.add(Need("s3:ListBucket", bucket, prefix=f"{prefix}/"))
            needs.add(Need("s3:GetObject", f"{bucket}/{prefix}/a-data-file"))
        for database in (settings.glue_database, settings.curated_database):
            needs.add(Need("glue:GetTable", f"{glue}:table/{database}/{ds.table}"))
        for target in (f"{glue}:catalog", f"{glue}:database/{settings.glue_database}",
                       f"{glue}:table/{settings.glue_database}/{ds.table}"):  # fmt: skip
            needs.add(Need("glue:GetPartitions", target))
    return needs


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Run:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    folder = tmp_path_factory.mktemp("stages")
    with (
        recording_moto() as moto,
        memory_broker(folder, free_port()) as bootstrap,
        emf_agent() as (agent_port, documents),
    ):
        env = {
            **os.environ,
            "LAKESTREAM_TARGET": "local",
            "AWS_ENDPOINT_URL": moto.endpoint,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "LAKESTREAM_EMBEDDED": "0",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": "us-east-1",
            "LAKESTREAM_BUCKET_SUFFIX": "-stages",
            "LAKESTREAM_RUN_DIR": str(folder / "run"),
        }
        env.pop("LAKESTREAM_CATALOG", None)
        settings = Settings(_env_file=None, **{k: v for k, v in env.items() if k.isupper()})
        provision(settings)
        sm = clients.aws_client(settings, "secretsmanager")
        secrets = {
            user: sm.create_secret(
                Name=f"lakestream-kafka/users/{user}",
                SecretString=json.dumps({"username": user, "password": f"pw-{user}"}),
            )["ARN"]
            for user in KAFKA_USERS.values()
        }
        secrets["api"] = sm.create_secret(Name="lakestream-api/key", SecretString=API_KEY)["ARN"]
        produce = ("-m", "producers", "--quiet", "--malformed-rate", "0.05")
        # The services run as on AWS: metrics to the CloudWatch agent, logs as JSON lines.
        service = {
            **env,
            "LAKESTREAM_METRICS_EMF": f"tcp://127.0.0.1:{agent_port}",
            "LAKESTREAM_LOG_FORMAT": "json",
        }

        with moto.window("producers"):
            _python(env, *produce, "--count", "200")
            _start_kafka_clients_as_on_aws(settings, "producers", secrets["producers"])

        sink = ("-m", "consumers", "--until-idle", "1", "--assignment", "manual",
                "--group-prefix", GROUP_PREFIX)  # fmt: skip
        with moto.window("sink"):  # the tables are not crawled yet: no partition to register
            _python(service, *sink)
        with moto.window("crawl"):
            # `crawl --missing` (the curation instance's timer): every table missing, with data.
            assert awaiting_a_crawl(settings, list(settings.datasets)) == list(settings.datasets)
        _python(env, "-m", "glue", "crawl")
        # moto's crawls stay RUNNING until told otherwise; a real one finishes in a minute or so.
        urllib.request.urlopen(
            urllib.request.Request(
                f"{moto.endpoint}/moto-api/state-manager/set-transition",
                data=json.dumps(
                    {"model_name": "glue::crawl", "transition": {"progression": "immediate"}}
                ).encode(),
                method="POST",
            ),
            timeout=10,
        ).close()
        with moto.window("crawl"):  # what `make crawl` does on AWS: the real crawlers
            statuses = run_aws_crawlers(settings, list(settings.datasets), print, poll_s=0.05)
            # Once the tables exist, `crawl --missing` starts nothing.
            assert awaiting_a_crawl(settings, list(settings.datasets)) == []
            # Glue's LastCrawl.Status is SUCCEEDED, CANCELLED or FAILED; moto says COMPLETED.
            assert set(statuses) == {settings.crawler(ds) for ds in settings.datasets}
        _python(env, *produce, "--count", "100", "--start", "2024-11-01")
        _leave_a_crashed_attempt(settings)
        with moto.window("sink"):
            _python(service, *sink)
            _start_kafka_clients_as_on_aws(settings, "sink", secrets["sink"])

        # On AWS, Terraform creates the curated tables; here the first pass does, unrecorded.
        _python(env, "-m", "curation", "--group-prefix", GROUP_PREFIX)
        _python(env, *produce, "--count", "100", "--start", "2024-11-20")
        _python(env, *sink)
        _plant_records_curation_refuses(settings)
        with moto.window("curation"):
            out = _python(service, "-m", "curation", "--group-prefix", GROUP_PREFIX, "--json")
            assert sum(r["dead_letters"] for r in json.loads(out)) >= 4
            # A cutoff inside the data (2024-10-01 on): raw days and curated rows go.
            keep = (datetime.now(UTC).date() - date(2024, 10, 10)).days
            _python(service, "-m", "curation", "maintain", "--retention-days", str(keep),
                    "--snapshot-age", "0", "--orphan-age", "0", "--no-pass-running")  # fmt: skip
            _start_kafka_clients_as_on_aws(settings, "curation", secrets["curation"])

        with moto.window("api"), gunicorn_api(service, f"secretsmanager:{secrets['api']}",
                                               API_ENGINE="athena") as (port, _):  # fmt: skip
            statuses = _call_every_endpoint(port)
            assert statuses.count(200) >= 15, statuses
            # The engine's timeout path stops the query (StopQueryExecution).
            with pytest.raises(QueryTimeout):
                AthenaEngine(settings, timeout=1e-9).execute("SELECT 1")

    needs = {}
    for stage in STAGES:
        made = needed(moto.windows[stage], settings.athena_workgroup)
        needs[stage] = made | implied(made, KEY, settings.aws_region, athena_reads(settings))
    return Run(settings, secrets, needs, list(documents))


@pytest.fixture(scope="module")
def policies(terraform_bin, tmp_path_factory, run) -> dict[str, dict]:
    """The module's documents, rendered by Terraform for this run's resources."""
    settings = run.settings
    datasets = {
        ds.name: {
            "bucket": settings.bucket(ds),
            "table": ds.table,
            "topic": ds.topic,
            "curated_prefix": location(settings, ds).split("/", 3)[3],
            "crawler": settings.crawler(ds),
        }
        for ds in settings.datasets
    }
    variables = {
        "region": settings.aws_region,
        "account_id": ACCOUNT,
        "datasets": datasets,
        "raw_database": settings.glue_database,
        "curated_database": settings.curated_database,
        "results_bucket": settings.results_bucket,
        "workgroup": settings.athena_workgroup,
        "kms_key_arn": KEY,
        "kafka_user_secrets": {user: run.secrets[user] for user in KAFKA_USERS.values()},
        "api_key_secret_arn": run.secrets["api"],
    }
    main_tf = (
        f'module "stages" {{\n  source = "{MODULES / "stage_policies"}"\n'
        + "".join(f"  {k} = {json.dumps(v)}\n" for k, v in variables.items())
        + '}\noutput "documents" {\n  value = module.stages.documents\n}\n'
    )
    documents = evaluate_output(
        terraform_bin, tmp_path_factory.mktemp("policies"), main_tf, "documents"
    )
    return {stage: json.loads(document) for stage, document in documents.items()}


def test_every_stage_has_a_policy(policies) -> None:
    assert set(policies) == set(STAGES)


@pytest.mark.parametrize("stage", STAGES)
def test_the_policy_allows_every_call_the_stage_makes(run, policies, stage) -> None:
    verdict = evaluate(policies[stage], run.needs[stage])
    missing = [
        f"{n.action} on {n.resource} (prefix {n.prefix}, via {n.via})" for n in verdict.missing
    ]
    assert not missing, f"{stage} would be refused:\n" + "\n".join(missing)


@pytest.mark.parametrize("stage", STAGES)
def test_the_policy_allows_nothing_the_stage_does_not_use(run, policies, stage) -> None:
    verdict = evaluate(policies[stage], run.needs[stage])
    assert not verdict.unused, f"{stage}'s policy allows more than it uses:\n" + "\n".join(
        verdict.unused
    )


def test_the_services_send_metrics_to_the_agent_and_call_no_cloudwatch_api(run) -> None:
    """On AWS the services' metrics go to the CloudWatch agent on the instance (EMF over TCP),
    whose own calls ssm_instance's `write-logs` policy allows: the stages' policies need no
    CloudWatch or CloudWatch Logs action, and grant none."""
    sent = {
        metric["Name"]
        for doc in run.metric_documents
        for directive in doc["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
    }
    assert {"sink_records", "curation_records", "curation_pass_seconds_count"} <= sent
    assert "api_requests" in sent  # each gunicorn worker sends its last interval as it stops
    for stage, needs in run.needs.items():
        services = {n.action.split(":")[0] for n in needs}
        assert not services & {"cloudwatch", "logs"}, stage


def test_the_run_exercised_each_stage(run) -> None:
    actions = {stage: {n.action for n in needs} for stage, needs in run.needs.items()}
    assert "glue:BatchCreatePartition" in actions["sink"]  # after the crawl
    assert "s3:DeleteObject" in actions["sink"]  # the crashed attempt's leftovers
    assert {"glue:BatchDeletePartition", "s3:DeleteObject"} <= actions["curation"]  # retention
    assert "athena:StopQueryExecution" in actions["api"]
    assert actions["crawl"] == {
        "glue:StartCrawler", "glue:GetCrawler", "glue:GetTable", "s3:ListBucket"
    }  # fmt: skip
    for stage in set(STAGES) - {"crawl"}:  # the crawl talks to no broker
        assert "secretsmanager:GetSecretValue" in actions[stage], stage


# --- the root module creates them ----------------------------------------------------------------


def test_root_creates_one_policy_per_stage_from_the_deployment() -> None:
    root = load(INFRA)
    module = root.modules["stage_policies"]
    assert module["source"] == "./modules/stage_policies"
    assert module["kafka_user_secrets"] == "${module.kafka.user_secret_arns}"
    assert module["kms_key_arn"] == "${aws_kms_key.lake.arn}"
    assert "module.s3_lake.bucket_names[name]" in module["datasets"]
    assert "d.curated_location" in module["datasets"]
    assert module["workgroup"] == "${module.athena.workgroup_name}"
    policy = root.of_type("aws_iam_policy")["stage"]
    assert policy["for_each"] == "${module.stage_policies.documents}"
    assert policy["policy"] == "${each.value}"
    assert "stage_policy_arns" in root.outputs
    users = load(MODULES / "kafka").variables["users"]["default"]
    for stage, user in KAFKA_USERS.items():
        assert user in users, stage
