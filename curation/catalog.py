"""The Iceberg catalog of the curated layer: pyiceberg's Glue catalog, pointed where the settings
say (the moto server locally, AWS otherwise), with pyarrow's S3 filesystem for the files.

Its Glue client is the project's own (`clients.aws_client`): the same endpoint and credentials
as every other AWS call, from the process's one boto3 session. pyiceberg would otherwise
build a new session per catalog, which reads botocore's service models from disk again each
time (about 0.1 s of CPU per catalog, and a pass, a query or a stats call makes one). Built
directly, the catalog reads no ~/.pyiceberg.yaml or PYICEBERG_CATALOG__* settings: the
project's settings are its only configuration."""

from __future__ import annotations

from typing import Any

from pyiceberg.catalog import Catalog
from pyiceberg.catalog.glue import GlueCatalog

from lakestream.core import clients
from lakestream.core.settings import Settings


def iceberg_catalog(settings: Settings) -> Catalog:
    properties: dict[str, Any] = {
        "s3.region": settings.aws_region,
        # pyiceberg's s3fs IO does not resolve here; pyarrow's S3 filesystem does the job.
        "py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO",
    }
    if settings.aws_endpoint_url:
        properties["s3.endpoint"] = settings.aws_endpoint_url
    if settings.aws_access_key_id and settings.aws_secret_access_key:
        properties["s3.access-key-id"] = settings.aws_access_key_id
        properties["s3.secret-access-key"] = settings.aws_secret_access_key.get_secret_value()
        if settings.aws_session_token:
            properties["s3.session-token"] = settings.aws_session_token.get_secret_value()
    # pyiceberg's own retry budget for Glue (10 retries), kept: a pass or a stats call that meets
    # throttling waits instead of failing.
    glue = clients.aws_client(settings, "glue", retries={"mode": "standard", "max_attempts": 10})
    return GlueCatalog("lakestream", client=glue, **properties)
