from __future__ import annotations

from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from trellis.accounts.decorators import public_view, staff_view
from trellis.accounts.services import has_any_role
from trellis.patients.services import REGISTRAR_ROLES, patients_in_program
from trellis.web.home import home_cards, home_queues


@public_view
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 ``{"status": "ok", "database": "ok"}``; 503 when the database does not answer."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@staff_view(roles=None)
def home(request: HttpRequest) -> HttpResponse:
    program = getattr(request, "program", None)
    context = {
        "patient_count": patients_in_program(request.user, program).count(),
        "can_register": has_any_role(request.user, program, REGISTRAR_ROLES),
        "home_cards": home_cards(request),
        "queues": home_queues(request),
    }
    return render(request, "web/home.html", context)
