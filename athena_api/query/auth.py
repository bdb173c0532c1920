"""API-key authentication (when a key is configured) and per-client throttling.

A client is its key and its address together: clients sharing one key (two dashboard tabs on
two machines) each get their own allowance. Wrong keys are throttled too, per address, so a key
cannot be guessed at the server's speed.
"""

from __future__ import annotations

import hashlib
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
        guesses = WrongKeyThrottle(request)
        if (wait := guesses.wait_needed()) is not None:
            raise exceptions.Throttled(wait)
        if not hmac.compare_digest(given.encode(), expected.encode()):
            guesses.record()
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
        ident = self.get_ident(request)
        if request.auth:  # the key's digest, never the key, names the cache entry
            ident += ":" + hashlib.sha256(request.auth.encode()).hexdigest()[:16]
        return self.cache_format % {"scope": self.scope, "ident": ident}


class WrongKeyThrottle(throttling.SimpleRateThrottle):
    """Wrong keys per address: only failures count, and past the rate every request with a key
    is refused (429) until the window has passed."""

    scope = "wrong_key"

    def __init__(self, request: Any) -> None:
        super().__init__()
        self.key = self.get_cache_key(request, None)
        self.now = self.timer()
        self.history = [t for t in self.cache.get(self.key, []) if t > self.now - self.duration]

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def wait_needed(self) -> float | None:
        return self.wait() if len(self.history) >= self.num_requests else None

    def record(self) -> None:
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)
