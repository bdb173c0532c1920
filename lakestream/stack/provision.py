"""What Terraform provisions, provisioned (or checked) through the same APIs.

One list of desired resources serves `lakestream up` (create what is missing, idempotently) and
`lakestream status` (report what exists). Against real AWS (target=aws) the AWS resources belong
to Terraform: they are only checked, never created here; topics are created on any Kafka.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from lakestream.core import clients, layout
from lakestream.core.errors import StackError, describe
from lakestream.core.settings import Settings

State = Literal["created", "exists", "missing", "mismatch"]

CRAWLER_ROLE = "lakestream-glue-crawler"
# Same figure as the Terraform athena module's default: a runaway query stops at 10 GiB.
BYTES_SCANNED_CUTOFF = 10 * 1024**3


@dataclass(frozen=True)
class Outcome:
    kind: str
    name: str
    state: State
    detail: str = ""


class Context:
    """Lazily built clients shared by every resource of one provisioning pass."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def s3(self) -> Any:
        return clients.aws_client(self.settings, "s3")

    @cached_property
    def glue(self) -> Any:
        return clients.aws_client(self.settings, "glue")

    @cached_property
    def athena(self) -> Any:
        return clients.aws_client(self.settings, "athena")

    @cached_property
    def iam(self) -> Any:
        return clients.aws_client(self.settings, "iam")

    @cached_property
    def kafka_admin(self) -> Any:
        return clients.kafka_admin(self.settings)

    @cached_property
    def topic_partitions(self) -> dict[str, int]:
        admin = self.kafka_admin
        names = admin.list_topics()
        if not names:
            return {}
        return {t["name"]: len(t["partitions"]) for t in admin.describe_topics(names)}

    @cached_property
    def broker_count(self) -> int:

        try:
            return len(self.kafka_admin.describe_cluster()["brokers"])
        except (KafkaError, KeyError):
            return 1  # a broker that cannot describe its cluster is taken as a single one

    def close(self) -> None:
        if "kafka_admin" in self.__dict__:
            self.kafka_admin.close()


class Resource:
    kind = "resource"
    aws = True  # belongs to Terraform on real AWS

    def __init__(self, name: str) -> None:
        self.name = name

    def check(self, ctx: Context) -> Outcome:
        raise NotImplementedError

    def create(self, ctx: Context) -> None:
        raise NotImplementedError

    def outcome(self, state: State, detail: str = "") -> Outcome:
        return Outcome(self.kind, self.name, state, detail)


class Bucket(Resource):
    kind = "s3 bucket"

    def check(self, ctx: Context) -> Outcome:
        try:
            ctx.s3.head_bucket(Bucket=self.name)
            return self.outcome("exists")
        except ClientError as exc:
            if clients.error_code(exc) in ("404", "NoSuchBucket", "NotFound"):
                return self.outcome("missing")
            raise

    def create(self, ctx: Context) -> None:
        args: dict[str, Any] = {"Bucket": self.name}
        if ctx.settings.aws_region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": ctx.settings.aws_region}
        ctx.s3.create_bucket(**args)
        # The same guard rails as the s3_lake module: encrypted at rest, never public.
        ctx.s3.put_bucket_encryption(
            Bucket=self.name,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
        ctx.s3.put_public_access_block(
            Bucket=self.name,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )


def replication_for(brokers: int) -> tuple[int, int]:
    """(replication factor, min.insync.replicas) for a cluster of this many brokers.

    The same rule as infra/modules/kafka: three copies where there are three brokers, and
    acks=all writes that survive the loss of one of them.
    """
    factor = min(3, max(1, brokers))
    return factor, factor - 1 if factor > 1 else 1


class Topic(Resource):
    kind = "kafka topic"
    aws = False

    def __init__(self, name: str, partitions: int) -> None:
        super().__init__(name)
        self.partitions = partitions

    def check(self, ctx: Context) -> Outcome:
        have = ctx.topic_partitions.get(self.name)
        if have is None:
            return self.outcome("missing", f"{self.partitions} partitions wanted")
        if have < self.partitions:
            return self.outcome(
                "mismatch", f"has {have} partitions, the catalog says {self.partitions}"
            )
        return self.outcome("exists", f"{have} partitions")

    def create(self, ctx: Context) -> None:

        factor, min_insync = replication_for(ctx.broker_count)
        topic = NewTopic(
            self.name,
            num_partitions=self.partitions,
            replication_factor=factor,
            topic_configs={"min.insync.replicas": str(min_insync)} if factor > 1 else {},
        )
        # Created by someone else between check and create: fine.
        with contextlib.suppress(TopicAlreadyExistsError):
            ctx.kafka_admin.create_topics([topic])
        ctx.__dict__.pop("topic_partitions", None)


class GlueDatabase(Resource):
    kind = "glue database"

    def check(self, ctx: Context) -> Outcome:
        try:
            ctx.glue.get_database(Name=self.name)
            return self.outcome("exists")
        except ClientError as exc:
            if clients.error_code(exc) == "EntityNotFoundException":
                return self.outcome("missing")
            raise

    def create(self, ctx: Context) -> None:
        ctx.glue.create_database(
            DatabaseInput={"Name": self.name, "Description": "The lakestream data lake"}
        )


class CrawlerRole(Resource):
    kind = "iam role"

    def check(self, ctx: Context) -> Outcome:
        try:
            ctx.iam.get_role(RoleName=self.name)
            return self.outcome("exists")
        except ClientError as exc:
            if clients.error_code(exc) == "NoSuchEntity":
                return self.outcome("missing")
            raise

    def create(self, ctx: Context) -> None:
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "glue.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        ctx.iam.create_role(RoleName=self.name, AssumeRolePolicyDocument=json.dumps(trust))


class Crawler(Resource):
    kind = "glue crawler"

    def __init__(
        self, name: str, role: str, database: str, path: str, exclusions: tuple[str, ...] = ()
    ) -> None:
        super().__init__(name)
        self.role, self.database, self.path = role, database, path
        self.exclusions = list(exclusions)

    def check(self, ctx: Context) -> Outcome:
        try:
            crawler = ctx.glue.get_crawler(Name=self.name)["Crawler"]
        except ClientError as exc:
            if clients.error_code(exc) == "EntityNotFoundException":
                return self.outcome("missing", self.path)
            raise
        paths = [t["Path"] for t in crawler.get("Targets", {}).get("S3Targets", [])]
        return self.outcome("exists", ", ".join(paths))

    def create(self, ctx: Context) -> None:
        role_arn = ctx.iam.get_role(RoleName=self.role)["Role"]["Arn"]
        ctx.glue.create_crawler(
            Name=self.name,
            Role=role_arn,
            DatabaseName=self.database,
            Targets={"S3Targets": [{"Path": self.path, "Exclusions": self.exclusions}]},
            SchemaChangePolicy={"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": "LOG"},
            RecrawlPolicy={"RecrawlBehavior": "CRAWL_EVERYTHING"},
        )


class Workgroup(Resource):
    kind = "athena workgroup"

    def __init__(self, name: str, output_location: str) -> None:
        super().__init__(name)
        self.output_location = output_location

    def check(self, ctx: Context) -> Outcome:
        # moto answers get_work_group for unknown names, so list instead.
        # list_work_groups has no boto3 paginator: follow NextToken by hand.
        kwargs: dict[str, Any] = {}
        while True:
            page = ctx.athena.list_work_groups(**kwargs)
            if any(wg["Name"] == self.name for wg in page.get("WorkGroups", [])):
                return self.outcome("exists", self.output_location)
            if not page.get("NextToken"):
                return self.outcome("missing", self.output_location)
            kwargs["NextToken"] = page["NextToken"]

    def create(self, ctx: Context) -> None:
        ctx.athena.create_work_group(
            Name=self.name,
            Description="lakestream queries",
            Configuration={
                "ResultConfiguration": {
                    "OutputLocation": self.output_location,
                    "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"},
                },
                "EnforceWorkGroupConfiguration": True,
                "PublishCloudWatchMetricsEnabled": True,
                "BytesScannedCutoffPerQuery": BYTES_SCANNED_CUTOFF,
                "EngineVersion": {"SelectedEngineVersion": "Athena engine version 3"},
            },
        )


