"""The dashboard's page and the Postman collection. Its script, style and Chart.js are static
files (static/dashboard/), served by WhiteNoise whatever DEBUG says."""

from __future__ import annotations

from pathlib import Path

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

POSTMAN = Path(__file__).parent.parent / "postman" / "lakestream.postman_collection.json"


@require_GET
def page(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/index.html")


@require_GET
def postman_collection(request: HttpRequest) -> FileResponse:
    if not POSTMAN.is_file():
        raise Http404("the Postman collection is not in this install")
    return FileResponse(POSTMAN.open("rb"), as_attachment=True, content_type="application/json")
