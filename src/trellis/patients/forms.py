"""Registration and consent forms: every field validated, with a specific message beside it."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from trellis.patients.models import Consent, ConsentKind, Patient, RaceEthnicity

ZIP_RE = re.compile(r"^\d{5}(-\d{4})?$")
PHONE_RE = re.compile(r"^\+?[0-9 ().-]{7,20}$")
MAX_AGE_YEARS = 120
MAX_HOUSEHOLD = 20
MAX_INCOME = Decimal("10000000")


def normalise_phone(raw: str) -> str:
    """Keep digits and a leading +; US 10-digit numbers become +1XXXXXXXXXX (E.164)."""
    raw = raw.strip()
    if not raw:
        return ""
    if not PHONE_RE.match(raw):
        raise forms.ValidationError(_("Enter a phone number with digits only, e.g. 555-201-0134."))
    digits = re.sub(r"\D", "", raw)
    if raw.startswith("+"):
        if not 8 <= len(digits) <= 15:
            raise forms.ValidationError(_("An international number has 8 to 15 digits."))
        return "+" + digits
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10:
        raise forms.ValidationError(_("A US phone number has 10 digits."))
    return "+1" + digits


class PatientForm(forms.ModelForm[Patient]):
    race_ethnicity = forms.MultipleChoiceField(
        label=_("Race and ethnicity (select all that apply)"),
        choices=RaceEthnicity.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Patient
        fields = [
            "given_name",
            "family_name",
            "preferred_name",
            "date_of_birth",
            "email",
            "phone",
            "preferred_language",
            "interpreter_needed",
            "race_ethnicity",
            "sex",
            "gender_identity",
            "zip_code",
            "household_size",
            "annual_income",
            "payer",
            "emergency_contact_name",
            "emergency_contact_phone",
            "emergency_contact_relationship",
        ]
        widgets = {
            "date_of_birth": forms.DateInput(attrs={"type": "date"}),
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
            "emergency_contact_phone": forms.TextInput(attrs={"type": "tel"}),
        }

    def __init__(self, *args: Any, today: date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()
        for name in ("given_name", "family_name", "date_of_birth"):
            self.fields[name].widget.attrs["required"] = True

    def clean_given_name(self) -> str:
        return self._clean_name("given_name")

    def clean_family_name(self) -> str:
        return self._clean_name("family_name")

    def _clean_name(self, field: str) -> str:
        value = " ".join(str(self.cleaned_data.get(field, "")).split())
        if not value:
            raise forms.ValidationError(_("This field is required."))
        if any(ch.isdigit() for ch in value):
            raise forms.ValidationError(_("A name cannot contain digits."))
        return value

    def clean_date_of_birth(self) -> date:
        dob: date = self.cleaned_data["date_of_birth"]
        if dob > self.today:
            raise forms.ValidationError(_("The date of birth cannot be in the future."))
        if self.today.year - dob.year > MAX_AGE_YEARS:
            raise forms.ValidationError(
                _("Check the year: that would make the patient over %(n)s.") % {"n": MAX_AGE_YEARS}
            )
        return dob

    def clean_phone(self) -> str:
        return normalise_phone(self.cleaned_data.get("phone", ""))

    def clean_emergency_contact_phone(self) -> str:
        return normalise_phone(self.cleaned_data.get("emergency_contact_phone", ""))

    def clean_zip_code(self) -> str:
        value = str(self.cleaned_data.get("zip_code", "")).strip()
        if value and not ZIP_RE.match(value):
            raise forms.ValidationError(_("A ZIP code is 5 digits (or ZIP+4, e.g. 12345-6789)."))
        return value

    def clean_household_size(self) -> int | None:
        value: int | None = self.cleaned_data.get("household_size")
        if value is not None and not 1 <= value <= MAX_HOUSEHOLD:
            raise forms.ValidationError(
                _("Household size is from 1 to %(n)s people.") % {"n": MAX_HOUSEHOLD}
            )
        return value

    def clean_annual_income(self) -> Decimal | None:
        value: Decimal | None = self.cleaned_data.get("annual_income")
        if value is not None and value < 0:
            raise forms.ValidationError(_("Income cannot be negative."))
        if value is not None and value >= MAX_INCOME:
            raise forms.ValidationError(_("Check the amount: enter yearly income in dollars."))
        return value

    def clean_race_ethnicity(self) -> list[str]:
        values: list[str] = list(self.cleaned_data.get("race_ethnicity", []))
        if RaceEthnicity.PREFER_NOT_TO_SAY in values and len(values) > 1:
            raise forms.ValidationError(
                _("“Prefer not to say” cannot be combined with other answers.")
            )
        return values

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        has_name = bool(data.get("emergency_contact_name"))
        has_phone = bool(data.get("emergency_contact_phone"))
        if has_name and not has_phone:
            self.add_error("emergency_contact_phone", _("Give the emergency contact's phone."))
        if has_phone and not has_name:
            self.add_error("emergency_contact_name", _("Give the emergency contact's name."))
        return data


class ConsentForm(forms.ModelForm[Consent]):
    class Meta:
        model = Consent
        fields = ["kind", "scope", "given_on"]
        widgets = {"given_on": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args: Any, today: date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()
        self.fields["kind"].choices = ConsentKind.choices  # type: ignore[attr-defined]

    def clean_given_on(self) -> date:
        given: date = self.cleaned_data["given_on"]
        if given > self.today:
            raise forms.ValidationError(_("A consent cannot be dated in the future."))
        return given


class WithdrawConsentForm(forms.Form):
    """Confirm a withdrawal: when the patient withdrew it and why (both kept and audited)."""

    withdrawn_on = forms.DateField(
        label=_("Date withdrawn"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(
        label=_("Reason the patient gave"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("In the patient's words where you can. It is kept with the consent."),
    )
