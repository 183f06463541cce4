"""Forms of the integration record: every field validated with a message next to it."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from trellis.core import integration_rules as rules
from trellis.integration.models import Commitment, HrsnScreening, IntegrationNote, Referral

MAX_LINES = 12
MAX_LINE = 300


def _lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


class LinesField(forms.CharField):
    """A textarea where each line is one entry."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3}))
        kwargs.setdefault("help_text", _("One per line."))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> list[str]:
        text = super().clean(value)
        lines = _lines(text)
        if len(lines) > MAX_LINES:
            raise forms.ValidationError(_("At most %(n)d lines.") % {"n": MAX_LINES})
        for line in lines:
            if len(line) > MAX_LINE:
                raise forms.ValidationError(
                    _("Each line at most %(n)d characters.") % {"n": MAX_LINE}
                )
        return lines


SECTION_LABELS = {
    "warning_signs": _("1. Warning signs (thoughts, images, moods, situations, behaviours)"),
    "coping_strategies": _("2. Things I can do on my own to take my mind off my problems"),
    "distraction": _("3. People and places that help me take my mind off things"),
    "help_contacts": _("4. People I can ask for help (name and phone)"),
    "professionals": _("5. Professionals and crisis lines (include 988)"),
    "environment": _("6. Making my environment safe"),
}


class SafetyPlanForm(forms.Form):
    warning_signs = LinesField(label=SECTION_LABELS["warning_signs"])
    coping_strategies = LinesField(label=SECTION_LABELS["coping_strategies"])
    distraction = LinesField(label=SECTION_LABELS["distraction"])
    help_contacts = LinesField(label=SECTION_LABELS["help_contacts"])
    professionals = LinesField(
        label=SECTION_LABELS["professionals"],
        help_text=_(
            "One per line. The plan is complete only with 988 (Suicide & Crisis Lifeline)."
        ),
    )
    environment = LinesField(label=SECTION_LABELS["environment"])

    @classmethod
    def initial_from(cls, plan: Any) -> dict[str, str]:
        if plan is None:
            return {"professionals": "Call or text 988 (Suicide & Crisis Lifeline)\n911"}
        return {name: "\n".join(getattr(plan, name)) for name in rules.SAFETY_PLAN_SECTIONS}


