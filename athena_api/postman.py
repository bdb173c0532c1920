"""A Postman v2.1 collection generated from the OpenAPI document (kept in sync by a test)."""

from __future__ import annotations

from typing import Any

EXAMPLES = [
    (
        "Original design: social data, 10 rows",
        "/api/query-table/",
        {"table": "kafka_ing_social_data", "limit": "10"},
    ),
    (
        "Transactions paid by PayPal",
        "/api/query-table/",
        {"table": "kafka_ing_transactions", "filter": "paymentmethod='PayPal'", "limit": "20"},
    ),
    (
        "Server errors on product pages",
        "/api/query-table/",
        {
            "table": "kafka_ing_logs",
            "filter": "status_code >= 500 AND url LIKE '/products/%'",
            "columns": "ip_address,url,status_code,timestamp",
            "order_by": "timestamp desc",
        },
    ),
    (
        "Curated layer (Iceberg): the same request, typed tables",
        "/api/query-table/",
        {"table": "kafka_ing_transactions", "layer": "curated", "limit": "10"},
    ),
    (
        "Campaigns in Athena's ResultSet shape",
        "/api/query-table/",
        {"table": "kafka_ing_ad_campaigns", "limit": "5", "format": "athena"},
    ),
    (
        "Sales by product and payment, one month, curated layer",
        "/api/analyses/sales_by_product_and_payment/",
        {"from": "2024-10-01", "to": "2024-10-31", "layer": "curated"},
    ),
]


def _item(name: str, path: str, query: dict[str, str]) -> dict[str, Any]:
    parts = [p for p in path.strip("/").split("/") if p]
    return {
        "name": name,
        "request": {
            "method": "GET",
            "header": [{"key": "X-API-Key", "value": "{{apiKey}}", "disabled": False}],
            "url": {
                "raw": "{{baseUrl}}/"
                + "/".join(parts)
                + "/"
                + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""),
                "host": ["{{baseUrl}}"],
                "path": [*parts, ""],
                "query": [{"key": k, "value": v} for k, v in query.items()],
            },
        },
    }


def collection(openapi: dict[str, Any]) -> dict[str, Any]:
    items = []
    for path, operations in sorted(openapi.get("paths", {}).items()):
        for method, op in operations.items():
            if method != "get":
                continue
            query = {
                p["name"]: "{{table}}" if p["name"] == "table" else ""
                for p in op.get("parameters", [])
                if p.get("in") == "query" and p.get("required")
            }
            url_path = (
                "/api" + path.replace("{name}", "{{table}}")
                if not path.startswith("/api")
                else path
            )
            items.append(
                _item(op.get("operationId", path), url_path.replace("{name}", "{{table}}"), query)
            )
    examples = [_item(name, path, query) for name, path, query in EXAMPLES]
    return {
        "info": {
            "name": "lakestream query API",
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
            "description": "Generated from the OpenAPI document by `python -m athena_api postman`.",
        },
        "variable": [
            {"key": "baseUrl", "value": "http://127.0.0.1:8000"},
            {"key": "apiKey", "value": ""},
            {"key": "table", "value": "kafka_ing_social_data"},
        ],
        "item": [{"name": "endpoints", "item": items}, {"name": "examples", "item": examples}],
    }
