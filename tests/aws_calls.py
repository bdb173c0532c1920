"""Every AWS API call a stage makes, as the IAM permissions it needs.

A moto server runs in this process behind a WSGI middleware that writes down each request and
its status: whichever library made it (boto3, PyAthena, pyiceberg, pyarrow's S3 filesystem, a
subprocess), it arrives here. `needed()` turns the requests into (action, resource, context)
the way AWS authorizes them: S3's REST requests by method, path and query; the JSON services
(Glue, Athena, Secrets Manager) by their X-Amz-Target; the resources each action is checked on
(Glue wants the catalog, the database and the table). What AWS does on the caller's behalf and
moto cannot show (KMS for SSE-KMS objects and secrets, Athena reading the tables and writing
results) is added by `implied()`, each rule with its reason.
"""

from __future__ import annotations

import html
import io
import json
import re
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote

from werkzeug.serving import make_server

from lakestream.stack.moto_server import read_services_once
from lakestream.stack.processes import free_port

ACCOUNT = "123456789012"  # moto's default account
_SERVICE = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
_TARGETS = {
    "AWSGlue": "glue",
    "AmazonAthena": "athena",
    "secretsmanager": "secretsmanager",
    "AmazonSSM": "ssm",
    "TrentService": "kms",
}


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # unquoted, without the query
    query: dict[str, list[str]]
    service: str
    region: str
    target: str  # X-Amz-Target's operation, for the JSON services
    status: int
    body: dict | str | None  # JSON services' parameters; DeleteObjects' keys


@dataclass(frozen=True)
class Need:
    action: str
    resource: str
    prefix: str | None = None  # s3:prefix, for ListBucket
    via: str | None = None  # kms:ViaService


