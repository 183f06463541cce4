"""Staff pages of the integration record and the patient's own pages under the check-in link.

Views are thin: parse the form, call a service, render (a full page, or the ``_partials/``
fragment for htmx requests).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from trellis.accounts.decorators import staff_view
from trellis.accounts.models import CLINICAL_ROLES
from trellis.accounts.services import has_any_role
from trellis.care import services as care
from trellis.checkin.models import CheckInLink
from trellis.checkin.views import checkin_view, sensitive
from trellis.core import integration_rules as rules
from trellis.core.errors import InvalidInput
from trellis.integration import forms, services
from trellis.patients.models import Patient
from trellis.patients.services import get_patient
from trellis.web.http import TrellisRequest


def _episode(request: TrellisRequest, patient: Patient) -> Any:
    return care.episodes_of(request.user, patient).first()


def _need_episode(request: TrellisRequest, patient: Patient) -> Any:
    episode = _episode(request, patient)
    if episode is None:
        raise Http404("No course of care")
    return episode


def _apply_errors(form: Any, exc: InvalidInput, mapping: dict[str, str] | None = None) -> None:
    """Show a service's InvalidInput next to the field it names (or at the top)."""
    name = (mapping or {}).get(exc.field, exc.field)
    if name.startswith("review."):
        name = f"review_{name.split('.', 1)[1]}"
    if name.startswith("commitments."):
        name = f"commitment_{int(name.split('.', 1)[1]) + 1}"
    form.add_error(name if name in form.fields else None, exc.detail)


# --- the board ----------------------------------------------------------------------------------


@staff_view(services.BOARD_ROLES, patient_data=True)
def board(request: TrellisRequest) -> HttpResponse:
    mine = request.GET.get("mine") == "1"
    data = services.integration_board(request.user, request.program, mine=mine, request=request)
    template = "integration/_partials/board.html" if request.htmx else "integration/board.html"
    # Only note writers get the "Write note" link: for the others it led to a 404 (issue 13).
    can_write = has_any_role(request.user, request.program, services.NOTE_ROLES)
    return render(request, template, {"board": data, "mine": mine, "can_write_notes": can_write})


# --- the thread ---------------------------------------------------------------------------------


