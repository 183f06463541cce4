from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from trellis.accounts.decorators import staff_view
from trellis.accounts.models import Role
from trellis.notify import services
from trellis.notify.models import Status
from trellis.web.http import TrellisRequest

OUTBOX_ROLES = [Role.ADMIN, Role.COORDINATOR]


@staff_view(OUTBOX_ROLES, patient_data=True)
def outbox(request: TrellisRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    rows = services.messages_for(request.user, request.program).select_related("patient")
    if status in Status.values:
        rows = rows.filter(status=status)
    return render(
        request,
        "notify/outbox.html",
        {"rows": rows[:200], "status": status, "statuses": Status.choices},
    )


@staff_view(OUTBOX_ROLES, patient_data=True)
@require_POST
def retry(request: TrellisRequest, message_id: int) -> HttpResponse:
    services.retry_now(request.user, request.program, message_id, request=request)
    messages.success(request, _("The message will be sent again now."))
    return redirect("notify:outbox")