class _Recorder:
    def __init__(self, app) -> None:
        self.app = app
        self.requests: list[Request] = []
        self.recording = False
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        if not self.recording or environ.get("PATH_INFO", "").startswith("/moto-api/"):
            return self.app(environ, start_response)
        headers = {
            k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        target = headers.get("x-amz-target", "")
        body: dict | str | None = None
        if target or "delete" in query:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(raw)
            body = json.loads(raw or b"{}") if target else raw.decode()
        match = _SERVICE.search(headers.get("authorization", ""))
        region, service = match.groups() if match else ("", "")
        statuses: list[int] = []

        def recording_start(status, response_headers, exc_info=None):
            statuses.append(int(status.split()[0]))
            return start_response(status, response_headers, exc_info)

        result = self.app(environ, recording_start)
        request = Request(
            method=environ["REQUEST_METHOD"],
            path=unquote(environ.get("PATH_INFO", "")),
            query=query,
            service=service or _TARGETS.get(target.split(".")[0], ""),
            region=region,
            target=target.split(".", 1)[1] if "." in target else "",
            status=statuses[0] if statuses else 0,
            body=body,
        )
        with self._lock:
            self.requests.append(request)
        return result


@dataclass
class RecordingMoto:
    endpoint: str
    recorder: _Recorder
    windows: dict[str, list[Request]] = field(default_factory=dict)

    @contextmanager
    def window(self, name: str) -> Iterator[list[Request]]:
        """Record the requests made inside the block under `name`."""
        self.recorder.requests.clear()
        self.recorder.recording = True
        try:
            yield self.windows.setdefault(name, [])
        finally:
            self.recorder.recording = False
            self.windows[name].extend(self.recorder.requests)
            self.recorder.requests.clear()


@contextmanager
def recording_moto() -> Iterator[RecordingMoto]:
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )

    read_services_once()  # as the embedded stack's server does
    recorder = _Recorder(DomainDispatcherApplication(create_backend_app))
    port = free_port()
    server = make_server(
        "127.0.0.1", port, recorder, threaded=True, request_handler=MotoRequestHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        yield RecordingMoto(endpoint, recorder)
    finally:
        # moto's backends live in this process, not in the server: without a reset, what one
        # test file made (the stages' Athena workgroup) is still there for the next one.
        reset = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
        urllib.request.urlopen(reset, timeout=30).close()
        server.shutdown()
        thread.join(10)


# --- requests as IAM needs -------------------------------------------------------------------


def _s3(request: Request) -> list[Need]:
    bucket, _, key = request.path.lstrip("/").partition("/")
    bucket_arn, object_arn = f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/{key}"
    q, method = request.query, request.method
    if not key:
        if method in ("GET", "HEAD") and not (
            set(q) & {"location", "uploads", "versions", "versioning", "policy", "acl"}
        ):
            # ListObjects(V2); HeadBucket is authorized as ListBucket without a prefix.
            prefix = q.get("prefix", [""])[0] if method == "GET" else None
            return [Need("s3:ListBucket", bucket_arn, prefix=prefix)]
        if method == "GET" and "location" in q:
            return [Need("s3:GetBucketLocation", bucket_arn)]
        if method == "GET" and "uploads" in q:
            return [Need("s3:ListBucketMultipartUploads", bucket_arn)]
        if method == "POST" and "delete" in q:
            keys = re.findall(r"<Key>(.*?)</Key>", str(request.body))
            return [Need("s3:DeleteObject", f"{bucket_arn}/{html.unescape(k)}") for k in keys]
        raise AssertionError(
            f"an S3 bucket request no stage should make: {method} {request.path} {q}"
        )
    if method in ("GET", "HEAD"):
        if set(q) & {"tagging", "acl", "attributes", "retention", "legal-hold"}:
            raise AssertionError(f"an S3 object request no stage should make: {method} {q}")
        if "uploadId" in q:
            return [Need("s3:ListMultipartUploadParts", object_arn)]
        needs = [Need("s3:GetObject", object_arn)]
        if request.status == 404:
            # S3 answers 404 for a missing key only to a caller allowed to list the bucket
            # (403 otherwise): code that reads a key that may not exist needs s3:ListBucket.
            needs.append(Need("s3:ListBucket", bucket_arn))
        return needs
    if method == "PUT":
        if "tagging" in q or "acl" in q:
            raise AssertionError(f"an S3 object request no stage should make: {method} {q}")
        return [Need("s3:PutObject", object_arn)]  # PutObject, UploadPart
    if method == "POST" and ("uploads" in q or "uploadId" in q):
        return [Need("s3:PutObject", object_arn)]  # Create- and CompleteMultipartUpload
    if method == "DELETE":
        action = "s3:AbortMultipartUpload" if "uploadId" in q else "s3:DeleteObject"
        return [Need(action, object_arn)]
    raise AssertionError(f"an S3 request this mapping does not know: {method} {request.path} {q}")


def _glue(request: Request, region: str) -> list[Need]:
    body = request.body if isinstance(request.body, dict) else {}
    base = f"arn:aws:glue:{region}:{ACCOUNT}"
    if request.target in ("StartCrawler", "GetCrawler"):
        # Authorised on the crawler alone (Glue's resource ARNs: crawler/<name>).
        return [Need(f"glue:{request.target}", f"{base}:crawler/{body['Name']}")]
    catalog = [Need(f"glue:{request.target}", f"{base}:catalog")]
    database = body.get("DatabaseName") or body.get("Name")
    if request.target in ("GetDatabase", "GetDatabases"):
        name = body.get("Name")
        return [*catalog, Need(f"glue:{request.target}", f"{base}:database/{name or '*'}")]
    table = body.get("TableName") or (body.get("TableInput") or {}).get("Name")
    if request.target in ("GetTable", "UpdateTable", "DeleteTable", "CreateTable"):
        table = table or body.get("Name")
    if request.target == "GetTables":
        table = "*"
    assert database, f"glue:{request.target} without a database: {body}"
    assert table, f"glue:{request.target} without a table: {body}"
    return [
        *catalog,
        Need(f"glue:{request.target}", f"{base}:database/{database}"),
        Need(f"glue:{request.target}", f"{base}:table/{database}/{table}"),
    ]


def needed(requests: list[Request], workgroup: str) -> set[Need]:
    """What IAM must allow for these requests (secrets are named by their ARNs)."""
    needs: set[Need] = set()
    for request in requests:
        region = request.region or "us-east-1"
        if request.service == "s3":
            needs.update(_s3(request))
        elif request.service == "glue":
            needs.update(_glue(request, region))
        elif request.service == "athena":
            resource = f"arn:aws:athena:{region}:{ACCOUNT}:workgroup/{workgroup}"
            needs.add(Need(f"athena:{request.target}", resource))
        elif request.service == "secretsmanager":
            secret = request.body["SecretId"]  # type: ignore[index]
            needs.add(Need(f"secretsmanager:{request.target}", secret))
        elif request.service == "sts" and request.method == "POST":
            continue  # GetCallerIdentity needs no permission
        else:
            raise AssertionError(f"a call this mapping does not know: {request}")
    return needs


def implied(needs: set[Need], key_arn: str, region: str, athena_reads: set[Need]) -> set[Need]:
    """What AWS also checks for these needs, which moto cannot show."""
    more: set[Need] = set()
    if any(n.action == "athena:StartQueryExecution" for n in needs):
        # Athena reads the tables and writes the results with the caller's permissions.
        more |= athena_reads
    s3_via, sm_via = f"s3.{region}.amazonaws.com", f"secretsmanager.{region}.amazonaws.com"
    for need in needs | more:
        if need.action == "s3:PutObject":
            # SSE-KMS buckets: a write makes a data key; a multipart upload also decrypts it.
            more.add(Need("kms:GenerateDataKey", key_arn, via=s3_via))
            more.add(Need("kms:Decrypt", key_arn, via=s3_via))
        elif need.action == "s3:GetObject":
            more.add(Need("kms:Decrypt", key_arn, via=s3_via))
        elif need.action == "secretsmanager:GetSecretValue":
            more.add(Need("kms:Decrypt", key_arn, via=sm_via))
    return more
