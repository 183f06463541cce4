"""Booking forms: every field validated with a specific message."""

from __future__ import annotations

from datetime import time
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from trellis.booking.models import ROTA_ROLES, WEEKDAY_CHOICES


class WeekdayTimesForm(forms.Form):
    """A pair of times per weekday (``{first}_{wd}``, ``{second}_{wd}``): both or neither, the
    second after the first, on the half-hour booking grid."""

    first = "opens"
    second = "closes"
    first_label = _("%(day)s opens")
    second_label = _("%(day)s closes")
    after_message = _("Closing time must be after opening time.")
    both_message = _("Give both times, or neither for a closed day.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for wd, name in WEEKDAY_CHOICES:
            self.fields[f"{self.first}_{wd}"] = forms.TimeField(
                label=self.first_label % {"day": name},
                required=False,
                widget=forms.TimeInput(attrs={"type": "time"}),
                error_messages={"invalid": _("Enter a time like 08:00.")},
            )
            self.fields[f"{self.second}_{wd}"] = forms.TimeField(
                label=self.second_label % {"day": name},
                required=False,
                widget=forms.TimeInput(attrs={"type": "time"}),
                error_messages={"invalid": _("Enter a time like 18:00.")},
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for wd, _name in WEEKDAY_CHOICES:
            a, b = f"{self.first}_{wd}", f"{self.second}_{wd}"
            o, c = data.get(a), data.get(b)
            if (o is None) != (c is None) and a not in self.errors:
                self.add_error(b if o else a, self.both_message)
            elif o is not None and c is not None and c <= o:
                self.add_error(b, self.after_message)
            elif o is not None and (o.minute % 30 or (c is not None and c.minute % 30)):
                self.add_error(a, _("Use times on the half hour (the booking grid)."))
        return data

    def pairs(self) -> dict[int, tuple[time, time] | None]:
        d = self.cleaned_data
        return {
            wd: (d[f"{self.first}_{wd}"], d[f"{self.second}_{wd}"])
            if d.get(f"{self.first}_{wd}")
            else None
            for wd, _n in WEEKDAY_CHOICES
        }

    def rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return [
            (str(name), self[f"{self.first}_{wd}"], self[f"{self.second}_{wd}"])
            for wd, name in WEEKDAY_CHOICES
        ]


class SettingsForm(WeekdayTimesForm):
    nurse_ratio = forms.IntegerField(
        label=_("Dosing patients per nurse"),
        min_value=1,
        max_value=20,
        help_text=_(
            "A program setting (default 2): how many dosing patients one nurse monitors at "
            "once, given the monitoring each dose needs."
        ),
        error_messages={
            "required": _("Enter how many dosing patients one nurse monitors."),
            "min_value": _("At least 1."),
            "max_value": _("At most 20."),
        },
    )

    reminder_hours = forms.IntegerField(
        label=_("Reminder before each appointment (hours)"),
        min_value=1,
        max_value=7 * 24,
        initial=24,
        help_text=_("24 = the day before. Patients get reminders only on channels they agreed to."),
        error_messages={
            "required": _("Enter how many hours before an appointment its reminder goes out."),
            "min_value": _("At least 1 hour."),
            "max_value": _("At most 168 hours (7 days)."),
        },
    )

    def hours(self) -> dict[int, tuple[time, time] | None]:
        return self.pairs()


class AvailabilityForm(WeekdayTimesForm):
    """When a patient can come, per weekday; every day empty = whenever the clinic is open."""

    first = "from"
    second = "until"
    first_label = _("%(day)s from")
    second_label = _("%(day)s until")
    after_message = _("'Until' must be after 'from'.")
    both_message = _("Give both times, or neither if they cannot come that day.")


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


class PatientDaysForm(forms.Form):
    """The patient's own answer: one plain choice per day the clinic is open."""

    def __init__(self, *args: Any, days: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [
            ("any", _("Any time")),
            ("morning", _("Mornings only (until 1 pm)")),
            ("afternoon", _("Afternoons only (from 1 pm)")),
            ("none", _("I can't come on this day")),
        ]
        for wd, name in days:
            self.fields[f"day_{wd}"] = forms.ChoiceField(
                label=name,
                choices=choices,
                initial="any",
                widget=forms.RadioSelect,
                error_messages={"required": _("Choose one of the options.")},
            )

    def choices(self) -> dict[int, str]:
        return {
            int(k.removeprefix("day_")): v
            for k, v in self.cleaned_data.items()
            if k.startswith("day_")
        }
