"""How an error reads in one line."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from kafka.errors import KafkaTimeoutError

from lakestream.core.errors import describe, unreachable
from lakestream.stack.processes import free_port


def test_an_error_is_described_by_its_type_once():
    assert describe(ValueError("bad value")) == "ValueError: bad value"
    # kafka-python's errors already start with their type's name: it is not said twice.
    assert describe(KafkaTimeoutError("no broker")) == "KafkaTimeoutError: no broker"


def test_an_aws_endpoint_that_does_not_answer_is_named_with_what_to_do():
    # A real client against a closed port of this machine, as when the stack is down.
    port = free_port()
    s3 = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )
    with pytest.raises(EndpointConnectionError) as caught:
        s3.list_objects_v2(Bucket="kafka-ing-transactions", Prefix="x/")
    message = str(unreachable(caught.value))
    assert message.startswith(f"cannot reach AWS at http://127.0.0.1:{port} (no connection); ")
    assert "`lakestream up`" in message
    assert "list-type" not in message  # the endpoint, not the request's URL
    # Not this machine's: the stack is not the advice.
    remote = EndpointConnectionError(endpoint_url="https://glue.eu-west-1.amazonaws.com/")
    message = str(unreachable(remote))
    assert message.startswith("cannot reach AWS at https://glue.eu-west-1.amazonaws.com ")
    assert "AWS_REGION" in message
    assert "lakestream up" not in message
    timeout = ConnectTimeoutError(endpoint_url="https://s3.eu-west-1.amazonaws.com/b")
    assert "(connection timed out)" in str(unreachable(timeout))
    hung = ReadTimeoutError(endpoint_url="http://127.0.0.1:4566/kafka-ing-x")
    assert str(unreachable(hung)).startswith("cannot reach AWS at http://127.0.0.1:4566 (no answer")
    gone = ConnectionClosedError(endpoint_url="http://localhost:4566/")
    assert "(connection closed); is the stack up?" in str(unreachable(gone))


def test_brokers_that_do_not_answer_are_named_with_what_to_do():
    message = str(unreachable(KafkaTimeoutError("Unable to bootstrap from ['127.0.0.1:19']")))
    assert message.startswith(
        "cannot reach Kafka at 127.0.0.1:19 (no broker answered or accepted the connection); "
    )
    assert "`lakestream up`" in message
    # Other errors of the same types, and everything else, are not about reaching anything.
    assert unreachable(KafkaTimeoutError("Failed to update metadata after 60.0 secs.")) is None
    assert unreachable(ValueError("Unable to bootstrap")) is None