def desired_resources(settings: Settings) -> list[Resource]:
    """Everything the infrastructure must hold, derived from the catalog and settings."""
    catalog = settings.datasets
    resources: list[Resource] = [Bucket(settings.bucket(ds)) for ds in catalog]
    resources.append(Bucket(settings.results_bucket))
    resources += [Topic(ds.topic, ds.partitions) for ds in catalog]
    resources.append(GlueDatabase(settings.glue_database))
    resources.append(GlueDatabase(settings.curated_database))
    if settings.target == "local":
        # On AWS the crawler role is Terraform's (least privilege, scoped to the lake prefixes).
        resources.append(CrawlerRole(CRAWLER_ROLE))
    resources += [
        Crawler(
            settings.crawler(ds),
            CRAWLER_ROLE,
            settings.glue_database,
            layout.table_location(settings.bucket(ds), ds.table),
            catalog.crawler_exclusions,
        )
        for ds in catalog
    ]
    resources.append(Workgroup(settings.athena_workgroup, settings.athena_output_location))
    return resources


def _run(settings: Settings, create: bool) -> list[Outcome]:
    ctx = Context(settings)
    outcomes = []
    try:
        for resource in desired_resources(settings):
            try:
                outcome = resource.check(ctx)
                may_create = not resource.aws or settings.target == "local"
                if create and outcome.state == "missing" and may_create:
                    resource.create(ctx)
                    outcome = resource.check(ctx)
                    if outcome.state == "exists":
                        outcome = resource.outcome("created", outcome.detail)
                outcomes.append(outcome)
            except (ClientError, BotoCoreError) as exc:
                raise StackError(
                    f"{resource.kind} {resource.name!r}: "
                    f"{_unroutable(settings, resource, exc) or f'the AWS API refused: {exc}'}"
                ) from None
            except StackError:
                raise
            except Exception as exc:  # kafka-python raises many unrelated types
                raise StackError(f"{resource.kind} {resource.name!r}: {describe(exc)}") from None
    finally:
        ctx.close()
    return outcomes


def _unroutable(settings: Settings, resource: Resource, exc: Exception) -> str | None:
    """Why a local Athena endpoint answered 404, when the cause is a botocore moto cannot route.

    The 404 body is moto's HTML page, which tells the user nothing (lakestream/stack/compat.py).
    """
    status = getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
    if settings.target != "local" or status != 404 or not isinstance(resource, Workgroup):
        return None
    try:
        from lakestream.stack.compat import athena_mismatch

        return athena_mismatch()
    except Exception:  # no moto here, or it changed shape: the original error says enough
        return None


def provision(settings: Settings) -> list[Outcome]:
    """Create every missing resource that is ours to create; report each one's state."""
    return _run(settings, create=True)


def inspect(settings: Settings) -> list[Outcome]:
    """Report each resource's state without changing anything."""
    return _run(settings, create=False)
