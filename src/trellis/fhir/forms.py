"""The admins' form to register a FHIR API client (the page twin of `trellis fhir client add`)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from trellis.fhir.demo import DEMO_SCOPES


class ClientForm(forms.Form):
    name = forms.CharField(label=_("Name of the system"), max_length=200)
    scopes = forms.CharField(label=_("Scopes"), max_length=1000, initial=DEMO_SCOPES)
    jwks = forms.CharField(
        label=_("Public keys (JWKS, JSON)"),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
    )
    jwks_url = forms.URLField(
        label=_("or the URL of its JWKS (https)"), required=False, assume_scheme="https"
    )

    def clean_jwks(self) -> Any:
        raw = self.cleaned_data["jwks"].strip()
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise forms.ValidationError(_("This is not JSON.")) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("jwks") and not data.get("jwks_url") and not self.errors:
            raise forms.ValidationError(_("Give the system's public keys or the URL of its JWKS."))
        return data
