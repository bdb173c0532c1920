"""API-key authentication (when a key is configured) and per-client throttling."""

from __future__ import annotations

import hmac
from typing import Any

from django.conf import settings
from rest_framework import authentication, exceptions, permissions, throttling


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Accepts `X-API-Key: <key>` or `Authorization: Api-Key <key>`."""

    def authenticate(self, request: Any) -> tuple[str, str] | None:
        expected = settings.API_KEY
        if not expected:
            return None
        given = request.headers.get("X-API-Key")
        auth = request.headers.get("Authorization", "")
        if not given and auth.startswith("Api-Key "):
            given = auth.removeprefix("Api-Key ")
        if not given:
            return None
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise exceptions.AuthenticationFailed("invalid API key")
        return ("api-client", given)

    def authenticate_header(self, request: Any) -> str:
        return "Api-Key"


class HasApiKey(permissions.BasePermission):
    message = "this API needs an API key: send it in the X-API-Key header"

    def has_permission(self, request: Any, view: Any) -> bool:
        return not settings.API_KEY or request.user == "api-client"


class ClientRateThrottle(throttling.SimpleRateThrottle):
    scope = "client"

    def get_cache_key(self, request: Any, view: Any) -> str:
        ident = request.auth or self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
