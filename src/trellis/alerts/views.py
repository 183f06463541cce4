from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from trellis.accounts.decorators import staff_view
from trellis.alerts import services
from trellis.core.errors import InvalidInput
from trellis.web.http import TrellisRequest


class AcknowledgeForm(forms.Form):
    action_taken = forms.CharField(
        label=gettext_lazy("Action taken"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("What you did: who you contacted, what was agreed."),
        max_length=2000,
    )


@staff_view(patient_data=True)
def alert_list(request: TrellisRequest) -> HttpResponse:
    alerts = services.open_alerts(request.user, request.program)
    return render(request, "alerts/list.html", {"alerts": alerts})


@staff_view(patient_data=True)
def alert_detail(request: TrellisRequest, alert_id: int) -> HttpResponse:
    alert = services.get_alert(request.user, alert_id)
    form = AcknowledgeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.acknowledge(
                request.user,
                alert_id,
                action_taken=form.cleaned_data["action_taken"],
                request=request,
            )
        except InvalidInput as exc:
            form.add_error("action_taken", exc.detail)
        else:
            messages.success(request, _("Alert acknowledged."))
            return redirect("alerts:list")
    return render(request, "alerts/detail.html", {"alert": alert, "form": form})
