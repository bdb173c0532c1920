"""The OpenAPI document, Swagger UI, ReDoc, the committed Postman collection, and schemathesis."""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.pytest._test_builder import build_operation_test

from athena_api.cli import POSTMAN_PATH, openapi_document
from athena_api.postman import collection

application = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi("/swagger.json", application)


def test_postman_collection_is_in_sync_with_the_openapi_document():
    committed = json.loads(POSTMAN_PATH.read_text(encoding="utf-8"))
    assert committed == collection(openapi_document()), (
        "regenerate it: python -m athena_api postman"
    )
    names = [item["name"] for group in committed["item"] for item in group["item"]]
    assert {"query_table", "list_tables", "describe_table", "health"} <= set(names)
    original = next(
        i for g in committed["item"] for i in g["item"] if i["name"].startswith("Original")
    )
    assert original["request"]["url"]["raw"] == (
        "{{baseUrl}}/api/query-table/?table=kafka_ing_social_data&limit=10"
    )


def test_openapi_documents_the_query_parameters():
    doc = openapi_document()
    params = {p["name"]: p for p in doc["paths"]["/query-table/"]["get"]["parameters"]}
    assert set(params) == {
        "table", "limit", "filter", "columns", "order_by", "format", "layer", "as_of", "max_age",
    }  # fmt: skip
    assert params["max_age"]["type"] == "integer"
    assert (params["max_age"]["minimum"], params["max_age"]["maximum"]) == (0, 604_800)
    assert "If-None-Match" in params["max_age"]["description"]
    responses = doc["paths"]["/query-table/"]["get"]["responses"]
    assert "If-None-Match" in responses["304"]["description"]
    assert params["layer"]["enum"] == ["raw", "curated"]
    assert params["table"]["required"] is True
    assert doc["securityDefinitions"]["ApiKey"]["name"] == "X-API-Key"


def test_each_analysis_is_documented_with_the_parameters_of_its_file():
    from glue.queries import saved_queries

    doc = openapi_document()
    assert "/analyses/" in doc["paths"]
    for query in saved_queries().values():
        operation = doc["paths"][f"/analyses/{query.name}/"]["get"]
        assert operation["description"] == query.description
        params = {p["name"]: p for p in operation["parameters"]}
        assert set(params) == {"limit", "layer", "max_age", "format"} | {
            p.name for p in query.params
        }
        for p in query.params:
            assert params[p.name]["format"] == "date"
            assert params[p.name]["default"] == p.default
            assert params[p.name]["description"] == p.description


@pytest.mark.stack
def test_swagger_ui_and_redoc_are_served(api):
    assert api.get("/swagger/").status_code == 200
    assert api.get("/redoc/").status_code == 200
    assert api.get("/swagger.json").json()["info"]["title"] == "lakestream query API"


# One test per operation, named by it. schemathesis' own `@schema.parametrize()` gives its items
# one shared node id, and pytest-xdist then runs only one of them; so each named item runs the
# very test schemathesis' pytest plugin would build for it (its examples, coverage and fuzzing
# phases, valid and invalid data). The builder is schemathesis' private module: uv.lock pins the
# version, and a rename fails here loudly.
OPERATIONS = [result.ok() for result in schema.get_all_operations()]
SETTINGS = hypothesis_settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def no_server_error(case) -> None:
    response = case.call()
    assert response.status_code < 500 or response.status_code in (502, 503, 504), (
        response.status_code,
        response.text[:300],
    )
    if response.status_code >= 400:
        assert "error" in response.json()


@pytest.mark.stack
@pytest.mark.parametrize(
    "operation", OPERATIONS, ids=[f"{op.method.upper()} {op.path}" for op in OPERATIONS]
)
def test_no_input_makes_a_server_error(operation, api):
    calls: list[int] = []

    def check(case) -> None:
        calls.append(1)
        no_server_error(case)

    build_operation_test(
        config=schema.config,
        operation=operation,
        test_func=check,
        given_kwargs={},
        feedback=FeedbackSources(),
        explicit_settings=SETTINGS,
    )()
    assert len(calls) >= 10  # the phases ran: examples, coverage and fuzzing
