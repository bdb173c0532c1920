"""The dashboard's page, its assets and the Postman collection, served whatever DEBUG says."""

from __future__ import annotations

from pathlib import Path

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.static import serve

ASSETS = Path(__file__).parent / "assets"
POSTMAN = Path(__file__).parent.parent / "postman" / "lakestream.postman_collection.json"
ASSET_MAX_AGE_S = 300  # the script and style change with a release, not with the data


@require_GET
def page(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/index.html")


@require_GET
def asset(request: HttpRequest, path: str) -> HttpResponse:
    # django.views.static.serve refuses paths outside ASSETS and answers 404 for missing files.
    response = serve(request, path, document_root=str(ASSETS))
    response["Cache-Control"] = f"public, max-age={ASSET_MAX_AGE_S}"
    return response


@require_GET
def postman_collection(request: HttpRequest) -> FileResponse:
    if not POSTMAN.is_file():
        raise Http404("the Postman collection is not in this install")
    return FileResponse(POSTMAN.open("rb"), as_attachment=True, content_type="application/json")
