"""Care forms: starting a course, screening, review, requirements, events, protocol copies.

Every field is validated with a specific message beside it; the services check roles and the
clinical rules again (a form is a convenience, never the only guard).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from trellis.care.models import CareActivity, Episode, RequirementRecord
from trellis.core.protocols import ADAPTATIONS, Protocol
from trellis.patients.models import Language

# Plain explanations of the cultural and access adaptations (trellis.core.protocols.ADAPTATIONS).
ADAPTATION_HELP: dict[str, Any] = {
    "language-concordant": _(
        "Language-concordant care: a therapist and a peer circle in the patient's language."
    ),
    "interpreter": _("Interpreter: a professional interpreter at every visit."),
    "chw-navigator": _(
        "Community health worker navigator: a navigator contact at the start and the end of the "
        "dosing series."
    ),
    "medical-distrust": _(
        "Extra preparation session: one more trust-building session before dose 1, for patients "
        "who tell us they distrust medical care."
    ),
    "family-involved": _(
        "Family or community member invited to the preparation sessions (with the patient's "
        "agreement)."
    ),
    "transport": _("Transport help: a ride arranged to and from clinic visits."),
}
assert set(ADAPTATION_HELP) == set(ADAPTATIONS)

# How far ahead a course may be planned: a start date further away is almost always a typo.
MAX_DAYS_AHEAD = 120
MAX_REFERRAL_AGE_DAYS = 365

YES_NO = [("no", _("No")), ("yes", _("Yes"))]


def _protocol_label(p: Protocol) -> str:
    return f"{p.title} ({p.id})"


class StartCourseForm(forms.Form):
    protocol = forms.ChoiceField(
        label=_("Track"), error_messages={"required": _("Choose the track this course follows.")}
    )
    referred_on = forms.DateField(
        label=_("Referral date"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": _("Give the referral date.")},
    )
    start_date = forms.DateField(
        label=_("Pathway start (first preparation session)"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    adaptations = forms.MultipleChoiceField(
        label=_("Cultural and access adaptations (choose all that apply)"),
        choices=list(ADAPTATION_HELP.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    primary_therapist = forms.ChoiceField(label=_("Primary integration therapist"), required=False)

    def __init__(
        self,
        *args: Any,
        protocols: list[Protocol],
        therapists: list[tuple[Any, list[str]]],
        today: date | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()
        self.fields["protocol"].choices = [("", _("Choose a track"))] + [  # type: ignore[attr-defined]
            (p.id, _protocol_label(p)) for p in protocols
        ]
        languages = dict(Language.choices)
        self.therapists = {str(user.pk): user for user, _langs in therapists}
        self.fields["primary_therapist"].choices = [  # type: ignore[attr-defined]
            ("", _("Not yet assigned"))
        ] + [
            (
                str(user.pk),
                f"{user} ({', '.join(str(languages.get(code, code)) for code in langs) or '—'})",
            )
            for user, langs in therapists
        ]
        self.fields["primary_therapist"].help_text = _(
            "The languages each therapist works in are shown in brackets."
        )
        if not self.is_bound:
            self.initial.setdefault("referred_on", self.today)
            self.initial.setdefault("start_date", self.today)

    def clean_protocol(self) -> str:
        value: str = self.cleaned_data["protocol"]
        if not value:
            raise forms.ValidationError(_("Choose the track this course follows."))
        return value

    def clean_referred_on(self) -> date:
        value: date = self.cleaned_data["referred_on"]
        if value > self.today:
            raise forms.ValidationError(_("The referral date cannot be in the future."))
        if value < self.today - timedelta(days=MAX_REFERRAL_AGE_DAYS):
            raise forms.ValidationError(_("Check the year: the referral is more than a year old."))
        return value

    def clean_start_date(self) -> date:
        value: date = self.cleaned_data["start_date"]
        if value > self.today + timedelta(days=MAX_DAYS_AHEAD):
            raise forms.ValidationError(
                _("The pathway can start at most %(n)s days ahead.") % {"n": MAX_DAYS_AHEAD}
            )
        return value

    def clean_primary_therapist(self) -> Any:
        value = self.cleaned_data.get("primary_therapist") or ""
        if not value:
            return None
        if value not in self.therapists:
            raise forms.ValidationError(_("Choose a therapist of this program."))
        return self.therapists[value]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        referred, start = data.get("referred_on"), data.get("start_date")
        if referred and start and start < referred:
            self.add_error("start_date", _("The pathway cannot start before the referral date."))
        return data


class ScreeningForm(forms.Form):
    """One yes/no question per screening item of the track (age items are computed)."""

    def __init__(self, *args: Any, protocol: Protocol, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.protocol = protocol
        self.computed = [i for i in protocol.screening if i.age_below is not None]
        for item in protocol.screening:
            if item.age_below is not None:
                continue
            verdict = (
                _("“Yes” excludes this track")
                if item.kind == "hard"
                else _("“Yes” needs a prescriber's review")
            )
            field = forms.ChoiceField(
                label=item.question,
                choices=YES_NO,
                widget=forms.RadioSelect,
                help_text=verdict,
                error_messages={"required": _("Answer yes or no.")},
            )
            field.item_kind = item.kind  # type: ignore[attr-defined]
            self.fields[f"item_{item.id}"] = field

    def answers(self) -> dict[str, bool]:
        return {
            name.removeprefix("item_"): value == "yes"
            for name, value in self.cleaned_data.items()
            if name.startswith("item_")
        }


class ReviewForm(forms.Form):
    note = forms.CharField(
        label=_("Prescriber's reasoning"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
        help_text=_("Why the track is appropriate despite the review reasons."),
        error_messages={"required": _("Say why the track is appropriate despite the reasons.")},
    )

    def clean_note(self) -> str:
        value = " ".join(self.cleaned_data["note"].split())
        if len(value) < 10:
            raise forms.ValidationError(_("Give the reasoning in a sentence (10+ characters)."))
        return value


class RequirementForm(forms.Form):
    kind = forms.ChoiceField(label=_("Requirement"))
    detail = forms.CharField(
        label=_("What was documented"),
        max_length=300,
        help_text=_("E.g. the medicine, dose and last level; or what the patient agreed."),
        error_messages={"required": _("Say what was documented.")},
    )

    def __init__(self, *args: Any, kinds: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(RequirementRecord.Kind.choices)
        self.fields["kind"].choices = [(k, labels[k]) for k in kinds]  # type: ignore[attr-defined]

    def clean_detail(self) -> str:
        value = " ".join(self.cleaned_data["detail"].split())
        if len(value) < 3:
            raise forms.ValidationError(_("Say what was documented."))
        return value


def _when_field(label: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={
            "required": _("Give the date and time."),
            "invalid": _("Enter a date and time, e.g. 2026-03-02 14:30."),
        },
    )


ACTIVITY_LABELS: dict[str, Any] = {
    "preparation": _("Preparation session"),
    "dose": _("Dose"),
    "integration": _("Integration session"),
    "check-in": _("Sustained-support check-in"),
    "chw-navigator-contact": _("Navigator contact"),
    "relapse-booster": _("Relapse booster (integration)"),
    "prescriber-review": _("Prescriber review"),
}


KIND_LABELS: dict[str, Any] = {
    "peer_circle": _("Peer circle"),
    "assessment": _("Measure"),
    "follow_up": _("Follow-up"),
}


#: When a measure is taken (the timepoint kinds of ``trellis.core.pathway``), in words.
TIMEPOINT_LABELS: dict[str, Any] = {
    "baseline": _("baseline"),
    "before_each_dose": _("before a dose"),
    "after_each_dose_24h": _("24 h after a dose"),
    "end_of_series": _("end of the dose series"),
    "every_visit": _("at a visit"),
    "weekly": _("weekly"),
    "monthly": _("monthly"),
}


def activity_label(act: CareActivity) -> str:
    """A person's name for an activity: "Integration session 3", "PHQ-9 · before a dose (2)"."""
    if act.kind == "assessment":
        from trellis.measures.services import short_name  # measures imports care

        what = short_name(act.instrument) if act.instrument else str(KIND_LABELS["assessment"])
        when = TIMEPOINT_LABELS.get(act.name) or act.name.replace("_", " ")
        return f"{what} · {when} ({act.index})"
    name = (
        ACTIVITY_LABELS.get(act.name)
        or (KIND_LABELS.get(act.kind) if act.name == act.kind else None)
        or act.name.replace("-", " ").replace("_", " ")
    )
    return f"{name} {act.index}"


