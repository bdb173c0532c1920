"""Every error is JSON: {"error": {"status", "code", "message", "param"?}} — never a traceback."""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response

from athena_api.query.builder import BadRequest
from athena_api.query.reuse import ListingFailure
from lakestream.core.errors import QueryError, QueryTimeout, UnknownTable

log = logging.getLogger("athena_api")


def error_body(status: int, code: str, message: str, param: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status, "code": code, "message": message}
    if param:
        body["param"] = param
    return {"error": body}


def _first_error(detail: Any) -> tuple[str | None, str]:
    """(parameter, message) of the first problem in a serializer's error detail."""
    if isinstance(detail, dict) and detail:
        param, problems = next(iter(detail.items()))
        first = problems[0] if isinstance(problems, list) and problems else problems
        return (None if param == "non_field_errors" else str(param)), str(first)
    if isinstance(detail, list) and detail:
        return None, str(detail[0])
    return None, str(detail)


def _render(status: int, code: str, message: str, param: str | None = None) -> Response:
    return Response(error_body(status, code, message, param), status=status)


def exception_handler(exc: Exception, context: Any) -> Response:
    """The one place errors become responses: typed errors in, JSON with the right status out."""
    if isinstance(exc, exceptions.ValidationError):
        param, message = _first_error(exc.detail)
        return _render(400, "bad_parameter", message, param)
    if isinstance(exc, BadRequest):
        return _render(400, "bad_parameter", str(exc), exc.param)
    if isinstance(exc, UnknownTable):
        return _render(404, "unknown_table", str(exc), "table")
    if isinstance(exc, QueryTimeout):
        limit = f"{settings.API_QUERY_TIMEOUT:g}"
        return _render(504, "timeout", f"the query did not finish within {limit}s")
    if isinstance(exc, QueryError):
        # Engine messages can quote the SQL: callers get the kind, the log gets the details.
        log.warning("engine failure (%s): %s", exc.kind, exc)
        engine = settings.API_ENGINE
        return _render(502, "engine_failure", f"the {engine} engine failed ({exc.kind})")
    if isinstance(exc, ListingFailure):
        return _render(502, "storage_failure", str(exc))
    if isinstance(exc, BotoCoreError | ClientError):
        log.warning("catalog failure: %s", exc)
        return _render(502, "catalog_failure", "the Glue catalog could not be read")
    if isinstance(exc, Http404):
        return Response(error_body(404, "not_found", "not found"), status=404)
    if isinstance(exc, exceptions.Throttled):
        wait = f"; retry in {int(exc.wait)} s" if exc.wait else ""
        return Response(error_body(429, "throttled", f"too many requests{wait}"), status=429)
    if isinstance(exc, exceptions.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
        detail = exc.detail if isinstance(exc.detail, str) else "invalid request"
        response = Response(
            error_body(exc.status_code, str(code), str(detail)), status=exc.status_code
        )
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            response["WWW-Authenticate"] = "Api-Key"
        return response
    log.exception("unexpected error")  # the details stay in the server log
    return Response(error_body(500, "internal", "internal error"), status=500)


def not_found(request: Any, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body(404, "not_found", "no such endpoint; see /swagger/"), status=404)


def server_error(request: Any) -> JsonResponse:
    return JsonResponse(error_body(500, "internal", "internal error"), status=500)
