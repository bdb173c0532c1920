from django.apps import AppConfig


class QueryConfig(AppConfig):
    name = "athena_api.query"
    label = "query"
