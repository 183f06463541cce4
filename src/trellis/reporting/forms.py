from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from trellis.reporting.models import StatusEvent


class DiagnosisForm(forms.Form):
    code = forms.CharField(
        label=_("ICD-10-CM code"), max_length=10, help_text=_("For example F33.1 or F34.1.")
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    onset = forms.DateField(label=_("Onset"), widget=forms.DateInput(attrs={"type": "date"}))
    resolved = forms.DateField(
        label=_("Resolved"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class StatusEventForm(forms.Form):
    kind = forms.ChoiceField(label=_("Status"), choices=StatusEvent.Kind.choices)
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))


class YearForm(forms.Form):
    year = forms.IntegerField(label=_("Measurement year"), min_value=2000, max_value=2100)
