"""botocore and the moto server must agree on how Athena is spoken, or every journey stops at
provisioning. `data/athena/` holds Athena's service model from botocore 1.44.18 (trimmed to the
three workgroup operations), the first release that moto 5.2.6 could not route: loading it
makes the installed botocore speak `rest-json`, as that release does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import botocore.session
import pytest
from botocore.exceptions import ClientError

from lakestream.stack.compat import athena_mismatch
from tests.conftest import stack_env

REST_JSON_MODELS = Path(__file__).parent / "data"


def rest_json_session() -> botocore.session.Session:
    session = botocore.session.get_session()
    session.get_component("data_loader").search_paths.insert(0, str(REST_JSON_MODELS))
    return session


def test_the_installed_botocore_speaks_athena_as_moto_routes_it() -> None:
    mismatch = athena_mismatch()
    assert mismatch is None, f"the installed botocore and moto disagree: {mismatch}"


def test_the_fixture_speaks_rest_json() -> None:
    model = rest_json_session().get_service_model("athena")
    assert model.protocol == "rest-json"
    assert model.operation_model("ListWorkGroups").http == {
        "method": "GET",
        "requestUri": "/workgroups",
    }


@pytest.mark.stack
def test_moto_answers_a_rest_json_client_404_and_the_mismatch_is_named(running_stack) -> None:
    env = running_stack.env
    session = rest_json_session()
    athena = session.create_client(
        "athena",
        region_name=env["AWS_REGION"],
        endpoint_url=env["AWS_ENDPOINT_URL"],
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    with pytest.raises(ClientError) as refused:  # the failure the issue reported, for real
        athena.list_work_groups()
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404

    message = athena_mismatch(session)
    assert message is not None
    assert "sends Athena requests as rest-json (ListWorkGroups is GET /workgroups)" in message
    assert "moto 5." in message
    assert "does not route" in message
    assert "botocore<1.44.14" in message
    assert "make install" in message


@pytest.mark.stack
def test_lakestream_up_names_the_mismatch_instead_of_an_html_page(tmp_path) -> None:
    env = {**os.environ, **stack_env(tmp_path / "run"), "AWS_DATA_PATH": str(REST_JSON_MODELS)}
    env.pop("AWS_PROFILE", None)
    command = [sys.executable, "-m", "orchestration"]
    try:
        up = subprocess.run(
            [*command, "up"], env=env, capture_output=True, text=True, timeout=180, check=False
        )
    finally:
        subprocess.run([*command, "down"], env=env, capture_output=True, timeout=60, check=False)
    assert up.returncode == 2, up.stdout + up.stderr
    # Progress lines first, then the error: one line.
    error = [line for line in up.stderr.splitlines() if not line.startswith("• ")]
    assert len(error) == 1, up.stderr
    assert error[0].startswith("lakestream: error: athena workgroup 'lakestream': botocore ")
    assert "as rest-json" in error[0]
    assert "botocore<1.44.14" in error[0]
    assert "doctype" not in up.stderr.lower()
    assert "Traceback" not in up.stderr
