"""Bad inputs fail at plan time with our message: Terraform evaluates the real validation blocks.

Modules own their validation; the root validates only what no module sees (region, the
required bucket suffix) and passes the rest through (tests/infra/test_structure.py checks that).

Each module's variables.tf is copied alone into a scratch root (variables need no provider),
then planned with one set of values per case.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.infra.hcl import INFRA, MODULES, terraform

KEY = "arn:aws:kms:eu-west-3:123456789012:key/0b1f3c2e-1111-2222-3333-444455556666"
RELEASE = {
    "bucket": "kafka-ing-athena-results-x",
    "key": "releases/lakestream-0123456789abcdef.zip",
    "sha256": "ab" * 32,
    "requirements": "tools/production.txt",
    "kms_key_arn": KEY,
}
SINK_UNIT = {
    "name": "lakestream-sink",
    "description": "the sink",
    "command": "-m consumers --quiet",
}
SERVICE = {"environment": {"LAKESTREAM_TARGET": "aws"}, "units": [SINK_UNIT]}
QUERIES = str(INFRA.parent / "glue" / "queries")
CATALOG_FILE = INFRA.parent / "lakestream" / "core" / "datasets.yaml"
LAKE_DATASETS = {"transactions": {"bucket": "kafka-ing-transactions-x", "table": "kafka_ing_t"}}

BASE = {
    "root": {"bucket_suffix": "-acme-dev", "client_cidrs": ["203.0.113.7/32"]},
    "kafka": {
        "vpc_id": "vpc-0a1b2c3d",
        "subnet_ids": ["subnet-0a1b2c3d"],
        "client_cidrs": ["203.0.113.7/32", "2001:db8::/64"],
    },
    "s3_lake": {"datasets": LAKE_DATASETS, "results_bucket": "kafka-ing-athena-results-x"},
    "glue_catalog": {
        "datasets": {"t": {"bucket": "b-x", "table": "kafka_ing_t", "crawler": "kafka_ing_t_c"}},
        "kms_key_arn": KEY,
    },
    "curated_lake": {
        "datasets": {
            "t": {
                "bucket": "b-x",
                "table": "kafka_ing_t",
                "location": "s3://b-x/curated/kafka_ing_t",
                "event_time_field": "Day",
                "columns": [
                    {"name": "Day", "type": "date"},
                    {"name": "kafka_offset", "type": "bigint"},
                ],
            }
        },
        "kms_key_arn": KEY,
    },
    "athena": {
        "database_name": "kafka_ing",
        "results_location": "s3://kafka-ing-athena-results-x/results/",
        "kms_key_arn": KEY,
        "queries_dir": QUERIES,
    },
    "dataset_catalog": {
        "catalog_file": str(INFRA.parent / "lakestream" / "core" / "datasets.yaml")
    },
    "api": {
        "vpc_id": "vpc-0a1b2c3d",
        "subnet_ids": ["subnet-0a1b2c3d", "subnet-0e1f2a3b"],
        "allowed_cidrs": ["203.0.113.7/32"],
        "policy_arns": ["arn:aws:iam::123456789012:policy/lakestream-api-x"],
        "settings": {"LAKESTREAM_TARGET": "aws"},
        "release": RELEASE,
        "kms_key_arn": KEY,
    },
    "stage_policies": {
        "region": "eu-west-3",
        "account_id": "123456789012",
        "datasets": {
            "t": {
                "bucket": "b-x",
                "table": "kafka_ing_t",
                "topic": "t_topic",
                "curated_prefix": "curated/kafka_ing_t",
                "crawler": "kafka_ing_t_crawler",
            }
        },
        "raw_database": "kafka_ing",
        "curated_database": "kafka_ing_curated",
        "results_bucket": "kafka-ing-athena-results-x",
        "workgroup": "lakestream",
        "kms_key_arn": KEY,
        "kafka_user_secrets": {"producers": "arn:aws:secretsmanager:eu-west-3:1:secret:p"},
    },
    "ssm_instance": {"name": "lakestream-sink", "description": "The sink: its stage policy, SSM"},
    "service_group": {
        "name": "lakestream-sink",
        "component": "sink",
        "description": "The sink: its stage policy, SSM",
        "vpc_id": "vpc-0a1b2c3d",
        "subnet_ids": ["subnet-0a1b2c3d"],
        "kafka_security_group_id": "sg-0a1b2c3d",
        "policy_arns": ["arn:aws:iam::123456789012:policy/lakestream-sink-x"],
        "release": RELEASE,
        "service": SERVICE,
    },
    "monitoring": {
        "name": "lakestream",
        "deployment": "lakestream",
        "topics": ["transactions_topic"],
        "tables": ["kafka_ing_transactions"],
        "kms_key_arn": KEY,
    },
}

LONGEST_ENVIRONMENT_NAMES = [
    ("kafka", "lakestream-acme-prod1-kafka"),
    ("ssm_instance", "lakestream-acme-prod1-kafka"),
    ("api", "lakestream-acme-prod1-api"),
    ("ssm_instance", "lakestream-acme-prod1-api"),
    ("ssm_instance", "lakestream-acme-prod1-curation"),
    ("service_group", "lakestream-acme-prod1-curation"),
    ("monitoring", "lakestream-acme-prod1"),
    ("glue_catalog", "lakestream-acme-prod1"),
    ("curated_lake", "lakestream-acme-prod1"),
]

CURATED = BASE["curated_lake"]["datasets"]["t"]
LAUNCH_TEMPLATE = {
    "create_launch_template": True,
    "image_id": "ami-0a1b2c3d",
    "instance_type": "t4g.small",
}

# (module, values that replace the base ones, a piece of the expected error; None: accepted)
CASES = [
    ("root", {}, None),
    ("root", {"broker_count": 3, "crawler_schedule": "cron(15 * * * ? *)"}, None),
    ("kafka", {"client_cidrs": ["0.0.0.0/0"]}, "must not be the whole internet"),
    ("kafka", {"client_cidrs": ["203.0.113.7/32", "::/0"]}, "must not be the whole internet"),
    ("kafka", {"client_cidrs": ["10.0.0.300/32"]}, "Give at least one CIDR block"),
    ("kafka", {"client_cidrs": []}, "Give at least one CIDR block"),
    ("root", {"bucket_suffix": ""}, "must start with a dash"),
    ("root", {"bucket_suffix": "-Acme"}, "must start with a dash"),
    ("kafka", {"broker_count": 2}, "odd number of voters"),
    ("kafka", {"kafka_version": "2.8.2"}, "3.5.0 or later"),
    ("root", {"region": "mars-north-1a"}, "AWS region code"),
    ("glue_catalog", {"schedule": "rate(1 hour)"}, "cron(...)"),
    ("s3_lake", {"raw_transition_days": 7}, "at least 30"),
    ("kafka", {"subnet_ids": []}, "Give at least one subnet id"),
    ("dataset_catalog", {"catalog_file": "datasets.toml"}, ".yaml, .yml or .json"),
    ("kafka", {}, None),
    ("kafka", {"kafka_version": "4.1.0", "broker_count": 5}, None),
    ("kafka", {"kafka_sha512": "abc"}, "128 lowercase hex digits"),
    ("kafka", {"download_base_url": "http://mirror.example/kafka"}, "https URL"),
    ("kafka", {"heap_mb": 128}, "between 256 and 32768"),
    ("kafka", {"data_volume_size_gb": 500}, None),
    ("kafka", {"data_volume_size_gb": 0}, "between 1 and 16384"),
    ("kafka", {"data_volume_size_gb": 20000}, "between 1 and 16384"),
    ("kafka", {"data_volume_size_gb": 10.5}, "whole number of GiB"),
    ("kafka", {"topics": {"bad topic": 3}}, "Each topic name"),
    ("kafka", {"topics": {"ok_topic": 0}}, "Each topic name"),
    ("kafka", {"subnet_ids": ["sg-123"]}, "subnet-0123456789abcdef0"),
    ("kafka", {"plaintext_listener": True, "plaintext_cidrs": ["10.0.0.0/16"]}, "private VPC only"),
    (
        "kafka",
        {"plaintext_listener": True, "public_access": False, "plaintext_cidrs": ["10.0.0.0/16"]},
        None,
    ),
    ("kafka", {"plaintext_listener": True, "public_access": False}, "needs plaintext_cidrs"),
    ("kafka", {"plaintext_cidrs": ["203.0.113.0/24"]}, "must be a private range"),
    ("kafka", {"users": {"sink": "reader"}}, "one of producer, consumer, observer, admin"),
    ("kafka", {"users": {"Sink": "consumer"}}, "Each user name"),
    ("kafka", {"credential_versions": {"sink": 0}}, "at least 1"),
    ("kafka", {"credential_versions": {"snik": 2}}, "one of the users"),
    ("kafka", {"credential_versions": {"sink": 2}}, None),
    ("kafka", {"ca_arn": "arn:aws:acm:eu-west-3:123456789012:certificate/abc"}, "ACM Private CA"),
    ("kafka", {"secret_recovery_window_days": 3}, "0 or between 7 and 30"),
    ("s3_lake", {}, None),
    ("s3_lake", {"raw_storage_class": "GLACIER"}, "Athena cannot read"),
    ("s3_lake", {"sse_algorithm": "aws:kms:dsse"}, "aws:kms or AES256"),
    ("s3_lake", {"datasets": {"athena_results": LAKE_DATASETS["transactions"]}}, "athena_results"),
    ("s3_lake", {"results_bucket": "Results_Bucket"}, "legal S3 bucket name"),
    ("glue_catalog", {}, None),
    ("glue_catalog", {"recrawl_behavior": "CRAWL_SOMETIMES"}, "CRAWL_NEW_FOLDERS_ONLY"),
    ("glue_catalog", {"database_name": "Kafka-Ing"}, "lowercase letters"),
    ("glue_catalog", {"kms_key_arn": "alias/lake"}, "KMS key ARN"),
    ("s3_lake", {"raw_expiration_days": 30}, None),
    ("s3_lake", {"raw_expiration_days": 0}, "at least 1"),
    ("curated_lake", {}, None),
    ("curated_lake", {"optimizers": [], "snapshot_retention_days": 30}, None),
    ("curated_lake", {"optimizers": ["compaction", "vacuum"]}, "compaction, retention and orphan"),
    ("curated_lake", {"snapshot_retention_days": 0}, "at least 1"),
    ("curated_lake", {"database_name": "kafka-ing-curated"}, "lowercase letters"),
    (
        "curated_lake",
        {"datasets": {"t": {**CURATED, "event_time_field": "When"}}},
        "event_time_field one of its columns",
    ),
    (
        "curated_lake",
        {"datasets": {"t": {**CURATED, "location": "s3://other/curated/t"}}},
        "its location under",
    ),
    ("athena", {}, None),
    ("athena", {"bytes_scanned_cutoff": 1000}, "at least 10 MiB"),
    ("athena", {"results_location": "s3://kafka-ing-athena-results-x/results"}, "end with a slash"),
    ("athena", {"queries_dir": str(INFRA / "modules")}, "holds no .sql file"),
    ("dataset_catalog", {"bucket_suffix": "-acme"}, None),
    ("api", {}, None),
    (
        "api",
        {
            "certificate_arn": "arn:aws:acm:eu-west-3:123456789012:certificate/abc",
            "host_names": ["api.example.com"],
        },
        None,
    ),
    (
        "api",
        {"certificate_arn": "arn:aws:acm:eu-west-3:123456789012:certificate/abc"},
        "host_names must list its domain names",
    ),
    ("api", {"subnet_ids": ["subnet-0a1b2c3d"]}, "at least two subnet ids"),
    ("api", {"allowed_cidrs": ["0.0.0.0/0"]}, "none of them the whole internet"),
    ("api", {"certificate_arn": "arn:aws:iam::123456789012:server-certificate/x"}, "ACM"),
    ("api", {"release": {**RELEASE, "sha256": "abc"}}, "64-digit hex sha256"),
    ("api", {"policy_arns": ["lakestream-api"]}, "arn:aws:iam::123456789012:policy/NAME"),
    ("stage_policies", {}, None),
    ("stage_policies", {"account_id": "12345"}, "12 digits"),
    ("stage_policies", {"raw_database": "Kafka-Ing"}, "Glue database name"),
    (
        "stage_policies",
        {
            "datasets": {
                "t": {
                    "bucket": "b",
                    "table": "t",
                    "topic": "t",
                    "curated_prefix": "/c/",
                    "crawler": "t_crawler",
                }
            }
        },
        "no leading or trailing slash",
    ),
    ("dataset_catalog", {"bucket_suffix": "_x"}, "dash-separated lowercase"),
    ("dataset_catalog", {"environment": "acme-prod1"}, None),
    ("dataset_catalog", {"environment": "acme-prod12"}, "1-10 lowercase letters"),
    ("dataset_catalog", {"environment": "Dev"}, "1-10 lowercase letters"),
    ("dataset_catalog", {"environment": "dev-"}, "not ending with a dash"),
    # The longest environment's names (tests/infra/test_environments.py: what the catalog
    # module derives) fit every module's rule.
    *((module, {"name": name}, None) for module, name in LONGEST_ENVIRONMENT_NAMES),
    ("dataset_catalog", {"catalog_file": "datasets.ini"}, ".yaml, .yml or .json"),
    ("ssm_instance", {}, None),
    ("ssm_instance", {**LAUNCH_TEMPLATE, "user_data": "#!/bin/bash\n"}, None),
    ("ssm_instance", {"create_launch_template": True}, "needs an image_id"),
    ("ssm_instance", {**LAUNCH_TEMPLATE, "instance_type": None}, "needs an instance_type"),
    ("ssm_instance", {"name": "lakestream-" + "x" * 30}, "38 characters at most"),
    ("ssm_instance", {"description": ""}, "1-1000 characters"),
    ("ssm_instance", {"inline_policies": {"read release": "{}"}}, "Each inline policy name"),
    ("ssm_instance", {"inline_policies": {"read-release": "Allow s3"}}, "a JSON policy"),
    ("ssm_instance", {"policy_arns": ["lakestream-sink"]}, "arn:aws:iam::123456789012:policy"),
    ("ssm_instance", {"security_group_ids": ["sg_1"]}, "sg-0123456789abcdef0"),
    ("ssm_instance", {**LAUNCH_TEMPLATE, "user_data": "#" * 16385}, "16 KiB at most"),
    ("ssm_instance", {"root_volume_size_gb": 4}, "between 8 and 16384"),
    # The service a first boot installs: units as systemd takes them, from a release.
    ("ssm_instance", {"release": RELEASE, "service": SERVICE}, None),
    ("ssm_instance", {"service": SERVICE}, "needs the release it runs"),
    ("ssm_instance", {"release": {**RELEASE, "key": "lakestream.zip"}}, "a key under releases/"),
    *(
        (
            "ssm_instance",
            {"release": RELEASE, "service": {**SERVICE, "units": [unit]}},
            "each named lakestream-<words>",
        )
        for unit in (
            {**SINK_UNIT, "name": "sink"},
            {**SINK_UNIT, "command": "-m consumers; rm -rf /"},
            {**SINK_UNIT, "command": "-m consumers\nExecStartPre=/bin/sh"},
            {**SINK_UNIT, "schedule": "daily\n[Service]"},
            {**SINK_UNIT, "stop_timeout_seconds": 1},
        )
    ),
    ("ssm_instance", {"release": RELEASE, "service": {**SERVICE, "units": []}}, "at least one"),
    (
        "ssm_instance",
        {"release": RELEASE, "service": {**SERVICE, "environment": {"API_KEY": "a\nb"}}},
        "no value may span lines",
    ),
    ("ssm_instance", {"log_retention_days": 42}, "a value CloudWatch Logs accepts"),
    ("service_group", {}, None),
    ("service_group", {"instance_count": 3}, None),
    ("service_group", {"component": "curation", "instance_count": 2}, "one instance at most"),
    ("service_group", {"component": "api"}, "sink or curation"),
    ("service_group", {"subnet_ids": []}, "at least one subnet"),
    ("service_group", {"kafka_security_group_id": "brokers"}, "sg-0123456789abcdef0"),
    ("service_group", {"service": {**SERVICE, "units": []}}, "at least one unit"),
    ("monitoring", {}, None),
    ("monitoring", {"deployment": "kafka_ing"}, "lakestream or lakestream-<environment>"),
    ("monitoring", {"alarm_email": "ops"}, "an e-mail address"),
    ("monitoring", {"sink_log_group": "/aws/sink"}, "a /lakestream/ log group"),
    ("monitoring", {"api": {"load_balancer": "lsapi", "target_group": "tg"}}, "arn_suffix"),
    ("monitoring", {"broker_instance_ids": ["broker-1"]}, "i-0123456789abcdef0"),
    ("monitoring", {"curation_stalled_minutes": 5}, "10 to 1440"),
    ("monitoring", {"broker_disk_percent": 100}, "between 0 and 100"),
    ("monitoring", {"topics": []}, "at least one topic"),
]


@pytest.fixture(scope="module")
def roots(terraform_bin, tmp_path_factory) -> dict[str, Path]:
    """One initialised scratch root per module, holding only its variables.tf."""
    made = {}
    for name in BASE:
        source = INFRA if name == "root" else MODULES / name
        workdir = tmp_path_factory.mktemp(name)
        shutil.copy(source / "variables.tf", workdir / "variables.tf")
        terraform(terraform_bin, workdir, "init", "-input=false", "-backend=false")
        made[name] = workdir
    return made


@pytest.mark.parametrize(
    ("module", "values", "expected"), CASES, ids=[f"{m}-{i}" for i, (m, _, _) in enumerate(CASES)]
)
def test_variable_validation(terraform_bin, roots, module, values, expected) -> None:
    workdir = roots[module]
    var_file = workdir / "case.tfvars.json"
    var_file.write_text(json.dumps({**BASE[module], **values}))
    result = terraform(
        terraform_bin, workdir, "plan", "-input=false", f"-var-file={var_file}", check=False
    )
    # Terraform boxes and wraps its diagnostics: compare the words only.
    message = " ".join(result.stderr.replace("│", " ").split())
    if expected is None:
        assert result.returncode == 0, message
    else:
        assert result.returncode != 0, f"{values} was accepted"
        assert "Invalid value for variable" in message, message
        assert expected in message, message


def test_every_module_has_a_case_that_passes_and_one_that_fails() -> None:
    for module in BASE:
        outcomes = {expected is None for m, _, expected in CASES if m == module}
        assert outcomes == {True, False}, module