@staff_view(patient_data=True)
def thread(request: TrellisRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = get_patient(request.user, patient_id, request=request)
    episode = _episode(request, patient)
    intention_id = request.GET.get("intention") or None
    chosen: int | None = None
    if intention_id and intention_id.isdigit():
        chosen = int(intention_id)
    items = (
        services.episode_thread(request.user, episode, intention_id=chosen, request=request)
        if episode
        else []
    )
    program = patient.program
    context = {
        "patient": patient,
        "episode": episode,
        "items": items,
        "intentions": list(services.intentions_of(episode)) if episode else [],
        "chosen": chosen,
        "summary": services.chart_summary(request.user, patient),
        "can_note": has_any_role(request.user, program, services.NOTE_ROLES),
        "can_observe": has_any_role(request.user, program, services.OBSERVER_ROLES),
        "can_plan": has_any_role(request.user, program, services.SAFETY_PLAN_ROLES),
        "can_prepare": has_any_role(request.user, program, services.PREPARATION_ROLES),
        "can_process": has_any_role(request.user, program, services.PROCESS_NOTE_ROLES),
        "can_journal": has_any_role(request.user, program, services.JOURNAL_READER_ROLES),
    }
    template = "integration/_partials/thread.html" if request.htmx else "integration/thread.html"
    return render(request, template, context)


# --- safety plan --------------------------------------------------------------------------------


@staff_view(patient_data=True)
def safety_plan(request: TrellisRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = get_patient(request.user, patient_id, request=request)
    plan = services.get_safety_plan(request.user, patient, request=request)
    can_edit = has_any_role(request.user, patient.program, services.SAFETY_PLAN_ROLES)
    form = forms.SafetyPlanForm(
        request.POST if request.method == "POST" and can_edit else None,
        initial=forms.SafetyPlanForm.initial_from(plan),
    )
    status = 200
    if request.method == "POST":
        if not can_edit:
            raise Http404
        if form.is_valid():
            try:
                services.save_safety_plan(request.user, patient, form.cleaned_data, request=request)
            except InvalidInput as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("Safety plan saved."))
                return redirect("integration:safety_plan", patient_id=patient.pk)
        status = 400
    context = {
        "patient": patient,
        "plan": plan,
        "form": form,
        "can_edit": can_edit,
        "missing": rules.safety_plan_missing(services.plan_content(plan)),
        "sections": _sections(plan) if plan else [],
    }
    return render(request, "integration/safety_plan.html", context, status=status)


@staff_view(patient_data=True)
def safety_plan_print(request: TrellisRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = get_patient(request.user, patient_id, request=request)
    plan = services.get_safety_plan(request.user, patient, request=request)
    if plan is None:
        raise Http404("No safety plan")
    with translation.override(plan.language if plan.language in ("en", "es") else "en"):
        return render(
            request,
            "integration/safety_plan_print.html",
            {"plan": plan, "sections": _sections(plan), "name": patient.display_first_name},
        )


def _sections(plan: Any) -> list[tuple[str, list[str]]]:
    return [(str(forms.SECTION_LABELS[n]), getattr(plan, n)) for n in rules.SAFETY_PLAN_SECTIONS]


# --- preparation, experience notes and integration notes ----------------------------------------


@staff_view(services.PREPARATION_ROLES, patient_data=True)
def preparation(request: TrellisRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = get_patient(request.user, patient_id, request=request)
    episode = _need_episode(request, patient)
    prep = services.preparation_of(episode)
    initial = {"hopes": prep.hopes, "fears": prep.fears, "supports": prep.supports} if prep else {}
    form = forms.PreparationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_preparation(request.user, episode, request=request, **form.cleaned_data)
        except InvalidInput as exc:
            _apply_errors(form, exc, {"intentions": "new_intentions"})
        else:
            messages.success(request, _("Preparation saved."))
            return redirect("integration:thread", patient_id=patient.pk)
    context = {
        "patient": patient,
        "form": form,
        "intentions": services.intentions_of(episode),
        "title": _("Preparation"),
        "panels": [
            panel
            for hook in services.PREPARATION_PANELS
            if (panel := hook(request, patient, episode)) is not None
        ],
    }
    return render(
        request,
        "integration/preparation.html",
        context,
        status=400 if form.errors else 200,
    )


@staff_view(services.OBSERVER_ROLES, patient_data=True)
def experience(request: TrellisRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = get_patient(request.user, patient_id, request=request)
    episode = _need_episode(request, patient)
    doses = services.doses_given(episode)
    form = forms.ExperienceNoteForm(request.POST or None, doses=doses)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_experience_note(
                request.user, episode, request=request, **form.cleaned_data
            )
        except InvalidInput as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Experience note saved."))
            return redirect("integration:thread", patient_id=patient.pk)
    context = {"patient": patient, "form": form, "doses": doses}
    return render(
        request, "integration/experience.html", context, status=400 if form.errors else 200
    )


@staff_view(services.NOTE_ROLES, patient_data=True)
def new_note(request: TrellisRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = get_patient(request.user, patient_id, request=request)
    episode = _need_episode(request, patient)
    doses = services.doses_given(episode)
    open_rows = list(services.open_commitments(episode))
    form = forms.IntegrationNoteForm(
        request.POST or None,
        doses=doses,
        intentions=list(services.intentions_of(episode)),
        open_commitments=open_rows,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        reviews = [
            rules.CommitmentReview(c.pk, data[f"review_{c.pk}"], data[f"review_{c.pk}_reason"])
            for c in open_rows
        ]
        next_review = {
            c.pk: data[f"review_{c.pk}_next"] for c in open_rows if data[f"review_{c.pk}_next"]
        }
        new = [
            services.NewCommitment(data[f"commitment_{n}"], data[f"commitment_{n}_review"])
            for n in range(1, forms.COMMITMENT_SLOTS + 1)
            if data[f"commitment_{n}"].strip()
        ]
        try:
            services.write_integration_note(
                request.user,
                episode,
                dose_index=data["dose_index"],
                insights=data["insights"],
                risk=data["risk"],
                intention_ids=data["intentions"],
                barriers=data["barriers"],
                supports_needed=data["supports_needed"],
                risk_detail=data["risk_detail"],
                commitments=new,
                reviews=reviews,
                next_review=next_review,
                request=request,
            )
        except InvalidInput as exc:
            _apply_errors(form, exc, {"at": "dose_index"})
        else:
            messages.success(request, _("Integration note saved."))
            return redirect("integration:thread", patient_id=patient.pk)
    context = {"patient": patient, "form": form, "doses": doses, "open": open_rows}
    return render(request, "integration/note.html", context, status=400 if form.errors else 200)


# --- process notes ------------------------------------------------------------------------------


@staff_view(services.PROCESS_NOTE_ROLES, patient_data=True)
def process_notes(request: TrellisRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = get_patient(request.user, patient_id, request=request)
    form = forms.ProcessNoteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.add_process_note(request.user, patient, form.cleaned_data["text"], request=request)
        messages.success(request, _("Process note saved (visible only to you)."))
        return redirect("integration:process_notes", patient_id=patient.pk)
    notes = services.process_notes_of(request.user, patient, request=request)
    return render(
        request,
        "integration/process_notes.html",
        {"patient": patient, "form": form, "notes": notes},
        status=400 if form.errors else 200,
    )


# Any signed-in staff member reaches the service, which answers 404 to everyone but the author
# and records the attempt (issue 8: the audit log records any access attempt).
@staff_view(None, patient_data=True)
def process_note(request: TrellisRequest, note_id: int) -> HttpResponse:
    note = services.get_process_note(request.user, note_id, request=request)
    return render(request, "integration/process_note.html", {"note": note})


# --- shared journal entries ---------------------------------------------------------------------


@staff_view(services.JOURNAL_READER_ROLES, patient_data=True)
def shared_journal(request: TrellisRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = get_patient(request.user, patient_id, request=request)
    entries = services.shared_entries(request.user, patient, request=request)
    return render(request, "integration/journal.html", {"patient": patient, "entries": entries})


# --- social needs -------------------------------------------------------------------------------


@staff_view(patient_data=True)
def social_needs(request: TrellisRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = get_patient(request.user, patient_id, request=request)
    form = forms.HrsnForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_hrsn(
                request.user,
                patient,
                timing=form.cleaned_data["timing"],
                answers=form.answers(),
                request=request,
            )
        except InvalidInput as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Social needs screening saved."))
            return redirect("integration:social_needs", patient_id=patient.pk)
    return _social_page(request, patient, form)


def _social_page(
    request: TrellisRequest,
    patient: Patient,
    form: Any,
    referral_form: Any = None,
    referral_for: int | None = None,
    status: int | None = None,
) -> HttpResponse:
    screenings = list(services.screenings_of(request.user, patient))
    resources = list(services.resources_of(patient.program))
    context = {
        "patient": patient,
        "form": form,
        "screenings": screenings,
        "referral_forms": {
            s.pk: (
                referral_form
                if referral_for == s.pk
                else forms.ReferralForm(
                    resources=[r for r in resources if r.domain in s.positive_domains],
                    prefix=f"s{s.pk}",
                )
            )
            for s in screenings
            if s.positive_domains
        },
        "follow_up_form": forms.FollowUpForm(),
        "domains": dict(forms.DOMAIN_CHOICES),
        "transport_unmet": services.unmet_transport_of(patient),
    }
    code = status or (400 if getattr(form, "errors", None) else 200)
    return render(request, "integration/social_needs.html", context, status=code)


@staff_view(patient_data=True)
@require_POST
def refer(request: TrellisRequest, patient_id: uuid.UUID, screening_id: int) -> HttpResponse:
    patient = get_patient(request.user, patient_id, request=request)
    screening = services.get_screening(request.user, patient, screening_id)
    resources = [
        r for r in services.resources_of(patient.program) if r.domain in screening.positive_domains
    ]
    form = forms.ReferralForm(request.POST, resources=resources, prefix=f"s{screening.pk}")
    if form.is_valid():
        try:
            services.add_referral(
                request.user,
                screening,
                resource_id=form.cleaned_data["resource"],
                follow_up_on=form.cleaned_data["follow_up_on"],
                note=form.cleaned_data["note"],
                request=request,
            )
        except InvalidInput as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Referral recorded."))
            return redirect("integration:social_needs", patient_id=patient.pk)
    return _social_page(request, patient, forms.HrsnForm(), form, screening.pk, status=400)


@staff_view(patient_data=True)
@require_POST
def follow_up(request: TrellisRequest, patient_id: uuid.UUID, referral_id: int) -> HttpResponse:
    patient = get_patient(request.user, patient_id, request=request)
    form = forms.FollowUpForm(request.POST)
    if not services.referrals_of(request.user, patient).filter(pk=referral_id).exists():
        raise Http404("No such referral")
    if form.is_valid():
        services.follow_up_referral(
            request.user,
            referral_id,
            status=form.cleaned_data["status"],
            note=form.cleaned_data["note"],
            follow_up_on=form.cleaned_data["follow_up_on"],
            request=request,
        )
        messages.success(request, _("Follow-up recorded."))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("integration:social_needs", patient_id=patient.pk)


@staff_view(CLINICAL_ROLES)
def resources(request: TrellisRequest) -> HttpResponse:
    program = request.program
    assert program is not None
    can_edit = has_any_role(request.user, program, services.RESOURCE_ROLES)
    form = forms.ResourceForm(request.POST if request.method == "POST" and can_edit else None)
    if request.method == "POST" and can_edit and form.is_valid():
        try:
            services.add_resource(request.user, program, request=request, **form.cleaned_data)
        except InvalidInput as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Resource added."))
            return redirect("integration:resources")
    context = {
        "resources": services.resources_of(program),
        "form": form,
        "can_edit": can_edit,
        "domains": dict(forms.DOMAIN_CHOICES),
    }
    return render(
        request, "integration/resources.html", context, status=400 if form.errors else 200
    )


# --- the patient's pages (check-in link) --------------------------------------------------------


# The patient's POST pages keep Django's CSRF protection: check-in pages send the referrer to
# this site only (``checkin_view``), so the browser's Origin header matches.


def _token(request: HttpRequest) -> str:
    return request.resolver_match.kwargs["token"] if request.resolver_match else ""


@checkin_view
@sensitive  # asks the birth year once per link (issue 14, finding 6)
def patient_journal(request: HttpRequest, link: CheckInLink) -> HttpResponse:
    form = forms.JournalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.add_journal_entry(
            link,
            form.cleaned_data["text"],
            share=form.cleaned_data["share"],
            language=translation.get_language() or "en",
            request=request,
        )
        url = reverse("integration:patient_journal", args=[_token(request)])
        return redirect(f"{url}?saved=1&lang={translation.get_language()}")
    context = {
        "link": link,
        "token": _token(request),
        "form": form,
        "entries": list(services.journal_of_link(link)[:50]),
        "saved": request.GET.get("saved") == "1",
    }
    return render(
        request, "integration/patient_journal.html", context, status=400 if form.errors else 200
    )


@checkin_view
@sensitive  # asks the birth year once per link (issue 14, finding 6)
@require_POST
def patient_share(request: HttpRequest, link: CheckInLink, entry_id: int) -> HttpResponse:
    services.share_journal_entry(link, entry_id, request=request)
    url = reverse("integration:patient_journal", args=[_token(request)])
    return redirect(f"{url}?lang={translation.get_language()}")


@checkin_view
@sensitive  # asks the birth year once per link (issue 14, finding 6)
def patient_safety_plan(request: HttpRequest, link: CheckInLink) -> HttpResponse:
    view = services.patient_view(link)
    if view.safety_plan is None:
        raise Http404("No safety plan")
    context = {
        "link": link,
        "token": _token(request),
        "plan": view.safety_plan,
        "sections": _sections(view.safety_plan),
        "name": link.patient.display_first_name,
    }
    return render(request, "integration/patient_safety_plan.html", context)


@checkin_view
def patient_reflection(request: HttpRequest, link: CheckInLink) -> HttpResponse:
    due = services.reflection_due(link)
    form = forms.ReflectionForm(request.POST or None)
    if due is not None and request.method == "POST" and form.is_valid():
        services.add_reflection(
            link,
            form.cleaned_data["text"],
            language=translation.get_language() or "en",
            request=request,
        )
        url = reverse("checkin:home", args=[_token(request)])
        return redirect(f"{url}?lang={translation.get_language()}")
    context = {
        "link": link,
        "token": _token(request),
        "form": form,
        "dose": due[1] if due else None,
    }
    return render(
        request,
        "integration/patient_reflection.html",
        context,
        status=400 if form.errors else 200,
    )
