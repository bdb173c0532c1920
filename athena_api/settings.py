"""Django settings for the query API, derived from the project's settings model.

Every knob is a field of `lakestream.core.settings.Settings` (environment variables, then
`.env`, then defaults; `lakestream config` lists them with secrets masked): API_KEY, API_DEBUG,
API_ENGINE, API_MAX_LIMIT, API_QUERY_TIMEOUT, API_RESULT_MAX_AGE, API_THROTTLE_RATE,
API_ALLOWED_HOSTS, API_SECRET_KEY.
"""

from __future__ import annotations

import secrets

from django.core.exceptions import ImproperlyConfigured

from lakestream.core import clients
from lakestream.core.settings import load_settings

LAKE = load_settings()

DEBUG = LAKE.api_debug_on
# A Secrets Manager reference (what infra/'s API instance is given) is read once, at start.
API_KEY = (
    clients.resolve_secret(LAKE, LAKE.api_key.get_secret_value(), "API_KEY")
    if LAKE.api_key
    else None
)
if not DEBUG and not API_KEY:
    raise ImproperlyConfigured(
        "API_KEY must be set when API_DEBUG is off (clients send it as X-API-Key)"
    )
API_ENGINE = LAKE.api_engine_name
API_MAX_LIMIT = LAKE.api_max_limit
API_DEFAULT_LIMIT = 10
API_QUERY_TIMEOUT = LAKE.api_query_timeout
API_RESULT_MAX_AGE = LAKE.api_result_max_age

SECRET_KEY = (
    LAKE.api_secret_key.get_secret_value() if LAKE.api_secret_key else secrets.token_urlsafe(48)
)
ALLOWED_HOSTS = [h.strip() for h in LAKE.api_allowed_hosts.split(",") if h.strip()] + ["testserver"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_yasg",
    "athena_api.query",
    "athena_api.dashboard",
]
MIDDLEWARE = [
    # First: it times and counts every answer, the others' included (GET /metrics).
    "athena_api.query.metrics.RequestMetrics",
    # A 304 goes without the Content-Length that CommonMiddleware, inside it, adds.
    "athena_api.query.reuse.NotModifiedHeaders",
    "django.middleware.security.SecurityMiddleware",
    # Static files (Swagger UI's, ReDoc's, the dashboard's) under gunicorn too, where Django
    # serves none; straight from the apps' static folders, so no collectstatic step.
    "whitenoise.middleware.WhiteNoiseMiddleware",
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
WHITENOISE_USE_FINDERS = True
WHITENOISE_MAX_AGE = 300  # the files change with a release, not with the data
USE_TZ = True
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "DEFAULT_AUTHENTICATION_CLASSES": ["athena_api.query.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["athena_api.query.auth.HasApiKey"],
    "DEFAULT_THROTTLE_CLASSES": ["athena_api.query.auth.ClientRateThrottle"],
    # Wrong keys: a handful a minute per address is a typo, more is someone guessing.
    "DEFAULT_THROTTLE_RATES": {"client": LAKE.api_throttle_rate, "wrong_key": "10/min"},
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
