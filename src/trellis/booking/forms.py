"""Booking forms: every field validated with a specific message."""

from __future__ import annotations

from datetime import time
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from trellis.booking.models import ROTA_ROLES, WEEKDAY_CHOICES


class SettingsForm(forms.Form):
    nurse_ratio = forms.IntegerField(
        label=_("Dosing patients per nurse"),
        min_value=1,
        max_value=20,
        help_text=_(
            "A program setting (★, default 2): how many dosing patients one nurse monitors at "
            "once (see CLINICAL.md §4 for the monitoring each dose needs)."
        ),
        error_messages={
            "required": _("Enter how many dosing patients one nurse monitors."),
            "min_value": _("At least 1."),
            "max_value": _("At most 20."),
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for wd, name in WEEKDAY_CHOICES:
            self.fields[f"opens_{wd}"] = forms.TimeField(
                label=_("%(day)s opens") % {"day": name},
                required=False,
                widget=forms.TimeInput(attrs={"type": "time"}),
                error_messages={"invalid": _("Enter a time like 08:00.")},
            )
            self.fields[f"closes_{wd}"] = forms.TimeField(
                label=_("%(day)s closes") % {"day": name},
                required=False,
                widget=forms.TimeInput(attrs={"type": "time"}),
                error_messages={"invalid": _("Enter a time like 18:00.")},
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for wd, _name in WEEKDAY_CHOICES:
            o, c = data.get(f"opens_{wd}"), data.get(f"closes_{wd}")
            if (o is None) != (c is None) and f"opens_{wd}" not in self.errors:
                self.add_error(
                    f"closes_{wd}" if o else f"opens_{wd}",
                    _("Give both times, or neither for a closed day."),
                )
            elif o is not None and c is not None and c <= o:
                self.add_error(f"closes_{wd}", _("Closing time must be after opening time."))
            elif o is not None and (o.minute % 30 or (c is not None and c.minute % 30)):
                self.add_error(f"opens_{wd}", _("Use times on the half hour (the booking grid)."))
        return data

    def hours(self) -> dict[int, tuple[time, time] | None]:
        d = self.cleaned_data
        return {
            wd: (d[f"opens_{wd}"], d[f"closes_{wd}"]) if d.get(f"opens_{wd}") else None
            for wd, _n in WEEKDAY_CHOICES
        }


class RotaForm(forms.Form):
    staff = forms.ChoiceField(label=_("Staff member"))
    role = forms.ChoiceField(label=_("Role"), choices=ROTA_ROLES)
    weekday = forms.TypedChoiceField(
        label=_("Every week on"),
        choices=[("", _("— one date instead —")), *WEEKDAY_CHOICES],
        coerce=int,
        empty_value=None,
        required=False,
    )
    date = forms.DateField(
        label=_("Or on this date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a date like 2026-03-02.")},
    )
    start = forms.TimeField(
        label=_("From"),
        widget=forms.TimeInput(attrs={"type": "time"}),
        error_messages={
            "required": _("Enter when the shift starts."),
            "invalid": _("Enter a time like 08:00."),
        },
    )
    end = forms.TimeField(
        label=_("Until"),
        widget=forms.TimeInput(attrs={"type": "time"}),
        error_messages={
            "required": _("Enter when the shift ends."),
            "invalid": _("Enter a time like 18:00."),
        },
    )

    def __init__(self, *args: Any, staff: list[tuple[Any, list[str]]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].choices = [  # type: ignore[attr-defined]
            (str(u.pk), f"{u.get_full_name() or u.username} ({', '.join(roles)})")
            for u, roles in staff
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("weekday") is None) == (data.get("date") is None) and not self.errors.get(
            "date"
        ):
            self.add_error("weekday", _("Choose a weekday or one date, not both."))
        s, e = data.get("start"), data.get("end")
        if s and e and e <= s:
            self.add_error("end", _("The shift must end after it starts."))
        return data


class PlanForm(forms.Form):
    METHODS = [("greedy", _("Quick (first fit)")), ("cpsat", _("Optimised (CP-SAT)"))]

    weeks = forms.IntegerField(
        label=_("Weeks to plan"),
        min_value=1,
        max_value=12,
        initial=4,
        error_messages={
            "required": _("Enter how many weeks to plan."),
            "min_value": _("Plan at least 1 week."),
            "max_value": _("Plan at most 12 weeks."),
        },
    )
    method = forms.ChoiceField(label=_("Method"), choices=METHODS, initial="greedy")
    time_limit = forms.IntegerField(
        label=_("Time limit (seconds, optimised only)"),
        min_value=1,
        max_value=60,
        initial=10,
        error_messages={
            "required": _("Enter a time limit."),
            "min_value": _("At least 1 second."),
            "max_value": _("At most 60 seconds."),
        },
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for cancelling"),
        max_length=200,
        error_messages={"required": _("Say why the appointment is cancelled.")},
    )
