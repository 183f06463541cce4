"""Care pages: the pathway board, starting a course, screening, the episode timeline and the
program's protocol library. Views parse input, call ``care.services`` and render."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from trellis.accounts.decorators import staff_view
from trellis.accounts.models import CLINICAL_ROLES, Role
from trellis.accounts.services import has_any_role
from trellis.care import services
from trellis.care.forms import (
    ADAPTATION_HELP,
    EVENT_OF_ACTIVITY,
    BoardFilterForm,
    BoosterForm,
    CopyProtocolForm,
    EventForm,
    ProtocolTextForm,
    RequirementForm,
    ReviewForm,
    ScreeningForm,
    StartCourseForm,
    WithdrawForm,
    activity_label,
)
from trellis.care.models import Episode, RequirementRecord
from trellis.care.timeline import (
    PHASE_LABELS,
    STATE_LABELS,
    activity_state,
    phase_steps,
    svg_timeline,
)
from trellis.core.errors import Conflict, InvalidInput, TrellisError
from trellis.core.protocols import ProtocolInvalid
from trellis.patients.services import get_patient
from trellis.web.http import TrellisRequest

SCREEN_ROLES = services.PLANNER_ROLES | {Role.NURSE}
DOCUMENT_ROLES = frozenset({Role.PRESCRIBER, Role.NURSE, Role.THERAPIST})
DOSE_ROLES = frozenset({Role.NURSE, Role.PRESCRIBER})


def dosing_has_pages() -> bool:
    """Doses are the dosing app's to record; until it has pages, the episode page offers a plain
    "dose given" record so a course can move on (it disappears once dosing has views)."""
    from trellis.dosing import urls as dosing_urls

    return bool(dosing_urls.urlpatterns)


# --- the pathway board --------------------------------------------------------------------------


@staff_view(CLINICAL_ROLES, patient_data=True)
def board(request: TrellisRequest) -> HttpResponse:
    program = request.program
    assert program is not None  # staff_view checked a role in it
    therapists = services.therapists_of(program)
    tracks = [(p.id, f"{_(p.title)} ({p.id})") for p in services.protocols_in_use(program)]
    form = BoardFilterForm(request.GET or None, tracks=tracks, therapists=therapists)
    filters = services.BoardFilters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = services.BoardFilters(
            track=data.get("track") or "",
            therapist=data.get("therapist"),
            language=data.get("language") or "",
        )
    now = timezone.now()
    services.sync_gap_alerts(program, now)
    rows = services.pathway_board(request.user, program, filters, now=now, request=request)
    if form.is_bound and form.is_valid() and form.cleaned_data.get("sort") == "patient":
        rows.sort(key=lambda r: (r.patient.family_name, r.patient.given_name))
    context = {
        "form": form,
        "rows": rows,
        "phase_labels": PHASE_LABELS,
        "track_titles": {p.id: p.title for p in services.protocols_in_use(program)},
        "today": timezone.localdate(),
        "filtered": filters != services.BoardFilters(),
    }
    template = "care/_partials/board_rows.html" if request.htmx else "care/board.html"
    return render(request, template, context)


# --- starting a course --------------------------------------------------------------------------


@staff_view(services.PLANNER_ROLES, patient_data=True)
def start_course(request: TrellisRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = get_patient(request.user, patient_id, request=request)
    form = StartCourseForm(
        request.POST or None,
        protocols=services.enabled_protocols(patient.program),
        therapists=services.therapists_of(patient.program),
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                episode = services.start_episode(
                    request.user,
                    patient,
                    protocol_id=data["protocol"],
                    referred_on=data["referred_on"],
                    start_date=data["start_date"],
                    adaptations=data["adaptations"],
                    primary_therapist=data["primary_therapist"],
                    request=request,
                )
            except InvalidInput as exc:
                _form_error(form, exc, {"protocol", "start_date", "adaptations"}, "protocol")
            except Conflict as exc:
                form.add_error(None, exc.message)
                status = 409
            else:
                messages.success(request, _("Course opened. Now record the screening."))
                return redirect("care:screening", episode_id=episode.pk)
    context = {"form": form, "patient": patient, "adaptation_help": ADAPTATION_HELP}
    return render(request, "care/start.html", context, status=status)


def _form_error(form: forms.Form, exc: InvalidInput, fields: set[str], default: str) -> None:
    name = exc.field if exc.field in fields else default
    form.add_error(name, exc.detail if name == exc.field else exc.message)


@staff_view(SCREEN_ROLES, patient_data=True)
def screening(request: TrellisRequest, episode_id: uuid.UUID) -> HttpResponse:
    episode = services.get_episode(request.user, episode_id, request=request)
    protocol = services.protocol_of(episode)
    form = ScreeningForm(request.POST or None, protocol=protocol)
    can_screen = episode.phase in ("referred", "screening")
    status = 200
    if request.method == "POST":
        status = 400
        if not can_screen:
            form.add_error(
                None,
                _("Screening is closed: this course is already past it (%(phase)s).")
                % {"phase": PHASE_LABELS.get(episode.phase, episode.phase)},
            )
            status = 409
        elif form.is_valid():
            try:
                result = services.record_screening(
                    request.user, episode, form.answers(), request=request
                )
            except InvalidInput as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Screening recorded: %(o)s.") % {"o": result.outcome})
                return redirect(_episode_url(episode, "screening-h"))
    age = episode.patient.age_on(timezone.localdate())
    context = {
        "episode": episode,
        "patient": episode.patient,
        "protocol": protocol,
        "form": form,
        "age": age,
        "can_screen": can_screen,
    }
    return render(request, "care/screening.html", context, status=status)


def _episode_url(episode: Episode, anchor: str = "") -> str:
    from django.urls import reverse

    url = reverse("care:episode", kwargs={"episode_id": episode.pk})
    return f"{url}#{anchor}" if anchor else url


# --- the episode page ---------------------------------------------------------------------------


def _requirement_kinds(protocol: Any) -> list[str]:
    kinds = set(RequirementRecord.Kind.values)
    return [r for r in protocol.requirements_before_first_dose if r in kinds]


def _event_activities(request: TrellisRequest, episode: Episode) -> list[Any]:
    acts = services.open_activities_for_events(episode)
    if dosing_has_pages() or not has_any_role(request.user, episode.program, DOSE_ROLES):
        acts = [a for a in acts if a.kind != "dose"]
    return acts


def _episode_context(request: TrellisRequest, episode: Episode, **forms_: Any) -> dict[str, Any]:
    user, program = request.user, episode.program
    protocol = services.protocol_of(episode)
    now = timezone.now()
    today = timezone.localdate()
    report = services.adherence(episode, now)
    gap_doses = {g.dose_index for g in report.gaps}
    activities = list(services.activities_of(episode).select_related("done_by"))
    rows = [
        {
            "act": a,
            "label": activity_label(a),
            "state": (state := activity_state(a, today, gap_doses)),
            "state_label": STATE_LABELS[state],
        }
        for a in activities
    ]
    latest = services.latest_screening(episode)
    req_kinds = _requirement_kinds(protocol)
    event_acts = _event_activities(request, episode)
    boosters = list(services.open_boosters(episode))
    before_dose_1 = episode.phase in services.BEFORE_FIRST_DOSE
    return {
        "episode": episode,
        "patient": episode.patient,
        "protocol": protocol,
        "steps": phase_steps(episode.phase),
        "phase_label": PHASE_LABELS.get(episode.phase, episode.phase),
        "rows": rows,
        "svg": svg_timeline(activities, today, gap_doses),
        "report": report,
        "gap_rows": [d for d in report.doses if d.status in ("missing", "done_late")],
        "blockers": services.first_dose_blockers(episode) if before_dose_1 else [],
        "before_dose_1": before_dose_1,
        "latest_screening": latest,
        "needs_approval": bool(
            latest and latest.outcome == "needs_review" and not latest.review_approved_by_id
        ),
        "requirements": services.requirements_of(episode),
        "requirement_kinds": req_kinds,
        "events": services.events_of(episode).select_related("recorded_by"),
        "adaptations": [(a, ADAPTATION_HELP.get(a, a)) for a in episode.adaptations],
        "redose_blockers": (
            services.redose_blockers(episode)
            if any(b.source == "booster" for b in boosters)
            else []
        ),
        "can_plan": has_any_role(user, program, services.PLANNER_ROLES),
        "can_screen": has_any_role(user, program, SCREEN_ROLES)
        and episode.phase in ("referred", "screening"),
        "can_review": has_any_role(user, program, [Role.PRESCRIBER]),
        "can_document": has_any_role(user, program, DOCUMENT_ROLES) and bool(req_kinds),
        "dose_here": any(a.kind == "dose" for a in event_acts),
        "event_form": forms_.get("event_form") or EventForm(episode=episode, activities=event_acts),
        "withdraw_form": forms_.get("withdraw_form") or WithdrawForm(),
        "review_form": forms_.get("review_form") or ReviewForm(),
        "requirement_form": forms_.get("requirement_form") or RequirementForm(kinds=req_kinds),
        "booster_form": forms_.get("booster_form")
        or (BoosterForm(episode=episode, activities=boosters) if boosters else None),
        "within_hours": protocol.integration.within_hours,
    }


def _render_episode(
    request: TrellisRequest, episode: Episode, status: int = 200, **forms_: Any
) -> HttpResponse:
    context = _episode_context(request, episode, **forms_)
    return render(request, "care/episode.html", context, status=status)


@staff_view(CLINICAL_ROLES, patient_data=True)
def episode_page(request: TrellisRequest, episode_id: uuid.UUID) -> HttpResponse:
    episode = services.get_episode(request.user, episode_id, request=request)
    return _render_episode(request, episode)


def _status_of(exc: TrellisError) -> int:
    return 409 if isinstance(exc, Conflict) else 400


@staff_view(CLINICAL_ROLES, patient_data=True)
@require_POST
def record_event(request: TrellisRequest, episode_id: uuid.UUID) -> HttpResponse:
    episode = services.get_episode(request.user, episode_id, request=request)
    form = EventForm(request.POST, episode=episode, activities=_event_activities(request, episode))
    if form.is_valid():
        act = form.cleaned_data["activity"]
        try:
            services.record_event(
                request.user,
                episode,
                EVENT_OF_ACTIVITY[act.name if act.kind != "dose" else "dose"],
                at=form.cleaned_data["at"],
                index=act.index,
                note=form.cleaned_data["note"],
                request=request,
            )
        except (InvalidInput, Conflict) as exc:
            if isinstance(exc, InvalidInput) and exc.field in ("at", "note"):
                form.add_error(exc.field, exc.detail)
            else:
                form.add_error("activity", _readable(exc))
            return _render_episode(request, episode, _status_of(exc), event_form=form)
        messages.success(request, _("Recorded: %(a)s.") % {"a": activity_label(act)})
        return redirect(_episode_url(episode, "record-h"))
    return _render_episode(request, episode, 400, event_form=form)


def _readable(exc: TrellisError) -> str:
    """The pure rules name the offending event by position (``events[7]: …``); a person needs
    only the part after it."""
    if isinstance(exc, InvalidInput) and exc.field.startswith("events["):
        return _("This does not fit the course so far: %(d)s") % {"d": exc.detail}
    return exc.message


@staff_view(services.PLANNER_ROLES, patient_data=True)
@require_POST
def withdraw(request: TrellisRequest, episode_id: uuid.UUID) -> HttpResponse:
    episode = services.get_episode(request.user, episode_id, request=request)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            services.withdraw_episode(
                request.user, episode, form.cleaned_data["reason"], request=request
            )
        except (InvalidInput, Conflict) as exc:
            form.add_error("reason", _readable(exc))
            return _render_episode(request, episode, _status_of(exc), withdraw_form=form)
        messages.success(request, _("The course was closed."))
        return redirect(_episode_url(episode))
    return _render_episode(request, episode, 400, withdraw_form=form)


@staff_view([Role.PRESCRIBER], patient_data=True)
@require_POST
def approve_review(request: TrellisRequest, episode_id: uuid.UUID) -> HttpResponse:
    episode = services.get_episode(request.user, episode_id, request=request)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.approve_review(
                request.user, episode, note=form.cleaned_data["note"], request=request
            )
        except (InvalidInput, Conflict) as exc:
            form.add_error("note", _readable(exc))
            return _render_episode(request, episode, _status_of(exc), review_form=form)
        messages.success(request, _("Prescriber review recorded."))
        return redirect(_episode_url(episode, "screening-h"))
    return _render_episode(request, episode, 400, review_form=form)


@staff_view(DOCUMENT_ROLES, patient_data=True)
@require_POST
def document_requirement(request: TrellisRequest, episode_id: uuid.UUID) -> HttpResponse:
    episode = services.get_episode(request.user, episode_id, request=request)
    kinds = _requirement_kinds(services.protocol_of(episode))
    form = RequirementForm(request.POST, kinds=kinds)
    if form.is_valid():
        try:
            services.document_requirement(
                request.user,
                episode,
                form.cleaned_data["kind"],
                form.cleaned_data["detail"],
                request=request,
            )
        except InvalidInput as exc:
            form.add_error("detail" if exc.field == "detail" else "kind", exc.detail)
            return _render_episode(request, episode, 400, requirement_form=form)
        messages.success(request, _("Requirement documented."))
        return redirect(_episode_url(episode, "blockers-h"))
    return _render_episode(request, episode, 400, requirement_form=form)


@staff_view(CLINICAL_ROLES, patient_data=True)
@require_POST
def complete_booster(request: TrellisRequest, episode_id: uuid.UUID) -> HttpResponse:
    episode = services.get_episode(request.user, episode_id, request=request)
    form = BoosterForm(
        request.POST, episode=episode, activities=list(services.open_boosters(episode))
    )
    if form.is_valid():
        act = form.cleaned_data["activity"]
        try:
            services.complete_activity(
                request.user,
                episode,
                act.pk,
                at=form.cleaned_data["at"],
                note=form.cleaned_data["note"],
                request=request,
            )
        except (InvalidInput, Conflict) as exc:
            if isinstance(exc, InvalidInput) and exc.field in form.fields:
                form.add_error(exc.field, exc.detail)
            else:
                form.add_error("activity", _readable(exc))
            return _render_episode(request, episode, _status_of(exc), booster_form=form)
        messages.success(request, _("Recorded: %(a)s.") % {"a": activity_label(act)})
        return redirect(_episode_url(episode, "boosters-h"))
    return _render_episode(request, episode, 400, booster_form=form)


# --- the protocol library -----------------------------------------------------------------------


@staff_view(services.PROTOCOL_EDITOR_ROLES)
def library(request: TrellisRequest) -> HttpResponse:
    program = request.program
    assert program is not None
    entries = services.protocol_library(program)
    return render(request, "care/library.html", {"entries": entries})


@staff_view(services.PROTOCOL_EDITOR_ROLES)
@require_POST
def toggle_protocol(request: TrellisRequest, protocol_id: str) -> HttpResponse:
    program = request.program
    assert program is not None
    enabled = request.POST.get("enabled") == "1"
    services.set_protocol_enabled(request.user, program, protocol_id, enabled, request=request)
    if enabled:
        messages.success(request, _("%(id)s is enabled for new courses.") % {"id": protocol_id})
    else:
        messages.success(
            request,
            _("%(id)s is switched off for new courses; running courses continue.")
            % {"id": protocol_id},
        )
    return redirect("care:library")


@staff_view(services.PROTOCOL_EDITOR_ROLES)
def copy_protocol(request: TrellisRequest, protocol_id: str) -> HttpResponse:
    program = request.program
    assert program is not None
    source = services.resolve_protocol(program, protocol_id)
    form = CopyProtocolForm(
        request.POST or None,
        initial={"new_id": services.default_copy_id(program, protocol_id)},
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                row = services.copy_protocol(
                    request.user,
                    program,
                    protocol_id,
                    form.cleaned_data["new_id"],
                    request=request,
                )
            except InvalidInput as exc:
                form.add_error("new_id", exc.detail)
            else:
                messages.success(
                    request,
                    _("Copy created (switched off). Adapt it, save, then enable it."),
                )
                return redirect("care:edit_protocol", protocol_id=row.protocol_id)
    return render(request, "care/copy.html", {"form": form, "source": source}, status=status)


@staff_view(services.PROTOCOL_EDITOR_ROLES)
def edit_protocol(request: TrellisRequest, protocol_id: str) -> HttpResponse:
    program = request.program
    row = services.get_copy(request.user, program, protocol_id)
    form = ProtocolTextForm(request.POST or None, initial={"yaml_text": row.yaml_text})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            assert program is not None
            try:
                row = services.save_protocol_copy(
                    request.user,
                    program,
                    protocol_id,
                    form.cleaned_data["yaml_text"],
                    request=request,
                )
            except ProtocolInvalid as exc:
                for err in exc.errors:
                    form.add_error("yaml_text", str(err))
            except InvalidInput as exc:
                form.add_error("yaml_text", exc.detail)
            else:
                messages.success(
                    request,
                    _("Saved as revision %(r)s (version %(v)s).")
                    % {"r": row.revision, "v": row.version},
                )
                return redirect("care:edit_protocol", protocol_id=protocol_id)
    context = {"row": row, "form": form, "revisions": services.revisions_of(row)}
    return render(request, "care/edit_protocol.html", context, status=status)
