"""Forms of the peers pages; the services validate again and name the bad field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from trellis.accounts.models import Program, Role, Room, User
from trellis.peers.models import DEFAULT_AGREEMENTS, WEEKDAY_CHOICES, Circle, MentorContact


class CircleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    facilitator = forms.ModelChoiceField(label=_("Peer facilitator"), queryset=User.objects.none())
    language = forms.CharField(
        label=_("Language"),
        max_length=16,
        initial="en",
        help_text=_('A code such as "en" or "es".'),
    )
    focus_track = forms.CharField(
        label=_("Focus track (empty = open to all)"), max_length=64, required=False
    )
    identity_focus = forms.CharField(
        label=_("Identity focus (only patients who opted in)"), max_length=60, required=False
    )
    format = forms.ChoiceField(label=_("Format"), choices=Circle.Format.choices)
    room = forms.ModelChoiceField(
        label=_("Circle room (in person)"), queryset=Room.objects.none(), required=False
    )
    video_link = forms.URLField(
        label=_("Video link (https)"), required=False, assume_scheme="https"
    )
    weekday = forms.TypedChoiceField(label=_("Weekday"), choices=WEEKDAY_CHOICES, coerce=int)
    start_time = forms.TimeField(
        label=_("Start time"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    length_minutes = forms.IntegerField(label=_("Length (minutes)"), initial=90)
    capacity = forms.IntegerField(label=_("Capacity (at most 12)"), initial=10)
    start_date = forms.DateField(
        label=_("Start date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end_date = forms.DateField(label=_("End date"), widget=forms.DateInput(attrs={"type": "date"}))
    agreements = forms.CharField(
        label=_("Group agreements"),
        widget=forms.Textarea(attrs={"rows": 5}),
        initial=DEFAULT_AGREEMENTS,
    )

    def __init__(self, *args: Any, program: Program, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fac: Any = self.fields["facilitator"]
        fac.queryset = User.objects.filter(
            memberships__program=program, memberships__role=Role.PEER_FACILITATOR
        ).distinct()
        room: Any = self.fields["room"]
        room.queryset = Room.objects.filter(
            site__program=program, kind=Room.Kind.CIRCLE_ROOM, active=True
        )


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note about the group (no member names)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
    )


AVAILABILITY_ROWS = 3


class PreferencesForm(forms.Form):
    """Up to three weekly availability windows, identity opt-ins and the mentor opt-in."""

    identities = forms.MultipleChoiceField(
        label=_("Identity circles the patient opts in to"),
        choices=(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    other_identities = forms.CharField(
        label=_("Other identity opt-ins (comma separated)"), max_length=200, required=False
    )
    mentor_opt_in = forms.BooleanField(
        label=_("Would like to become a peer mentor"), required=False
    )

    def __init__(self, *args: Any, foci: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ids: Any = self.fields["identities"]
        ids.choices = [(f, f) for f in foci]
        for i in range(AVAILABILITY_ROWS):
            self.fields[f"weekday_{i}"] = forms.TypedChoiceField(
                label=_("Window %(n)s: weekday") % {"n": i + 1},
                choices=[("", "—"), *WEEKDAY_CHOICES],
                coerce=int,
                empty_value=None,
                required=False,
            )
            self.fields[f"start_{i}"] = forms.TimeField(
                label=_("Window %(n)s: from") % {"n": i + 1},
                required=False,
                widget=forms.TimeInput(attrs={"type": "time"}),
            )
            self.fields[f"end_{i}"] = forms.TimeField(
                label=_("Window %(n)s: until") % {"n": i + 1},
                required=False,
                widget=forms.TimeInput(attrs={"type": "time"}),
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        windows: list[dict[str, Any]] = []
        for i in range(AVAILABILITY_ROWS):
            day, start, end = (data.get(f"{k}_{i}") for k in ("weekday", "start", "end"))
            if day is None and start is None and end is None:
                continue
            if day is None:
                self.add_error(f"weekday_{i}", _("Choose the weekday of this window."))
                continue
            if start is None:
                self.add_error(f"start_{i}", _("Enter when this window starts."))
                continue
            if end is None:
                self.add_error(f"end_{i}", _("Enter when this window ends."))
                continue
            if end <= start:
                self.add_error(f"end_{i}", _("The end must be after the start."))
                continue
            windows.append(
                {"weekday": day, "start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}
            )
        data["availability"] = windows
        other = [s.strip() for s in (data.get("other_identities") or "").split(",") if s.strip()]
        data["identity_opt_in"] = list(dict.fromkeys([*data.get("identities", []), *other]))
        return data

    def availability_rows(self) -> list[list[Any]]:
        return [
            [self[f"weekday_{i}"], self[f"start_{i}"], self[f"end_{i}"]]
            for i in range(AVAILABILITY_ROWS)
        ]


class TrainingForm(forms.Form):
    patient = forms.UUIDField(widget=forms.HiddenInput)
    on = forms.DateField(
        label=_("Mentor training done on"), widget=forms.DateInput(attrs={"type": "date"})
    )


class PairForm(forms.Form):
    mentor = forms.IntegerField(widget=forms.HiddenInput)
    mentee = forms.UUIDField(widget=forms.HiddenInput)


class ContactForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    mode = forms.ChoiceField(label=_("Mode"), choices=MentorContact.Mode.choices)
    minutes = forms.IntegerField(label=_("Minutes"), min_value=1, max_value=240)
    note = forms.CharField(
        label=_("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class LeaveForm(forms.Form):
    membership = forms.IntegerField(widget=forms.HiddenInput)
    on = forms.DateField(label=_("Left on"), widget=forms.DateInput(attrs={"type": "date"}))
