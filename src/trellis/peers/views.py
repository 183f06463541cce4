"""Peer pages: circles, a circle's roster and attendance, notes, and matching."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from trellis.accounts.decorators import staff_view
from trellis.accounts.models import CLINICAL_ROLES, Program
from trellis.accounts.services import has_any_role
from trellis.checkin.models import CheckInLink
from trellis.checkin.views import checkin_view
from trellis.core import peers as rules
from trellis.core.errors import Conflict, InvalidInput
from trellis.patients.services import get_patient
from trellis.peers import services
from trellis.peers.forms import (
    AVAILABILITY_ROWS,
    CircleForm,
    ContactForm,
    LeaveForm,
    NoteForm,
    PairForm,
    PreferencesForm,
    TrainingForm,
)
from trellis.peers.models import (
    Attendance,
)
from trellis.web.forms import show_input_error
from trellis.web.http import TrellisRequest


def _program(request: TrellisRequest) -> Program:
    if request.program is None:
        raise Http404
    return request.program


def _today() -> date:
    return timezone.localdate()


@staff_view(services.CIRCLE_ROLES)
def index(request: TrellisRequest) -> HttpResponse:
    program = _program(request)
    circles = [(c, services.enrolled_count(c)) for c in services.circles_for(request.user, program)]
    return render(
        request,
        "peers/index.html",
        {
            "circles": circles,
            "can_coordinate": has_any_role(request.user, program, services.COORDINATOR_ROLES),
        },
    )


@staff_view(services.CIRCLE_ROLES)
def create(request: TrellisRequest) -> HttpResponse:
    program = _program(request)
    form = CircleForm(request.POST or None, program=program)
    if request.method == "POST" and form.is_valid():
        try:
            circle = services.create_circle(request.user, program, dict(form.cleaned_data))
        except InvalidInput as exc:
            show_input_error(form, exc)
        else:
            messages.success(request, _("Circle created with its weekly meetings."))
            return redirect("peers:circle", circle_id=circle.pk)
    return render(request, "peers/create.html", {"form": form}, status=400 if form.errors else 200)


@staff_view(services.CIRCLE_ROLES)
def circle(request: TrellisRequest, circle_id: int) -> HttpResponse:
    program = _program(request)
    c = services.get_circle(request.user, program, circle_id)
    meetings, rows = services.roster(request.user, c, request=request)
    note_form = NoteForm(request.POST or None)
    may_run = services._may_run(request.user, c)
    if request.method == "POST" and may_run and note_form.is_valid():
        try:
            services.add_note(request.user, c, note_form.cleaned_data["text"])
        except InvalidInput as exc:
            note_form.add_error("text", str(exc).split(": ", 1)[-1])
        else:
            messages.success(request, _("Note saved."))
            return redirect("peers:circle", circle_id=c.pk)
    today = _today()
    past = [m for m in meetings if m.date <= today]
    # Each meeting's form shows what is recorded (issue 19: never a blank over a record), newest
    # first: the form a facilitator meets first is today's (or the last) meeting (issue 13).
    attendance_forms = [
        {"meeting": m, "marks": [(r, r.attendance.get(m.pk, "")) for r in rows]}
        for m in past[-6:][::-1]
    ]
    context = {
        "attendance_forms": attendance_forms,
        "circle": c,
        "meetings": meetings,
        # Newest first: the form a facilitator meets first is today's (or the last) meeting,
        # not the one six weeks ago.
        "past_meetings": past[-6:][::-1],
        "rows": rows,
        "note_form": note_form,
        "notes": services.notes_of(request.user, c)[:20] if may_run else [],
        "may_run": may_run,
        "statuses": Attendance.Status.choices,
        "full_names": has_any_role(request.user, program, services.COORDINATOR_ROLES),
        "leave_form": LeaveForm(initial={"on": today}),
    }
    return render(request, "peers/circle.html", context, status=400 if note_form.errors else 200)


@staff_view(services.CIRCLE_ROLES)
@require_POST
def attendance(request: TrellisRequest, circle_id: int, meeting_id: int) -> HttpResponse:
    program = _program(request)
    c = services.get_circle(request.user, program, circle_id)
    marks: dict[int, str] = {}
    shown: dict[int, str] = {}
    for key, value in request.POST.items():
        for prefix, into, keep_blank in (("member-", marks, False), ("shown-", shown, True)):
            if key.startswith(prefix) and (value or keep_blank):
                try:
                    into[int(key.removeprefix(prefix))] = str(value)
                except ValueError:
                    raise InvalidInput(key, _("Not a member of this circle.")) from None
    try:
        changed = services.record_attendance(request.user, c, meeting_id, marks, shown=shown)
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect("peers:circle", circle_id=c.pk)
    if changed:
        messages.success(
            request,
            ngettext(
                "Attendance saved: %(n)d change.", "Attendance saved: %(n)d changes.", len(changed)
            )
            % {"n": len(changed)},
        )
    else:
        messages.info(request, _("Nothing changed: the recorded attendance stays as it was."))
    return redirect("peers:circle", circle_id=c.pk)


@staff_view(services.COORDINATOR_ROLES, patient_data=True)
def matching(request: TrellisRequest) -> HttpResponse:
    program = _program(request)
    error = ""
    if request.method == "POST":
        patient_id = request.POST.get("patient", "")
        circle_id = request.POST.get("circle", "")
        try:
            patient = services.get_patient_for_circle(request.user, program, patient_id)
            c = services.get_circle(request.user, program, int(circle_id))
        except ValueError:
            raise Http404 from None
        try:
            services.join_circle(request.user, c, patient, _today())
        except (Conflict, InvalidInput) as exc:
            error = str(exc)
        else:
            messages.success(
                request,
                _("%(name)s joins %(circle)s.") % {"name": patient.full_name, "circle": c.name},
            )
            return redirect("peers:matching")
    view = services.run_matching(request.user, program, _today(), request=request)
    return render(
        request,
        "peers/matching.html",
        {"match": view, "error": error},
        status=409 if error else 200,
    )


@staff_view(CLINICAL_ROLES, patient_data=True)
def preferences(request: TrellisRequest, patient_id: UUID) -> HttpResponse:
    program = _program(request)
    patient = get_patient(request.user, patient_id, request=request)
    if patient.program_id != program.pk:
        raise Http404
    foci = services.identity_foci(program)
    prefs = services.preferences_of(patient)
    initial: dict[str, Any] = {}
    if prefs is not None:
        chosen = [s for s in prefs.identity_opt_in if s in foci]
        initial = {
            "identities": chosen,
            "other_identities": ", ".join(s for s in prefs.identity_opt_in if s not in foci),
            "mentor_opt_in": prefs.mentor_opt_in,
        }
        for i, w in enumerate(prefs.availability[:AVAILABILITY_ROWS]):
            initial |= {
                f"weekday_{i}": w["weekday"],
                f"start_{i}": w["start"],
                f"end_{i}": w["end"],
            }
    form = PreferencesForm(request.POST or None, foci=foci, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_preferences(
                request.user,
                patient,
                form.cleaned_data["availability"],
                form.cleaned_data["identity_opt_in"],
                form.cleaned_data["mentor_opt_in"],
            )
        except InvalidInput as exc:
            show_input_error(form, exc)
        else:
            messages.success(request, _("Peer preferences saved."))
            return redirect("peers:preferences", patient_id=patient.pk)
    return render(
        request,
        "peers/preferences.html",
        {"form": form, "patient": patient},
        status=400 if form.errors else 200,
    )


@staff_view(services.COORDINATOR_ROLES, patient_data=True)
def mentors(request: TrellisRequest) -> HttpResponse:
    program = _program(request)
    error = ""
    training_form = TrainingForm()
    contact_forms: dict[int, ContactForm] = {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "training":
                training_form = TrainingForm(request.POST)
                if training_form.is_valid():
                    patient = get_patient(
                        request.user, training_form.cleaned_data["patient"], request=request
                    )
                    services.mark_mentor_training(
                        request.user, patient, training_form.cleaned_data["on"]
                    )
                    messages.success(request, _("Mentor training recorded."))
                    return redirect("peers:mentors")
            elif action == "pair":
                pair_form = PairForm(request.POST)
                if not pair_form.is_valid():
                    raise Http404
                profile = services.get_mentor_profile(
                    request.user, program, pair_form.cleaned_data["mentor"]
                )
                mentee = get_patient(
                    request.user, pair_form.cleaned_data["mentee"], request=request
                )
                services.pair_mentor(request.user, profile, mentee, _today())
                messages.success(request, _("Mentor paired."))
                return redirect("peers:mentors")
            elif action == "contact":
                pairing = services.get_active_pairing(
                    request.user, program, int(request.POST.get("pairing", ""))
                )
                form = ContactForm(request.POST, prefix=f"c{pairing.pk}")
                contact_forms[pairing.pk] = form
                if form.is_valid():
                    d = form.cleaned_data
                    try:
                        services.log_contact(
                            request.user, pairing, d["date"], d["mode"], d["minutes"], d["note"]
                        )
                    except InvalidInput as exc:
                        show_input_error(form, exc)
                    else:
                        messages.success(request, _("Contact logged."))
                        return redirect("peers:mentors")
            else:
                raise Http404
        except ValueError:
            raise Http404 from None
        except Conflict as exc:
            error = str(exc)
    pairings = services.active_pairings(request.user, program)
    proposals = services.propose_mentors(request.user, program)
    pair_rows = []
    for mentee_id, mentor_id in proposals["pairs"].items():
        if mentor_id in proposals["mentors"] and mentee_id in proposals["mentees"]:
            pair_rows.append((proposals["mentors"][mentor_id], proposals["mentees"][mentee_id]))
    rows = [
        (pr, count, contact_forms.get(pr.pk) or ContactForm(prefix=f"c{pr.pk}"))
        for pr, count in pairings
    ]
    errors = error or any(f.errors for f in contact_forms.values()) or training_form.errors
    return render(
        request,
        "peers/mentors.html",
        {
            "candidates": services.mentor_candidates(request.user, program),
            "training_form": training_form,
            "pairings": rows,
            "proposals": pair_rows,
            "max_mentees": rules.load_defaults().max_mentees,
            "error": error,
        },
        status=(409 if error else 400) if errors else 200,
    )


@staff_view(services.COORDINATOR_ROLES)
@require_POST
def leave(request: TrellisRequest, circle_id: int) -> HttpResponse:
    program = _program(request)
    c = services.get_circle(request.user, program, circle_id)
    form = LeaveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the date the member left."))
        return redirect("peers:circle", circle_id=c.pk)
    membership = services.get_membership(request.user, c, form.cleaned_data["membership"])
    services.leave_circle(request.user, membership, form.cleaned_data["on"])
    messages.success(request, _("Member left the circle."))
    return redirect("peers:circle", circle_id=c.pk)


# The patient's page (check-in link), like booking's availability page.
@checkin_view
def patient_preferences(request: HttpRequest, link: CheckInLink) -> HttpResponse:
    """On the patient's phone: which identity circles they would join, and a peer mentor."""
    token = request.resolver_match.kwargs["token"] if request.resolver_match else ""
    choices = services.identity_choices(link.patient.program)
    prefs = services.preferences_of(link.patient)
    error = ""
    if request.method == "POST":
        try:
            services.set_preferences_by_patient(
                link,
                request.POST.getlist("identity_opt_in"),
                request.POST.get("mentor_opt_in") == "on",
                request=request,
            )
        except InvalidInput as exc:
            error = exc.detail
        else:
            url = reverse("peers:patient_preferences", args=[token])
            return redirect(f"{url}?saved=1&lang={translation.get_language()}")
    context = {
        "token": token,
        "name": link.patient.display_first_name,
        "choices": choices,
        "chosen": set(prefs.identity_opt_in) if prefs else set(),
        "mentor": bool(prefs and prefs.mentor_opt_in),
        "saved": request.GET.get("saved") == "1",
        "error": error,
    }
    return render(request, "peers/patient_preferences.html", context, status=400 if error else 200)
