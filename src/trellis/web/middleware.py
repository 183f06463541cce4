"""Render domain errors raised by services: one handler for the whole web layer."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from trellis.core.errors import Conflict, InvalidInput, NotAllowed, TrellisError


class DomainErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not isinstance(exc, TrellisError):
            return None
        status = 400
        if isinstance(exc, NotAllowed):
            status = 403
        elif isinstance(exc, Conflict):
            status = 409
        elif isinstance(exc, InvalidInput):
            status = 400
        if request.path.startswith("/api/") or request.headers.get("Accept") == "application/json":
            return JsonResponse({"detail": exc.message}, status=status)
        return render(request, "web/error.html", {"message": exc.message}, status=status)
