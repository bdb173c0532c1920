"""The Athena path, against moto's Athena API: what is sent, and how results come back."""

from __future__ import annotations

import json
import re
import urllib.request
from urllib.parse import urlencode

import pytest
from pydantic import SecretStr

from athena_api.query import views
from engines.athena import AthenaEngine, athena_literal
from lakestream.core import clients
from lakestream.core.errors import QueryTimeout

pytestmark = pytest.mark.stack


def queue_athena_result(
    endpoint: str, rows: list[list[str]], columns: list[tuple[str, str]]
) -> None:
    """moto runs no SQL: queue the result its next get_query_results returns."""
    info = [
        {"CatalogName": "hive", "SchemaName": "", "TableName": "", "Name": n, "Label": n,
         "Type": t, "Precision": 0, "Scale": 0, "Nullable": "UNKNOWN", "CaseSensitive": False}
        for n, t in columns
    ]  # fmt: skip
    header = {"Data": [{"VarCharValue": n} for n, _ in columns]}
    data = [{"Data": [{"VarCharValue": v} for v in row]} for row in rows]
    body = json.dumps({"results": [{"rows": [header, *data], "column_info": info}]}).encode()
    request = urllib.request.Request(
        f"{endpoint}/moto-api/static/athena/query-results",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201


def test_athena_literals_escape_quotes():
    assert athena_literal("o'brien") == "'o''brien'"
    assert athena_literal(42) == "42"
    assert athena_literal(2.5) == "2.5"
    assert athena_literal(True) == "true"
    assert athena_literal("2024-10-01") == "'2024-10-01'"


def test_query_goes_to_athena_with_parameters_workgroup_and_database(
    api, settings, api_lake, running_stack
):
    settings.API_ENGINE = "athena"
    views._shared.clear()
    queue_athena_result(
        running_stack.env["AWS_ENDPOINT_URL"],
        rows=[["o'brien", "7"], ["o'brien", "12"]],
        columns=[("user", "varchar"), ("likes", "bigint")],
    )
    query = {"table": "kafka_ing_social_data", "columns": "user,likes", "limit": "5",
             "filter": "user = 'o''brien' AND likes >= 5"}  # fmt: skip
    response = api.get(f"/api/query-table/?{urlencode(query)}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["engine"] == "athena"
    assert body["rows"] == [{"user": "o'brien", "likes": 7}, {"user": "o'brien", "likes": 12}]

    athena = clients.aws_client(api_lake.settings, "athena")
    execution = athena.get_query_execution(QueryExecutionId=body["query_id"])["QueryExecution"]
    db = api_lake.settings.glue_database
    assert execution["Query"] == (
        f'SELECT "user", "likes" FROM "{db}"."kafka_ing_social_data" '
        'WHERE "user" = ? AND "likes" >= ? LIMIT 5'
    )
    assert execution["ExecutionParameters"] == ["'o''brien'", "5"]
    assert execution["WorkGroup"] == api_lake.settings.athena_workgroup
    assert execution["QueryExecutionContext"]["Database"] == db
    output = execution["ResultConfiguration"]["OutputLocation"]
    assert output.startswith(api_lake.settings.athena_output_location)


def test_a_query_past_the_timeout_is_stopped_in_athena(api_lake):
    """moto answers at once, so a zero timeout is what a slow query looks like: the engine must
    stop the query it started (StopQueryExecution) and say so."""
    engine = AthenaEngine(api_lake.settings, timeout=0)
    with pytest.raises(QueryTimeout, match=r"Athena query (\S+) was stopped") as caught:
        engine.execute("SELECT COUNT(*) FROM kafka_ing_logs")
    query_id = re.search(r"Athena query (\S+) was stopped", str(caught.value)).group(1)
    athena = clients.aws_client(api_lake.settings, "athena")
    execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
    assert execution["Status"]["State"] == "CANCELLED"
    assert execution["Query"] == "SELECT COUNT(*) FROM kafka_ing_logs"


def test_temporary_credentials_reach_athena_with_their_session_token(api_lake):
    settings = api_lake.settings.model_copy(
        update={"aws_session_token": SecretStr("session-token-of-an-assumed-role")}
    )
    connection = AthenaEngine(settings, timeout=5)._connect()
    credentials = connection.session.get_credentials().get_frozen_credentials()
    assert credentials.token == "session-token-of-an-assumed-role"
    assert credentials.access_key == settings.aws_access_key_id
