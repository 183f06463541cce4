"""Guide pages: the patient's guide, family page and teach-back through the check-in link; the
staff library with readability scores and a program's adapted copies."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from trellis.accounts.decorators import staff_view
from trellis.accounts.services import has_any_role
from trellis.checkin.models import CheckInLink
from trellis.checkin.views import checkin_view
from trellis.core import guides as core
from trellis.core.errors import InvalidInput
from trellis.guides import services
from trellis.web.http import TrellisRequest


def _token(request: HttpRequest) -> str:
    return request.resolver_match.kwargs["token"] if request.resolver_match else ""


def _patient_guide(request: HttpRequest, link: CheckInLink) -> services.PatientGuide:
    pg = services.guide_for_link(link, translation.get_language() or "en")
    if pg is None:
        raise Http404("No course of care")
    return pg


# --- the patient's pages ------------------------------------------------------------------------


@checkin_view
def patient_guide(request: HttpRequest, link: CheckInLink) -> HttpResponse:
    pg = _patient_guide(request, link)
    services.record_reading(link, pg, request=request)
    context = {
        "link": link,
        "token": _token(request),
        "pg": pg,
        "guide": pg.guide,
        "sections": pg.sections,
        "answered": services.latest_teach_back(pg.episode) is not None,
    }
    return render(request, "guides/patient_guide.html", context)


@checkin_view
def family_page(request: HttpRequest, link: CheckInLink) -> HttpResponse:
    pg = _patient_guide(request, link)
    if not pg.family_sections:
        raise Http404("No family page")
    services.record_reading(link, pg, audience="family", request=request)
    context = {
        "link": link,
        "token": _token(request),
        "guide": pg.guide,
        "sections": pg.family_sections,
    }
    return render(request, "guides/family_page.html", context)


@checkin_view
def teach_back(request: HttpRequest, link: CheckInLink) -> HttpResponse:
    pg = _patient_guide(request, link)
    guide = pg.guide
    error: InvalidInput | None = None
    answers: dict[str, str] = {}
    if request.method == "POST":
        answers = {q.id: request.POST.get(q.id, "") for q in guide.teach_back}
        try:
            services.submit_teach_back(link, pg, answers, request=request)
        except InvalidInput as exc:
            error = exc
        else:
            url = reverse("guides:teach_back", args=[_token(request)])
            return redirect(f"{url}?done=1&lang={translation.get_language()}")
    latest = services.latest_teach_back(pg.episode)
    done = request.GET.get("done") == "1" and latest is not None
    remember = []
    if done and latest is not None:
        remember = [
            guide.question(q) for q in latest.misunderstood if q in {x.id for x in guide.teach_back}
        ]
    context = {
        "link": link,
        "token": _token(request),
        "guide": guide,
        "answers": answers,
        "error": error,
        "done": done,
        "remember": remember,
    }
    return render(
        request, "guides/teach_back.html", context, status=400 if error is not None else 200
    )


# --- staff ----------------------------------------------------------------------------------------


@staff_view(services.LIBRARY_ROLES)
def library(request: TrellisRequest) -> HttpResponse:
    program = request.program
    if program is None:
        raise Http404("No program")
    entries = services.library(request.user, program)
    context = {
        "entries": entries,
        "can_adapt": has_any_role(request.user, program, services.EDITOR_ROLES),
        "title": _("Preparation guides"),
    }
    return render(request, "guides/library.html", context)


def _known(guide_id: str, language: str) -> None:
    try:
        core.load_guide(guide_id, language)
    except InvalidInput as exc:
        raise Http404("No such guide") from exc


@staff_view(services.LIBRARY_ROLES)
def show(request: TrellisRequest, guide_id: str, language: str) -> HttpResponse:
    program = request.program
    if program is None:
        raise Http404("No program")
    _known(guide_id, language)
    guide = services.resolve_guide(program, guide_id, language)
    context = {
        "guide": guide,
        "readability": core.guide_readability(guide),
        "section_scores": [(s, core.readability(s.text(), guide.language)) for s in guide.sections],
        "title": guide.title,
    }
    return render(request, "guides/show.html", context)


@staff_view(services.EDITOR_ROLES)
def adapt(request: TrellisRequest, guide_id: str, language: str) -> HttpResponse:
    program = request.program
    if program is None:
        raise Http404("No program")
    _known(guide_id, language)
    text = (
        request.POST.get("yaml_text", "")
        if request.method == "POST"
        else (services.guide_text_of(program, guide_id, language))
    )
    errors: list[str] = []
    score: core.Readability | None = None
    if request.method == "POST":
        if request.POST.get("action") == "check":
            try:
                _guide, score = services.check_copy(guide_id, language, text)
            except core.GuideInvalid as exc:
                errors = [str(e) for e in exc.errors]
            except InvalidInput as exc:
                errors = [str(exc)]
        else:
            try:
                services.save_copy(request.user, program, guide_id, language, text, request=request)
            except core.GuideInvalid as exc:
                errors = [str(e) for e in exc.errors]
            except InvalidInput as exc:
                errors = [str(exc)]
            else:
                messages.success(request, _("The adapted guide is saved."))
                return redirect("guides:show", guide_id=guide_id, language=language)
    if score is None and not errors:
        try:
            score = core.guide_readability(core.parse_guide(text, f"{guide_id}.{language}.yaml"))
        except InvalidInput:
            score = None
    context: dict[str, Any] = {
        "guide_id": guide_id,
        "language": language,
        "yaml_text": text,
        "errors": errors,
        "score": score,
        "title": _("Adapt a guide"),
    }
    return render(request, "guides/adapt.html", context, status=400 if errors else 200)


@staff_view(services.DISCUSS_ROLES, patient_data=True)
@require_POST
def discussed(request: TrellisRequest, teach_back_id: int) -> HttpResponse:
    row = services.mark_discussed(request.user, teach_back_id, request=request)
    messages.success(request, _("Marked as talked through."))
    return redirect("patients:chart", patient_id=row.patient_id)
