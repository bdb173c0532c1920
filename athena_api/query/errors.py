"""Every error is JSON: {"error": {"status", "code", "message", "param"?}} — never a traceback."""

from __future__ import annotations

import logging
from typing import Any

from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response

log = logging.getLogger("athena_api")


def error_body(status: int, code: str, message: str, param: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status, "code": code, "message": message}
    if param:
        body["param"] = param
    return {"error": body}


def exception_handler(exc: Exception, context: Any) -> Response:
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