class PreparationForm(forms.Form):
    new_intentions = LinesField(
        label=_("New intentions, in the patient's own words and language"),
        help_text=_("One intention per line; earlier intentions are kept."),
    )
    hopes = forms.CharField(
        label=_("Hopes about the experience"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    fears = forms.CharField(
        label=_("Fears about the experience"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    supports = forms.CharField(
        label=_("People and places that support the patient"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _dose_choices(doses: list[tuple[int, Any]]) -> list[tuple[str, str]]:
    return [
        (str(i), _("Dose %(i)s (%(d)s)") % {"i": i, "d": timezone.localtime(at).date()})
        for i, at in reversed(doses)
    ]


class ExperienceNoteForm(forms.Form):
    dose_index = forms.TypedChoiceField(label=_("Dose"), coerce=int)
    text = forms.CharField(
        label=_("Observations during and after the dose"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Write what you observed.")},
    )

    def __init__(self, *args: Any, doses: list[tuple[int, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["dose_index"].choices = _dose_choices(doses)  # type: ignore[attr-defined]


COMMITMENT_SLOTS = 3


class IntegrationNoteForm(forms.Form):
    """The structured note, with a review of every open commitment and up to three new ones."""

    dose_index = forms.TypedChoiceField(label=_("This session follows dose"), coerce=int)
    intentions = forms.TypedMultipleChoiceField(
        label=_("Intentions touched in this session"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    insights = forms.CharField(
        label=_("Insights, in the patient's words"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Write the patient's insights (a sentence is enough).")},
    )
    barriers = forms.CharField(
        label=_("Barriers"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    supports_needed = forms.CharField(
        label=_("Supports needed"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    risk = forms.ChoiceField(
        label=_("Risk check"),
        choices=IntegrationNote.Risk.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Record the result of the risk check.")},
    )
    risk_detail = forms.CharField(
        label=_("Risk: what was found and done"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(
        self,
        *args: Any,
        doses: list[tuple[int, Any]],
        intentions: list[Any],
        open_commitments: list[Commitment],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["dose_index"].choices = _dose_choices(doses)  # type: ignore[attr-defined]
        self.fields["intentions"].choices = [  # type: ignore[attr-defined]
            (i.pk, i.text) for i in intentions
        ]
        self.open_commitments = open_commitments
        for c in open_commitments:
            self.fields[f"review_{c.pk}"] = forms.ChoiceField(
                label=_("Review: %(text)s") % {"text": c.text},
                choices=CommitmentReviewChoices,
                widget=forms.RadioSelect,
                error_messages={"required": _("Review this commitment.")},
            )
            self.fields[f"review_{c.pk}_reason"] = forms.CharField(
                label=_("In a word, why"), required=False, max_length=300
            )
            self.fields[f"review_{c.pk}_next"] = forms.DateField(
                label=_("Next review (if carried forward)"),
                required=False,
                widget=forms.DateInput(attrs={"type": "date"}),
            )
        for n in range(1, COMMITMENT_SLOTS + 1):
            self.fields[f"commitment_{n}"] = forms.CharField(
                label=_("New commitment %(n)d") % {"n": n},
                required=False,
                max_length=300,
                help_text=_("A concrete action: reconnect with someone, a practice, a change."),
            )
            self.fields[f"commitment_{n}_review"] = forms.DateField(
                label=_("Review date for commitment %(n)d") % {"n": n},
                required=False,
                widget=forms.DateInput(attrs={"type": "date"}),
            )

    def review_fields(self) -> list[tuple[Any, Any, Any]]:
        return [
            (self[f"review_{c.pk}"], self[f"review_{c.pk}_reason"], self[f"review_{c.pk}_next"])
            for c in self.open_commitments
        ]

    def commitment_fields(self) -> list[tuple[Any, Any]]:
        return [
            (self[f"commitment_{n}"], self[f"commitment_{n}_review"])
            for n in range(1, COMMITMENT_SLOTS + 1)
        ]

    def main_fields(self) -> list[Any]:
        return [self[name] for name in ("dose_index", "intentions", "insights", "barriers")] + [
            self["supports_needed"]
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        today = timezone.localdate()
        if data.get("risk") in ("low", "urgent") and not (data.get("risk_detail") or "").strip():
            self.add_error("risk_detail", _("Say what was found and what was done."))
        for c in self.open_commitments:
            outcome = data.get(f"review_{c.pk}")
            reason = (data.get(f"review_{c.pk}_reason") or "").strip()
            if outcome and outcome != "done" and not reason:
                self.add_error(f"review_{c.pk}_reason", _("Say in a word why."))
            nxt: date | None = data.get(f"review_{c.pk}_next")
            if nxt and nxt < today:
                self.add_error(f"review_{c.pk}_next", _("The date cannot be in the past."))
        for n in range(1, COMMITMENT_SLOTS + 1):
            text = (data.get(f"commitment_{n}") or "").strip()
            when: date | None = data.get(f"commitment_{n}_review")
            if text and when is None:
                self.add_error(f"commitment_{n}_review", _("Give a date to review it."))
            if when is not None and not text:
                self.add_error(f"commitment_{n}", _("Write the commitment or clear the date."))
            if when is not None and when < today:
                self.add_error(f"commitment_{n}_review", _("The date cannot be in the past."))
        return data


CommitmentReviewChoices = [
    ("done", _("done")),
    ("partly", _("partly")),
    ("not_yet", _("not yet")),
    ("dropped", _("dropped")),
]


class ProcessNoteForm(forms.Form):
    text = forms.CharField(
        label=_("Process note (only you will ever see it)"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Write the note.")},
    )


class HrsnForm(forms.Form):
    timing = forms.ChoiceField(
        label=_("When"),
        choices=HrsnScreening.Timing.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose when this screening is done.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for q in rules.HRSN_QUESTIONS:
            self.fields[q.id] = forms.ChoiceField(
                label=_(q.text),  # noqa: INT001 - texts listed in locale via the rules module
                choices=[(value, _(label)) for value, label in q.choices],  # noqa: INT001
                widget=forms.RadioSelect,
                error_messages={"required": _("Please answer this question.")},
            )

    def answers(self) -> dict[str, str]:
        return {q.id: self.cleaned_data[q.id] for q in rules.HRSN_QUESTIONS}


class ResourceForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    domain = forms.ChoiceField(label=_("Need it meets"))
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["domain"].choices = DOMAIN_CHOICES  # type: ignore[attr-defined]


DOMAIN_CHOICES = [
    ("housing", _("Housing")),
    ("food", _("Food")),
    ("transport", _("Transportation")),
    ("utilities", _("Utilities")),
    ("safety", _("Interpersonal safety")),
]


class ReferralForm(forms.Form):
    resource = forms.TypedChoiceField(label=_("Community resource"), coerce=int)
    follow_up_on = forms.DateField(
        label=_("Follow up on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args: Any, resources: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["resource"].choices = [  # type: ignore[attr-defined]
            (r.pk, f"{r.name} ({dict(DOMAIN_CHOICES).get(r.domain, r.domain)})") for r in resources
        ]

    def clean_follow_up_on(self) -> date:
        value: date = self.cleaned_data["follow_up_on"]
        if value < timezone.localdate():
            raise forms.ValidationError(_("The follow-up date cannot be in the past."))
        return value


class FollowUpForm(forms.Form):
    status = forms.ChoiceField(label=_("Result"), choices=Referral.Status.choices)
    follow_up_on = forms.DateField(
        label=_("Next follow-up (if not met yet)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("status") in ("referred", "unreached") and not data.get("follow_up_on"):
            self.add_error("follow_up_on", _("Give the next follow-up date."))
        when = data.get("follow_up_on")
        if when and when < timezone.localdate():
            self.add_error("follow_up_on", _("The date cannot be in the past."))
        return data


# --- patient-facing (check-in) ------------------------------------------------------------------


class JournalForm(forms.Form):
    text = forms.CharField(
        label=_("Your journal entry"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Write something before saving.")},
    )
    share = forms.BooleanField(
        label=_("Share this entry with my therapist"),
        required=False,
        help_text=_("Entries are private unless you choose to share them."),
    )


class ReflectionForm(forms.Form):
    text = forms.CharField(
        label=_("What stood out for you? (optional)"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Write something before sending, or skip this.")},
    )