class EventForm(forms.Form):
    """Record a planned activity as done (preparation, integration, check-in; dose)."""

    activity = forms.ChoiceField(
        label=_("What happened"), error_messages={"required": _("Choose what happened.")}
    )
    at = _when_field(_("When"))
    note = forms.CharField(label=_("Note (optional)"), max_length=500, required=False)

    def __init__(
        self, *args: Any, episode: Episode, activities: list[CareActivity], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.episode = episode
        self.activities = {str(a.pk): a for a in activities}
        self.fields["activity"].choices = [("", _("Choose an activity"))] + [  # type: ignore[attr-defined]
            (str(a.pk), f"{activity_label(a)} · {a.target:%Y-%m-%d}") for a in activities
        ]
        if not self.is_bound:
            self.initial.setdefault("at", timezone.localtime().replace(second=0, microsecond=0))

    def clean_activity(self) -> CareActivity:
        value = self.cleaned_data.get("activity") or ""
        if not value:
            raise forms.ValidationError(_("Choose what happened."))
        if value not in self.activities:
            raise forms.ValidationError(_("That activity is not open on this course."))
        return self.activities[value]

    def clean_at(self) -> datetime:
        return _past_moment(self.cleaned_data["at"], self.episode)


def _past_moment(value: datetime, episode: Episode) -> datetime:
    if value > timezone.now() + timedelta(minutes=5):
        raise forms.ValidationError(_("This cannot be in the future: record what has happened."))
    if timezone.localtime(value).date() < episode.referred_on:
        raise forms.ValidationError(_("This is before the referral date of this course."))
    return value


EVENT_OF_ACTIVITY = {
    "preparation": "preparation_done",
    "dose": "dose_given",
    "integration": "integration_done",
    "check-in": "check_in_done",
}


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason the course stops"),
        max_length=500,
        help_text=_("E.g. moved away, chose to stop, excluded at screening."),
        error_messages={"required": _("Say why the course stops.")},
    )

    def clean_reason(self) -> str:
        value = " ".join(self.cleaned_data["reason"].split())
        if len(value) < 3:
            raise forms.ValidationError(_("Say why the course stops."))
        return value


