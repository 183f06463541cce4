from __future__ import annotations

from datetime import date

from django import forms
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from trellis.accounts.decorators import staff_view
from trellis.accounts.models import Role
from trellis.audit.models import Action
from trellis.audit.services import events_for_admin, record, to_csv
from trellis.web.http import TrellisRequest


class AuditFilterForm(forms.Form):
    category = forms.ChoiceField(
        label=_("Events"),
        choices=[
            ("", _("All")),
            ("account", _("Sign-ins, failed sign-ins and lock-outs")),
            ("data", _("Patient data")),
        ],
        required=False,
    )
    action = forms.ChoiceField(
        label=_("Action"), choices=[("", _("Any"))] + list(Action.choices), required=False
    )
    actor = forms.CharField(label=_("Who (username)"), required=False, max_length=150)
    patient_id = forms.UUIDField(label=_("Patient id"), required=False)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=pgettext_lazy("end of a date range", "To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        since: date | None = data.get("since")
        until: date | None = data.get("until")
        if since and until and since > until:
            self.add_error("until", _("“To” must be on or after “From”."))
        return data


@staff_view([Role.ADMIN])
def log(request: TrellisRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters: dict[str, object] = {}
    if form.is_bound and form.is_valid():
        filters = {k: v for k, v in form.cleaned_data.items() if v}
        if "patient_id" in filters:
            filters["patient_id"] = str(filters["patient_id"])
    events = events_for_admin(request.user, request.program, **filters)  # type: ignore[arg-type]
    if request.GET.get("export") == "csv" and (not form.is_bound or form.is_valid()):
        record(
            action=Action.EXPORT,
            request=request,
            object_type="audit.auditevent",
            detail={"filters": {k: str(v) for k, v in filters.items()}},
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response = HttpResponse(to_csv(events.iterator()), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
        return response
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/log.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )
