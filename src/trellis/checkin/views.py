"""The patient's check-in page at ``/c/<token>/``: no account, a phone, their own language."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.cache import never_cache

from trellis.accounts.decorators import public_view
from trellis.checkin import services
from trellis.checkin.models import CheckInLink

View = TypeVar("View", bound=Callable[..., HttpResponse])
PAGE_LANGUAGES = {"en", "es"}


def checkin_view(view: View) -> View:
    """Resolve ``token`` to its link, switch to the patient's language (English or Spanish;
    ``?lang=`` lets the patient choose), audit the visit, and call ``view(request, link, *args)``.

    An unknown, expired or revoked link gets one and the same answer (404, no program name, no
    hint of the patient's language), and each such answer counts against the client address:
    past ``CHECKIN_FAILURE_LIMIT`` in the window, every lookup from it is refused (429) for the
    rest of the window (issue 14, finding 6). Both pages show the crisis line. Responses are
    never cached; the referrer (which holds the token) is sent to this site only, which also
    keeps Django's CSRF origin check working for the patient's forms (with ``no-referrer``
    browsers post ``Origin: null``)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, token: str, *args: Any, **kwargs: Any) -> HttpResponse:
        if services.throttled(request):
            return _private(_unavailable(request, status=429))
        try:
            link = services.resolve(token)
        except (Http404, services.LinkExpired):
            services.count_failure(request)
            return _private(_unavailable(request, status=404))
        # The patient is the actor of whatever this request shows or writes.
        request.trellis_audit_actor = f"patient:{link.patient_id}"  # type: ignore[attr-defined]
        # The patient pages' shell (header, demo banner) reads the link from the request,
        # so every page under the link has the same header whatever its view passes.
        request.checkin_link = link  # type: ignore[attr-defined]
        with translation.override(_language(request, link)):
            if request.method == "GET":
                services.touch(link, request)
            response = view(request, link, *args, **kwargs)
            if hasattr(response, "render") and callable(response.render):
                response.render()
        return _private(response)

    return public_view(never_cache(wrapped))  # type: ignore[return-value]


def _private(response: HttpResponse) -> HttpResponse:
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "no-store"
    return response


def _unavailable(request: HttpRequest, *, status: int) -> HttpResponse:
    """The one page for a link that does not work: in English and Spanish, whoever asks."""
    with translation.override("en"):
        return render(
            request, "checkin/unavailable.html", {"throttled": status == 429}, status=status
        )


def sensitive(view: View) -> View:
    """For the patient's most private pages (safety plan, journal): once per link (per browser
    session), ask for the patient's birth year before showing them. The crisis line is shown
    above the question, so nobody in crisis is kept from 988 by it. After
    ``CHECKIN_BIRTH_YEAR_ATTEMPTS`` wrong years the page stays closed and says to ask the care
    team (issue 14, finding 6). Use under :func:`checkin_view`."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, link: CheckInLink, *args: Any, **kwargs: Any) -> HttpResponse:
        if services.is_unlocked(request, link):
            return view(request, link, *args, **kwargs)
        error = ""
        if request.method == "POST" and request.POST.get("confirm_birth_year") == "1":
            outcome = services.check_birth_year(request, link, request.POST.get("birth_year", ""))
            if outcome == "ok":
                return redirect(request.get_full_path())
            error = outcome
        locked = services.birth_year_locked(link)
        context = {
            "link": link,
            "token": request.resolver_match.kwargs["token"] if request.resolver_match else "",
            "error": error,
            "locked": locked,
            "lang": translation.get_language(),
        }
        return render(
            request, "checkin/confirm.html", context, status=400 if error or locked else 200
        )

    return wrapped  # type: ignore[return-value]


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
