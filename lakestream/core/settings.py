"""Settings in one place: environment variables, then an optional ``.env`` file, then defaults.

The defaults point at the embedded stack (AWS APIs on http://127.0.0.1:4566, Kafka on
127.0.0.1:9092), so a fresh clone runs with no configuration. The standard variable names
(AWS_ENDPOINT_URL, AWS_REGION, KAFKA_BOOTSTRAP_SERVERS, ...) are honoured as every AWS and Kafka
tool reads them; the project's own settings are prefixed LAKESTREAM_.

Targets:
- ``local`` (default): AWS APIs come from an endpoint (the embedded moto server unless
  AWS_ENDPOINT_URL says otherwise) with dummy credentials.
- ``aws``: real AWS. No endpoint override and no default credentials: boto3's own chain
  (profile, SSO, instance role) applies, and KAFKA_BOOTSTRAP_SERVERS must name real brokers.
"""

from __future__ import annotations

import ipaddress
import os
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from lakestream.core.datasets import Dataset, DatasetCatalog, load_catalog

LOCAL_AWS_ENDPOINT = "http://127.0.0.1:4566"
LOCAL_KAFKA_BOOTSTRAP = "127.0.0.1:9092"
LOCAL_CREDENTIAL = "test"  # moto accepts any credentials; this one is no secret.
# KAFKA_SASL_PASSWORD=secretsmanager:<name or ARN> names a secret instead of holding the password.
SECRET_REFERENCE = "secretsmanager:"  # noqa: S105 - a prefix, not a password


def secret_reference(value: str) -> str | None:
    """The secret a `secretsmanager:<name or ARN>` value refers to; None for a plain value."""
    if value.startswith(SECRET_REFERENCE) and len(value) > len(SECRET_REFERENCE):
        return value[len(SECRET_REFERENCE) :]
    return None


# Athena's bound for reusing a result, and so the API's for reusing an answer: 7 days.
MAX_RESULT_AGE_S = 7 * 24 * 3600


