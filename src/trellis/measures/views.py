"""Measures pages. Patients: questionnaires and thank-you pages under ``/measures/c/<token>/``
(no account; ``checkin_view`` resolves the link). Staff: the patient's measures page (the chart
panel, full size) and the forms that enter scores and send check-in links."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from trellis.accounts.decorators import staff_view
from trellis.accounts.models import CLINICAL_ROLES
from trellis.checkin.models import CheckInLink
from trellis.checkin.views import checkin_view
from trellis.core import measures_rules as rules
from trellis.core.errors import InvalidInput
from trellis.core.instruments import CRISIS_TEXT_EN, get_instrument
from trellis.core.numbers import strict_whole
from trellis.measures import labels, services
from trellis.measures.forms import (
    CSSRS_PREFIX,
    ITEMS_PREFIX,
    TOTAL_PREFIX,
    ClinicianItemsForm,
    ClinicianTotalForm,
    CssrsForm,
)
from trellis.measures.panels import panel_context
from trellis.patients.services import get_patient
from trellis.web.forms import show_input_error
from trellis.web.http import TrellisRequest

# --- patient pages ------------------------------------------------------------------------------


def _due_or_404(link: CheckInLink, instrument: str, timepoint: str) -> Any:
    if not any(
        d["instrument"] == instrument and d["timepoint"] == timepoint
        for d in services.due_items(link)
    ):
        raise Http404("Not part of this check-in")
    try:
        inst = get_instrument(instrument)
    except InvalidInput as exc:
        raise Http404("Unknown questionnaire") from exc
    if not rules.patient_reportable(instrument):
        raise Http404("Clinician-entered only")
    return inst


def _token(request: HttpRequest) -> str:
    return request.resolver_match.kwargs["token"] if request.resolver_match else ""


def _items(
    inst: Any, lang: str, posted: dict[str, str], problems: set[str]
) -> list[dict[str, Any]]:
    text_lang = lang if lang in inst.languages else "en"
    return [
        {
            "id": item.id,
            "number": n,
            "text": item.text.get(text_lang) or item.label.get(text_lang, ""),
            "options": [
                {
                    "value": opt.value,
                    "label": opt.label.get(text_lang) or opt.label.get("en", ""),
                    "checked": posted.get(item.id) == str(opt.value),
                }
                for opt in item.options
            ],
            "missing": item.id in problems,
        }
        for n, item in enumerate(inst.items, start=1)
    ]


# The patient's form keeps Django's CSRF protection: check-in pages send the referrer to this
# site only (``checkin_view``), so the browser's Origin header matches.
@checkin_view
def questionnaire(
    request: HttpRequest, link: CheckInLink, instrument: str, timepoint: str
) -> HttpResponse:
    """All items of one questionnaire; a half-filled form stores nothing and lists the missing
    questions by number at the top and beside each question."""
    inst = _due_or_404(link, instrument, timepoint)
    lang = translation.get_language() or "en"
    token = _token(request)
    thanks = reverse("measures:thanks", args=[token, instrument, timepoint]) + f"?lang={lang}"
    if services.answered(link, instrument, timepoint) is not None:
        return redirect(thanks)  # already answered: idempotent, no second form
    posted: dict[str, str] = {}
    missing: list[int] = []
    status = 200
    if request.method == "POST":
        answers: dict[str, int] = {}
        for n, item in enumerate(inst.items, start=1):
            raw = request.POST.get(f"item_{item.id}", "")
            posted[item.id] = raw
            value = strict_whole(raw)  # ASCII digits only (trellis.core.numbers)
            if value is not None and value in item.values:
                answers[item.id] = value
            else:
                missing.append(n)
        if not missing:
            services.record_patient_answers(link, instrument, answers, timepoint, request=request)
            return redirect(thanks)
        status = 400
    problems = {inst.items[n - 1].id for n in missing}
    context = {
        "link": link,
        "token": token,
        "inst": inst,
        "title": services.patient_title(instrument),
        "lang": lang,
        "text_lang": lang if lang in inst.languages else "en",
        "not_in_language": lang not in inst.languages,
        "preamble": inst.preamble.get(lang) or inst.preamble.get("en", ""),
        "items": _items(inst, lang, posted, problems),
        "missing": missing,
        "timepoint": timepoint,
    }
    return render(request, "measures/questionnaire.html", context, status=status)


@checkin_view
def thanks(
    request: HttpRequest, link: CheckInLink, instrument: str, timepoint: str
) -> HttpResponse:
    """Plain-language thank-you; crisis resources first when the answers raised a flag."""
    inst = _due_or_404(link, instrument, timepoint)
    assessment = services.answered(link, instrument, timepoint)
    if assessment is None:
        token = _token(request)
        return redirect(reverse("measures:questionnaire", args=[token, instrument, timepoint]))
    remaining = [s for s in services.link_status(link) if not s["done"]]
    context = {
        "link": link,
        "token": _token(request),
        "inst": inst,
        "crisis": assessment.suicide_flag,
        "crisis_en": CRISIS_TEXT_EN,
        "remaining": remaining,
        "lang": translation.get_language() or "en",
    }
    return render(request, "measures/thanks.html", context)


# --- staff pages --------------------------------------------------------------------------------


def _page(
    request: TrellisRequest, patient: Any, status: int = 200, notice: str = "", **forms: Any
) -> HttpResponse:
    """The measures page, or only the panel fragment for htmx (htmx swaps 2xx answers only, so a
    form with errors comes back as 200 there and as 400 on a full page)."""
    ctx = panel_context(request, patient, **forms)
    ctx["notice"] = notice
    # No "Open measures page" button on the measures page itself (it linked to itself); a
    # fragment swapped into the chart keeps it.
    here = reverse("measures:patient", args=[patient.pk])
    htmx = getattr(request, "htmx", None)
    current = urlsplit(htmx.current_url or "").path if htmx else here
    ctx["on_measures_page"] = current == here
    context = {"patient": patient, "ctx": ctx}
    if getattr(request, "htmx", False):
        return render(request, "measures/_partials/panel.html", context)
    return render(request, "measures/patient.html", context, status=status)


@staff_view(CLINICAL_ROLES, patient_data=True)
def patient_measures(request: TrellisRequest, patient_id: uuid.UUID) -> HttpResponse:
    """The patient's measures (the chart panel at full size)."""
    patient = get_patient(request.user, patient_id, request=request)
    return _page(request, patient)


