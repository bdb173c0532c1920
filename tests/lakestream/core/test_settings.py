"""Settings: defaults point at the embedded stack; env and .env override; bad values are named."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from lakestream.core.settings import Settings

VARIABLES = [
    "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "KAFKA_BOOTSTRAP_SERVERS",
    "LAKESTREAM_TARGET", "LAKESTREAM_BUCKET_SUFFIX", "LAKESTREAM_GLUE_DATABASE",
    "LAKESTREAM_ATHENA_WORKGROUP", "LAKESTREAM_EMBEDDED", "LAKESTREAM_CATALOG",
]  # fmt: skip


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_point_at_the_embedded_stack():
    s = Settings()
    assert s.aws_endpoint_url == "http://127.0.0.1:4566"
    assert s.kafka_bootstrap_servers == "127.0.0.1:9092"
    assert s.aws_region == "us-east-1"
    assert s.aws_access_key_id == "test"
    assert s.glue_database == "kafka_ing"
    assert s.embeds_aws
    assert s.embeds_kafka


def test_environment_overrides(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker-1:9092, broker-2:9092")
    monkeypatch.setenv("LAKESTREAM_BUCKET_SUFFIX", "-acme")
    s = Settings()
    assert s.aws_region == "eu-west-3"
    assert s.kafka_servers == [("broker-1", 9092), ("broker-2", 9092)]
    assert not s.embeds_kafka  # real brokers: nothing embedded for Kafka
    assert s.embeds_aws
    transactions = s.datasets.get("transactions")
    assert s.bucket(transactions) == "kafka-ing-transactions-acme"
    assert s.results_bucket == "kafka-ing-athena-results-acme"


def test_aws_region_wins_over_default_region(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    assert Settings().aws_region == "eu-central-1"


def test_dotenv_file_is_read(tmp_path: Path):
    (tmp_path / ".env").write_text(
        "AWS_ENDPOINT_URL=http://localhost:5555\nLAKESTREAM_GLUE_DATABASE=lake_dev\n",
        encoding="utf-8",
    )
    s = Settings()
    assert s.aws_endpoint_url == "http://localhost:5555"
    assert s.aws_endpoint_port == 5555
    assert s.glue_database == "lake_dev"


def test_remote_endpoint_embeds_nothing(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://minio.internal:9000")
    s = Settings()
    assert not s.embeds_aws
    assert not s.embeds_kafka  # the broker keeps its log in the embedded S3


def test_aws_target_has_no_endpoint_or_dummy_credentials(monkeypatch):
    monkeypatch.setenv("LAKESTREAM_TARGET", "aws")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "b-1.msk:9092")
    s = Settings()
    assert s.aws_endpoint_url is None
    assert s.aws_access_key_id is None
    assert not s.embeds_aws


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("KAFKA_BOOTSTRAP_SERVERS", "localhost", "'localhost' is not host:port"),
        ("AWS_ENDPOINT_URL", "ftp://x", "is not an http(s) URL"),
        ("LAKESTREAM_TARGET", "gcp", "Input should be 'local' or 'aws'"),
    ],
)
def test_bad_values_are_rejected_with_their_reason(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Settings()


def test_describe_masks_secrets(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "hunter2")
    rows = {variable: value for variable, value, _ in Settings().describe()}
    assert rows["AWS_SECRET_ACCESS_KEY"] == "****"
    assert "hunter2" not in str(rows)
    assert rows["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:9092"


def test_an_empty_api_host_or_port_means_the_default(monkeypatch) -> None:
    monkeypatch.setenv("API_HOST", "")
    monkeypatch.setenv("API_PORT", "")
    settings = Settings()
    assert (settings.api_host, settings.api_port) == ("127.0.0.1", 8000)
    monkeypatch.setenv("API_PORT", "8123")
    assert Settings().api_port == 8123


def test_secret_values_are_found_whatever_the_case_and_the_placeholder_is_not_one(monkeypatch):
    from lakestream.core.settings import LOCAL_CREDENTIAL, masked, secret_values

    monkeypatch.setenv("api_key", "lowercase-api-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", LOCAL_CREDENTIAL)
    found = secret_values()
    assert "lowercase-api-key" in found
    assert LOCAL_CREDENTIAL not in found
    assert masked("key lowercase-api-key in /tmp/tests/latest") == "key *** in /tmp/tests/latest"


@pytest.mark.parametrize("target", ["udp://127.0.0.1:25888", "tcp://127.0.0.1", "agent"])
def test_an_emf_target_that_is_not_stdout_or_tcp_host_port_is_refused_at_start(target):
    with pytest.raises(ValidationError, match="expected stdout or tcp://host:port"):
        Settings(_env_file=None, LAKESTREAM_METRICS_EMF=target)
    assert Settings(_env_file=None, LAKESTREAM_METRICS_EMF="").metrics_emf is None
    assert Settings(_env_file=None, LAKESTREAM_METRICS_EMF="stdout").metrics_emf == "stdout"
