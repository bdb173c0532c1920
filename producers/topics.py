"""Before sending: every topic exists, created with the catalog's partitions if allowed."""

from __future__ import annotations

from kafka.errors import KafkaError

from lakestream.core.datasets import Dataset
from lakestream.core.errors import LakestreamError, kafka_unreachable
from lakestream.core.settings import Settings
from lakestream.stack.provision import Context, Topic
from lakestream.stack.reachable import require_kafka


def ensure_topics(settings: Settings, datasets: list[Dataset], create: bool = True) -> list[str]:
    """Names of the topics created; a LakestreamError says what is missing or refused."""

    require_kafka(settings)  # a closed port answers in milliseconds, the admin client in ~30 s
    try:
        ctx = Context(settings)
        ctx.topic_partitions  # noqa: B018 - the first call reaches the brokers
    except (KafkaError, OSError) as exc:
        raise kafka_unreachable(settings.kafka_bootstrap_servers, type(exc).__name__) from None
    created = []
    try:
        for ds in datasets:
            topic = Topic(ds.topic, ds.partitions)
            if topic.check(ctx).state != "missing":
                continue
            if not create:
                raise LakestreamError(
                    f"topic {ds.topic!r} does not exist; create it with {ds.partitions} "
                    "partitions (`lakestream up` does) or drop --no-create-topics"
                )
            try:
                topic.create(ctx)
            except KafkaError as exc:
                raise LakestreamError(
                    f"topic {ds.topic!r} does not exist and creating it was refused "
                    f"({type(exc).__name__}); ask for it with {ds.partitions} partitions"
                ) from None
            created.append(ds.topic)
    finally:
        ctx.close()
    return created
