from django.urls import path, re_path
from django.views.generic import RedirectView
from drf_yasg import openapi
from drf_yasg.views import get_schema_view
from rest_framework.permissions import AllowAny

from athena_api.dashboard import views as dashboard
from athena_api.query import analyses, metrics, stats, views
from athena_api.query.errors import not_found

schema_view = get_schema_view(
    openapi.Info(
        title="lakestream query API",
        default_version="v1",
        description=(
            "Parameterized Athena queries over the Kafka-fed data lake. Filters are parsed and "
            "bound as parameters, never pasted into SQL."
        ),
    ),
    public=True,
    permission_classes=[AllowAny],
    authentication_classes=[],
)

urlpatterns = [
    path("api/query-table/", views.QueryTableView.as_view(), name="query-table"),
    path("api/tables/", views.TablesView.as_view(), name="tables"),
    path("api/tables/<str:name>/", views.TableDetailView.as_view(), name="table-detail"),
    path("api/health/", views.HealthView.as_view(), name="health"),
    path("api/stats/", stats.StatsView.as_view(), name="stats"),
    path("metrics", metrics.MetricsView.as_view(), name="metrics"),
    *analyses.urlpatterns(),
    re_path(
        r"^swagger(?P<format>\.json|\.yaml)$",
        schema_view.without_ui(cache_timeout=0),
        name="openapi-document",
    ),
    path("swagger/", schema_view.with_ui("swagger", cache_timeout=0), name="swagger-ui"),
    path("redoc/", schema_view.with_ui("redoc", cache_timeout=0), name="redoc"),
    path("", RedirectView.as_view(url="/dashboard/", permanent=False)),
    path("dashboard/", dashboard.page, name="dashboard"),
    path(
        "postman/lakestream.postman_collection.json",
        dashboard.postman_collection,
        name="postman-collection",
    ),
    # Anything else is a JSON 404, in DEBUG too (Django's debug page would be HTML).
    re_path(r"^(?!static/).*$", not_found),
]

handler404 = "athena_api.query.errors.not_found"
handler500 = "athena_api.query.errors.server_error"
