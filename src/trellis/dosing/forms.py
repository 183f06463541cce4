"""Dosing forms: every field validated, with a specific message beside it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from trellis.core.errors import InvalidInput
from trellis.core.safety import PredoseRecord, SafetyThresholds
from trellis.core.safety.monitoring import DISSOCIATION_RATINGS
from trellis.core.safety.predose import CSSRS_RISKS, MEDICINE_CLASSES, PREGNANCY_STATUSES
from trellis.dosing.models import AdverseEvent
from trellis.dosing.services import AMENDABLE_FIELDS
from trellis.patients.models import Language
from trellis.web.forms import StrictDecimalField, StrictIntegerField

DT_FORMAT = "%Y-%m-%dT%H:%M"


def when_field(label: Any, required: bool = True) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        input_formats=[DT_FORMAT, "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DT_FORMAT),
        error_messages={"invalid": _("Enter a date and time, e.g. 2026-03-02T09:30.")},
    )


def now_local() -> str:
    return timezone.localtime().strftime(DT_FORMAT)


def whole(label: Any, low: int, high: int, unit: str = "") -> StrictIntegerField:
    msg = _("Enter a whole number from %(low)s to %(high)s%(unit)s.") % {
        "low": low,
        "high": high,
        "unit": f" {unit}" if unit else "",
    }
    return StrictIntegerField(
        label=label,
        required=False,
        min_value=low,
        max_value=high,
        error_messages={"min_value": msg, "max_value": msg, "invalid": msg},
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


MEDICINE_LABELS = {
    "benzodiazepines": _("Benzodiazepines"),
    "other_sedatives": _("Other sedatives"),
    "stimulants": _("Stimulants"),
    "maois": _("MAOIs"),
    "opioids": _("Opioids"),
}


class ServiceErrorsMixin:
    """Put a service's :class:`InvalidInput` beside the field it names (or on top).

    ``id_prefix`` keeps element ids unique where several forms share a page (the session page
    has "at" and "dissociation" in more than one form; a duplicate id breaks the labels).
    """

    id_prefix = "id"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)

    def add_service_error(self, exc: InvalidInput) -> None:
        field = exc.field.split(".")[0].split("[")[0]
        target = field if field in self.fields else None  # type: ignore[attr-defined]
        self.add_error(target, exc.detail if target else exc.message)  # type: ignore[attr-defined]


class PredoseForm(ServiceErrorsMixin, forms.Form):
    id_prefix = "pre"

    identity_confirmed = forms.BooleanField(
        label=_("Identity confirmed (two identifiers)"), required=False
    )
    screening_changes_reviewed = forms.BooleanField(
        label=_("Screening changes since the last visit reviewed"), required=False
    )
    pregnancy_status = forms.ChoiceField(
        label=_("Pregnancy status"),
        required=False,
        choices=[("", "—"), *[(s, s.replace("_", " ")) for s in PREGNANCY_STATUSES]],
    )
    planned_start = when_field(_("Planned start"), required=False)
    last_food = when_field(_("Last food"), required=False)
    last_liquids = when_field(_("Last liquids"), required=False)
    concomitant_medicines_reviewed = forms.BooleanField(
        label=_("Concomitant medicines reviewed"), required=False
    )
    concomitant_medicines = forms.MultipleChoiceField(
        label=_("Currently taking (select all that apply)"),
        required=False,
        choices=[(m, MEDICINE_LABELS[m]) for m in MEDICINE_CLASSES],
        widget=forms.CheckboxSelectMultiple,
    )
    phq9_item9 = forms.TypedChoiceField(
        label=_("Today's PHQ-9 item 9"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), ("0", "0"), ("1", "1"), ("2", "2"), ("3", "3")],
    )
    cssrs_risk = forms.ChoiceField(
        label=_("Today's C-SSRS risk"),
        required=False,
        choices=[("", "—"), *[(r, r) for r in CSSRS_RISKS]],
    )
    clinician_contact_by = forms.CharField(
        label=_("Clinician contacted (name)"), required=False, max_length=200
    )
    systolic = whole(_("Systolic BP"), 40, 300, "mmHg")
    diastolic = whole(_("Diastolic BP"), 20, 200, "mmHg")
    heart_rate = whole(_("Heart rate"), 20, 250, "/min")
    spo2 = whole(_("SpO2 (%)"), 50, 100)
    weight_kg = StrictDecimalField(
        label=_("Weight (kg)"),
        required=False,
        min_value=30,
        max_value=300,
        decimal_places=1,
        error_messages={
            "min_value": _("Enter a weight from 30 to 300 kg."),
            "max_value": _("Enter a weight from 30 to 300 kg."),
            "invalid": _("Enter a weight in kg, e.g. 72.5."),
            "max_decimal_places": _("Give the weight to 0.1 kg."),
        },
    )
    ride_home_confirmed = forms.BooleanField(label=_("Ride home confirmed"), required=False)
    no_driving_advice_given = forms.BooleanField(
        label=_("No-driving advice given (until the next day after restful sleep)"), required=False
    )

    def __init__(self, *args: Any, track: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if track is not None:
            if not track.asks_pregnancy:
                del self.fields["pregnancy_status"]
            if not track.needs_fasting:
                for name in ("planned_start", "last_food", "last_liquids"):
                    del self.fields[name]
            if not track.needs_weight:
                del self.fields["weight_kg"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        sys_, dia = data.get("systolic"), data.get("diastolic")
        if (sys_ is None) != (dia is None):
            self.add_error("diastolic" if dia is None else "systolic", _("Give both BP values."))
            return data
        if sys_ is not None and dia is not None and dia >= sys_:
            self.add_error("diastolic", _("Diastolic must be below systolic (values swapped?)."))
            return data
        planned = data.get("planned_start")
        for name in ("last_food", "last_liquids"):
            value = data.get(name)
            if planned and value and value > planned:
                self.add_error(name, _("This is after the planned start."))
        try:
            PredoseRecord.from_mapping(self.values())
        except InvalidInput as exc:
            self.add_service_error(exc)
        return data

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in self.cleaned_data.items():
            if value in ("", None):
                continue
            if name == "weight_kg":
                value = float(value)
            if name == "clinician_contact_by":
                value = value.strip()
            if isinstance(value, datetime):
                value = value.isoformat()
            out[name] = value
        out["concomitant_medicines"] = list(self.cleaned_data.get("concomitant_medicines") or [])
        return out


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give the reason.")},
    )


class StartSessionForm(forms.Form):
    chair: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Dosing chair"),
        queryset=None,
        required=False,
        empty_label="—",
        error_messages={"invalid_choice": _("Choose one of this program's dosing chairs.")},
    )

    def __init__(self, *args: Any, chairs: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["chair"].queryset = chairs  # type: ignore[attr-defined]


class DoseForm(ServiceErrorsMixin, forms.Form):
    id_prefix = "dose"

    lot_number = forms.CharField(
        label=_("Lot number"), max_length=64, error_messages={"required": _("Give the lot number.")}
    )
    started_at = when_field(_("First administration (time)"))
    requested_mg = StrictDecimalField(
        label=_("Dose (mg), if not the track's computed dose"),
        required=False,
        min_value=0.1,
        max_value=1000,
        decimal_places=1,
        error_messages={
            "min_value": _("A dose must be above 0 mg."),
            "max_value": _("That is far above any track's limit."),
            "invalid": _("Enter the dose in mg, e.g. 56."),
        },
    )


class EndForm(ServiceErrorsMixin, forms.Form):
    id_prefix = "end"

    at = when_field(_("Infusion ended at"))


class DeviceForm(ServiceErrorsMixin, forms.Form):
    """The actual time the next esketamine device was given (issue 19: recorded, not computed)."""

    id_prefix = "device"

    at = when_field(_("Device given at"))


class ObservationForm(ServiceErrorsMixin, forms.Form):
    id_prefix = "obs"

    at = when_field(_("Time"))
    systolic = whole(_("Systolic BP"), 40, 300, "mmHg")
    diastolic = whole(_("Diastolic BP"), 20, 200, "mmHg")
    heart_rate = whole(_("Heart rate"), 20, 250, "/min")
    spo2 = whole(_("SpO2 (%)"), 50, 100)
    moaas = forms.TypedChoiceField(
        label=_("MOAA/S sedation (5 = responds readily to name)"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), *[(str(i), str(i)) for i in range(5, -1, -1)]],
    )
    dissociation = forms.ChoiceField(
        label=_("Dissociation (clinician rating)"),
        required=False,
        choices=[("", "—"), *[(r, r) for r in DISSOCIATION_RATINGS]],
    )
    cadss_total = whole(_("CADSS total (optional)"), 0, 92)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        sys_, dia = data.get("systolic"), data.get("diastolic")
        if (sys_ is None) != (dia is None):
            self.add_error("diastolic" if dia is None else "systolic", _("Give both BP values."))
        elif sys_ is not None and dia is not None and dia >= sys_:
            self.add_error("diastolic", _("Diastolic must be below systolic (values swapped?)."))
        values = [data.get(k) for k in self.values_keys()]
        if all(v in (None, "") for v in values):
            self.add_error(None, _("Record at least one value."))
        return data

    @staticmethod
    def values_keys() -> tuple[str, ...]:
        return (
            "systolic",
            "diastolic",
            "heart_rate",
            "spo2",
            "moaas",
            "dissociation",
            "cadss_total",
        )

    def values(self) -> dict[str, Any]:
        return {k: self.cleaned_data.get(k) for k in self.values_keys()}


class AdverseEventForm(ServiceErrorsMixin, forms.Form):
    id_prefix = "ae"

    at = when_field(_("Time"))
    description = forms.CharField(
        label=_("What happened"),
        max_length=300,
        error_messages={"required": _("Say what happened.")},
    )
    severity = forms.ChoiceField(
        label=_("Severity"),
        choices=[("", "—"), *AdverseEvent.Severity.choices],
        error_messages={"required": _("Choose the severity.")},
    )
    action_taken = forms.CharField(label=_("Action taken"), max_length=300, required=False)
    outcome = forms.CharField(label=_("Outcome"), max_length=300, required=False)
    resolved = forms.BooleanField(label=_("Resolved (close the event)"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("resolved") and not (data.get("outcome") or "").strip():
            self.add_error("outcome", _("Give the outcome of a resolved event."))
        return data


class CloseEventForm(forms.Form):
    outcome = forms.CharField(
        label=_("Outcome"), max_length=300, error_messages={"required": _("Give the outcome.")}
    )


YES_NO = [("", "—"), ("yes", _("Yes")), ("no", _("No"))]


class ChecksForm(ServiceErrorsMixin, forms.Form):
    id_prefix = "chk"

    sedation = forms.ChoiceField(label=_("Sedation occurred"), choices=YES_NO)
    sedation_resolved = forms.ChoiceField(
        label=_("Sedation resolved"), choices=YES_NO, required=False
    )
    dissociation = forms.ChoiceField(label=_("Dissociation occurred"), choices=YES_NO)
    dissociation_resolved = forms.ChoiceField(
        label=_("Dissociation resolved"), choices=YES_NO, required=False
    )
    respiratory_depression = forms.ChoiceField(
        label=_("Respiratory depression occurred"), choices=YES_NO
    )
    respiratory_depression_resolved = forms.ChoiceField(
        label=_("Respiratory depression resolved"), choices=YES_NO, required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for effect in ("sedation", "dissociation", "respiratory_depression"):
            if data.get(effect) == "yes" and not data.get(f"{effect}_resolved"):
                self.add_error(f"{effect}_resolved", _("Say whether it resolved."))
        return data

    def values(self) -> dict[str, bool | None]:
        return {k: None if not v else v == "yes" for k, v in self.cleaned_data.items()}


class DischargeForm(ServiceErrorsMixin, forms.Form):
    id_prefix = "dis"

    released_to = forms.CharField(
        label=_("Released to (name and relationship)"),
        max_length=200,
        error_messages={"required": _("Name the person the patient leaves with.")},
    )
    language = forms.ChoiceField(label=_("Instructions language"), choices=Language.choices)
    instructions_given = forms.BooleanField(
        label=_("After-care instructions given and explained"),
        error_messages={"required": _("Give the after-care instructions first.")},
    )


class AmendmentForm(ServiceErrorsMixin, forms.Form):
    id_prefix = "amd"

    field = forms.ChoiceField(label=_("Correct"), choices=list(AMENDABLE_FIELDS.items()))
    new_value = forms.CharField(
        label=_("Corrected value"),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give the corrected value.")},
    )
    reason = forms.CharField(
        label=_("Reason for the correction"),
        max_length=500,
        error_messages={"required": _("Say why the record is corrected.")},
    )


class EnrolmentForm(ServiceErrorsMixin, forms.Form):
    rems_patient_id = forms.CharField(
        label=_("REMS patient id"),
        max_length=64,
        error_messages={"required": _("Give the REMS patient id.")},
    )
    enrolled_on = forms.DateField(
        label=_("Enrolled on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": _("Give the enrolment date."), "invalid": _("Enter a date.")},
    )


class CertificationForm(ServiceErrorsMixin, forms.Form):
    setting_name = forms.CharField(label=_("Setting name (as certified)"), max_length=200)
    authorised_representative = forms.CharField(
        label=_("Authorised representative"), max_length=200
    )
    certified_on = forms.DateField(
        label=_("Certified on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    certification_id = forms.CharField(label=_("REMS setting id"), max_length=64, required=False)
    expires_on = forms.DateField(
        label=_("Valid until (first day no longer valid; optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class RenewForm(ServiceErrorsMixin, forms.Form):
    id_prefix = "renew"

    certified_on = forms.DateField(
        label=_("Renewed on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    expires_on = forms.DateField(
        label=_("Valid until (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class CertificationChangeForm(ServiceErrorsMixin, forms.Form):
    """Suspend, reinstate, expire or revoke the setting's certification."""

    id_prefix = "change"

    change = forms.ChoiceField(
        label=_("Change"),
        choices=[
            ("suspend", _("Suspend")),
            ("reinstate", _("Reinstate after a suspension")),
            ("expire", _("Record it expired")),
            ("revoke", _("Revoke")),
        ],
    )
    on = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class ThresholdsForm(forms.Form):
    thresholds = forms.CharField(
        label=_("Threshold overrides (JSON; empty = the Trellis defaults)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )

    def clean_thresholds(self) -> dict[str, Any]:
        raw = (self.cleaned_data.get("thresholds") or "").strip()
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("Not valid JSON (line %(line)s): %(msg)s") % {"line": exc.lineno, "msg": exc.msg}
            ) from exc
        try:
            SafetyThresholds.from_mapping(data, where="thresholds")
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message) from exc
        return dict(data)