@staff_view(services.ENTRY_ROLES, patient_data=True)
@require_POST
def enter_total(request: TrellisRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = get_patient(request.user, patient_id, request=request)
    form = ClinicianTotalForm(request.POST, prefix=TOTAL_PREFIX)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.record_clinician_total(
                request.user,
                patient,
                data["instrument"],
                data["total"],
                data.get("taken_at"),
                request=request,
            )
        except InvalidInput as exc:
            show_input_error(form, exc)
        else:
            if request.htmx:
                return _page(request, patient, notice=_("Score saved."))
            messages.success(request, _("Score saved."))
            return redirect("measures:patient", patient_id=patient.pk)
    return _page(request, patient, status=400, total_form=form)


@staff_view(services.ENTRY_ROLES, patient_data=True)
@require_POST
def enter_items(request: TrellisRequest, patient_id: uuid.UUID) -> HttpResponse:
    """QIDS-SR16 item answers from the paper form (CLINICAL.md §1); item 12 >= 1 raises the
    urgent suicide-risk alert like PHQ-9 item 9 (CLINICAL.md §2)."""
    patient = get_patient(request.user, patient_id, request=request)
    form = ClinicianItemsForm(request.POST, prefix=ITEMS_PREFIX)
    if form.is_valid():
        assessment = services.record_clinician_items(
            request.user, patient, form.instrument_id, form.answers(), request=request
        )
        if assessment.suicide_flag:
            notice = _("Saved. Thoughts of death or suicide: an urgent alert was raised.")
        else:
            notice = _("Score saved.")
        if request.htmx:
            return _page(request, patient, notice=notice)
        messages.add_message(
            request, messages.ERROR if assessment.suicide_flag else messages.SUCCESS, notice
        )
        return redirect("measures:patient", patient_id=patient.pk)
    return _page(request, patient, status=400, items_form=form)


@staff_view(services.ENTRY_ROLES, patient_data=True)
@require_POST
def administer_cssrs(request: TrellisRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = get_patient(request.user, patient_id, request=request)
    form = CssrsForm(request.POST, prefix=CSSRS_PREFIX)
    if form.is_valid():
        assessment = services.record_cssrs(
            request.user, patient, {k: form.cleaned_data[k] for k in form.fields}, request=request
        )
        if assessment.suicide_flag:
            notice = _("C-SSRS risk %(risk)s: an urgent alert was raised. Act on it today.") % {
                "risk": labels.risk_label(assessment.risk)
            }
        else:
            notice = _("C-SSRS saved (risk: %(risk)s).") % {
                "risk": labels.risk_label(assessment.risk)
            }
        if request.htmx:
            return _page(request, patient, notice=notice)
        messages.add_message(
            request, messages.ERROR if assessment.suicide_flag else messages.SUCCESS, notice
        )
        return redirect("measures:patient", patient_id=patient.pk)
    return _page(request, patient, status=400, cssrs_form=form)


@staff_view(services.SEND_ROLES, patient_data=True)
@require_POST
def send_link(request: TrellisRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Send a check-in link now; show where it went and the link itself (for a clinic tablet)."""
    patient = get_patient(request.user, patient_id, request=request)
    sent = services.send_checkin_now(request.user, patient, request=request)
    from trellis.patients.services import reminder_gaps

    gaps = reminder_gaps(patient)
    if not sent.sent_to:
        messages.warning(
            request, _("The check-in link was not sent: %(why)s") % {"why": " ".join(gaps)}
        )
    return render(
        request,
        "measures/link_sent.html",
        {
            "patient": patient,
            "sent": sent,
            "items": services.link_status(sent.link),
            "gaps": gaps,
        },
    )
