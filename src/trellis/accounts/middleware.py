"""Resolve the current program (the tenant) for each signed-in request."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from trellis.accounts.services import programs_of

SESSION_KEY = "trellis_program_id"


class ProgramMiddleware:
    """Set ``request.program`` to the program chosen in the session, if the user belongs to it.

    Falls back to the user's first program. ``None`` for anonymous users and users without roles.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.program = None  # type: ignore[attr-defined]
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            programs = programs_of(user)
            chosen = request.session.get(SESSION_KEY)
            program = programs.filter(pk=chosen).first() if chosen else None
            request.program = program or programs.first()  # type: ignore[attr-defined]
        return self.get_response(request)
