"""The patient's check-in page at ``/c/<token>/``: no account, a phone, their own language."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.cache import never_cache

from trellis.accounts.decorators import public_view
from trellis.checkin import services
from trellis.checkin.models import CheckInLink

View = TypeVar("View", bound=Callable[..., HttpResponse])
PAGE_LANGUAGES = {"en", "es"}


def checkin_view(view: View) -> View:
    """Resolve ``token`` to its link (404 unknown, 410 expired), switch to the patient's language
    (English or Spanish; ``?lang=`` lets the patient choose), audit the visit, and call
    ``view(request, link, *args)``. Responses are never cached; the referrer (which holds the
    token) is sent to this site only, which also keeps Django's CSRF origin check working for the
    patient's forms (with ``no-referrer`` browsers post ``Origin: null``)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, token: str, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            link = services.resolve(token)
        except services.LinkExpired as exc:
            with translation.override(_language(request, exc.link)):
                return render(request, "checkin/expired.html", {"link": exc.link}, status=410)
        # The patient is the actor of whatever this request shows or writes.
        request.trellis_audit_actor = f"patient:{link.patient_id}"  # type: ignore[attr-defined]
        with translation.override(_language(request, link)):
            if request.method == "GET":
                services.touch(link, request)
            response = view(request, link, *args, **kwargs)
            if hasattr(response, "render") and callable(response.render):
                response.render()
        response["Referrer-Policy"] = "same-origin"
        response["Cache-Control"] = "no-store"
        return response

    return public_view(never_cache(wrapped))  # type: ignore[return-value]


def _language(request: HttpRequest, link: CheckInLink) -> str:
    chosen = request.GET.get("lang") or request.POST.get("lang") or ""
    if chosen in PAGE_LANGUAGES:
        return chosen
    return (
        link.patient.preferred_language
        if link.patient.preferred_language in PAGE_LANGUAGES
        else "en"
    )


@checkin_view
def checkin_home(request: HttpRequest, link: CheckInLink) -> HttpResponse:
    context = {
        "link": link,
        "token": request.resolver_match.kwargs["token"] if request.resolver_match else "",
        "first_name": link.patient.display_first_name,
        "sections": services.sections_for(request, link),
        "lang": translation.get_language(),
    }
    return render(request, "checkin/home.html", context)