def emf_address(target: str) -> tuple[str, int] | None:
    """Where LAKESTREAM_METRICS_EMF sends documents: None for `stdout`, else the (host, port)
    of `tcp://host:port`; ValueError for anything else."""
    if target == "stdout":
        return None
    parts = urlsplit(target)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "tcp" or not parts.hostname or not port:
        raise ValueError(
            "expected stdout or tcp://host:port (the CloudWatch agent listens on "
            "tcp://127.0.0.1:25888)"
        )
    return parts.hostname, port


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        frozen=True,
    )

    target: Literal["local", "aws"] = Field(
        "local",
        validation_alias="LAKESTREAM_TARGET",
        description="local: the embedded stack or another endpoint; aws: real AWS.",
    )
    aws_endpoint_url: str | None = Field(
        None,
        validation_alias="AWS_ENDPOINT_URL",
        description=f"AWS API endpoint (default {LOCAL_AWS_ENDPOINT} when target=local).",
    )
    aws_region: str = Field(
        "us-east-1",
        validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"),
        description="AWS region.",
    )
    aws_access_key_id: str | None = Field(
        None, validation_alias="AWS_ACCESS_KEY_ID", description="Access key (local: 'test')."
    )
    aws_secret_access_key: SecretStr | None = Field(
        None, validation_alias="AWS_SECRET_ACCESS_KEY", description="Secret key (local: 'test')."
    )
    aws_session_token: SecretStr | None = Field(
        None, validation_alias="AWS_SESSION_TOKEN", description="Session token, if any."
    )
    kafka_bootstrap_servers: str = Field(
        LOCAL_KAFKA_BOOTSTRAP,
        validation_alias="KAFKA_BOOTSTRAP_SERVERS",
        description="Comma-separated host:port list of Kafka brokers.",
    )
    # The standard client settings: PLAINTEXT for the embedded broker, SASL_SSL with SCRAM for
    # the brokers infra/ deploys (`make env` writes them). The password may be a Secrets Manager
    # reference ("secretsmanager:<name or ARN>"), read once per process (core/clients.py).
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT",
        validation_alias="KAFKA_SECURITY_PROTOCOL",
        description="How clients reach Kafka: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.",
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        "SCRAM-SHA-512",
        validation_alias="KAFKA_SASL_MECHANISM",
        description="SASL mechanism with a SASL_* protocol (the deployed brokers: SCRAM-SHA-512).",
    )
    kafka_sasl_username: str | None = Field(
        None,
        validation_alias="KAFKA_SASL_USERNAME",
        description="SASL user (may come from the secret that KAFKA_SASL_PASSWORD refers to).",
    )
    kafka_sasl_password: SecretStr | None = Field(
        None,
        validation_alias="KAFKA_SASL_PASSWORD",
        description=f"SASL password, or {SECRET_REFERENCE}<secret name or ARN> to read it (and the "
        "user) from AWS Secrets Manager when a client starts.",
    )
    kafka_ssl_cafile: Path | None = Field(
        None,
        validation_alias="KAFKA_SSL_CAFILE",
        description="PEM bundle of the CA that signed the brokers' certificates (SSL, SASL_SSL); "
        "unset: the system's trust store.",
    )
    bucket_suffix: str = Field(
        "",
        validation_alias="LAKESTREAM_BUCKET_SUFFIX",
        description="Appended to every bucket name for global uniqueness (e.g. -acme-dev).",
    )
    environment: str | None = Field(
        None,
        pattern=r"^[a-z]([a-z0-9-]{0,8}[a-z0-9])?$",
        validation_alias="LAKESTREAM_ENVIRONMENT",
        description="The deployment's environment (Terraform's `environment`, written by `make "
        "env`): the crawlers' names carry it, <table>_crawler_<environment>.",
    )
    glue_database: str = Field(
        "kafka_ing", validation_alias="LAKESTREAM_GLUE_DATABASE", description="Glue database."
    )
    curated_database: str = Field(
        "kafka_ing_curated",
        validation_alias="LAKESTREAM_CURATED_DATABASE",
        description="Glue database of the curated layer (Apache Iceberg tables).",
    )
    athena_workgroup: str = Field(
        "lakestream",
        validation_alias="LAKESTREAM_ATHENA_WORKGROUP",
        description="Athena workgroup.",
    )
    athena_results_bucket: str = Field(
        "kafka-ing-athena-results",
        validation_alias="LAKESTREAM_ATHENA_RESULTS_BUCKET",
        description="Bucket for Athena query results (the suffix is appended).",
    )
    catalog_path: Path | None = Field(
        None,
        validation_alias="LAKESTREAM_CATALOG",
        description="Dataset catalog file (default: the packaged datasets.yaml).",
    )
    run_dir: Path = Field(
        Path(".lakestream"),
        validation_alias="LAKESTREAM_RUN_DIR",
        description="Where the embedded stack keeps its pid and log files.",
    )
    embedded: bool = Field(
        True,
        validation_alias="LAKESTREAM_EMBEDDED",
        description="Start embedded services for loopback endpoints (0: never start any).",
    )
    broker_log_bucket: str = Field(
        "lakestream-broker-log",
        validation_alias="LAKESTREAM_BROKER_LOG_BUCKET",
        description="Bucket on the embedded S3 where the embedded broker keeps its log.",
    )
    broker_storage: Literal["s3", "memory"] = Field(
        "s3",
        validation_alias="LAKESTREAM_BROKER_STORAGE",
        description="Where the embedded broker keeps its log: s3 (the embedded S3, so a broker "
        "restart loses nothing) or memory (faster: every produce and fetch is not also an S3 "
        "call to the single moto process; lost when the broker stops).",
    )

    broker_log_retention: float = Field(
        60.0,
        ge=0,
        validation_alias="LAKESTREAM_BROKER_LOG_RETENTION",
        description="Seconds after it was written that the embedded broker's log (in s3) "
        "may drop a batch, once every consumer group that has committed on its topic has "
        "committed past it, so fetches stay cheap as data grows. A reader with no group, or "
        "a group with no commit yet, is not waited for.",
    )
    broker_log_trim: bool = Field(
        True,
        validation_alias="LAKESTREAM_BROKER_LOG_TRIM",
        description="0 keeps the embedded broker's whole log (its fetches then slow down as the "
        "log grows).",
    )

    # -- operating the services (lakestream/core/metrics.py, lakestream/core/logs.py) ----------
    metrics_emf: str | None = Field(
        None,
        validation_alias="LAKESTREAM_METRICS_EMF",
        description="Where the sink, curation and the API send their metrics as CloudWatch "
        "embedded-metric-format documents once a minute: tcp://127.0.0.1:25888 (the CloudWatch "
        "agent, as on AWS), stdout, or unset for none.",
    )
    metrics_emf_interval: float = Field(
        60.0,
        ge=1,
        le=3600,
        validation_alias="LAKESTREAM_METRICS_EMF_INTERVAL",
        description="Seconds between two sends of the metric documents (60: CloudWatch's "
        "standard resolution, one datapoint per minute, which the alarms expect).",
    )
    metrics_log_group: str | None = Field(
        None,
        validation_alias="LAKESTREAM_METRICS_LOG_GROUP",
        description="The CloudWatch Logs group the agent files the metric documents in.",
    )
    log_format: Literal["text", "json"] = Field(
        "text",
        validation_alias="LAKESTREAM_LOG_FORMAT",
        description="json: one JSON object per log line (CloudWatch Logs, Logs Insights), "
        "as the services on AWS run.",
    )

    # -- the query API (athena_api/settings.py turns these into Django settings) ---------------
    api_host: str = Field(
        "127.0.0.1",
        min_length=1,
        validation_alias="API_HOST",
        description="Address the API listens on (0.0.0.0 behind a load balancer).",
    )
    api_port: int = Field(
        8000, ge=1, le=65535, validation_alias="API_PORT", description="Port the API listens on."
    )
    api_key: SecretStr | None = Field(
        None,
        validation_alias="API_KEY",
        description="Clients send it as X-API-Key; required unless API_DEBUG=1. "
        f"{SECRET_REFERENCE}<secret name or ARN> reads it from AWS Secrets Manager at start.",
    )
    api_debug: bool | None = Field(
        None,
        validation_alias="API_DEBUG",
        description="1 for local development (default when target=local), 0 otherwise.",
    )
    api_engine: Literal["local", "athena"] | None = Field(
        None,
        validation_alias="API_ENGINE",
        description="Query engine: local (DuckDB) or athena (default by target).",
    )
    api_max_limit: int = Field(
        1000,
        ge=1,
        le=1_000_000,
        validation_alias="API_MAX_LIMIT",
        description="The largest `limit` a client may ask for.",
    )
    api_query_timeout: float = Field(
        30.0,
        gt=0,
        validation_alias="API_QUERY_TIMEOUT",
        description="Seconds before a query is abandoned with 504.",
    )
    api_throttle_rate: str = Field(
        "120/min",
        pattern=r"^[1-9][0-9]*/(s|sec|m|min|h|hour|d|day)$",
        validation_alias="API_THROTTLE_RATE",
        description="Requests per client, e.g. 120/min.",
    )
    api_catalog_max_age: float = Field(
        2.0,
        ge=0,
        le=300,
        validation_alias="API_CATALOG_MAX_AGE",
        description="Seconds the API reuses a table's Glue description (0: ask on every "
        "request); new partitions and curated commits show after at most this long.",
    )
    api_result_max_age: int = Field(
        60,
        ge=0,
        le=MAX_RESULT_AGE_S,
        validation_alias="API_RESULT_MAX_AGE",
        description="Seconds the API may answer a query with an answer it already computed on "
        "the same data (a request's max_age overrides it; 0: always run the query). On Athena, "
        "Athena's own result reuse is asked for within the same bound.",
    )
    api_workers: int = Field(
        2,
        ge=1,
        le=64,
        validation_alias="API_WORKERS",
        description="gunicorn worker processes of `make api` (about one per core).",
    )
    api_threads: int = Field(
        4,
        ge=1,
        le=64,
        validation_alias="API_THREADS",
        description="Threads per worker: requests each worker answers at once (queries wait on "
        "S3 or Athena, so more than one per core pays).",
    )
    api_allowed_hosts: str = Field(
        "127.0.0.1,localhost",
        validation_alias="API_ALLOWED_HOSTS",
        description="Comma-separated host names the API answers to.",
    )
    api_secret_key: SecretStr | None = Field(
        None,
        validation_alias="API_SECRET_KEY",
        description="Django's signing key (no sessions or cookies are used; random if unset).",
    )

    @field_validator("api_host", "api_port", mode="before")
    @classmethod
    def _empty_is_the_default(cls, value: object, info: ValidationInfo) -> object:
        """`API_PORT=` in an environment or `.env` means the default, as for a shell."""
        if value == "":
            return cls.model_fields[info.field_name].default
        return value

    @field_validator("metrics_emf")
    @classmethod
    def _emf_is_stdout_or_tcp(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        emf_address(value)
        return value

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _bootstrap_is_host_port(cls, value: str) -> str:
        servers = [s.strip() for s in value.split(",") if s.strip()]
        for server in servers:
            host, sep, port = server.rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ValueError(f"{server!r} is not host:port")
        if not servers:
            raise ValueError("no broker given")
        return ",".join(servers)

    @field_validator("kafka_security_protocol", "kafka_sasl_mechanism", mode="before")
    @classmethod
    def _upper_case(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _kafka_security_is_complete(self) -> Settings:
        # A half-configured client would fail at the broker with a vaguer message, or worse,
        # send in clear what was meant to be authenticated: say which setting is missing.
        sasl = self.kafka_security_protocol.startswith("SASL_")
        password = self.kafka_sasl_password.get_secret_value() if self.kafka_sasl_password else ""
        if sasl:
            if not password:
                raise ValueError(
                    f"KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                    f"KAFKA_SASL_PASSWORD (the password, or {SECRET_REFERENCE}<secret>)"
                )
            if not self.kafka_sasl_username and not self.kafka_sasl_secret:
                raise ValueError(
                    f"KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                    "KAFKA_SASL_USERNAME (or a Secrets Manager reference holding the user)"
                )
        elif self.kafka_sasl_username or password:
            raise ValueError(
                "KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD are set but KAFKA_SECURITY_PROTOCOL is "
                f"{self.kafka_security_protocol}: set it to SASL_SSL (or unset the credentials)"
            )
        if self.kafka_ssl_cafile and not self.kafka_security_protocol.endswith("SSL"):
            raise ValueError(
                "KAFKA_SSL_CAFILE is set but KAFKA_SECURITY_PROTOCOL is "
                f"{self.kafka_security_protocol}: TLS is used only with SSL or SASL_SSL"
            )
        return self

    @model_validator(mode="after")
    def _apply_target_defaults(self) -> Settings:
        # Defaults depend on the target, so they are filled in after parsing. The model is
        # frozen for callers; object.__setattr__ is the documented way for a validator.
        if self.target == "local":
            if self.aws_endpoint_url is None:
                object.__setattr__(self, "aws_endpoint_url", LOCAL_AWS_ENDPOINT)
            if self.aws_access_key_id is None:
                object.__setattr__(self, "aws_access_key_id", LOCAL_CREDENTIAL)
            if self.aws_secret_access_key is None:
                object.__setattr__(self, "aws_secret_access_key", SecretStr(LOCAL_CREDENTIAL))
        elif self.aws_endpoint_url == "":
            object.__setattr__(self, "aws_endpoint_url", None)
        if self.aws_endpoint_url:
            parts = urlsplit(self.aws_endpoint_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(
                    f"AWS_ENDPOINT_URL {self.aws_endpoint_url!r} is not an http(s) URL"
                )
        return self

    # -- derived facts -------------------------------------------------------------------------

    @property
    def api_debug_on(self) -> bool:
        return self.api_debug if self.api_debug is not None else self.target == "local"

    @property
    def api_engine_name(self) -> str:
        return self.api_engine or ("local" if self.target == "local" else "athena")

    @property
    def aws_endpoint_is_local(self) -> bool:
        """True when the AWS endpoint is on this machine (the embedded stack's place)."""
        return bool(self.aws_endpoint_url) and is_loopback_host(
            urlsplit(self.aws_endpoint_url).hostname
        )

    @property
    def aws_endpoint_port(self) -> int:
        parts = urlsplit(self.aws_endpoint_url or "")
        return parts.port or (443 if parts.scheme == "https" else 80)

    @property
    def kafka_sasl_secret(self) -> str | None:
        """The Secrets Manager secret KAFKA_SASL_PASSWORD refers to, if it is a reference."""
        return secret_reference(
            self.kafka_sasl_password.get_secret_value() if self.kafka_sasl_password else ""
        )

    @property
    def kafka_servers(self) -> list[tuple[str, int]]:
        result = []
        for server in self.kafka_bootstrap_servers.split(","):
            host, _, port = server.rpartition(":")
            result.append((host.strip("[]"), int(port)))
        return result

    @property
    def kafka_is_local(self) -> bool:
        """True when there is exactly one bootstrap server and it is on loopback."""
        servers = self.kafka_servers
        return len(servers) == 1 and is_loopback_host(servers[0][0])

    @property
    def embeds_aws(self) -> bool:
        """Whether `lakestream up` runs the moto server itself."""
        return self.embedded and self.target == "local" and self.aws_endpoint_is_local

    @property
    def embeds_kafka(self) -> bool:
        """Whether `lakestream up` runs the Tansu broker itself (its log needs embedded S3)."""
        return self.embedded and self.embeds_aws and self.kafka_is_local

    @cached_property
    def datasets(self) -> DatasetCatalog:
        return load_catalog(self.catalog_path)

    def bucket(self, dataset: Dataset) -> str:
        return dataset.bucket_name(self.bucket_suffix)

    def crawler(self, dataset: Dataset) -> str:
        """The dataset's Glue crawler in this environment (infra/modules/dataset_catalog)."""
        if self.environment is None:
            return dataset.crawler
        return f"{dataset.crawler}_{self.environment.replace('-', '_')}"

    @property
    def deployment(self) -> str:
        """The deployment's base name (infra/modules/dataset_catalog, `names.base`): the
        `Deployment` dimension of its CloudWatch metrics, which its alarms watch."""
        return "lakestream" if self.environment is None else f"lakestream-{self.environment}"

    @property
    def results_bucket(self) -> str:
        return f"{self.athena_results_bucket}{self.bucket_suffix}"

    @property
    def athena_output_location(self) -> str:
        return f"s3://{self.results_bucket}/results/"

    def child_env(self) -> dict[str, str]:
        """Environment variables that make a child process (a CLI) use these same services."""
        env = {
            "LAKESTREAM_TARGET": self.target,
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap_servers,
            "LAKESTREAM_BUCKET_SUFFIX": self.bucket_suffix,
            **({"LAKESTREAM_ENVIRONMENT": self.environment} if self.environment else {}),
            "LAKESTREAM_GLUE_DATABASE": self.glue_database,
            "LAKESTREAM_CURATED_DATABASE": self.curated_database,
            "AWS_REGION": self.aws_region,
        }
        if self.aws_endpoint_url:
            env["AWS_ENDPOINT_URL"] = self.aws_endpoint_url
        env["KAFKA_SECURITY_PROTOCOL"] = self.kafka_security_protocol
        env["KAFKA_SASL_MECHANISM"] = self.kafka_sasl_mechanism
        for variable, value in (
            ("KAFKA_SASL_USERNAME", self.kafka_sasl_username),
            ("KAFKA_SASL_PASSWORD", self.kafka_sasl_password),
            ("KAFKA_SSL_CAFILE", self.kafka_ssl_cafile),
        ):
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if value:
                env[variable] = str(value)
        if self.catalog_path:
            env["LAKESTREAM_CATALOG"] = str(self.catalog_path)
        return env

    @classmethod
    def variables(cls) -> dict[str, list[str]]:
        """Field name => the environment variables it reads, the preferred one first."""
        result = {}
        for name, field in cls.model_fields.items():
            alias = field.validation_alias
            result[name] = list(alias.choices) if isinstance(alias, AliasChoices) else [str(alias)]
        return result

    def describe(self) -> list[tuple[str, str, str]]:
        """(variable, effective value, description) rows, with secrets masked."""
        rows = []
        variables = self.variables()
        for name, field in type(self).model_fields.items():
            variable = variables[name][0]
            value = getattr(self, name)
            if isinstance(value, SecretStr) and secret_reference(value.get_secret_value()):
                shown = value.get_secret_value()  # a reference: where the secret is, not it
            elif isinstance(value, SecretStr):
                shown = "****" if value.get_secret_value() else ""
            elif value is None:
                shown = "(unset)"
            else:
                shown = str(value)
            rows.append((variable, shown, field.description or ""))
        return rows


def settings_error(exc: ValidationError) -> str:
    """One line for a refused setting: which variable, and why."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    message = first["msg"].removeprefix("Value error, ")  # a rule across several variables
    return f"invalid setting {where}: {message}" if where else f"invalid settings: {message}"


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment and `.env`; keyword overrides win (used by tests and CLIs)."""
    return Settings(**overrides)


def secret_values() -> list[str]:
    """Every secret setting's value as given (environment, then `.env`), valid or not: what an
    error message or a traceback must never show. Read without validating, so a refused
    setting's secrets are known too."""
    from dotenv import dotenv_values

    variables = Settings.variables()
    names = {
        variable.lower()
        for name, field in Settings.model_fields.items()
        if "SecretStr" in str(field.annotation)
        for variable in variables[name]
    }
    dotenv = dotenv_values(Settings.model_config.get("env_file") or ".env")
    found = {
        value
        for source in (dotenv, os.environ)  # names are case-insensitive, as Settings reads them
        for name, value in source.items()
        if name.lower() in names and value
    }
    # The embedded stack's placeholder credential is no secret, and masking it would mangle
    # every path and word that contains it.
    found.discard(LOCAL_CREDENTIAL)
    return sorted((v for v in found if len(v) >= 4), key=len, reverse=True)


def masked(text: str, secrets: list[str] | None = None) -> str:
    """`text` with every secret value replaced by ***."""
    for value in secret_values() if secrets is None else secrets:
        text = text.replace(value, "***")
    return text
