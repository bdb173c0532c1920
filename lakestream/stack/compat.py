"""Whether the embedded moto server can route what the installed botocore sends.

botocore 1.44.14 moved Athena from the `json` protocol (every call a POST to `/`, the operation
in the X-Amz-Target header) to `rest-json` (one REST path per operation, `GET /workgroups` to
list workgroups). moto 5.2.6 routes only the first: every Athena call of a newer botocore
answers an HTML 404 page, and `lakestream up` stops at provisioning the workgroup. uv.lock pins
a botocore that moto routes; someone who installs the package into an environment of their own
meets this instead, so the check asks moto's own URL map rather than a table of versions: it
stays right when either side moves.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

# One operation stands for the service: `lakestream up` lists workgroups first.
PROBE = ("athena", "ListWorkGroups")


def request_line(session: Any, service: str, operation: str) -> tuple[str, str, str]:
    """(protocol, method, path) that botocore uses for one operation.

    The protocol is the one a client really speaks: botocore picks it from `protocols` in its own
    order of preference (`resolved_protocol`), `protocol` is only the legacy trait. For the json,
    query and rest protocols, `requestUri` is the path sent; smithy-rpc-v2-cbor would differ,
    and Athena does not speak it."""
    model = session.get_service_model(service)
    protocol = getattr(model, "resolved_protocol", None) or model.protocol
    http = model.operation_model(operation).http
    return protocol, http["method"], http["requestUri"].split("?", 1)[0]


def moto_routes(service: str, method: str, path: str) -> bool:
    """Whether the moto server's Flask app for `service` has a rule for this request."""
    from moto.moto_server.werkzeug_app import create_backend_app
    from werkzeug.exceptions import HTTPException

    urls = create_backend_app(service).url_map.bind("localhost")
    # A path template such as /workgroups/{WorkGroup} is probed with a sample value.
    sample = path.replace("{", "").replace("}", "").replace("+", "")
    try:
        urls.match(sample, method=method)
    except HTTPException:
        return False
    return True


def athena_mismatch(session: Any | None = None) -> str | None:
    """One sentence naming the botocore/moto mismatch for Athena, or None when there is none."""
    import botocore.session

    session = session or botocore.session.get_session()
    service, operation = PROBE
    protocol, method, path = request_line(session, service, operation)
    if moto_routes(service, method, path):
        return None
    return (
        f"botocore {metadata.version('botocore')} sends Athena requests as {protocol} "
        f"({operation} is {method} {path}), which moto {metadata.version('moto')} does not route "
        "(it answers 404 to every Athena call). Install the locked versions with `make install`, "
        "or pin `botocore<1.44.14` and `boto3<1.44.14` in your environment until a moto release "
        "routes them (README, 'Installs and upgrades')"
    )
