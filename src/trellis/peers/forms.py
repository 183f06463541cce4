"""Forms of the peers pages; the services validate again and name the bad field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from trellis.accounts.models import Program, Role, Room, User
from trellis.peers.models import DEFAULT_AGREEMENTS, WEEKDAY_CHOICES, Circle


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
