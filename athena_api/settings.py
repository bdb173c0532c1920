"""Django settings for the query API. Deployment knobs come from the environment:

API_KEY            clients must send it (X-API-Key header); required when API_DEBUG is off
API_DEBUG          1 for local development (default when LAKESTREAM_TARGET=local), else 0
API_ENGINE         local (DuckDB on the embedded lake) or athena (PyAthena); default by target
API_MAX_LIMIT      the largest `limit` a client may ask for (default 1000)
API_QUERY_TIMEOUT  seconds before a query is abandoned with 504 (default 30)
API_THROTTLE_RATE  requests per client, e.g. 120/min (default)
API_ALLOWED_HOSTS  comma-separated host names (default 127.0.0.1,localhost)
API_SECRET_KEY     Django's signing key (no sessions or cookies are used; random if unset)
"""

from __future__ import annotations

import os
import secrets

from django.core.exceptions import ImproperlyConfigured

from lakestream.core.settings import load_settings

LAKE = load_settings()

DEBUG = os.environ.get("API_DEBUG", "1" if LAKE.target == "local" else "0") == "1"
API_KEY = os.environ.get("API_KEY") or None
if not DEBUG and not API_KEY:
    raise ImproperlyConfigured(
        "API_KEY must be set when API_DEBUG is off (clients send it as X-API-Key)"
    )
API_ENGINE = os.environ.get("API_ENGINE", "local" if LAKE.target == "local" else "athena")
API_MAX_LIMIT = int(os.environ.get("API_MAX_LIMIT", "1000"))
API_DEFAULT_LIMIT = 10
API_QUERY_TIMEOUT = float(os.environ.get("API_QUERY_TIMEOUT", "30"))

SECRET_KEY = os.environ.get("API_SECRET_KEY") or secrets.token_urlsafe(48)
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("API_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if h.strip()
] + ["testserver"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_yasg",
    "athena_api.query",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]
ROOT_URLCONF = "athena_api.urls"
WSGI_APPLICATION = "athena_api.wsgi.application"
DATABASES: dict = {}
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
STATIC_URL = "static/"
USE_TZ = True
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "DEFAULT_AUTHENTICATION_CLASSES": ["athena_api.query.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["athena_api.query.auth.HasApiKey"],
    "DEFAULT_THROTTLE_CLASSES": ["athena_api.query.auth.ClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"client": os.environ.get("API_THROTTLE_RATE", "120/min")},
    "EXCEPTION_HANDLER": "athena_api.query.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    # `format` is our own query parameter (json | athena), not DRF's renderer switch.
    "URL_FORMAT_OVERRIDE": None,
}
SWAGGER_SETTINGS = {
    "USE_SESSION_AUTH": False,
    "SECURITY_DEFINITIONS": {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"athena_api": {"handlers": ["console"], "level": "INFO"}},
}