class BoosterForm(forms.Form):
    activity = forms.ChoiceField(label=_("Activity"))
    at = _when_field(_("When"))
    note = forms.CharField(
        label=_("Note"),
        max_length=300,
        required=False,
        help_text=_("Required for the prescriber review: what was decided and why."),
    )

    def __init__(
        self, *args: Any, episode: Episode, activities: list[CareActivity], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.episode = episode
        self.activities = {str(a.pk): a for a in activities}
        self.fields["activity"].choices = [  # type: ignore[attr-defined]
            (str(a.pk), f"{activity_label(a)} · {a.earliest:%Y-%m-%d}–{a.latest:%Y-%m-%d}")
            for a in activities
        ]
        if not self.is_bound:
            self.initial.setdefault("at", timezone.localtime().replace(second=0, microsecond=0))

    def clean_activity(self) -> CareActivity:
        value = self.cleaned_data.get("activity") or ""
        if value not in self.activities:
            raise forms.ValidationError(_("Choose an open activity of this course."))
        return self.activities[value]

    def clean_at(self) -> datetime:
        return _past_moment(self.cleaned_data["at"], self.episode)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        act = data.get("activity")
        if act is not None and act.name == "prescriber-review" and not data.get("note"):
            self.add_error("note", _("Say what the review decided (re-dose or not, and why)."))
        return data


class CopyProtocolForm(forms.Form):
    new_id = forms.CharField(
        label=_("Id of the copy"),
        max_length=64,
        help_text=_("Lower-case letters, digits and hyphens; starts with the program's name."),
        error_messages={"required": _("Give the copy an id.")},
    )


class ProtocolTextForm(forms.Form):
    yaml_text = forms.CharField(
        label=_("Protocol (YAML)"),
        widget=forms.Textarea(attrs={"rows": 30, "spellcheck": "false", "class": "code"}),
        help_text=_(
            "Field reference: docs/protocols.md. Change `version` when you change the track: "
            "courses already running keep the version they started on."
        ),
        error_messages={"required": _("The protocol cannot be empty.")},
        strip=False,
    )


class BoardFilterForm(forms.Form):
    track = forms.ChoiceField(label=_("Track"), required=False)
    therapist = forms.ChoiceField(label=_("Therapist"), required=False)
    language = forms.ChoiceField(label=_("Language"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[("next", _("Next due, soonest first")), ("patient", _("Patient name"))],
    )

    def __init__(
        self,
        *args: Any,
        tracks: list[tuple[str, str]],
        therapists: list[tuple[Any, list[str]]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["track"].choices = [("", _("All tracks"))] + tracks  # type: ignore[attr-defined]
        self.fields["therapist"].choices = [("", _("All therapists"))] + [  # type: ignore[attr-defined]
            (str(u.pk), str(u)) for u, _langs in therapists
        ]
        self.fields["language"].choices = [("", _("All languages"))] + list(  # type: ignore[attr-defined]
            Language.choices
        )

    def clean_therapist(self) -> int | None:
        value = self.cleaned_data.get("therapist") or ""
        return int(value) if value else None
