"""The shared inbox and a patient's conversation (staff); the patient's messages page."""

from __future__ import annotations

import uuid

from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from trellis.accounts.decorators import staff_view
from trellis.accounts.models import CLINICAL_ROLES
from trellis.checkin.models import CheckInLink
from trellis.checkin.views import checkin_view
from trellis.core.errors import InvalidInput
from trellis.messaging import forms, services
from trellis.web.forms import show_input_error
from trellis.web.http import TrellisRequest

BOX_LABELS = {
    "all": gettext_lazy("All"),
    "unread": gettext_lazy("Unread"),
    "mine": gettext_lazy("Assigned to me"),
    "unassigned": gettext_lazy("Unassigned"),
}


@staff_view(CLINICAL_ROLES, patient_data=True)
def inbox(request: TrellisRequest) -> HttpResponse:
    box = request.GET.get("box", "all")
    if box not in services.BOXES:
        box = "all"
    rows = services.inbox(request.user, request.program, box, request=request)
    boxes = [(key, BOX_LABELS[key]) for key in services.BOXES]
    return render(request, "messaging/inbox.html", {"rows": rows, "box": box, "boxes": boxes})


@staff_view(CLINICAL_ROLES, patient_data=True)
def thread(request: TrellisRequest, patient_id: uuid.UUID) -> HttpResponse:
    form = forms.MessageForm(request.POST or None, label=_("Your reply"))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.reply(
                    request.user,
                    request.program,
                    patient_id,
                    form.cleaned_data["body"],
                    request=request,
                )
            except InvalidInput as exc:
                show_input_error(form, exc)
            else:
                flash.success(request, _("Reply sent. The patient is told a message is waiting."))
                return redirect("messaging:thread", patient_id=patient_id)
        status = 400
    view = services.open_thread(request.user, request.program, patient_id, request=request)
    assert request.program is not None
    assign_form = forms.AssignForm(
        initial={"assigned_to": view.thread.assigned_to_id if view.thread else ""},
        staff=services.staff_choices(request.program),
    )
    context = {"view": view, "patient": view.patient, "form": form, "assign_form": assign_form}
    return render(request, "messaging/thread.html", context, status=status)


@staff_view(CLINICAL_ROLES, patient_data=True)
@require_POST
def assign(request: TrellisRequest, patient_id: uuid.UUID) -> HttpResponse:
    try:
        services.assign(
            request.user,
            request.program,
            patient_id,
            request.POST.get("assigned_to") or None,
            request=request,
        )
    except InvalidInput as exc:
        flash.error(request, exc.detail)
    else:
        flash.success(request, _("Assignment saved."))
    return redirect("messaging:thread", patient_id=patient_id)


def _token(request: HttpRequest) -> str:
    return request.resolver_match.kwargs["token"] if request.resolver_match else ""


@checkin_view
def patient_messages(request: HttpRequest, link: CheckInLink) -> HttpResponse:
    lang = translation.get_language() or "en"
    form = forms.MessageForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                message = services.write_as_patient(
                    link, form.cleaned_data["body"], language=lang, request=request
                )
            except InvalidInput:
                form.add_error("body", _("Please write your message first."))
            else:
                url = reverse("messaging:patient", args=[_token(request)])
                crisis = "&help=1" if message.risk_phrases else ""
                return redirect(f"{url}?sent=1{crisis}&lang={lang}")
        status = 400
    else:
        services.mark_read_by_patient(link, request=request)
    context = {
        "link": link,
        "token": _token(request),
        "form": form,
        "conversation": services.messages_of_link(link),
        "sent": request.GET.get("sent") == "1",
        "crisis": request.GET.get("help") == "1",
        "lang": lang,
        "first_name": link.patient.display_first_name,
    }
    return render(request, "messaging/patient.html", context, status=status)
